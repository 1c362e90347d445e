"""Reader of GiftBTE input folders: ``input/CONTROL``, ``input/GEOMETRY``, ``input/PHONON`` and the
files they name (mesh, BC file, interface files, heat and initial-temperature files, materials).

GiftBTE's rules are followed (see giftbte-spec.md §1): a keyword is found by a case-sensitive
search in each line and its value is the next whitespace-separated token after that line; a line
containing ``!`` is skipped (not for PHONON's MaterialFile/GeometryMaterialType lines); the last
occurrence of a keyword wins; every path is relative to the run directory.  To avoid GiftBTE's
false matches, a keyword is only recognised as a whole word outside a ``//`` comment, and the line
holding a keyword's value is not searched for keywords (GiftBTE consumes it as the value).
Where GiftBTE is silent this reader warns (unknown keywords, fallbacks) or raises
:class:`BTEInputError` naming the file, line and keyword.

Units of the result: m, K, s, W m^-3 (heat source), see :mod:`bte.problem`.
"""
from __future__ import annotations

import difflib
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from ..build import Settings, band_value_error, build_problem, check_boundary, check_partner
from ..materials import (
    BINNING_METHODS,
    band_table_from_text,
    read_alamode_tau,
    read_band_table,
    read_mode_data,
    read_shengbte,
)
from ..mesh_io import read_mesh
from ..problem import (
    BoundaryCondition,
    BoundaryKind,
    BTEInputError,
    Control,
    Material,
    Mesh,
    ModeMaterial,
    Problem,
)

__all__ = ["read_input_folder"]

CONTROL_KEYWORDS = ("State", "Order", "IterativeScheme", "MatrixSolver", "MaxNumIter",
                    "ResidualTemp", "ResidualFlux", "Tref", "TimeStep", "TotalTime",
                    "InitialTemperatureFile", "IsTDTR", "PulseTime", "RepetitionFrequency",
                    "ModulationFrequency", "RadiusProbe", "Multiscale")
GEOMETRY_KEYWORDS = ("GeometryDimension", "ScaleX", "ScaleY", "ScaleZ", "BCFile", "MeshType",
                     "MeshFile", "HeatType", "HeatFile", "UniformHeat")
PHONON_KEYWORDS = ("MaterialNumber", "BandNumber", "MaterialDimension", "Angle_method", "Ntheta",
                   "Nphi")
# PHONON keywords followed by a block rather than one value; GiftBTE ignores '!' on their lines.
PHONON_BLOCK_KEYWORDS = ("MaterialFile", "GeometryMaterialType")
# MODES is this suite's own: a modes.npz with group-velocity vectors (anisotropic input)
MATERIAL_SOURCES = ("DATABASE", "ShengBTE", "ALAMODE", "MODES")
MESH_TYPES = ("1D", "COMSOL", "MSH")

_FILE_KEYWORDS = {"CONTROL": CONTROL_KEYWORDS, "GEOMETRY": GEOMETRY_KEYWORDS,
                  "PHONON": PHONON_KEYWORDS + PHONON_BLOCK_KEYWORDS}
_PATTERNS = {kw: re.compile(rf"(?<![A-Za-z0-9_]){kw}(?![A-Za-z_])")
             for kws in _FILE_KEYWORDS.values() for kw in kws}
# A line that looks like a keyword line: "Word=", "Word:", "Word 1=" at its start.
_KEYWORD_LIKE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\d+\s*)?[=:]")


def _code(line: str) -> str:
    """The part of a line before a // comment."""
    return line.split("//", 1)[0]


def _keywords_in(line: str, keywords) -> list[str]:
    code = _code(line)
    return [kw for kw in keywords if _PATTERNS[kw].search(code)]


def _read_lines(path: Path) -> list[str]:
    return path.read_text(errors="replace").splitlines()   # handles \r\n and \r


def _next_token(lines: list[str], after: int) -> tuple[str, int] | None:
    """First whitespace token on the lines after index ``after``: (token, line index)."""
    for j in range(after + 1, len(lines)):
        tokens = lines[j].split()
        if tokens:
            return tokens[0], j
    return None


def _parse_float(token: str, file: Path | str, line: int, field: str) -> float:
    try:
        value = float(token)
    except ValueError:
        raise BTEInputError(f"cannot read {token!r} as a number", file, line, field) from None
    if not np.isfinite(value):
        raise BTEInputError(f"{token!r} is not a finite number", file, line, field)
    return value


#: the largest integer a keyword may hold (the kernels' index range)
MAX_INT = 2**31 - 1


def _parse_int(token: str, file: Path | str, line: int, field: str) -> int:
    try:
        value = int(token)
    except ValueError:
        number = _parse_float(token, file, line, field)
        if number != int(number):
            raise BTEInputError(f"{token!r} is not an integer", file, line, field) from None
        value = int(number)
    if abs(value) > MAX_INT:
        raise BTEInputError(f"{token[:20]!r} is too large (at most {MAX_INT})", file, line,
                            field)
    return value


def _text_lines(path: Path, name: str) -> list[str]:
    """The lines of the keyword file ``path``; an empty or binary file is an error (GiftBTE
    would take it as all defaults)."""
    data = path.read_bytes()
    if b"\0" in data or data.decode("utf-8", errors="replace").count("\ufffd") > 0:
        raise BTEInputError("not a text file (binary content)", path)
    lines = data.decode("utf-8").splitlines()
    if not any(_code(line).strip() for line in lines):
        raise BTEInputError("the file is empty (no keywords)", path)
    return lines


def _band_row_line(lines: list[str], first_line: int, band: int) -> int:
    """The 1-based line of band ``band`` (0-based) in a band table whose ``lines`` start at
    ``first_line``: its (band+1)-th non-blank line."""
    rows = [k for k, line in enumerate(lines) if line.split()]
    return first_line + rows[min(band, len(rows) - 1)] if rows else first_line


def _checked(material, path: Path, lines: list[str] | None = None, first_line: int = 1):
    """``material`` after bte.build.band_value_error: a value outside its physical range is an
    error naming ``path`` and, for band tables (``lines``), the band's line."""
    bad = band_value_error(material)
    if bad is not None:
        line = None if lines is None else _band_row_line(lines, first_line, bad[0])
        raise BTEInputError(bad[1], path, line, "band table")
    return material


@dataclass
class _Value:
    """A keyword's value token; line: the keyword's line, value_line: the token's line (1-based)."""

    keyword: str
    token: str
    line: int
    value_line: int


@dataclass
class _KeywordFile:
    """One of CONTROL, GEOMETRY, PHONON scanned with GiftBTE's keyword rules."""

    path: Path
    lines: list[str]
    values: dict[str, _Value] = field(default_factory=dict)
    block_lines: dict[str, list[int]] = field(default_factory=dict)   # 0-based line indices

    def number(self, keyword: str, default, kind=float):
        """The keyword's value parsed as ``kind`` (float or int), or ``default`` if absent."""
        value = self.values.get(keyword)
        if value is None:
            return default
        parse = _parse_int if kind is int else _parse_float
        return parse(value.token, self.path, value.value_line, keyword)

    def require(self, keyword: str) -> _Value:
        if keyword not in self.values:
            raise BTEInputError("mandatory keyword missing", self.path, None, keyword)
        return self.values[keyword]

    def count(self, keyword: str, default: int | None = None) -> int:
        """A positive integer value; mandatory when ``default`` is None."""
        if default is None:
            self.require(keyword)
        value = self.number(keyword, default, int)
        if value < 1:
            raise BTEInputError(f"must be >= 1, got {value}", self.path,
                                self.values[keyword].value_line, keyword)
        return value

    def choice(self, keyword: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.values.get(keyword)
        if value is None:
            return default
        if value.token not in allowed:
            raise BTEInputError(f"{value.token!r} is not one of {', '.join(allowed)}", self.path,
                                value.value_line, keyword)
        return value.token


class _Reader:
    """State of one read_input_folder call: run directory, warnings, path resolution."""

    def __init__(self, root: Path, binning: str):
        self.root = root
        self.input_dir = root / "input"
        self.binning = binning
        self.warnings: list[str] = []

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        warnings.warn(message, UserWarning, stacklevel=2)

    # -- keyword files -------------------------------------------------------------------------
    def scan(self, name: str) -> _KeywordFile:
        """Read input/<name> and collect its keyword values (GiftBTE rules, see module doc)."""
        path = self.input_dir / name
        if not path.is_file():
            raise BTEInputError(f"missing input file (run directory {self.root})", path, None,
                                name)
        keywords = _FILE_KEYWORDS[name]
        blocks = PHONON_BLOCK_KEYWORDS if name == "PHONON" else ()
        plain = tuple(kw for kw in keywords if kw not in blocks)
        kf = _KeywordFile(path, _text_lines(path, name), block_lines={kw: [] for kw in blocks})
        seen: dict[str, list[int]] = {}
        i = 0
        while i < len(kf.lines):
            line = kf.lines[i]
            block_hits = _keywords_in(line, blocks)
            if block_hits:
                for kw in block_hits:
                    kf.block_lines[kw].append(i)
                i += 1
                continue
            if "!" in line:
                i += 1
                continue
            hits = _keywords_in(line, plain)
            if not hits:
                self._check_unknown(kf, i, name)
                i += 1
                continue
            found = _next_token(kf.lines, i)
            if found is None:
                raise BTEInputError("no value after the keyword (file ends)", path, i + 1,
                                    hits[0])
            token, j = found
            clash = _keywords_in(kf.lines[j], keywords)
            if clash:
                raise BTEInputError(f"no value: the next line holds the keyword {clash[0]}",
                                    path, i + 1, hits[0])
            for kw in hits:
                kf.values[kw] = _Value(kw, token, i + 1, j + 1)
                seen.setdefault(kw, []).append(i + 1)
            i = j + 1
        for kw, where in seen.items():
            if len(where) > 1:
                self.warn(f"{path}:{where[-1]}: {kw}: given {len(where)} times (lines "
                          f"{', '.join(map(str, where))}); the last one is used, as in GiftBTE")
        return kf

    def _check_unknown(self, kf: _KeywordFile, i: int, name: str) -> None:
        match = _KEYWORD_LIKE.match(_code(kf.lines[i]))
        if match is None:
            return
        word = match.group(1)
        owner = next((f for f, kws in _FILE_KEYWORDS.items() if word in kws), None)
        if owner is not None and owner != name:
            hint = f"; {word} belongs in {owner}"
        else:
            every = [kw for kws in _FILE_KEYWORDS.values() for kw in kws]
            close = difflib.get_close_matches(word, _FILE_KEYWORDS[name], n=1) \
                or difflib.get_close_matches(word, every, n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
        self.warn(f"{kf.path}:{i + 1}: {word}: unknown keyword, ignored (GiftBTE ignores it "
                  f"silently){hint}")

    # -- paths ---------------------------------------------------------------------------------
    def resolve(self, raw: str, file: Path, line: int, field: str,
                required: bool = True) -> Path | None:
        """Path ``raw`` from ``file``:``line`` (keyword ``field``), relative to the run directory.

        Fallbacks, each with a warning: relative to input/; for GiftBTE's default-set layout,
        materials/<Source>/<rest> -> input/materials/<rest>/<Source>File or
        input/materials/<rest>.  Not found: BTEInputError, or None if not ``required``.
        """
        candidates = [self.root / raw, self.input_dir / raw]
        parts = Path(raw).parts
        for k in range(len(parts) - 2, -1, -1):
            if parts[k] == "materials" and parts[k + 1] in MATERIAL_SOURCES and parts[k + 2:]:
                rest = Path(*parts[k + 2:])
                base = self.input_dir / "materials"
                candidates += [base / rest / f"{parts[k + 1]}File", base / rest]
                break
        for n, candidate in enumerate(candidates):
            if candidate.exists():
                if n:
                    self.warn(f"{file}:{line}: {field}: {raw!r} does not exist relative to the "
                              f"run directory {self.root}; using {candidate} (GiftBTE would not "
                              "find it)")
                return candidate
        if required:
            raise BTEInputError(f"file not found: {raw!r} (relative to the run directory "
                                f"{self.root}; also tried "
                                f"{', '.join(str(c) for c in candidates[1:])})", file, line,
                                field)
        return None


def _locate_run_directory(path: Path) -> Path:
    path = Path(path)
    if (path / "input").is_dir():
        return path
    if path.name == "input" or (path / "CONTROL").is_file():
        return path.parent
    raise BTEInputError(f"not a GiftBTE run directory: no input/ folder in {path}", path / "input",
                        None, "CONTROL")


def _read_control(reader: _Reader, kf: _KeywordFile) -> Control:
    state = kf.values.get("State")
    if state is not None and state.token not in ("Steady", "Transient"):
        reader.warn(f"{kf.path}:{state.value_line}: State: {state.token!r} is neither Steady nor "
                    "Transient; running Steady (as GiftBTE)")
    control = Control(
        state="Transient" if state is not None and state.token == "Transient" else "Steady",
        order=kf.choice("Order", ("1", "2", "2limit"), Control.order),
        iterative_scheme=kf.choice("IterativeScheme", ("Sequential", "Synthetic"),
                                   Control.iterative_scheme),
        matrix_solver=kf.choice("MatrixSolver", ("LU", "BICGSTAB"), Control.matrix_solver),
        max_num_iter=kf.count("MaxNumIter", Control.max_num_iter),
        residual_temp=kf.number("ResidualTemp", Control.residual_temp),
        residual_flux=kf.number("ResidualFlux", Control.residual_flux),
        t_ref=kf.number("Tref", Control.t_ref),
        time_step=kf.number("TimeStep", None),
        total_time=kf.number("TotalTime", None),
        is_tdtr=kf.choice("IsTDTR", ("0", "1"), "0") == "1",
        pulse_time=kf.number("PulseTime", Control.pulse_time),
        repetition_frequency=kf.number("RepetitionFrequency", Control.repetition_frequency),
        modulation_frequency=kf.number("ModulationFrequency", Control.modulation_frequency),
        radius_probe=kf.number("RadiusProbe", Control.radius_probe),
    )
    if control.state == "Transient":
        for kw in ("TimeStep", "TotalTime"):
            value = kf.require(kw)
            if kf.number(kw, None) <= 0:
                raise BTEInputError("must be > 0", kf.path, value.value_line, kw)
    for kw, attr in (("InitialTemperatureFile", "initial_temperature_file"),
                     ("Multiscale", "multiscale")):
        value = kf.values.get(kw)
        if value is not None:
            setattr(control, attr, reader.resolve(value.token, kf.path, value.value_line, kw))
    return control


# -- PHONON ------------------------------------------------------------------------------------

def _read_materials(reader: _Reader, kf: _KeywordFile, n_materials: int,
                    n_bands: int) -> tuple[list[Material | ModeMaterial], int]:
    """The MaterialFile blocks in order; returns the materials and the index of the first line
    after the last block.  A block whose line names MODES points to a modes.npz (see
    bte.materials.read_mode_data): modes with velocity vectors, binned into BandNumber bands by
    frequency (by MFP with binning="mfp").  ``MaterialFile k= ShengBTE VECTORS`` keeps ShengBTE's
    velocity vectors (bte.materials.read_shengbte(vectors=True)).  Mode materials with vectors
    are turned from crystal to mesh axes by the rotation of ``input/ORIENTATION`` beside PHONON
    when there is one (bte.orientation; crystal axes = mesh axes otherwise)."""
    from bte.orientation import read_orientation_file

    orientation = kf.path.parent / "ORIENTATION"
    rotation = read_orientation_file(orientation) if orientation.is_file() else None
    materials: list[Material | ModeMaterial] = []
    starts = kf.block_lines["MaterialFile"]
    pos = 0
    for k in range(n_materials):
        start = next((s for s in starts if s >= pos), None)
        if start is None:
            raise BTEInputError(f"MaterialNumber is {n_materials} but only {k} MaterialFile "
                                "block(s) found", kf.path, kf.values["MaterialNumber"].line,
                                "MaterialFile")
        line = kf.lines[start]
        field_name = f"MaterialFile {k + 1}"
        if "!" in line:
            reader.warn(f"{kf.path}:{start + 1}: {field_name}: the line contains '!' but is used "
                        "anyway (GiftBTE never skips MaterialFile lines)")
        source = next((s for s in MATERIAL_SOURCES if s in _code(line)), None) \
            or next((s for s in MATERIAL_SOURCES if s in line), None)
        named = _code(line).split("=", 1)[1].split() if "=" in _code(line) else []
        if source is None and named:
            close = difflib.get_close_matches(named[0], MATERIAL_SOURCES, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise BTEInputError(f"unknown material source {named[0]!r}{hint}; the sources are "
                                f"{', '.join(MATERIAL_SOURCES)}, or nothing for a band table "
                                "on the following lines", kf.path, start + 1, field_name)
        if source is None:       # inline table: the next n_bands non-blank lines
            rows = [j for j in range(start + 1, len(kf.lines)) if kf.lines[j].split()][:n_bands]
            end = (rows[-1] if rows else start) + 1
            table = kf.lines[start + 1:end]
            materials.append(_checked(band_table_from_text(table, kf.path, start + 2, n_bands,
                                                           name=f"material {k + 1}",
                                                           warn=reader.warn),
                                      kf.path, table, start + 2))
            pos = end
            continue
        found = _next_token(kf.lines, start)
        if found is None:
            raise BTEInputError(f"no {source} path after the keyword (file ends)", kf.path,
                                start + 1, field_name)
        token, j = found
        path = reader.resolve(token, kf.path, j + 1, field_name)
        if source == "DATABASE":
            materials.append(_checked(read_band_table(path, n_bands, warn=reader.warn), path,
                                      _read_lines(path)))
        elif source == "ShengBTE":
            vectors = "VECTORS" in _code(line).split()
            materials.append(_checked(read_shengbte(path, n_bands, reader.binning,
                                                    vectors=vectors, rotation=rotation), path))
        elif source == "MODES":
            materials.append(_checked(read_mode_data(path, n_bands, reader.binning,
                                                     rotation=rotation), path))
        else:
            materials.append(_checked(read_alamode_tau(path, n_bands, reader.binning), path))
        pos = j + 1
    extra = [s + 1 for s in starts if s >= pos]
    if extra:
        reader.warn(f"{kf.path}:{extra[0]}: MaterialFile: MaterialNumber is {n_materials}; "
                    f"{len(extra)} further MaterialFile block(s) ignored")
    return materials, pos


def _read_region_materials(reader: _Reader, kf: _KeywordFile, after: int, n_materials: int,
                           n_regions: int) -> np.ndarray:
    """0-based material per geometry region from the GeometryMaterialType block."""
    starts = kf.block_lines["GeometryMaterialType"]
    if not starts:
        raise BTEInputError("mandatory keyword missing", kf.path, None, "GeometryMaterialType")
    behind = [s for s in starts if s >= after]
    start = behind[-1] if behind else starts[-1]
    if not behind:
        reader.warn(f"{kf.path}:{start + 1}: GeometryMaterialType: comes before the last "
                    "MaterialFile block; GiftBTE only looks for it after all of them")
    rows: list[int] = []
    for j in range(start + 1, len(kf.lines)):
        tokens = kf.lines[j].split()
        if not tokens or not re.fullmatch(r"[-+]?\d+", tokens[0]):
            break
        if len(tokens) < 2:
            raise BTEInputError("expected 'geometryIndex materialIndex'", kf.path, j + 1,
                                "GeometryMaterialType")
        material = _parse_int(tokens[1], kf.path, j + 1, "GeometryMaterialType")
        if material > 100:       # GiftBTE's end-of-block marker
            break
        if not 1 <= material <= n_materials:
            raise BTEInputError(f"material index {material} is not in 1..{n_materials} "
                                "(MaterialNumber)", kf.path, j + 1, "GeometryMaterialType")
        if tokens[0] != str(len(rows) + 1):
            reader.warn(f"{kf.path}:{j + 1}: GeometryMaterialType: first column {tokens[0]} is "
                        f"ignored; line {len(rows) + 1} of the block maps region "
                        f"{len(rows) + 1} (as GiftBTE)")
        rows.append(material - 1)
    if len(rows) < n_regions:
        raise BTEInputError(f"region {len(rows) + 1} has no material: the mesh has {n_regions} "
                            f"regions, the block lists {len(rows)}", kf.path, start + 1,
                            "GeometryMaterialType")
    if len(rows) > n_regions:
        reader.warn(f"{kf.path}:{start + 1}: GeometryMaterialType: lists {len(rows)} regions, "
                    f"the mesh has {n_regions}; the extra lines are ignored")
    return np.array(rows[:n_regions], dtype=np.int64)


# -- BC file -----------------------------------------------------------------------------------

def _read_interface_file(path: Path, n_bands: int, n_materials: int) -> dict[int, np.ndarray]:
    """Per-band transmissivities: blocks starting with a line containing "matter" whose first
    token is the 0-based material index, then n_bands values, ended by a blank line."""
    lines = _read_lines(path)
    result: dict[int, np.ndarray] = {}
    i = 0
    while i < len(lines):
        if "matter" not in lines[i]:
            i += 1
            continue
        header = i + 1
        material = _parse_int(lines[i].split()[0], path, header, "matter index")
        if not 0 <= material < n_materials:
            raise BTEInputError(f"material index {material} is not in 0..{n_materials - 1} "
                                "(0-based)", path, header, "matter index")
        if material in result:
            raise BTEInputError(f"second block for material {material}", path, header,
                                "matter index")
        values: list[float] = []
        i += 1
        while i < len(lines) and lines[i].split() and "matter" not in lines[i]:
            values += [_parse_float(t, path, i + 1, "transmissivity") for t in lines[i].split()]
            i += 1
        array = np.array(values, dtype=np.float64)
        if len(array) != n_bands:
            raise BTEInputError(f"material {material}: {len(array)} transmissivities, "
                                f"BandNumber is {n_bands}", path, header, "transmissivity")
        if array.min() < 0 or array.max() > 1:
            raise BTEInputError(f"material {material}: transmissivities must lie in [0, 1]",
                                path, header, "transmissivity")
        result[material] = array
    if not result:
        raise BTEInputError("no block starting with a line '<material index> # matter'", path,
                            None, "transmissivity")
    return result


def _read_bc_file(reader: _Reader, path: Path, n_bands: int,
                  n_materials: int) -> dict[int, BoundaryCondition]:
    """BC file: N, header lines, then N entries 'index type value [interface_file]'."""
    lines = _read_lines(path)
    first = _next_token(lines, -1)
    if first is None:
        raise BTEInputError("empty BC file", path, 1, "number of boundaries")
    n_entries = _parse_int(first[0], path, first[1] + 1, "number of boundaries")
    entries: dict[int, BoundaryCondition] = {}
    entry_line: dict[int, int] = {}
    start = first[1] + 1
    while start < len(lines) and not (lines[start].split() and re.fullmatch(
            r"[-+]?\d+", lines[start].split()[0])):
        start += 1          # header: blank and column-title lines
    for j in range(start, len(lines)):
        tokens = lines[j].split()
        if not tokens:
            continue
        if len(entries) == n_entries:
            if re.fullmatch(r"[-+]?\d+", tokens[0]):
                reader.warn(f"{path}:{j + 1}: BoundaryIndex: more entries than the "
                            f"{n_entries} announced on line {first[1] + 1}; ignored")
            break
        where = f"{path}:{j + 1}"
        if len(tokens) < 3:
            raise BTEInputError(f"expected 'BoundaryIndex BoundaryType BoundaryValue', got "
                                f"{lines[j].strip()!r}", path, j + 1, "BoundaryIndex")
        index = _parse_int(tokens[0], path, j + 1, "BoundaryIndex")
        kind = _parse_int(tokens[1], path, j + 1, "BoundaryType")
        value = _parse_float(tokens[2], path, j + 1, "BoundaryValue")
        if index in entries:
            raise BTEInputError(f"boundary {index} is listed twice (first at "
                                f"{entries[index].source})", path, j + 1, "BoundaryIndex")
        try:
            bc = BoundaryCondition(index=index, kind=max(kind, BoundaryKind.PERIODIC),
                                   value=value, partner=-kind if kind < 0 else None,
                                   source=where)
            if bc.kind in (BoundaryKind.LEGACY_INTERFACE, BoundaryKind.INTERFACE):
                bc.transmissivity = _interface_for(reader, bc, tokens, path, j + 1, n_bands,
                                                   n_materials)
            check_boundary(bc, n_bands, n_materials)
        except BTEInputError as exc:
            raise exc.located(path, j + 1) from None
        if bc.kind in (BoundaryKind.KEEP, BoundaryKind.LEGACY_INTERFACE):
            reader.warn(f"{where}: BoundaryType: type {kind} of boundary {index} is a legacy "
                        "type (GiftBTE keeps the incoming intensity unchanged there)")
        entries[index] = bc
        entry_line[index] = j + 1
    if len(entries) < n_entries:
        raise BTEInputError(f"{n_entries} boundaries announced, {len(entries)} entries found",
                            path, first[1] + 1, "number of boundaries")
    for bc in entries.values():
        try:
            check_partner(bc, entries)
        except BTEInputError as exc:
            raise exc.located(path, entry_line[bc.index]) from None
    return entries


def _interface_for(reader: _Reader, bc: BoundaryCondition, tokens: list[str], path: Path,
                   line: int, n_bands: int, n_materials: int) -> dict[int, np.ndarray] | None:
    """Transmissivities of a type-4/5 entry from its interface file (4th token)."""
    kind = bc.kind
    if len(tokens) < 4:
        if kind == BoundaryKind.LEGACY_INTERFACE:
            return None
        raise BTEInputError(f"interface boundary {bc.index} needs an interface file as 4th "
                            "token", path, line, "interface file")
    interface = reader.resolve(tokens[3], path, line, "interface file",
                               required=kind == BoundaryKind.INTERFACE)
    if interface is None or not interface.is_file():
        if kind == BoundaryKind.INTERFACE:
            raise BTEInputError(f"interface file {tokens[3]!r} is not a readable file", path,
                                line, "interface file")
        return None
    return _read_interface_file(interface, n_bands, n_materials)


# -- heat and initial temperature --------------------------------------------------------------

def _numeric_rows(lines: list[str], rows: list[int], min_columns: int, path: Path,
                  field: str) -> np.ndarray:
    """Float table of lines[rows] (0-based indices), at least ``min_columns`` columns used."""
    table = []
    for j in rows:
        tokens = lines[j].split()
        if len(tokens) < min_columns:
            raise BTEInputError(f"expected {min_columns} numbers, got {lines[j].strip()!r}",
                                path, j + 1, field)
        table.append([_parse_float(t, path, j + 1, field) for t in tokens[:min_columns]])
    return np.array(table, dtype=np.float64).reshape(len(rows), min_columns)


def _read_region_values(path: Path, n_regions: int, reader: _Reader) -> np.ndarray:
    """HeatType=REGION file: R, then R lines 'geometryIndex value'; line k -> region k."""
    lines = _read_lines(path)
    first = _next_token(lines, -1)
    if first is None:
        raise BTEInputError("empty heat file", path, 1, "HeatFile")
    count = _parse_int(first[0], path, first[1] + 1, "number of regions")
    rows = [j for j in range(first[1] + 1, len(lines)) if lines[j].split()][:count]
    if len(rows) < count:
        raise BTEInputError(f"{count} regions announced, {len(rows)} lines found", path,
                            first[1] + 1, "HeatFile")
    values = _numeric_rows(lines, rows, 2, path, "HeatFile")[:, 1]
    if count != n_regions:
        reader.warn(f"{path}:{first[1] + 1}: HeatFile: {count} region values for a mesh with "
                    f"{n_regions} regions; " + ("regions without a value get 0" if count <
                                                n_regions else "extra values ignored"))
    per_region = np.zeros(n_regions)
    used = min(count, n_regions)
    per_region[:used] = values[:used]
    return per_region


def _read_point_values(path: Path, dim: int, scale: tuple[float, float, float],
                       field: str) -> tuple[np.ndarray, np.ndarray]:
    """COMSOL point export: a line with 'Nodes: N', then N lines 'x [y [z]] value' in normalised
    coordinates.  Returns (coordinates (N, dim) in m, values (N,))."""
    lines = _read_lines(path)
    header = next((j for j, text in enumerate(lines) if "Nodes:" in text), None)
    if header is None:
        raise BTEInputError("no '% Nodes: N' header line", path, None, field)
    count_token = lines[header].split("Nodes:", 1)[1].split()
    if not count_token:
        raise BTEInputError("no point count after 'Nodes:'", path, header + 1, field)
    count = _parse_int(count_token[0], path, header + 1, field)
    rows = [j for j in range(header + 1, len(lines))
            if lines[j].split() and not lines[j].lstrip().startswith("%")][:count]
    if len(rows) < count or count < 1:
        raise BTEInputError(f"{count} points announced, {len(rows)} found", path, header + 1,
                            field)
    table = _numeric_rows(lines, rows, dim + 1, path, field)
    coordinates = table[:, :dim] * np.asarray(scale[:dim], dtype=np.float64)
    return coordinates, table[:, dim]


def _points_to_cells(mesh: Mesh, coordinates: np.ndarray, values: np.ndarray) -> np.ndarray:
    """GiftBTE's mapping of a point cloud to cells: each mesh vertex takes the value of a
    coinciding point, else the inverse-distance average of the 2/4/8 nearest points (1D/2D/3D);
    each cell is the mean of its vertices."""
    dim = mesh.dim
    vertices = mesh.points[:, :dim]
    k = min(2**dim, len(values))
    distance, nearest = cKDTree(coordinates).query(vertices, k=k)
    distance = distance.reshape(len(vertices), k)
    nearest = nearest.reshape(len(vertices), k)
    extent = float(np.ptp(vertices, axis=0).max()) if len(vertices) else 0.0
    exact = distance[:, 0] <= 1e-9 * max(extent, np.finfo(float).tiny)
    with np.errstate(divide="ignore"):
        weight = 1.0 / distance
    weight[exact] = 0.0
    weight[exact, 0] = 1.0
    vertex_values = np.sum(weight * values[nearest], axis=1) / np.sum(weight, axis=1)
    counts = np.diff(mesh.cell_offsets)
    return np.add.reduceat(vertex_values[mesh.cell_nodes], mesh.cell_offsets[:-1]) / counts


def _heat_source(reader: _Reader, kf: _KeywordFile, mesh: Mesh,
                 scale: tuple[float, float, float]) -> np.ndarray:
    """Per-cell volumetric heat source (W m^-3) from HeatFile/HeatType, else UniformHeat."""
    uniform = kf.number("UniformHeat", 0.0)
    entry = kf.values.get("HeatFile")
    path = None
    if entry is not None:
        path = reader.resolve(entry.token, kf.path, entry.value_line, "HeatFile", required=False)
        if path is None or not path.is_file():
            reader.warn(f"{kf.path}:{entry.value_line}: HeatFile: cannot open {entry.token!r}; "
                        f"using UniformHeat = {uniform:g} W/m^3 everywhere (GiftBTE falls back "
                        "silently)")
            path = None
    if path is None:
        return np.full(mesh.n_cells, uniform)
    if "UniformHeat" in kf.values:
        reader.warn(f"{kf.path}:{kf.values['UniformHeat'].line}: UniformHeat: ignored because "
                    "the heat file opens (as GiftBTE)")
    heat_type = kf.require("HeatType")
    if heat_type.token == "REGION":
        return _read_region_values(path, mesh.n_regions, reader)[mesh.cell_region]
    if heat_type.token == "COORDINATE":
        return _points_to_cells(mesh, *_read_point_values(path, mesh.dim, scale, "HeatFile"))
    raise BTEInputError(f"{heat_type.token!r} is not REGION or COORDINATE", kf.path,
                        heat_type.value_line, "HeatType")


# -- main entry --------------------------------------------------------------------------------

def read_input_folder(path: str | Path, *, binning: str = "giftbte") -> Problem:
    """Read a GiftBTE run directory (holding ``input/``; ``input/`` itself is accepted too).

    binning: how ShengBTE/ALAMODE modes become bands, "giftbte" (GiftBTE's consecutive chunks),
    "frequency" or "mfp" (sorted first), see :func:`bte.materials.bin_modes`; MODES materials
    (modes.npz) are binned by frequency unless binning is "mfp".
    Returns a complete :class:`Problem` (mesh in m, geometry built, per-cell heat source in
    W m^-3, 0-based region materials, boundary conditions by 1-based boundary index); warnings
    are in ``Problem.warnings`` and are also emitted with :func:`warnings.warn`.
    Raises BTEInputError naming the file, line and keyword at fault.
    """
    if binning not in BINNING_METHODS:
        raise BTEInputError(f"unknown binning {binning!r}; use one of {BINNING_METHODS}",
                            None, None, "binning")
    reader = _Reader(_locate_run_directory(Path(path)), binning)
    control_file = reader.scan("CONTROL")
    geometry_file = reader.scan("GEOMETRY")
    phonon_file = reader.scan("PHONON")
    control = _read_control(reader, control_file)

    # GEOMETRY
    dim_entry = geometry_file.require("GeometryDimension")
    dim = geometry_file.number("GeometryDimension", None, int)
    if dim not in (1, 2, 3):
        raise BTEInputError(f"must be 1, 2 or 3, got {dim}", geometry_file.path,
                            dim_entry.value_line, "GeometryDimension")
    scale = tuple(geometry_file.number(f"Scale{axis}", 1.0) for axis in "XYZ")
    for axis in range(dim):
        if scale[axis] <= 0:
            keyword = f"Scale{'XYZ'[axis]}"
            raise BTEInputError(f"must be > 0 for a {dim}D geometry, got {scale[axis]:g}",
                                geometry_file.path, geometry_file.values[keyword].value_line,
                                keyword)
    mesh_type = geometry_file.require("MeshType")
    if mesh_type.token not in MESH_TYPES:
        raise BTEInputError(f"{mesh_type.token!r} is not one of {', '.join(MESH_TYPES)}",
                            geometry_file.path, mesh_type.value_line, "MeshType")
    mesh_entry = geometry_file.require("MeshFile")
    bc_entry = geometry_file.require("BCFile")

    # PHONON
    n_materials = phonon_file.count("MaterialNumber")
    n_bands = phonon_file.count("BandNumber")
    material_dimension = int(phonon_file.choice("MaterialDimension", ("2", "3"), "3"))
    angle_method = int(phonon_file.choice("Angle_method", ("1", "2"), "2"))
    ntheta, nphi = phonon_file.count("Ntheta", 4), phonon_file.count("Nphi", 4)
    materials, after_materials = _read_materials(reader, phonon_file, n_materials, n_bands)

    # mesh, boundary conditions, geometry
    mesh_path = reader.resolve(mesh_entry.token, geometry_file.path, mesh_entry.value_line,
                               "MeshFile")
    try:
        mesh = read_mesh(mesh_type.token, mesh_path, dim, scale)
    except BTEInputError as exc:
        raise BTEInputError(f"{exc.message} (GeometryDimension = {dim} at "
                            f"{geometry_file.path}:{dim_entry.value_line}, MeshType = "
                            f"{mesh_type.token})", exc.file or mesh_path, exc.line,
                            exc.field or "MeshFile") from None
    if mesh.dim != dim:
        raise BTEInputError(f"the mesh {mesh_path} is {mesh.dim}D", geometry_file.path,
                            dim_entry.value_line, "GeometryDimension")
    bc_path = reader.resolve(bc_entry.token, geometry_file.path, bc_entry.value_line, "BCFile")
    boundary_conditions = _read_bc_file(reader, bc_path, n_bands, n_materials)
    region_material = _read_region_materials(reader, phonon_file, after_materials, n_materials,
                                             mesh.n_regions)
    heat_source = _heat_source(reader, geometry_file, mesh, scale)
    initial_temperature = None
    if control.initial_temperature_file is not None:
        initial_temperature = _points_to_cells(mesh, *_read_point_values(
            control.initial_temperature_file, dim, scale, "InitialTemperatureFile"))
    settings = Settings(control=control, region_material=region_material,
                        material_dimension=material_dimension, angle_method=angle_method,
                        ntheta=ntheta, nphi=nphi, heat_source=heat_source,
                        initial_temperature=initial_temperature, root=reader.root)
    try:
        problem = build_problem(mesh, materials, boundary_conditions, settings,
                                warn=lambda message: reader.warn(f"{bc_path}: {message}"))
    except BTEInputError as exc:
        raise exc.located(*_origin(exc.key, control_file, geometry_file, phonon_file,
                                   bc_path)) from None
    problem.warnings = reader.warnings
    return problem


def _origin(key: str | None, *files) -> tuple[Path | None, int | None]:
    """(file, line) where the setting ``key`` of a build_problem error was read: the keyword's
    value line in CONTROL, GEOMETRY or PHONON, else the BC file (boundary keys)."""
    *keyword_files, bc_path = files
    for kf in keyword_files:
        if key in kf.values:
            return kf.path, kf.values[key].value_line
        if key in kf.block_lines and kf.block_lines[key]:
            return kf.path, kf.block_lines[key][-1] + 1
    if key in ("BoundaryIndex", "BoundaryType", "BoundaryValue", "transmissivity",
               "matter index"):
        return bc_path, None
    owner = next((kf for kf in keyword_files if key in _FILE_KEYWORDS[kf.path.name]), None)
    return (owner.path, None) if owner is not None else (None, None)
