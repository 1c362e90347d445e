"""The study file of ``mts pipeline``: TOML → :class:`PipelineConfig`.

Every error names the file, the key and the problem (:class:`ConfigError`).  Paths of input
files (structure, model file, GiftBTE folders) are relative to the TOML file; ``output`` is
relative to the working directory.  Units: Å, K, nm in the file (``thickness_nm``,
``side_nm``, ...), m inside.

    name = "silicon-films"                 # optional, default the file's stem
    output = "runs/silicon-films"          # optional, default runs/<name>

    [material]
    structure = "builtin:si"               # or an ASE-readable unit cell file
    lattice_constant = 5.432               # Å, builtin only; omit to relax it with the potential

    [potential]
    calculator = "pretrained:si"           # tersoff | sw | pretrained:NAME | MODULE:FUNCTION
                                           # | a model file (relative to this file)

    [phonons]                              # all optional
    supercell = [2, 2, 2]                  # fc2/fc3 supercell of the conventional cell
    displacement = 0.03                    # Å
    mesh = [11, 11, 11]                    # q-mesh
    temperature = 300.0                    # K
    method = "rta"                         # rta | lbte (bulk κ reported; modes are RTA)
    isotope = false                        # natural-isotope scattering
    n_bands = 20                           # bands of the BTE band table
    binning = "frequency"                  # frequency | mfp | giftbte

    [bte]                                  # all optional: angles and mesh of films and wires
    ntheta = 4                             # 8·ntheta·nphi directions
    nphi = 4
    n_cells = 40                           # cells across a film / each side of a wire
    grading = 1.1                          # cell growth per cell from each wall
    residual_temp = 1e-6
    residual_flux = 1e-5
    max_iter = 2000

    [[geometry]]                           # any number of these
    kind = "cross-plane"                   # cross-plane | in-plane | wire | ribbon | folder
    thickness_nm = [10, 100, 1000]         # films
    specularity = 0.0                      # walls along the heat flow (0 diffuse; not cross-plane)
    # kind = "wire": side_nm = [20, 50] (square) or size_nm = [[20, 40]] (width, height pairs)
    # kind = "ribbon": width_nm = [100, 1000] and thickness_nm = [10, 20] (every pair)
    # kind = "folder": path = "<GiftBTE run directory>"; its PHONON gets the computed table
    name = "cross-plane"                   # optional label
    normal = [0, 0, 0, 1]                  # crystal direction of the film normal (mesh y) and
    transport = [2, -1, -1, 0]             # of the transport axis (mesh x): [u, v, w] or
                                           # Miller-Bravais [U, V, T, W] for a hexagonal cell,
                                           # in the structure file's cell vectors (builtin:si:
                                           # the conventional cubic axes);
                                           # optional for a cubic crystal (default: crystal
                                           # axes = mesh axes), required otherwise

    [plots]
    temperature_map = "cross-plane"        # geometry whose first case is mapped (optional;
                                           # a wire/ribbon maps its axial heat flux)
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mtscore import InputError, Section
from mtscore import read_toml as _read_toml
from workflows.calculators import CalculatorError, check_calculator
from workflows.geometries import KINDS, SECTION_KINDS

BUILTIN_SI = "builtin:si"
GEOMETRY_KINDS = KINDS + SECTION_KINDS + ("folder",)

#: Largest accepted values: far beyond any sensible study, small enough that a typo such as
#: ``1e300`` is refused before the first stage instead of overflowing in one.
MAX_SIZE_NM = 1e7              # films, wires, ribbons: 1 cm
MAX_TEMPERATURE_K = 5000.0
MAX_DISPLACEMENT_A = 1.0
MAX_LATTICE_CONSTANT_A = 100.0
MAX_SUPERCELL = 20
MAX_MESH = 500
MAX_BANDS = 100_000
MAX_ANGLES = 1000              # ntheta, nphi
MAX_CELLS = 1_000_000
MAX_GRADING = 10.0
MAX_RESIDUAL = 1.0
MAX_ITERATIONS = 100_000_000


class ConfigError(InputError):
    """A bad study file: names the file, the key and the problem."""


@dataclass(frozen=True)
class PhononSettings:
    """Force constants and modes: supercell (3,), displacement Å, q-mesh (3,), temperature K,
    method "rta"|"lbte", isotope scattering, band count and binning of the band table."""

    supercell: tuple[int, int, int] = (2, 2, 2)
    displacement: float = 0.03
    mesh: tuple[int, int, int] = (11, 11, 11)
    temperature: float = 300.0
    method: str = "rta"
    isotope: bool = False
    n_bands: int = 20
    binning: str = "frequency"


@dataclass(frozen=True)
class BTESettings:
    """Angular set (8·ntheta·nphi directions), cells across a film or along each side of a
    wire/ribbon cross-section and their grading, and the steady solver's thresholds."""

    ntheta: int = 4
    nphi: int = 4
    n_cells: int = 40
    grading: float = 1.1
    residual_temp: float = 1e-6
    residual_flux: float = 1e-5
    max_iter: int = 2000


@dataclass(frozen=True)
class GeometrySpec:
    """One geometry: a film kind over ``thicknesses`` (m), a wire or ribbon kind over
    ``sections`` ((width, thickness) pairs, m), both with wall ``specularity``; or a GiftBTE run
    directory ``path`` (kind "folder").  ``normal`` and ``transport``: crystal directions
    (3 or 4 indices) of the film normal and the transport axis, or None (cubic crystal, crystal
    axes = mesh axes); ``rotation``: the rotation (rows, crystal Cartesian -> mesh axes, see
    bte.orientation.orientation_matrix) they give with the study's cell, None for None."""

    kind: str
    name: str
    thicknesses: tuple[float, ...] = ()
    specularity: float = 0.0
    path: Path | None = None
    sections: tuple[tuple[float, float], ...] = ()
    normal: tuple[float, ...] | None = None
    transport: tuple[float, ...] | None = None
    rotation: tuple[tuple[float, float, float], ...] | None = None


@dataclass(frozen=True)
class PipelineConfig:
    """A whole study (see the module docstring).  ``structure`` is "builtin:si" or a resolved
    file path; ``lattice_constant`` Å (None: relax with the potential); ``base`` the directory
    relative model paths are resolved against."""

    name: str
    output: Path
    structure: str
    lattice_constant: float | None
    potential: str
    phonons: PhononSettings = field(default_factory=PhononSettings)
    bte: BTESettings = field(default_factory=BTESettings)
    geometries: tuple[GeometrySpec, ...] = ()
    temperature_map: str | None = None
    base: Path = Path(".")


def _Section(data: Any, where: str, source: str) -> Section:
    """One table of a study file, its errors ConfigError."""
    return Section(data, where, source, ConfigError)


def _phonons(sec: _Section) -> PhononSettings:
    d = PhononSettings()
    out = PhononSettings(
        supercell=sec.get("supercell", int, d.supercell, length=3, positive=True,
                          maximum=MAX_SUPERCELL),
        displacement=float(sec.get("displacement", (int, float), d.displacement, positive=True,
                                   maximum=MAX_DISPLACEMENT_A)),
        mesh=sec.get("mesh", int, d.mesh, length=3, positive=True, maximum=MAX_MESH),
        temperature=float(sec.get("temperature", (int, float), d.temperature, positive=True,
                                  maximum=MAX_TEMPERATURE_K)),
        method=sec.get("method", str, d.method, choices=("rta", "lbte")),
        isotope=sec.get("isotope", bool, d.isotope),
        n_bands=sec.get("n_bands", int, d.n_bands, positive=True, maximum=MAX_BANDS),
        binning=sec.get("binning", str, d.binning, choices=("frequency", "mfp", "giftbte")))
    sec.check_unknown()
    return out


def _bte(sec: _Section) -> BTESettings:
    d = BTESettings()
    out = BTESettings(
        ntheta=sec.get("ntheta", int, d.ntheta, positive=True, maximum=MAX_ANGLES),
        nphi=sec.get("nphi", int, d.nphi, positive=True, maximum=MAX_ANGLES),
        n_cells=sec.get("n_cells", int, d.n_cells, positive=True, maximum=MAX_CELLS),
        grading=float(sec.get("grading", (int, float), d.grading, positive=True,
                              maximum=MAX_GRADING)),
        residual_temp=float(sec.get("residual_temp", (int, float), d.residual_temp,
                                    positive=True, maximum=MAX_RESIDUAL)),
        residual_flux=float(sec.get("residual_flux", (int, float), d.residual_flux,
                                    positive=True, maximum=MAX_RESIDUAL)),
        max_iter=sec.get("max_iter", int, d.max_iter, positive=True, maximum=MAX_ITERATIONS))
    sec.check_unknown()
    return out


def _sizes_nm(sec: _Section, key: str) -> tuple[float, ...] | None:
    """The non-empty list of positive sizes ``key`` (nm) in m, None when absent."""
    if key not in sec.data:
        return None
    sizes = sec.get(key, list, positive=True, maximum=MAX_SIZE_NM)
    if not sizes:
        raise sec.fail(key, "empty list")
    return tuple(float(s) * 1e-9 for s in sizes)


def _pairs_nm(sec: _Section, key: str) -> tuple[tuple[float, float], ...]:
    """The non-empty list of [width, height] pairs ``key`` (nm, positive) in m."""
    sec.used.add(key)
    value = sec.data[key]
    if not isinstance(value, list) or not value:
        raise sec.fail(key, f"expected a non-empty list of [width, height] pairs, got {value!r}")
    for pair in value:
        if not (isinstance(pair, list) and len(pair) == 2
                and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                        and 0 < v <= MAX_SIZE_NM for v in pair)):
            raise sec.fail(key, f"expected [width, height] pairs of positive numbers up to "
                                f"{MAX_SIZE_NM:g} nm, got {pair!r}")
    return tuple((float(w) * 1e-9, float(h) * 1e-9) for w, h in value)


def _sections(sec: _Section, kind: str) -> tuple[tuple[float, float], ...]:
    """(width, thickness) pairs (m) of a wire (side_nm or size_nm) or a ribbon (every pair of
    width_nm and thickness_nm)."""
    if kind == "ribbon":
        widths, thicknesses = _sizes_nm(sec, "width_nm"), _sizes_nm(sec, "thickness_nm")
        for key, sizes in (("width_nm", widths), ("thickness_nm", thicknesses)):
            if sizes is None:
                raise sec.fail(key, "missing (required for a ribbon)")
        return tuple((w, t) for w in widths for t in thicknesses)
    given = [k for k in ("side_nm", "size_nm") if k in sec.data]
    if len(given) != 1:
        raise sec.fail("side_nm", "a wire needs exactly one of side_nm (square sections) and "
                                  "size_nm ([width, height] pairs)")
    if given[0] == "side_nm":
        return tuple((s, s) for s in _sizes_nm(sec, "side_nm"))
    return _pairs_nm(sec, "size_nm")


def _geometry(sec: _Section, base: Path) -> GeometrySpec:
    kind = sec.get("kind", str, required=True, choices=GEOMETRY_KINDS)
    if kind == "folder":
        raw = sec.get("path", str, required=True)
        path = (base / raw).resolve()
        if not (path / "input").is_dir():
            raise sec.fail("path", f"{path} is not a GiftBTE run directory (no input/ folder)")
        spec = GeometrySpec(kind, sec.get("name", str, path.name), path=path)
    else:
        p = float(sec.get("specularity", (int, float), 0.0))
        if not 0.0 <= p < 1.0:
            raise sec.fail("specularity", f"must be in [0, 1), got {p}")
        if kind == "cross-plane" and p:
            raise sec.fail("specularity", "cross-plane films have thermalizing walls")
        name = sec.get("name", str, kind if p == 0 else f"{kind}-p{p:g}")
        if kind in SECTION_KINDS:
            spec = GeometrySpec(kind, name, specularity=p, sections=tuple(
                sorted(_sections(sec, kind), key=lambda wt: (wt[1], wt[0]))))
        else:
            thick = _sizes_nm(sec, "thickness_nm")
            if thick is None:
                raise sec.fail("thickness_nm", "missing (required)")
            spec = GeometrySpec(kind, name, thicknesses=tuple(sorted(thick)), specularity=p)
    normal, transport = (_direction(sec, key) for key in ("normal", "transport"))
    if (normal is None) != (transport is None):
        missing = "normal" if normal is None else "transport"
        raise sec.fail(missing, "missing: an orientation needs both normal and transport")
    sec.check_unknown()
    return replace(spec, normal=normal, transport=transport)


def _direction(sec: _Section, key: str) -> tuple[float, ...] | None:
    """A crystal direction: 3 indices [u, v, w] or 4 Miller-Bravais [U, V, T, W]."""
    raw = sec.get(key, list)
    if raw is None:
        return None
    if len(raw) not in (3, 4) or not all(isinstance(x, (int, float))
                                         and not isinstance(x, bool) for x in raw):
        raise sec.fail(key, f"expected 3 indices [u, v, w] or 4 Miller-Bravais [U, V, T, W], "
                            f"got {raw!r}")
    return tuple(float(x) for x in raw)


def _oriented(geometries: tuple[GeometrySpec, ...], structure: str, source: str,
              material: _Section) -> tuple[GeometrySpec, ...]:
    """The geometries with their rotations from the study's cell (see GeometrySpec); a
    non-cubic crystal without an orientation, or directions that are not orthogonal, are one
    ConfigError naming the geometry's key."""
    from bte import BTEInputError
    from bte.orientation import is_cubic, orientation_matrix

    if structure == BUILTIN_SI:
        if all(g.normal is None for g in geometries):
            return geometries
        import numpy as np
        cell, positions, numbers = np.eye(3), None, None     # the conventional cubic axes
    else:
        from workflows.stages import StructureFileError, read_structure_file
        try:
            atoms = read_structure_file(structure)
        except (StructureFileError, OSError) as exc:
            raise material.fail("structure", str(exc)) from None
        cell, positions = atoms.cell[:], atoms.get_scaled_positions()
        numbers = atoms.get_atomic_numbers()
    out = []
    for k, g in enumerate(geometries):
        where = f"geometry[{k}]"
        if g.normal is None:
            if not is_cubic(cell, positions, numbers):
                raise ConfigError(f"the crystal of {structure} is not cubic: set normal and "
                                  "transport (crystal directions of the film normal and the "
                                  "transport axis, e.g. c-plane: normal = [0, 0, 0, 1], "
                                  "transport = [2, -1, -1, 0])", source, None, f"{where}.normal")
            out.append(g)
            continue
        try:
            r = orientation_matrix(cell, g.normal, g.transport, source=source,
                                   normal_key=f"{where}.normal",
                                   transport_key=f"{where}.transport")
        except BTEInputError as exc:
            raise ConfigError(exc.message, source, None, exc.field) from None
        out.append(replace(g, rotation=tuple(tuple(float(x) for x in row) for row in r)))
    return tuple(out)


def potential_calculator(top: Section, source: str, base: Path) -> str:
    """The ``[potential] calculator`` of a study or batch file, checked to name a calculator
    (workflows.calculators.check_calculator; nothing is built)."""
    potential = _Section(top.get("potential", dict, required=True), "potential", source)
    calculator = potential.get("calculator", str, required=True)
    potential.check_unknown()
    try:
        check_calculator(calculator, base)
    except CalculatorError as exc:
        raise potential.fail("calculator", exc.message) from None
    return calculator


def parse_config(data: dict, source: str = "<config>", base: str | Path = ".") -> PipelineConfig:
    """A :class:`PipelineConfig` from the parsed TOML ``data``; ``source`` names the file in
    errors, ``base`` is the directory relative input paths are resolved against."""
    base = Path(base)
    top = _Section(data, "", source)
    name = top.get("name", str, Path(source).stem if source != "<config>" else "study")
    output = Path(top.get("output", str, f"runs/{name}"))
    material = _Section(top.get("material", dict, required=True), "material", source)
    structure = material.get("structure", str, BUILTIN_SI)
    lattice = material.get("lattice_constant", (int, float), positive=True,
                           maximum=MAX_LATTICE_CONSTANT_A)
    if structure != BUILTIN_SI:
        if lattice is not None:
            raise material.fail("lattice_constant", "only for structure = \"builtin:si\"")
        path = (base / structure).resolve()
        if not path.is_file():
            raise material.fail("structure", f"no such file: {path}")
        structure = str(path)
    material.check_unknown()
    calculator = potential_calculator(top, source, base)
    phonons = _phonons(_Section(top.get("phonons", dict, {}), "phonons", source))
    bte = _bte(_Section(top.get("bte", dict, {}), "bte", source))
    top.used.add("geometry")
    raw_geometries = data.get("geometry")
    if not isinstance(raw_geometries, list) or not raw_geometries:
        raise top.fail("geometry", "at least one [[geometry]] table is needed")
    geometries = tuple(_geometry(_Section(g, f"geometry[{k}]", source), base)
                       for k, g in enumerate(raw_geometries))
    geometries = _oriented(geometries, structure, source, material)
    names = [g.name for g in geometries]
    if len(set(names)) != len(names):
        raise top.fail("geometry", f"duplicate geometry names {names}; set name = ...")
    plots = _Section(top.get("plots", dict, {}), "plots", source)
    temperature_map = plots.get("temperature_map", str)
    if temperature_map is not None and temperature_map not in names:
        raise plots.fail("temperature_map", f"no geometry named {temperature_map!r} "
                                            f"(have {', '.join(names)})")
    plots.check_unknown()
    top.check_unknown()
    return PipelineConfig(name=name, output=output, structure=structure,
                          lattice_constant=None if lattice is None else float(lattice),
                          potential=calculator, phonons=phonons, bte=bte,
                          geometries=geometries, temperature_map=temperature_map, base=base)


def read_toml(path: str | Path) -> dict:
    """The parsed TOML file at ``path``; ConfigError naming the file when it cannot be read or
    parsed."""
    return _read_toml(path, ConfigError)


def load_config(path: str | Path) -> PipelineConfig:
    """Read and check a study TOML file (see the module docstring)."""
    path = Path(path)
    return parse_config(read_toml(path), str(path), path.resolve().parent)
