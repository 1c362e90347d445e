"""Build a BTE :class:`~bte.problem.Problem` in Python: a mesh, materials, boundary conditions and
settings in, a validated problem out.  The GiftBTE reader (bte.giftbte) parses its files and then
calls :func:`build_problem`, so a problem from files and one built here are the same object.

Errors are :class:`~bte.problem.BTEInputError` naming the setting at fault by its GiftBTE keyword
(``Ntheta``, ``BoundaryType``, ``GeometryMaterialType``, ...) with file and line None; the reader
adds where the setting came from (``InputError.located``).
Units: m, K, s, W m^-3 (heat source), see :mod:`bte.problem`.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from .geometry import build_geometry
from .problem import (
    BoundaryCondition,
    BoundaryKind,
    BTEInputError,
    Control,
    Material,
    Mesh,
    ModeMaterial,
    Problem,
    Settings,
)

__all__ = ["Settings", "band_value_error", "build_problem", "check_boundary", "check_partner"]

#: physical bounds of the band-table columns: (attribute, column name, unit, upper bound); each
#: value is finite and in [0, bound] (the fastest phonons, in diamond, travel ~2e4 m/s; the
#: largest volumetric heat capacities are ~4e6 J m^-3 K^-1; 1 s is a macroscopic lifetime)
BAND_LIMITS = (("velocity", "group velocity v", "m/s", 1e5),
               ("tau", "relaxation time tau", "s", 1.0),
               ("heat_capacity", "heat capacity C", "J m^-3 K^-1", 1e9))
#: the largest mesh extent (m) and direction count per axis a physical BTE run can have
MAX_EXTENT = 1e3
MAX_ANGLES = 100_000

ORDERS = ("1", "2", "2limit")
SCHEMES = ("Sequential", "Synthetic")
STATES = ("Steady", "Transient")


def _error(message: str, key: str) -> BTEInputError:
    return BTEInputError(message, None, None, key)


def band_value_error(material: Material | ModeMaterial) -> tuple[int, str] | None:
    """(0-based band or mode, message) of the first band-table value outside its physical range
    (BAND_LIMITS), or of a material that conducts no heat (all Σ C v² τ zero, which makes the
    diffusion pre-solve singular); None when the values are usable."""
    for attr, what, unit, bound in BAND_LIMITS:
        values = np.asarray(getattr(material, attr), dtype=np.float64)
        values = np.linalg.norm(values, axis=1) if values.ndim == 2 else values
        bad = np.flatnonzero(~(np.isfinite(values) & (values >= 0) & (values <= bound)))
        if bad.size:
            b = int(bad[0])
            return b, (f"{what} = {float(values[b]):.6g} {unit} is outside [0, {bound:g}] "
                       f"(material {material.name}, band {b + 1})")
    speed = np.asarray(material.velocity, dtype=np.float64)
    speed = np.linalg.norm(speed, axis=1) if speed.ndim == 2 else speed
    if not np.any(material.heat_capacity * speed**2 * material.tau > 0):
        return 0, (f"material {material.name} conducts no heat (every band has C v^2 tau = 0: "
                   "zero velocities, lifetimes or capacities)")
    return None


def check_boundary(bc: BoundaryCondition, n_bands: int, n_materials: int) -> None:
    """Raise BTEInputError (key BoundaryIndex, BoundaryValue or transmissivity) for a boundary
    condition that cannot be used on its own (its partner is checked by check_partner)."""
    if bc.index < 1:
        raise _error(f"boundary indices start from 1, got {bc.index}", "BoundaryIndex")
    if not np.isfinite(bc.value):
        raise _error(f"boundary {bc.index}: {bc.value!r} is not a finite number",
                     "BoundaryValue")
    if bc.kind == BoundaryKind.PARTIALLY_SPECULAR and not 0.0 <= bc.value <= 1.0:
        raise _error(f"boundary {bc.index}: a partially specular wall (type "
                     f"{int(BoundaryKind.PARTIALLY_SPECULAR)}) takes its specularity p in "
                     f"[0, 1] as BoundaryValue, got {bc.value:g}", "BoundaryValue")
    if bc.kind == BoundaryKind.INTERFACE:
        if not bc.transmissivity:
            raise _error(f"interface boundary {bc.index} has no transmissivities",
                         "transmissivity")
        for material, values in bc.transmissivity.items():
            values = np.asarray(values, dtype=np.float64)
            if not 0 <= material < n_materials:
                raise _error(f"material index {material} is not in 0..{n_materials - 1} "
                             "(0-based)", "matter index")
            if values.shape != (n_bands,):
                raise _error(f"material {material}: {values.size} transmissivities, "
                             f"BandNumber is {n_bands}", "transmissivity")
            if values.min() < 0 or values.max() > 1:
                raise _error(f"material {material}: transmissivities must lie in [0, 1]",
                             "transmissivity")


def check_partner(bc: BoundaryCondition, boundaries: Mapping[int, BoundaryCondition]) -> None:
    """Raise BTEInputError (key BoundaryType) unless a periodic ``bc`` and its partner in
    ``boundaries`` point at each other."""
    if bc.kind != BoundaryKind.PERIODIC:
        return
    partner = boundaries.get(bc.partner)
    if bc.partner == bc.index:
        raise _error(f"periodic boundary {bc.index} points at itself", "BoundaryType")
    if partner is None:
        raise _error(f"periodic boundary {bc.index}: partner boundary {bc.partner} is not in "
                     "the BC file", "BoundaryType")
    if partner.kind != BoundaryKind.PERIODIC or partner.partner != bc.index:
        raise _error(f"periodic boundary {bc.index} points at {bc.partner}, but boundary "
                     f"{bc.partner} ({partner.source or 'Python'}) does not point back (its type "
                     f"should be {-bc.index})", "BoundaryType")


def _check_choice(value, allowed: tuple, key: str) -> None:
    if value not in allowed:
        raise _error(f"{value!r} is not one of {', '.join(map(str, allowed))}", key)


def _check_control(control: Control) -> None:
    _check_choice(control.state, STATES, "State")
    _check_choice(control.order, ORDERS, "Order")
    _check_choice(control.iterative_scheme, SCHEMES, "IterativeScheme")
    if int(control.max_num_iter) < 1:
        raise _error(f"must be >= 1, got {control.max_num_iter}", "MaxNumIter")
    for key, value in (("ResidualTemp", control.residual_temp),
                       ("ResidualFlux", control.residual_flux), ("Tref", control.t_ref)):
        if not np.isfinite(value):
            raise _error(f"{float(value)!r} is not a finite number", key)
        if key != "Tref" and not value > 0:     # Tref 0: GiftBTE's linear reference level
            raise _error(f"must be > 0, got {float(value):g}", key)
    if control.state == "Transient":
        for key, value in (("TimeStep", control.time_step), ("TotalTime", control.total_time)):
            if value is None:
                raise _error("mandatory keyword missing", key)
            if not value > 0:
                raise _error("must be > 0", key)


def _check_angles(settings: Settings) -> None:
    _check_choice(settings.material_dimension, (2, 3), "MaterialDimension")
    _check_choice(settings.angle_method, (1, 2), "Angle_method")
    for key, value in (("Ntheta", settings.ntheta), ("Nphi", settings.nphi)):
        if int(value) != value or value < 1:
            raise _error(f"must be an integer >= 1, got {value}", key)
        if value > MAX_ANGLES:
            raise _error(f"must be at most {MAX_ANGLES}, got {float(value):.3g}", key)


def _region_material(settings: Settings, n_regions: int, n_materials: int) -> np.ndarray:
    if settings.region_material is None:
        return np.zeros(n_regions, dtype=np.int64)
    region_material = np.asarray(settings.region_material, dtype=np.int64)
    if region_material.shape != (n_regions,):
        raise _error(f"the mesh has {n_regions} regions, {region_material.size} materials are "
                     "given", "GeometryMaterialType")
    bad = (region_material < 0) | (region_material >= n_materials)
    if bad.any():
        raise _error(f"region {int(np.argmax(bad)) + 1}: material index "
                     f"{region_material[bad][0]} is not in 0..{n_materials - 1} (0-based)",
                     "GeometryMaterialType")
    return region_material


def _per_cell(values, n_cells: int, key: str) -> np.ndarray:
    """``values`` (one number or one per cell) as a finite (n_cells,) float array."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n_cells, float(array))
    if array.shape != (n_cells,):
        raise _error(f"{array.size} values for a mesh of {n_cells} cells", key)
    if not np.isfinite(array).all():
        raise _error("not every value is a finite number", key)
    return array


def build_problem(mesh: Mesh, materials: Sequence[Material | ModeMaterial],
                  boundaries: Mapping[int, BoundaryCondition] | Iterable[BoundaryCondition],
                  settings: Settings | None = None, *,
                  warn: Callable[[str], None] | None = None) -> Problem:
    """A validated Problem of ``mesh`` (coordinates in m), ``materials`` (bands or modes, one
    band count), ``boundaries`` (BoundaryCondition by 1-based boundary index, or a list of them)
    and ``settings`` (default :class:`Settings`).

    Builds the finite-volume geometry (interfaces split, periodic partners linked).  Every
    external boundary of the mesh needs a condition; a condition for a boundary the mesh lacks
    is ignored with a warning, passed to ``warn`` (default: warnings.warn) and kept in
    Problem.warnings.  Raises BTEInputError naming the setting at fault (file and line None).
    """
    settings = Settings() if settings is None else settings
    found: list[str] = []

    def note(message: str) -> None:
        found.append(message)
        if warn is None:
            warnings.warn(message, UserWarning, stacklevel=3)
        else:
            warn(message)

    if mesh.dim not in (1, 2, 3):
        raise _error(f"must be 1, 2 or 3, got {mesh.dim}", "GeometryDimension")
    _check_control(settings.control)
    _check_angles(settings)
    materials = list(materials)
    if not materials:
        raise _error("at least one material is needed", "MaterialNumber")
    n_bands = sorted({m.n_bands for m in materials})
    if len(n_bands) > 1:
        raise _error(f"the materials have different band counts {n_bands}", "BandNumber")
    for material in materials:
        bad = band_value_error(material)
        if bad is not None:
            raise _error(bad[1], "MaterialFile")
    extent = np.ptp(mesh.points, axis=0) if len(mesh.points) else np.zeros(3)
    if not np.all(np.isfinite(mesh.points)) or extent.max(initial=0.0) > MAX_EXTENT:
        axis = int(np.argmax(np.where(np.isfinite(extent), extent, np.inf)))
        raise _error(f"the mesh spans {float(extent[axis]):.3g} m along {'xyz'[axis]}, more "
                     f"than {MAX_EXTENT:g} m: is the scale factor in m?", f"Scale{'XYZ'[axis]}")
    if not isinstance(boundaries, Mapping):
        listed: dict[int, BoundaryCondition] = {}
        for bc in boundaries:
            if bc.index in listed:
                raise _error(f"boundary {bc.index} is listed twice", "BoundaryIndex")
            listed[bc.index] = bc
        boundaries = listed
    boundaries = dict(boundaries)
    for index, bc in boundaries.items():
        if index != bc.index:
            raise _error(f"boundary {bc.index} is given under the index {index}",
                         "BoundaryIndex")
        check_boundary(bc, n_bands[0], len(materials))
    for bc in boundaries.values():
        check_partner(bc, boundaries)

    periodic = sorted({tuple(sorted((bc.index, bc.partner))) for bc in boundaries.values()
                       if bc.kind == BoundaryKind.PERIODIC})
    geometry = build_geometry(mesh, split_boundaries=frozenset(boundaries),
                              periodic_pairs=periodic)
    mesh_name = f" {Path(mesh.source).name}" if mesh.source else ""
    unlisted = sorted(set(np.unique(geometry.bface_index).tolist()) - set(boundaries))
    if unlisted:
        raise _error(f"boundary {unlisted[0]} of the mesh{mesh_name} has external faces but no "
                     "boundary condition"
                     + (f" (also unlisted: {unlisted[1:]})" if len(unlisted) > 1 else ""),
                     "BoundaryIndex")
    at_zero = sorted(bc.index for bc in boundaries.values()
                     if bc.kind == BoundaryKind.THERMALIZING and bc.value <= 0)
    if at_zero:
        note(f"BoundaryValue: thermalizing boundaries {at_zero} are at <= 0 K; the BTE here is "
             "linear in the temperature, so this is a level relative to the other walls (as in "
             "GiftBTE's examples), not an absolute temperature: the phonon properties stay "
             "those of the material files")
    absent = sorted(set(boundaries) - set(np.unique(mesh.bnd_index).tolist()))
    if absent:
        note(f"BoundaryIndex: boundaries {absent} are listed but do not occur in the "
             f"mesh{mesh_name}; ignored")

    region_material = _region_material(settings, mesh.n_regions, len(materials))
    heat_key = "UniformHeat" if np.ndim(settings.heat_source) == 0 else "HeatFile"
    heat_source = _per_cell(settings.heat_source, mesh.n_cells, heat_key)
    initial_temperature = None
    if settings.initial_temperature is not None:
        initial_temperature = _per_cell(settings.initial_temperature, mesh.n_cells,
                                        "InitialTemperatureFile")
    return Problem(root=settings.root, control=settings.control, geometry_dimension=mesh.dim,
                   mesh=mesh, geometry=geometry, materials=materials,
                   region_material=region_material,
                   material_dimension=int(settings.material_dimension),
                   angle_method=int(settings.angle_method), ntheta=int(settings.ntheta),
                   nphi=int(settings.nphi), boundary_conditions=boundaries,
                   heat_source=heat_source, initial_temperature=initial_temperature,
                   warnings=found)
