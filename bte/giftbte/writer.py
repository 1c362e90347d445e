"""Writers of GiftBTE input files: keyword files (CONTROL, GEOMETRY, PHONON), BC files, meshes
(GiftBTE's ``MeshType=1D`` generator file and COMSOL text meshes of boxes) and edits of existing
keyword files (set, remove a keyword; make the paths they name absolute).

Keyword files hold ``Keyword=`` on one line and the value on the next (GiftBTE reads the next
token after the keyword's line).  Mesh coordinates are written in mesh units (usually [0, 1]),
scaled by ScaleX/Y/Z (m) when read.  Box boundaries are numbered as COMSOL and GiftBTE's mesh
generator number them: lower faces by increasing axis, then upper faces by decreasing axis
(2D: 1 x=0, 2 y=0, 3 y=top, 4 x=right; 3D: 1 x=0, 2 y=0, 3 z=0, 4 z=top, 5 y=top, 6 x=right).
"""
from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

__all__ = ["absolutize_paths", "box_sides", "graded_nodes", "remove_keyword", "set_keyword",
           "write_1d_generator", "write_bc_file", "write_box_mesh", "write_comsol_mesh",
           "write_comsol_stacked_rect", "write_control_file", "write_keyword_file",
           "write_phonon_file", "write_region_values"]

#: a BC entry: (index, type, value) or (index, type, value, interface file)
BCEntry = tuple


def _write_lines(path: str | Path, lines: Iterable[str]) -> Path:
    path = Path(path)
    text = "\n".join(lines)
    path.write_text(text if text.endswith("\n") else text + "\n")
    return path


def _read_lines(path: str | Path) -> list[str]:
    return Path(path).read_text(errors="replace").splitlines()


# -- keyword files -----------------------------------------------------------------------------

def write_keyword_file(path: str | Path, values: Mapping[str, object]) -> Path:
    """A keyword file (CONTROL, GEOMETRY) with ``Keyword=`` and its value on the next line, in
    the order of ``values``; floats are written exactly (repr)."""
    lines: list[str] = []
    for keyword, value in values.items():
        lines += [f"{keyword}=", repr(value) if isinstance(value, float) else str(value)]
    return _write_lines(path, lines)


def write_control_file(path: str | Path, residual_temp: float, residual_flux: float,
                       max_iter: int) -> Path:
    """Steady CONTROL: second order, synthetic acceleration, the given thresholds."""
    return write_keyword_file(path, {"State": "Steady", "Order": 2,
                                     "IterativeScheme": "Synthetic", "MatrixSolver": "LU",
                                     "MaxNumIter": max_iter, "ResidualTemp": residual_temp,
                                     "ResidualFlux": residual_flux})


def write_phonon_file(path: str | Path, band_tables: Sequence[str | Path], n_bands: int,
                      region_materials: Sequence[int], ntheta: int, nphi: int) -> Path:
    """PHONON with one DATABASE material per band table (absolute paths), 3D angular space
    (8·ntheta·nphi directions) and ``region_materials[r]`` = 0-based material of region r."""
    lines = ["MaterialNumber=", str(len(band_tables)), "BandNumber=", str(n_bands), ""]
    for k, table in enumerate(band_tables):
        lines += [f"MaterialFile {k + 1}= DATABASE", str(Path(table).resolve()), ""]
    lines += ["GeometryMaterialType="]
    lines += [f"{r + 1} {m + 1}" for r, m in enumerate(region_materials)]
    lines += ["", "MaterialDimension=", "3", "Ntheta=", str(ntheta), "Nphi=", str(nphi)]
    return _write_lines(path, lines)


def write_bc_file(path: str | Path, entries: Sequence[BCEntry]) -> Path:
    """BC file from (boundary index, type, value[, interface file]) entries; a type is a
    BoundaryKind or the file's number (negative: periodic, minus the partner's index)."""
    lines = [f"{len(entries)} #Number of boundaries", "",
             "BoundaryIndex BoundaryType BoundaryValue"]
    for index, kind, value, *interface in entries:
        lines.append(" ".join([str(int(index)), str(int(kind)), repr(float(value)),
                               *map(str, interface)]))
    return _write_lines(path, lines)


def write_region_values(path: str | Path, values: Sequence[float]) -> Path:
    """``HeatType=REGION`` heat file: the region count, then 'region value' per region (1-based
    regions, values in W m^-3)."""
    return _write_lines(path, [f"{len(values)} #Number of Geometry"]
                        + [f"{k + 1} {v}" for k, v in enumerate(values)])


def _keyword_line(lines: list[str], keyword: str) -> int | None:
    """Index of the last line holding ``keyword`` as a word before any // comment (lines with
    '!' are skipped, as GiftBTE skips them)."""
    pattern = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(keyword)}(?![A-Za-z_])")
    hit = None
    for i, line in enumerate(lines):
        if "!" not in line and pattern.search(line.split("//", 1)[0]):
            hit = i
    return hit


def _value_line(lines: list[str], i: int) -> int:
    """Index of the first non-blank line after line ``i`` (len(lines) if none)."""
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j


def set_keyword(path: str | Path, keyword: str, value) -> None:
    """Set ``keyword``'s value (the first token on the following non-blank line); append
    ``keyword=`` and the value at the end of the file when the keyword is absent."""
    lines = _read_lines(path)
    i = _keyword_line(lines, keyword)
    if i is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += [f"{keyword}=", str(value), ""]
    else:
        j = _value_line(lines, i)
        if j < len(lines):
            lines[j] = str(value)
        else:
            lines.append(str(value))
    _write_lines(path, lines)


def remove_keyword(path: str | Path, keyword: str) -> None:
    """Drop ``keyword``'s line and its value line."""
    lines = _read_lines(path)
    i = _keyword_line(lines, keyword)
    if i is not None:
        del lines[i:_value_line(lines, i) + 1]
        _write_lines(path, lines)


def absolutize_paths(path: str | Path, keywords: Sequence[str], base: str | Path, *,
                     sources: Sequence[str] = (), must_exist: bool = False) -> None:
    """Rewrite the value after every line naming one of ``keywords`` as an absolute path,
    resolved from the run directory ``base`` (GiftBTE resolves paths from the run directory).
    ``sources``: when given, only lines that also name one of them (PHONON's ``MaterialFile 1=
    DATABASE``; an inline band table follows the others).  must_exist: raise
    FileNotFoundError for a path that does not exist."""
    lines = _read_lines(path)
    patterns = [re.compile(rf"(?<![A-Za-z0-9_]){re.escape(k)}(?![A-Za-z_])") for k in keywords]
    for i, line in enumerate(lines):
        head = line.split("//", 1)[0]
        if not any(p.search(head) for p in patterns):
            continue
        if sources and not any(source in line for source in sources):
            continue
        j = _value_line(lines, i)
        if j == len(lines):
            continue
        raw = lines[j].strip()
        target = Path(raw) if Path(raw).is_absolute() else (Path(base) / raw).resolve()
        if must_exist and not target.exists():
            raise FileNotFoundError(f"{path}: {raw!r} -> {target}")
        lines[j] = str(target)
    _write_lines(path, lines)


# -- meshes ------------------------------------------------------------------------------------

def graded_nodes(n_cells: int, ratio: float = 1.0) -> np.ndarray:
    """``n_cells + 1`` nodes on [0, 1]; cells grow geometrically by ``ratio`` per cell from both
    ends towards the centre (ratio 1: uniform)."""
    if n_cells < 1:
        raise ValueError(f"n_cells must be >= 1, got {n_cells}")
    if ratio == 1.0:
        return np.linspace(0.0, 1.0, n_cells + 1)
    half = ratio ** np.arange(n_cells // 2)
    middle = [half[-1] * ratio] if n_cells % 2 else []
    widths = np.concatenate([half, middle, half[::-1]]) if n_cells > 1 else np.ones(1)
    nodes = np.concatenate([[0.0], np.cumsum(widths)])
    return nodes / nodes[-1]


def write_1d_generator(path: str | Path, n_cells: int) -> Path:
    """GiftBTE ``MeshType=1D`` file: one region of ``n_cells`` uniform cells on [0, ScaleX]."""
    return _write_lines(path, ["Number_GEO=", "1", "distribution=", f"1 1 {int(n_cells)}"])


def write_comsol_mesh(path: str | Path, points: np.ndarray,
                      types: Sequence[tuple[str, np.ndarray, Sequence[int]]]) -> Path:
    """COMSOL text mesh (sdim = points' columns) of element ``types``: (COMSOL type name such
    as vtx, edg, quad, hex; elements as rows of 0-based vertex ids in COMSOL's vertex order;
    0-based geometric entity of each: boundary index − 1 for facets, domain for cells)."""
    points = np.asarray(points, dtype=np.float64)
    lines = ["# Created by mts bte.giftbte (COMSOL text mesh)", "0 1", "1 # number of tags",
             "# Tags", "5 mesh1", "1 # number of types", "# Types", "3 obj", "", "0 0 1",
             "4 Mesh # class", "4 # version", f"{points.shape[1]} # sdim",
             f"{len(points)} # number of mesh vertices", "0 # lowest mesh vertex index", "",
             "# Mesh vertex coordinates"]
    lines += [" ".join(repr(float(c)) for c in p) for p in points]
    lines += ["", f"{len(types)} # number of element types"]
    for k, (name, elements, entities) in enumerate(types):
        elements = np.asarray(elements, dtype=np.int64)
        lines += ["", f"# Type #{k}", "", f"{len(name)} {name} # type name", "", "",
                  f"{elements.shape[1]} # number of vertices per element",
                  f"{len(elements)} # number of elements", "# Elements"]
        lines += [" ".join(map(str, e)) for e in elements]
        lines += ["", f"{len(entities)} # number of geometric entity indices",
                  "# Geometric entity indices"]
        lines += [str(int(d)) for d in entities]
    return _write_lines(path, lines)


def box_sides(dim: int) -> list[tuple[int, int]]:
    """(axis, side) of boundaries 1 .. 2·dim of a box (side 0 the lower, 1 the upper face);
    see the module docstring."""
    return [(a, 0) for a in range(dim)] + [(a, 1) for a in reversed(range(dim))]


def _tensor_elements(vid: np.ndarray) -> np.ndarray:
    """Elements of a structured block of vertex ids of shape (n_0 + 1, n_1 + 1, ...): rows of
    2^d vertex ids in COMSOL tensor order (axis 0 fastest), elements ordered axis 0 fastest."""
    n = [m - 1 for m in vid.shape]
    corners = [c[::-1] for c in itertools.product((0, 1), repeat=vid.ndim)]
    return np.stack([vid[tuple(slice(o, o + m) for o, m in zip(c, n))].ravel(order="F")
                     for c in corners], axis=1)


_FACET_TYPE = {1: "vtx", 2: "edg", 3: "quad"}
_CELL_TYPE = {1: "edg", 2: "quad", 3: "hex"}


def write_box_mesh(path: str | Path, axes: Sequence[Sequence[float]],
                   region_of_cell: Sequence[int] | None = None) -> Path:
    """COMSOL mesh (sdim ``len(axes)``, 1 to 3) of the tensor-product grid of the increasing
    node lists ``axes`` (mesh units): cells ordered x fastest, then y, then z.
    ``region_of_cell``: 0-based domain of each cell in that order (default all 0); domains
    touch without internal boundaries.  Boundary facets numbered as in :func:`box_sides`."""
    axes = [np.asarray(a, dtype=np.float64) for a in axes]
    dim = len(axes)
    if dim not in (1, 2, 3):
        raise ValueError(f"a box mesh has 1 to 3 axes, got {dim}")
    shape = tuple(len(a) for a in axes)
    n_cells = int(np.prod([m - 1 for m in shape]))
    regions = (np.zeros(n_cells, int) if region_of_cell is None
               else np.asarray(region_of_cell, int))
    if len(regions) != n_cells:
        raise ValueError(f"region_of_cell has {len(regions)} entries for {n_cells} cells")
    vid = np.arange(np.prod(shape)).reshape(shape, order="F")
    points = np.column_stack([g.ravel(order="F") for g in np.meshgrid(*axes, indexing="ij")])
    facets = [_tensor_elements(np.take(vid, -side, axis=axis)) if dim > 1
              else np.array([[vid[-side]]]) for axis, side in box_sides(dim)]
    facet_types = [(_FACET_TYPE[dim], np.concatenate(facets),
                    np.repeat(np.arange(len(facets)), [len(f) for f in facets]))]
    if dim > 1:
        corners = _tensor_elements(vid[tuple(slice(None, None, m - 1) for m in shape)]).T
        facet_types.insert(0, ("vtx", corners, range(len(corners))))
    return write_comsol_mesh(path, points, facet_types + [(_CELL_TYPE[dim],
                                                           _tensor_elements(vid), regions + 1)])


def write_comsol_stacked_rect(path: str | Path, xs, ys, break_row: int) -> Path:
    """sdim 2 quad mesh of the grid xs × ys (mesh units) split into two domains stacked in y,
    domain 2 from row ``break_row`` up, with the internal boundary between them; boundaries as
    COMSOL numbers them in GiftBTE's interface example (``tworegin_2D_y.mphtxt``): 1 left of
    domain 1, 2 bottom, 3 left of domain 2, 4 the interface, 5 top, 6 right of domain 1,
    7 right of domain 2."""
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    nx, ny = len(xs) - 1, len(ys) - 1
    vid = np.arange((nx + 1) * (ny + 1)).reshape((nx + 1, ny + 1), order="F")
    points = np.column_stack([g.ravel(order="F") for g in np.meshgrid(xs, ys, indexing="ij")])
    upper = np.arange(ny) >= break_row                      # per row: in domain 2
    column = lambda i: np.stack([vid[i, :-1], vid[i, 1:]], axis=1)      # noqa: E731
    row = lambda j: np.stack([vid[:-1, j], vid[1:, j]], axis=1)         # noqa: E731
    edges = np.concatenate([column(0), row(0), row(break_row), row(ny), column(nx)])
    entities = np.concatenate([np.where(upper, 2, 0), np.full(nx, 1), np.full(nx, 3),
                               np.full(nx, 4), np.where(upper, 6, 5)])
    corners = vid[[0, nx, 0, nx], [0, 0, ny, ny]][:, None]
    cells = _tensor_elements(vid)
    domain = np.repeat(upper, nx).astype(int) + 1
    return write_comsol_mesh(path, points, [("vtx", corners, range(4)),
                                            ("edg", edges, entities),
                                            ("quad", cells, domain)])

