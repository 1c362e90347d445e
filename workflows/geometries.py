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
The file writers are bte.giftbte.writer's (re-exported here under their names).
Lengths in m, temperatures in K.

Orientation (bte.orientation): the film normal is mesh y, the transport axis mesh x.  A case of
a non-cubic crystal gets ``input/ORIENTATION`` (``Normal=``, ``Transport=`` as given and
``Rotation=``, the 3 × 3 rotation from crystal Cartesian axes to mesh axes) for the anisotropic
mode input; without the file the crystal axes are the mesh axes (cubic crystals).
"""
from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bte.giftbte.writer import (
    absolutize_paths,
    box_sides,
    graded_nodes,
    write_bc_file,
    write_box_mesh,
    write_control_file,
    write_keyword_file,
    write_phonon_file,
)
from bte.orientation import ORIENTATION_FILE, write_orientation_file
from bte.problem import BoundaryKind

KINDS = ("cross-plane", "in-plane")     # films: a thickness
SECTION_KINDS = ("wire", "ribbon")      # bars: a width and a thickness
T_REF = 300.0           # K, cold side / mean temperature of every case
DELTA_T = 1.0           # K, the driving temperature difference

__all__ = ["DELTA_T", "KINDS", "SECTION_KINDS", "T_REF", "box_sides", "case_boundaries",
           "graded_nodes", "prepare_folder_case", "write_bc_file", "write_box_mesh",
           "write_case", "write_control_file", "write_phonon_file"]


def case_boundaries(kind: str, specularity: float = 0.0) -> list[tuple[int, int, float]]:
    """BC entries (index, type, value) of a film column or a bar (see the module docstring);
    ``specularity`` p of the walls along the heat flow (0 diffuse)."""
    if kind == "cross-plane":
        return [(1, BoundaryKind.SPECULAR, 0.0), (2, BoundaryKind.THERMALIZING, T_REF + DELTA_T),
                (3, BoundaryKind.THERMALIZING, T_REF), (4, BoundaryKind.SPECULAR, 0.0)]
    if kind not in ("in-plane", *SECTION_KINDS):
        raise ValueError(f"unknown geometry kind {kind!r}; use one of "
                         f"{KINDS + SECTION_KINDS}")
    if not 0.0 <= specularity < 1.0:
        raise ValueError(f"specularity must be in [0, 1), got {specularity}")
    wall = ((BoundaryKind.DIFFUSE, 0.0) if specularity == 0.0
            else (BoundaryKind.PARTIALLY_SPECULAR, specularity))
    last = 4 if kind == "in-plane" else 6
    # periodic pair 1 <-> last: a BC type -n names the partner n
    return [(1, -last, DELTA_T), *[(i, *wall) for i in range(2, last)], (last, -1, 0.0)]


def write_case(directory: str | Path, kind: str, thickness: float,
               band_tables: Sequence[str | Path], n_bands: int, *, width: float | None = None,
               n_cells: int = 40, grading: float = 1.1, ntheta: int = 4, nphi: int = 4,
               specularity: float = 0.0, residual_temp: float = 1e-6,
               residual_flux: float = 1e-5, max_iter: int = 2000,
               rotation: np.ndarray | None = None, normal: Sequence[float] | None = None,
               transport: Sequence[float] | None = None) -> Path:
    """Write a run directory ``directory/input/{CONTROL,GEOMETRY,PHONON,bc.dat,mesh.mphtxt}``
    (see the module docstring): a film of ``thickness`` m (``kind`` in :data:`KINDS`, no
    ``width``), or a wire/ribbon (``kind`` in :data:`SECTION_KINDS`) of cross-section
    ``thickness`` (y) × ``width`` (z) m.  ``n_cells`` cells across each transverse axis,
    growing by ``grading`` per cell from the walls; the period along x is ``thickness``.
    Several ``band_tables`` make layers across the thickness: there ``n_cells`` (across the
    thickness) is rounded up to a multiple of the layer count, layers of equal thickness and
    uniform cells.  ``rotation`` (crystal Cartesian -> mesh axes, from the crystal directions
    ``normal`` and ``transport``; see bte.orientation) is written to ``input/ORIENTATION``;
    None writes none (crystal axes = mesh axes).  Returns ``directory``."""
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
    write_keyword_file(inp / "GEOMETRY", {
        "GeometryDimension": len(scales),
        **{f"Scale{a}": float(s) for a, s in zip("XYZ", scales)},
        "BCFile": "input/bc.dat", "MeshType": "COMSOL", "MeshFile": "input/mesh.mphtxt"})
    write_phonon_file(inp / "PHONON", band_tables, n_bands, range(n_layers), ntheta, nphi)
    write_control_file(inp / "CONTROL", residual_temp, residual_flux, max_iter)
    if rotation is not None:
        write_orientation_file(inp / ORIENTATION_FILE, rotation, normal, transport)
    return Path(directory)


_PATH_KEYWORDS = ("BCFile", "MeshFile", "HeatFile")


def prepare_folder_case(source: str | Path, directory: str | Path, band_table: str | Path,
                        n_bands: int, ntheta: int | None = None, nphi: int | None = None, *,
                        rotation: np.ndarray | None = None,
                        normal: Sequence[float] | None = None,
                        transport: Sequence[float] | None = None) -> Path:
    """Copy the GiftBTE run directory ``source`` (its ``input/``) to ``directory`` with its
    PHONON replaced by one using ``band_table`` (absolute path) for every region and the
    angular set ``ntheta`` x ``nphi`` (None: the source's), and the file paths of its GEOMETRY
    made absolute; ``rotation``, ``normal``, ``transport`` as in :func:`write_case`.  Returns
    ``directory``."""
    import bte

    source = Path(source)
    problem = bte.read_input_folder(source)
    dst = Path(directory)
    shutil.copytree(source / "input", dst / "input", dirs_exist_ok=True)
    absolutize_paths(dst / "input" / "GEOMETRY", _PATH_KEYWORDS, source)
    write_phonon_file(dst / "input" / "PHONON", [band_table], n_bands,
                      [0] * len(problem.region_material),
                      problem.ntheta if ntheta is None else ntheta,
                      problem.nphi if nphi is None else nphi)
    if rotation is not None:
        write_orientation_file(dst / "input" / ORIENTATION_FILE, rotation, normal, transport)
    return dst
