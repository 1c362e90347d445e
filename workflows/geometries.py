"""GiftBTE input folders for films and layered ribbons, written from band tables.

Every case is a column of quads in the x-y plane (COMSOL 2D mesh in mesh units [0, 1]², scaled
by ScaleX/ScaleY in m), one cell wide in x and ``n_cells`` cells across the thickness y:

* cross-plane film: heat flows along y between thermalizing walls (bottom 1 K hotter than top);
  the x sides are specular (an infinite slab);
* in-plane film / ribbon: periodic in x with a 1 K jump over the period (ScaleX), walls at y = 0
  and y = thickness diffuse (p = 0) or partially specular (0 < p < 1, BC type 6);
* layered ribbon: the in-plane column split into ``len(band_tables)`` equally thick layers
  across y, layer k with band table k (the BTE carries band b of one layer into band b of the
  next without an interface resistance).

Boundary numbering of the rectangle (GiftBTE's): 1 = x=0, 2 = y=0, 3 = y=top, 4 = x=right.
Lengths in m, temperatures in K.
"""
from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

KINDS = ("cross-plane", "in-plane")
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


def write_column_mesh(path: str | Path, ys: Sequence[float],
                      layer_of_cell: Sequence[int] | None = None) -> Path:
    """COMSOL sdim-2 mesh of one column of quads between x = 0 and 1 and the nodes ``ys``
    (mesh units).  ``layer_of_cell``: 0-based domain of each of the ``len(ys) - 1`` cells
    (default all 0); domains touch without internal boundaries.  Boundaries 1 = x=0,
    2 = y=0, 3 = y=top, 4 = x=1."""
    ys = np.asarray(ys, dtype=np.float64)
    ny = len(ys) - 1
    layers = np.zeros(ny, int) if layer_of_cell is None else np.asarray(layer_of_cell, int)
    if len(layers) != ny:
        raise ValueError(f"layer_of_cell has {len(layers)} entries for {ny} cells")
    points = np.column_stack([np.tile([0.0, 1.0], ny + 1), np.repeat(ys, 2)])   # node 2j + i
    quads = [[2 * j, 2 * j + 1, 2 * j + 2, 2 * j + 3] for j in range(ny)]
    edges = ([[2 * j, 2 * j + 2] for j in range(ny)] + [[0, 1], [2 * ny, 2 * ny + 1]]
             + [[2 * j + 1, 2 * j + 3] for j in range(ny)])
    edge_entity = [0] * ny + [1, 2] + [3] * ny
    lines = ["# Created by mts workflows.geometries (COMSOL text mesh)", "0 1", "1 # number of tags",
             "# Tags", "5 mesh1", "1 # number of types", "# Types", "3 obj", "", "0 0 1",
             "4 Mesh # class", "4 # version", "2 # sdim",
             f"{len(points)} # number of mesh vertices", "0 # lowest mesh vertex index", "",
             "# Mesh vertex coordinates"]
    lines += [f"{float(x)!r} {float(y)!r}" for x, y in points]
    lines += ["", "3 # number of element types"]
    types = [("vtx", [[0], [1], [2 * ny], [2 * ny + 1]], [0, 1, 2, 3]),
             ("edg", edges, edge_entity), ("quad", quads, list(layers + 1))]
    for k, (name, elements, entities) in enumerate(types):
        lines += ["", f"# Type #{k}", "", f"{len(name)} {name} # type name", "", "",
                  f"{len(elements[0])} # number of vertices per element",
                  f"{len(elements)} # number of elements", "# Elements"]
        lines += [" ".join(map(str, e)) for e in elements]
        lines += ["", f"{len(entities)} # number of geometric entity indices",
                  "# Geometric entity indices"]
        lines += [str(int(d)) for d in entities]
    path = Path(path)
    path.write_text("\n".join(lines) + "\n")
    return path


def film_boundaries(kind: str, specularity: float = 0.0) -> list[tuple[int, int, float]]:
    """BC entries (index, type, value) of a film column: see the module docstring.
    ``specularity`` p of the in-plane walls (0 diffuse)."""
    if kind == "cross-plane":
        return [(1, 3, 0.0), (2, 1, T_REF + DELTA_T), (3, 1, T_REF), (4, 3, 0.0)]
    if kind == "in-plane":
        if not 0.0 <= specularity < 1.0:
            raise ValueError(f"specularity must be in [0, 1), got {specularity}")
        wall = (2, 0.0) if specularity == 0.0 else (6, specularity)
        return [(1, -4, DELTA_T), (2, *wall), (3, *wall), (4, -1, 0.0)]
    raise ValueError(f"unknown film kind {kind!r}; use one of {KINDS}")


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


def write_film_case(directory: str | Path, kind: str, thickness: float,
                    band_tables: Sequence[str | Path], n_bands: int, *, n_cells: int = 40,
                    grading: float = 1.1, ntheta: int = 4, nphi: int = 4,
                    specularity: float = 0.0, residual_temp: float = 1e-6,
                    residual_flux: float = 1e-5, max_iter: int = 2000) -> Path:
    """Write a run directory ``directory/input/{CONTROL,GEOMETRY,PHONON,bc.dat,mesh.mphtxt}``
    for a film of ``thickness`` m (see the module docstring).  Several ``band_tables`` make a
    layered column: ``n_cells`` is rounded up to a multiple of the layer count, layers of equal
    thickness and uniform cells.  Returns ``directory``."""
    if thickness <= 0:
        raise ValueError(f"film thickness must be positive, got {thickness} m")
    n_layers = len(band_tables)
    if n_layers < 1:
        raise ValueError("at least one band table is needed")
    inp = Path(directory) / "input"
    inp.mkdir(parents=True, exist_ok=True)
    if n_layers == 1:
        ys, layer_of_cell = graded_nodes(n_cells, grading), None
    else:
        per_layer = -(-n_cells // n_layers)
        ys = np.linspace(0.0, 1.0, per_layer * n_layers + 1)
        layer_of_cell = np.repeat(np.arange(n_layers), per_layer)
    write_column_mesh(inp / "mesh.mphtxt", ys, layer_of_cell)
    write_bc_file(inp / "bc.dat", film_boundaries(kind, specularity))
    (inp / "GEOMETRY").write_text(
        f"GeometryDimension=\n2\nScaleX=\n{thickness!r}\nScaleY=\n{thickness!r}\n"
        f"BCFile=\ninput/bc.dat\nMeshType=\nCOMSOL\nMeshFile=\ninput/mesh.mphtxt\n")
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
