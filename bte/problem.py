"""Data model of a BTE problem: what the input readers produce and the solver consumes.

Units: lengths in m (mesh coordinates are already multiplied by ScaleX/Y/Z), temperatures in K,
group velocity in m/s, relaxation time in s, volumetric heat capacity in J m^-3 K^-1, heat source
in W m^-3, conductivity in W m^-1 K^-1.  Every array is a plain numpy array.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path

import numpy as np

from mtscore import InputError


class BTEInputError(InputError):
    """Bad BTE input: the message names the file, the line (1-based) and the field (GiftBTE
    keyword) at fault; file and line are None for a problem built in Python."""

    def __init__(self, message: str, file: str | Path | None = None, line: int | None = None,
                 field: str | None = None):
        super().__init__(message, file, line, field)


class SolverDivergedError(RuntimeError):
    """The steady iteration diverged (NaN/inf, or both residuals rising for 10 iterations)."""


class BoundaryKind(IntEnum):
    """Boundary types of the BC file: GiftBTE's numbers (giftbte-spec.md §1.6) plus two of this
    suite's own (6 and 7).  Every periodic type (any negative number in the file, naming the
    partner boundary) is stored as PERIODIC with the partner in BoundaryCondition.partner."""

    PERIODIC = -1           # BoundaryValue: this side's temperature offset, K
    KEEP = 0                # GiftBTE's type 0: incoming values kept (legacy, avoid)
    THERMALIZING = 1        # black wall; BoundaryValue: its temperature, K
    DIFFUSE = 2             # diffusely reflecting, adiabatic
    SPECULAR = 3            # specularly reflecting, adiabatic
    LEGACY_INTERFACE = 4    # GiftBTE's type 4: reads an interface file, then kept (legacy)
    INTERFACE = 5           # diffuse mismatch with per-band transmissivities
    PARTIALLY_SPECULAR = 6  # ours; BoundaryValue: specularity p in [0, 1]
    HEAT_FLUX = 7           # ours; BoundaryValue: inward heat flux, W m^-2


@dataclass
class Control:
    """Solver settings of the CONTROL file (GiftBTE keywords and defaults)."""

    state: str = "Steady"               # "Steady" or "Transient"
    order: str = "2"                    # "1", "2" or "2limit"
    iterative_scheme: str = "Sequential"  # "Sequential" (source iteration) or "Synthetic"
    matrix_solver: str = "LU"           # accepted for compatibility; sweeps need no matrix
    max_num_iter: int = 10000
    residual_temp: float = 1e-6         # GiftBTE's normalised temperature change
    residual_flux: float = 1e-4         # GiftBTE's normalised heat-flux change
    t_ref: float = 300.0                # K
    time_step: float | None = None      # s
    total_time: float | None = None     # s
    initial_temperature_file: Path | None = None
    is_tdtr: bool = False
    pulse_time: float = 0.0             # s
    repetition_frequency: float = 0.0   # MHz
    modulation_frequency: float = 0.0   # MHz
    radius_probe: float = 0.0           # m
    multiscale: Path | None = None


@dataclass
class Material:
    """One material as N_b isotropic bands (GiftBTE band-table columns).

    velocity: group velocity magnitude per band, m/s; tau: relaxation time, s;
    heat_capacity: volumetric heat capacity per band, J m^-3 K^-1;
    lattice_ratio: (C/tau)/sum(C/tau); heat_ratio: C/sum(C).
    """

    name: str
    velocity: np.ndarray
    tau: np.ndarray
    heat_capacity: np.ndarray
    lattice_ratio: np.ndarray
    heat_ratio: np.ndarray

    @property
    def n_bands(self) -> int:
        return len(self.velocity)

    def kappa_bulk(self, dimension: int = 3) -> float:
        """Bulk conductivity sum(C v^2 tau)/dimension, W m^-1 K^-1."""
        return float(np.sum(self.heat_capacity * self.velocity**2 * self.tau) / dimension)


@dataclass
class ModeMaterial:
    """One material as phonon modes with group-velocity vectors (anisotropic input).

    Per mode: frequency (n,) rad/s (angular); velocity (n, 3) m/s, Cartesian in the mesh's x,
    y, z axes; tau (n,) s; heat_capacity (n,) J m^-3 K^-1, the mode's share of the volumetric
    heat capacity (q-point weight included, so Σ C v_a v_b τ is the bulk κ_ab); band (n,)
    0-based band of each mode.  The solver integrates the modes over the solid-angle cells
    of the direction set (bte.materials.pair_table).  Build it with
    bte.materials.mode_material (validated, bands by frequency or MFP) or read_mode_data.
    source: the file the modes came from, for messages.  keep_tensor: the pair table scales
    each band's pair τ so that the pairs keep the modes' whole κ tensor, not only its trace
    (see bte.materials.pair_table; off by default, the cell-binned model).
    """

    name: str
    frequency: np.ndarray
    velocity: np.ndarray
    tau: np.ndarray
    heat_capacity: np.ndarray
    band: np.ndarray
    source: str = ""
    keep_tensor: bool = False

    @property
    def n_bands(self) -> int:
        return int(self.band.max()) + 1

    def kappa_tensor(self) -> np.ndarray:
        """Bulk κ_ab = Σ_modes C v_a v_b τ, (3, 3) W m^-1 K^-1."""
        w = self.heat_capacity * self.tau
        return np.einsum("n,na,nb->ab", w, self.velocity, self.velocity)

    def kappa_bulk(self, dimension: int = 3) -> float:
        """trace(κ)/dimension = Σ C |v|² τ / dimension, W m^-1 K^-1."""
        return float(np.trace(self.kappa_tensor()) / dimension)


@dataclass
class BoundaryCondition:
    """One entry of the BC file.

    kind: a BoundaryKind (an int such as the BC file's number is converted).
    value: wall temperature (K) for THERMALIZING, temperature offset (K) for PERIODIC,
    specularity p in [0, 1] for PARTIALLY_SPECULAR, inward heat flux (W m^-2) for HEAT_FLUX;
    partner: the partner boundary index for PERIODIC; transmissivity: for INTERFACE, material
    index (0-based) -> per-band transmissivity from that material.
    """

    index: int
    kind: BoundaryKind
    value: float = 0.0
    partner: int | None = None
    transmissivity: dict[int, np.ndarray] | None = None
    source: str = ""          # "file:line" of the entry, for messages

    def __post_init__(self):
        try:
            self.kind = BoundaryKind(self.kind)
        except ValueError:
            raise BTEInputError(f"unknown boundary type {self.kind} (1 thermalizing, 2 diffuse, "
                                "3 specular, 5 interface, 6 partially specular, 7 heat flux, "
                                "negative periodic)", None, None, "BoundaryType") from None


@dataclass
class Mesh:
    """A mesh as read from file, cell-centred finite volumes.

    points: (n_points, 3) vertex coordinates in m (scaled; unused axes are 0).
    cell_offsets/cell_nodes: CSR connectivity of the cells in VTK vertex order;
    cell_types: VTK type id per cell (3 line, 5 triangle, 9 quad, 10 tet, 12 hex, 13 wedge,
    14 pyramid); cell_region: 0-based geometry region per cell.
    bnd_offsets/bnd_nodes: CSR connectivity of boundary elements (points, lines, triangles or
    quads); bnd_index: 1-based boundary index of each (as GiftBTE numbers boundaries).
    scale: (ScaleX, ScaleY, ScaleZ) that was applied; source: the mesh file.
    """

    dim: int
    points: np.ndarray
    cell_offsets: np.ndarray
    cell_nodes: np.ndarray
    cell_types: np.ndarray
    cell_region: np.ndarray
    bnd_offsets: np.ndarray
    bnd_nodes: np.ndarray
    bnd_index: np.ndarray
    scale: tuple[float, float, float] = (1.0, 1.0, 1.0)
    source: str = ""

    @property
    def n_cells(self) -> int:
        return len(self.cell_types)

    @property
    def n_regions(self) -> int:
        return int(self.cell_region.max()) + 1 if self.n_cells else 0

    def cell(self, i: int) -> np.ndarray:
        return self.cell_nodes[self.cell_offsets[i]:self.cell_offsets[i + 1]]


@dataclass
class Geometry:
    """Finite-volume geometry built from a Mesh (see bte.geometry.build_geometry).

    Per cell: centroid (n,3) m, volume (n,) m^dim (area in 2D, length in 1D), region (n,).
    Cell faces in CSR (face_offsets over cells): face_neighbor >= 0 is the adjacent cell,
    < 0 encodes boundary face b as -(b+1); face_normal unit outward (from the owning cell);
    face_area m^(dim-1) (1 in 1D); face_center.
    Boundary faces: bface_cell owning cell, bface_index 1-based boundary index, bface_normal
    outward unit normal, bface_area, bface_center, bface_partner (the linked boundary face for
    periodic pairs and for the two sides of a split interface, else -1).
    """

    dim: int
    centroid: np.ndarray
    volume: np.ndarray
    region: np.ndarray
    face_offsets: np.ndarray
    face_neighbor: np.ndarray
    face_normal: np.ndarray
    face_area: np.ndarray
    face_center: np.ndarray
    bface_cell: np.ndarray
    bface_index: np.ndarray
    bface_normal: np.ndarray
    bface_area: np.ndarray
    bface_center: np.ndarray
    bface_partner: np.ndarray

    @property
    def n_cells(self) -> int:
        return len(self.volume)

    @property
    def n_bfaces(self) -> int:
        return len(self.bface_cell)


@dataclass
class Settings:
    """What a problem needs besides its mesh, materials and boundary conditions (the GiftBTE
    keyword of each in brackets, which errors name).

    control: solver settings (CONTROL); region_material: 0-based material of each mesh region
    [GeometryMaterialType], None for material 0 everywhere; material_dimension: 3 (bulk) or 2
    [MaterialDimension]; angle_method: 2 Gauss-Legendre or 1 uniform [Angle_method]; ntheta,
    nphi [Ntheta, Nphi]; heat_source: W m^-3, one value [UniformHeat] or one per cell
    [HeatFile]; initial_temperature: K per cell, or None [InitialTemperatureFile]; root: the
    run directory paths are relative to (None for a problem without files).
    """

    control: Control = field(default_factory=Control)
    region_material: Sequence[int] | np.ndarray | None = None
    material_dimension: int = 3
    angle_method: int = 2
    ntheta: int = 4
    nphi: int = 4
    heat_source: float | np.ndarray = 0.0
    initial_temperature: np.ndarray | None = None
    root: Path | None = None


@dataclass
class Problem:
    """Everything a steady (or transient) run needs, as read from a GiftBTE input folder.

    root: the run directory (paths inside the inputs are relative to it).
    materials: isotropic bands (Material) or modes (ModeMaterial), all with the same number of
    bands.
    region_material: 0-based material index per geometry region.
    material_dimension: 3 (bulk, 4π angular space) or 2 (2D material, in-plane directions).
    angle_method: 2 Gauss–Legendre, 1 uniform (CADOM); ntheta, nphi as in PHONON.
    heat_source: per cell, W m^-3.
    initial_temperature: per cell, K, from InitialTemperatureFile (None when not given).
    """

    root: Path
    control: Control
    geometry_dimension: int
    mesh: Mesh
    geometry: Geometry
    materials: list[Material | ModeMaterial]
    region_material: np.ndarray
    material_dimension: int
    angle_method: int
    ntheta: int
    nphi: int
    boundary_conditions: dict[int, BoundaryCondition]
    heat_source: np.ndarray
    initial_temperature: np.ndarray | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def n_bands(self) -> int:
        return self.materials[0].n_bands

    @property
    def cell_material(self) -> np.ndarray:
        return self.region_material[self.geometry.region]
