"""Helpers for the BTE physics tests: build small variants of GiftBTE example folders in tmp_path.

* ``copy_case(src, dst)``: copy a run directory (its ``input/``) and make the material paths in
  PHONON absolute, so the copy runs from anywhere.
* ``set_keyword(path, keyword, value)``: rewrite (or append) a GiftBTE keyword whose value sits on
  the next line, e.g. ``Ntheta`` in PHONON or ``ResidualTemp`` in CONTROL.
* Mesh writers in GiftBTE's formats: ``write_1d_generator`` (``MeshType=1D``),
  ``write_comsol_1d`` (sdim 1), ``write_comsol_rect`` (sdim 2, quads, boundaries 1 = x=0,
  2 = y=0, 3 = y=top, 4 = x=right, optional domains stacked in y with internal boundaries),
  ``write_comsol_box`` (sdim 3, hexes, boundaries 1 = x=0, 2 = y=0, 3 = z=0, 4 = z=top,
  5 = y=top, 6 = x=right, as GiftBTE's mesh generator numbers a box).  Coordinates are given in
  mesh units (usually [0, 1]) and scaled by ScaleX/Y/Z.
* ``write_bc(path, entries)``: a BC file.
The file writers are bte.giftbte.writer's; the names above are kept for the tests.
* ``make_case(...)``: all of the above in one call; the ``case_factory`` fixture binds tmp_path.
* ``mpirun_bte(n, run_dir, out, *options)``: ``mts bte run`` under ``mpirun -n n``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bte.giftbte.reader import MATERIAL_SOURCES
from bte.giftbte.writer import (
    absolutize_paths,
    remove_keyword,
    set_keyword,
    write_1d_generator,
    write_bc_file,
    write_box_mesh,
    write_comsol_stacked_rect,
    write_region_values,
)
from bte.giftbte.writer import graded_nodes as graded

REPO = Path(__file__).resolve().parents[2]
GIFTBTE = REPO / "examples" / "giftbte"
EXAMPLES = GIFTBTE / "examples"
MATERIALS = GIFTBTE / "materials"

__all__ = ["EXAMPLES", "GIFTBTE", "MATERIALS", "REPO", "copy_case", "graded", "make_case",
           "mpirun", "mpirun_bte", "remove_keyword", "set_keyword", "write_1d_generator",
           "write_bc", "write_comsol_1d", "write_comsol_box", "write_comsol_rect"]

write_bc = write_bc_file


def copy_case(src, dst: Path) -> Path:
    """Copy the run directory ``src`` (a path, or a name under examples/giftbte/examples such as
    ``"cross-plane/1e-7"``) to ``dst``; only ``input/`` is copied, and the material paths in
    PHONON are made absolute (resolved from ``src``).  Returns ``dst``."""
    src = Path(src)
    if not src.is_absolute():
        src = EXAMPLES / src
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / "input", dst / "input", dirs_exist_ok=True)
    absolutize_paths(dst / "input" / "PHONON", ["MaterialFile"], src,
                     sources=MATERIAL_SOURCES, must_exist=True)
    return dst


def write_comsol_1d(path: Path, xs) -> None:
    """sdim 1 mesh: cells between consecutive ``xs``; boundary points x[0] (boundary 1) and
    x[-1] (boundary 2); one domain."""
    write_box_mesh(path, [xs])


def write_comsol_rect(path: Path, xs, ys, domain_breaks=()) -> None:
    """sdim 2 structured quad mesh on the tensor grid xs × ys (mesh units), boundaries 1 = x=0,
    2 = y=0, 3 = y=top, 4 = x=right; with one index into ys in ``domain_breaks``, two domains
    stacked in y numbered as GiftBTE's interface example (bte.giftbte.writer
    .write_comsol_stacked_rect)."""
    breaks = sorted({int(b) for b in domain_breaks})
    if len(breaks) > 1:
        raise ValueError("at most two domains")
    if breaks:
        write_comsol_stacked_rect(path, xs, ys, breaks[0])
    else:
        write_box_mesh(path, [xs, ys])


def write_comsol_box(path: Path, xs, ys, zs) -> None:
    """sdim 3 structured hex mesh; boundaries 1 = x=min, 2 = y=min, 3 = z=min, 4 = z=max,
    5 = y=max, 6 = x=max."""
    write_box_mesh(path, [xs, ys, zs])


# ------------------------------------------------------------------------------------------------
# whole cases
# ------------------------------------------------------------------------------------------------

def make_case(root: Path, src, name: str, *, control: dict | None = None,
              phonon: dict | None = None, geometry: dict | None = None, mesh=None,
              bc=None, heat=None, drop_geometry=()) -> Path:
    """Copy example ``src`` to ``root/name`` and modify it.

    control/phonon/geometry: keyword -> value to set in that file.
    mesh: ('1d', n_cells) | ('comsol1d', xs) | ('rect', xs, ys[, domain_breaks]) |
          ('box', xs, ys, zs): written to input/test_mesh.* and GEOMETRY's GeometryDimension,
          MeshType and MeshFile set accordingly (ScaleX/Y/Z are left to ``geometry``).
    bc: BC entries (see write_bc), written to input/test_bc.dat and set as BCFile.
    heat: None (leave), 0 (remove HeatType/HeatFile) or a list of per-region values (W/m^3).
    drop_geometry: GEOMETRY keywords to remove.
    """
    run = copy_case(src, Path(root) / name)
    inp = run / "input"
    geo = inp / "GEOMETRY"
    if mesh is not None:
        kind = mesh[0]
        if kind == "1d":
            write_1d_generator(inp / "test_mesh.dat", mesh[1])
            dim, mtype, mfile = 1, "1D", "input/test_mesh.dat"
        elif kind == "comsol1d":
            write_comsol_1d(inp / "test_mesh.mphtxt", mesh[1])
            dim, mtype, mfile = 1, "COMSOL", "input/test_mesh.mphtxt"
        elif kind == "rect":
            write_comsol_rect(inp / "test_mesh.mphtxt", *mesh[1:])
            dim, mtype, mfile = 2, "COMSOL", "input/test_mesh.mphtxt"
        elif kind == "box":
            write_comsol_box(inp / "test_mesh.mphtxt", *mesh[1:])
            dim, mtype, mfile = 3, "COMSOL", "input/test_mesh.mphtxt"
        else:
            raise ValueError(kind)
        set_keyword(geo, "GeometryDimension", dim)
        set_keyword(geo, "MeshType", mtype)
        set_keyword(geo, "MeshFile", mfile)
    if bc is not None:
        write_bc(inp / "test_bc.dat", bc)
        set_keyword(geo, "BCFile", "input/test_bc.dat")
    if heat is not None:
        if heat == 0 or heat == []:
            remove_keyword(geo, "HeatType")
            remove_keyword(geo, "HeatFile")
        else:
            write_region_values(inp / "test_heat.dat", heat)
            set_keyword(geo, "HeatType", "REGION")
            set_keyword(geo, "HeatFile", "input/test_heat.dat")
    for kw in drop_geometry:
        remove_keyword(geo, kw)
    for fname, values in (("CONTROL", control), ("PHONON", phonon), ("GEOMETRY", geometry)):
        for kw, val in (values or {}).items():
            set_keyword(inp / fname, kw, val)
    return run


#: prefixes of the variables an MPI library sets in a process it initialises
LAUNCHER_VARIABLES = ("OMPI_", "PMIX_", "PMI_")


def mpirun(n: int, *command: str) -> subprocess.CompletedProcess:
    """``mpirun -n n command...`` (oversubscribed, root allowed; needs mpirun on the PATH).

    mpirun gets the environment without the MPI launcher variables: once anything in the
    calling process has initialised MPI (ASE's ``world`` does, in any process where mpi4py has
    been imported), Open MPI has set them at the C level, and an mpirun that inherits them
    exits with status 1 and no output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(LAUNCHER_VARIABLES)}
    return subprocess.run([shutil.which("mpirun"), "-n", str(n), "--oversubscribe",
                           "--allow-run-as-root", *command],
                          capture_output=True, text=True, timeout=600, env=env)


def mpirun_bte(n: int, run_dir: Path, out: Path, *options: str) -> subprocess.CompletedProcess:
    """``mpirun -n n mts bte run run_dir -o out -q options...`` through :func:`mpirun`."""
    return mpirun(n, sys.executable, "-m", "workflows.cli", "bte", "run", str(run_dir),
                  "-o", str(out), "-q", *options)
