"""GiftBTE input folders for films, wires, ribbons and layered ribbons, written from band tables.

Every case is a box meshed as a tensor product of nodes (COMSOL text mesh in mesh units
[0, 1]^d, scaled by ScaleX/ScaleY/ScaleZ in m), one cell long along x and ``n_cells`` cells
across each transverse axis, graded towards the walls:

* cross-plane film (2D): heat flows along y between thermalizing walls (bottom 1 K hotter than
  top); the x sides are specular (an infinite slab);
* in-plane film (2D): periodic in x with a 1 K jump over the period (ScaleX), walls at y = 0 and
  y = thickness diffuse (p = 0) or partially specular (0 < p < 1, BC type 6);
* wire / ribbon (3D): an infinitely long bar of rectangular cross-section thickness (y) ×
  width (z), heat along its axis x, periodic in x with a 1 K jump like the in-plane film, the
  four side walls diffuse or partially specular ("wire" and "ribbon" differ only in how a
  study names their sizes).  The thickness lies along y as in the film column, so a wide
  ribbon meets the film with the same discrete directions (the angular set's polar axis is z;
  in very thin bars κ depends at the per-cent level on the discrete grazing directions, which
  differ between y and z walls);
* layered ribbon: a film column or a bar split into ``len(band_tables)`` equally thick layers
  across the thickness (y), layer k with band table k (the BTE carries band b of one layer
  into band b of the next without an interface resistance).

Boundary numbering of the box (COMSOL's and GiftBTE's mesh generator's): lower faces by
increasing axis, then upper faces by decreasing axis; 2D 1 = x=0, 2 = y=0, 3 = y=top,
4 = x=right; 3D 1 = x=0, 2 = y=0, 3 = z=0, 4 = z=top, 5 = y=top, 6 = x=right.
Lengths in m, temperatures in K.
"""
from __future__ import annotations

import itertools
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

KINDS = ("cross-plane", "in-plane")     # films: a thickness
SECTION_KINDS = ("wire", "ribbon")      # bars: a width and a thickness
T_REF = 300.0           # K, cold side / mean temperature of every case
DELTA_T = 1.0           # K, the driving temperature difference


def graded_nodes(n_cells: int, ratio: float = 1.0) -> np.ndarray:
    """``n_cells + 1`` nodes on [0, 1]; cells grow geometrically by ``ratio`` per cell from both
    walls towards the centre (ratio 1: uniform)."""
    if n_cells < 1:
        raise ValueError(f"n_cells must be >= 1, got {n_cells}")
    if ratio == 1.0:
        return np.linspace(0.0, 1.0, n_cells + 1)
    half = ratio ** np.arange(n_cells // 2)
    middle = [half[-1] * ratio] if n_cells % 2 else []
    widths = np.concatenate([half, middle, half[::-1]]) if n_cells > 1 else np.ones(1)
    nodes = np.concatenate([[0.0], np.cumsum(widths)])
    return nodes / nodes[-1]


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


_FACET_TYPE, _CELL_TYPE = {2: "edg", 3: "quad"}, {2: "quad", 3: "hex"}


def write_box_mesh(path: str | Path, axes: Sequence[Sequence[float]],
                   region_of_cell: Sequence[int] | None = None) -> Path:
    """COMSOL mesh (sdim ``len(axes)``, 2 or 3) of the tensor-product grid of the increasing
    node lists ``axes`` (mesh units): quads or hexes ordered x fastest, then y, then z.
    ``region_of_cell``: 0-based domain of each cell in that order (default all 0); domains
    touch without internal boundaries.  Boundary facets numbered as in :func:`box_sides`."""
    axes = [np.asarray(a, dtype=np.float64) for a in axes]
    dim = len(axes)
    if dim not in (2, 3):
        raise ValueError(f"a box mesh has 2 or 3 axes, got {dim}")
    shape = tuple(len(a) for a in axes)
    n_cells = int(np.prod([m - 1 for m in shape]))
    regions = (np.zeros(n_cells, int) if region_of_cell is None
               else np.asarray(region_of_cell, int))
    if len(regions) != n_cells:
        raise ValueError(f"region_of_cell has {len(regions)} entries for {n_cells} cells")
    vid = np.arange(np.prod(shape)).reshape(shape, order="F")
    points = np.column_stack([g.ravel(order="F") for g in np.meshgrid(*axes, indexing="ij")])
    facets = [_tensor_elements(np.take(vid, -side, axis=axis)) for axis, side in box_sides(dim)]
    corners = _tensor_elements(vid[tuple(slice(None, None, m - 1) for m in shape)]).T
    lines = ["# Created by mts workflows.geometries (COMSOL text mesh)", "0 1",
             "1 # number of tags", "# Tags", "5 mesh1", "1 # number of types", "# Types",
             "3 obj", "", "0 0 1", "4 Mesh # class", "4 # version", f"{dim} # sdim",
             f"{len(points)} # number of mesh vertices", "0 # lowest mesh vertex index", "",
             "# Mesh vertex coordinates"]
    lines += [" ".join(repr(float(c)) for c in p) for p in points]
    lines += ["", "3 # number of element types"]
    types = [("vtx", corners, range(len(corners))),
             (_FACET_TYPE[dim], np.concatenate(facets),
              np.repeat(np.arange(len(facets)), [len(f) for f in facets])),
             (_CELL_TYPE[dim], _tensor_elements(vid), regions + 1)]
    for k, (name, elements, entities) in enumerate(types):
        lines += ["", f"# Type #{k}", "", f"{len(name)} {name} # type name", "", "",
                  f"{elements.shape[1]} # number of vertices per element",
                  f"{len(elements)} # number of elements", "# Elements"]
        lines += [" ".join(map(str, e)) for e in elements]
        lines += ["", f"{len(entities)} # number of geometric entity indices",
                  "# Geometric entity indices"]
        lines += [str(int(d)) for d in entities]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def case_boundaries(kind: str, specularity: float = 0.0) -> list[tuple[int, int, float]]:
    """BC entries (index, type, value) of a film column or a bar (see the module docstring);
    ``specularity`` p of the walls along the heat flow (0 diffuse)."""
    if kind == "cross-plane":
        return [(1, 3, 0.0), (2, 1, T_REF + DELTA_T), (3, 1, T_REF), (4, 3, 0.0)]
    if kind not in ("in-plane", *SECTION_KINDS):
        raise ValueError(f"unknown geometry kind {kind!r}; use one of "
                         f"{KINDS + SECTION_KINDS}")
    if not 0.0 <= specularity < 1.0:
        raise ValueError(f"specularity must be in [0, 1), got {specularity}")
    wall = (2, 0.0) if specularity == 0.0 else (6, specularity)
    last = 4 if kind == "in-plane" else 6
    return [(1, -last, DELTA_T), *[(i, *wall) for i in range(2, last)], (last, -1, 0.0)]


def write_bc_file(path: str | Path, entries: Sequence[tuple[int, int, float]]) -> Path:
    """GiftBTE BC file from (boundary index, type, value) entries."""
    lines = [f"{len(entries)} #Number of boundaries", "",
             "BoundaryIndex BoundaryType BoundaryValue"]
    lines += [f"{i} {t} {float(v)!r}" for i, t, v in entries]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


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
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def write_control_file(path: str | Path, residual_temp: float, residual_flux: float,
                       max_iter: int) -> Path:
    """Steady CONTROL: second order, synthetic acceleration, the given thresholds."""
    text = (f"State=\nSteady\nOrder=\n2\nIterativeScheme=\nSynthetic\nMatrixSolver=\nLU\n"
            f"MaxNumIter=\n{max_iter}\nResidualTemp=\n{residual_temp!r}\n"
            f"ResidualFlux=\n{residual_flux!r}\n")
    path = Path(path)
    path.write_text(text)
    return path


def write_case(directory: str | Path, kind: str, thickness: float,
               band_tables: Sequence[str | Path], n_bands: int, *, width: float | None = None,
               n_cells: int = 40, grading: float = 1.1, ntheta: int = 4, nphi: int = 4,
               specularity: float = 0.0, residual_temp: float = 1e-6,
               residual_flux: float = 1e-5, max_iter: int = 2000) -> Path:
    """Write a run directory ``directory/input/{CONTROL,GEOMETRY,PHONON,bc.dat,mesh.mphtxt}``
    (see the module docstring): a film of ``thickness`` m (``kind`` in :data:`KINDS`, no
    ``width``), or a wire/ribbon (``kind`` in :data:`SECTION_KINDS`) of cross-section
    ``thickness`` (y) × ``width`` (z) m.  ``n_cells`` cells across each transverse axis,
    growing by ``grading`` per cell from the walls; the period along x is ``thickness``.
    Several ``band_tables`` make layers across the thickness: there ``n_cells`` (across the
    thickness) is rounded up to a multiple of the layer count, layers of equal thickness and
    uniform cells.  Returns ``directory``."""
    if (width is None) != (kind in KINDS):
        raise ValueError(f"a {kind!r} case {'needs' if width is None else 'takes no'} width")
    if thickness <= 0 or (width is not None and width <= 0):
        raise ValueError(f"sizes must be positive, got thickness {thickness} m, width {width} m")
    n_layers = len(band_tables)
    if n_layers < 1:
        raise ValueError("at least one band table is needed")
    inp = Path(directory) / "input"
    inp.mkdir(parents=True, exist_ok=True)
    if n_layers == 1:
        across, region_of_cell = graded_nodes(n_cells, grading), None
    else:
        per_layer = -(-n_cells // n_layers)
        across = np.linspace(0.0, 1.0, per_layer * n_layers + 1)
        region_of_cell = np.repeat(np.arange(n_layers), per_layer)
    axes, scales = [[0.0, 1.0], across], [thickness, thickness]
    if width is not None:
        axes.append(graded_nodes(n_cells, grading))
        scales.append(width)
        region_of_cell = None if region_of_cell is None else np.tile(region_of_cell, n_cells)
    write_box_mesh(inp / "mesh.mphtxt", axes, region_of_cell)
    write_bc_file(inp / "bc.dat", case_boundaries(kind, specularity))
    (inp / "GEOMETRY").write_text(
        f"GeometryDimension=\n{len(scales)}\n"
        + "".join(f"Scale{a}=\n{s!r}\n" for a, s in zip("XYZ", scales))
        + "BCFile=\ninput/bc.dat\nMeshType=\nCOMSOL\nMeshFile=\ninput/mesh.mphtxt\n")
    write_phonon_file(inp / "PHONON", band_tables, n_bands, range(n_layers), ntheta, nphi)
    write_control_file(inp / "CONTROL", residual_temp, residual_flux, max_iter)
    return Path(directory)


_PATH_KEYWORDS = ("BCFile", "MeshFile", "HeatFile")


def prepare_folder_case(source: str | Path, directory: str | Path, band_table: str | Path,
                        n_bands: int, ntheta: int | None = None, nphi: int | None = None) -> Path:
    """Copy the GiftBTE run directory ``source`` (its ``input/``) to ``directory`` with its
    PHONON replaced by one using ``band_table`` (absolute path) for every region and the
    angular set ``ntheta`` x ``nphi`` (None: the source's), and the file paths of its GEOMETRY
    made absolute.  Returns ``directory``."""
    import bte

    source = Path(source)
    problem = bte.read_input_folder(source)
    dst = Path(directory)
    shutil.copytree(source / "input", dst / "input", dirs_exist_ok=True)
    geometry = dst / "input" / "GEOMETRY"
    lines = geometry.read_text(errors="replace").splitlines()
    for i, line in enumerate(lines[:-1]):
        head = line.split("//", 1)[0]
        if any(re.search(rf"\b{k}\b", head) for k in _PATH_KEYWORDS) and lines[i + 1].strip():
            target = Path(lines[i + 1].strip())
            lines[i + 1] = str(target if target.is_absolute() else (source / target).resolve())
    geometry.write_text("\n".join(lines) + "\n")
    write_phonon_file(dst / "input" / "PHONON", [band_table], n_bands,
                      [0] * len(problem.region_material),
                      problem.ntheta if ntheta is None else ntheta,
                      problem.nphi if nphi is None else nphi)
    return dst
