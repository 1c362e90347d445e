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
* ``make_case(...)``: all of the above in one call; the ``case_factory`` fixture binds tmp_path.
* ``mpirun_bte(n, run_dir, out, *options)``: ``mts bte run`` under ``mpirun -n n``.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
GIFTBTE = REPO / "examples" / "giftbte"
EXAMPLES = GIFTBTE / "examples"
MATERIALS = GIFTBTE / "materials"


# ------------------------------------------------------------------------------------------------
# keyword files
# ------------------------------------------------------------------------------------------------

def _read(path: Path) -> list[str]:
    return Path(path).read_text(errors="replace").replace("\r\n", "\n").replace("\r", "\n") \
        .split("\n")


def _write(path: Path, lines: list[str]) -> None:
    text = "\n".join(lines)
    if not text.endswith("\n"):
        text += "\n"
    Path(path).write_text(text)


def _keyword_line(lines: list[str], keyword: str) -> int | None:
    """Index of the last line holding ``keyword`` as a word before any // comment."""
    pat = re.compile(rf"(?<![A-Za-z0-9_]){re.escape(keyword)}(?![A-Za-z_])")
    hit = None
    for i, line in enumerate(lines):
        if "!" in line:
            continue
        if pat.search(line.split("//", 1)[0]):
            hit = i
    return hit


def set_keyword(path: Path, keyword: str, value) -> None:
    """Set ``keyword``'s value (the first token on the following non-blank line); append
    ``keyword=`` and the value at the end of the file when the keyword is absent."""
    lines = _read(path)
    i = _keyword_line(lines, keyword)
    if i is None:
        while lines and not lines[-1].strip():
            lines.pop()
        lines += [f"{keyword}=", str(value), ""]
    else:
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        if j < len(lines):
            lines[j] = str(value)
        else:
            lines.append(str(value))
    _write(path, lines)


def remove_keyword(path: Path, keyword: str) -> None:
    """Drop ``keyword``'s line and its value line."""
    lines = _read(path)
    i = _keyword_line(lines, keyword)
    if i is None:
        return
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    del lines[i:j + 1]
    _write(path, lines)


def absolutize_materials(phonon: Path, run_dir: Path, original_run_dir: Path) -> None:
    """Rewrite the path line after each ``MaterialFile`` line (DATABASE/ShengBTE/ALAMODE sources)
    as an absolute path, resolved from the original run directory (GiftBTE resolves paths
    relative to the run directory)."""
    lines = _read(phonon)
    for i, line in enumerate(lines):
        if "MaterialFile" not in line:
            continue
        if not any(src in line for src in ("DATABASE", "ShengBTE", "ALAMODE")):
            continue               # inline band table follows
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        raw = lines[j].strip()
        p = Path(raw)
        if not p.is_absolute():
            p = (original_run_dir / raw).resolve()
        if not p.exists():
            raise FileNotFoundError(f"{phonon}: material path {raw!r} -> {p}")
        lines[j] = str(p)
    _write(phonon, lines)


def copy_case(src, dst: Path) -> Path:
    """Copy the run directory ``src`` (a path, or a name under examples/giftbte/examples such as
    ``"cross-plane/1e-7"``) to ``dst``; only ``input/`` is copied.  Returns ``dst``."""
    src = Path(src)
    if not src.is_absolute():
        src = EXAMPLES / src
    dst = Path(dst)
    dst.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src / "input", dst / "input", dirs_exist_ok=True)
    absolutize_materials(dst / "input" / "PHONON", dst, src)
    return dst


def write_bc(path: Path, entries) -> None:
    """BC file: entries are (index, type, value) or (index, type, value, file)."""
    lines = [f"{len(entries)} #Number of boundaries", "",
             "BoundaryIndex BoundaryType BoundaryValue"]
    for e in entries:
        lines.append(" ".join(str(x) for x in e))
    _write(path, lines)


# ------------------------------------------------------------------------------------------------
# meshes
# ------------------------------------------------------------------------------------------------

def graded(n: int, ratio: float = 1.0) -> np.ndarray:
    """n + 1 nodes on [0, 1]; ratio > 1 makes the cells grow geometrically from both ends to the
    centre by that factor per cell (symmetric), ratio = 1 uniform."""
    if ratio == 1.0:
        return np.linspace(0.0, 1.0, n + 1)
    half = n // 2
    h = ratio ** np.arange(half)
    widths = np.concatenate([h, [h[-1] * ratio] if n % 2 else [], h[::-1]])
    x = np.concatenate([[0.0], np.cumsum(widths)])
    return x / x[-1]


def write_1d_generator(path: Path, n_cells: int) -> None:
    """GiftBTE ``MeshType=1D`` file: one region of ``n_cells`` uniform cells on [0, ScaleX]."""
    _write(path, ["Number_GEO=", "1", "distribution=", f"1 1 {int(n_cells)}"])


def _comsol_header(sdim: int, points: np.ndarray) -> list[str]:
    out = ["# Created by COMSOL Multiphysics.", "", "# Major & minor version", "0 1 ",
           "1 # number of tags", "# Tags", "5 mesh1 ", "1 # number of types", "# Types",
           "3 obj ", "", "# --------- Object 0 ----------", "", "0 0 1 ", "4 Mesh # class",
           "4 # version", f"{sdim} # sdim", f"{len(points)} # number of mesh vertices",
           "0 # lowest mesh vertex index", "", "# Mesh vertex coordinates"]
    out += [" ".join(repr(float(c)) for c in p) + " " for p in points]
    return out


def _comsol_type(name: str, elems: np.ndarray, entities: np.ndarray, index: int) -> list[str]:
    elems = np.asarray(elems, dtype=np.int64)
    out = ["", f"# Type #{index}", "", f"{len(name)} {name} # type name", "", "",
           f"{elems.shape[1]} # number of vertices per element",
           f"{len(elems)} # number of elements", "# Elements"]
    out += [" ".join(map(str, e)) + " " for e in elems]
    out += ["", f"{len(entities)} # number of geometric entity indices",
            "# Geometric entity indices"]
    out += [f"{int(d)} " for d in entities]
    return out


def _comsol_file(sdim: int, points: np.ndarray, types) -> list[str]:
    out = _comsol_header(sdim, points)
    out += ["", f"{len(types)} # number of element types"]
    for k, (name, elems, ent) in enumerate(types):
        out += _comsol_type(name, elems, ent, k)
    return out


def write_comsol_1d(path: Path, xs) -> None:
    """sdim 1 mesh: cells between consecutive ``xs``; boundary points x[0] (entity 0 ->
    boundary 1) and x[-1] (entity 1 -> boundary 2); one domain."""
    xs = np.asarray(xs, dtype=float)
    n = len(xs) - 1
    pts = xs[:, None]
    vtx = np.array([[0], [n]])
    edg = np.stack([np.arange(n), np.arange(1, n + 1)], axis=1)
    _write(path, _comsol_file(1, pts, [("vtx", vtx, [0, 1]), ("edg", edg, np.ones(n, int))]))


def write_comsol_rect(path: Path, xs, ys, domain_breaks=()) -> None:
    """sdim 2 structured quad mesh on the tensor grid xs × ys (mesh units).

    Boundaries as GiftBTE's generator/COMSOL number a rectangle: 1 = x=xs[0], 2 = y=ys[0],
    3 = y=ys[-1], 4 = x=xs[-1] (file entities 0..3).  ``domain_breaks``: at most one index into
    ys where domain 2 starts (two rectangles stacked along y); boundaries are then numbered as
    COMSOL numbers them in the interface example's ``tworegin_2D_y.mphtxt``: 1 = left of
    domain 1, 2 = bottom, 3 = left of domain 2, 4 = the internal interface, 5 = top, 6 = right
    of domain 1, 7 = right of domain 2.
    """
    xs, ys = np.asarray(xs, float), np.asarray(ys, float)
    nx, ny = len(xs) - 1, len(ys) - 1
    vid = lambda i, j: j * (nx + 1) + i                     # noqa: E731
    X, Y = np.meshgrid(xs, ys)                               # (ny+1, nx+1), row j = y
    pts = np.column_stack([X.ravel(), Y.ravel()])
    breaks = sorted(set(int(b) for b in domain_breaks))
    starts = [0] + breaks
    D = len(starts)
    dom_of_row = np.zeros(ny, dtype=int)
    for d, s in enumerate(starts):
        dom_of_row[s:] = d
    quads, qdom = [], []
    for j in range(ny):
        for i in range(nx):
            quads.append([vid(i, j), vid(i + 1, j), vid(i, j + 1), vid(i + 1, j + 1)])
            qdom.append(dom_of_row[j] + 1)
    edges, ent = [], []
    if D == 1:
        left, bottom, top, right = 0, 1, 2, 3
        ent_left = lambda j: left                           # noqa: E731
        ent_right = lambda j: right                         # noqa: E731
        internal = {}
    elif D == 2:
        ent_left = lambda j: 0 if dom_of_row[j] == 0 else 2          # noqa: E731
        bottom, top = 1, 4
        internal = {breaks[0]: 3}
        ent_right = lambda j: 5 if dom_of_row[j] == 0 else 6         # noqa: E731
    else:
        raise ValueError("at most two domains")
    for j in range(ny):
        edges.append([vid(0, j), vid(0, j + 1)])
        ent.append(ent_left(j))
    for i in range(nx):
        edges.append([vid(i, 0), vid(i + 1, 0)])
        ent.append(bottom)
    for b, e in internal.items():
        for i in range(nx):
            edges.append([vid(i, b), vid(i + 1, b)])
            ent.append(e)
    for i in range(nx):
        edges.append([vid(i, ny), vid(i + 1, ny)])
        ent.append(top)
    for j in range(ny):
        edges.append([vid(nx, j), vid(nx, j + 1)])
        ent.append(ent_right(j))
    corners = np.array([[vid(0, 0)], [vid(nx, 0)], [vid(0, ny)], [vid(nx, ny)]])
    _write(path, _comsol_file(2, pts, [("vtx", corners, [0, 1, 2, 3]),
                                       ("edg", np.array(edges), np.array(ent)),
                                       ("quad", np.array(quads), np.array(qdom))]))


def write_comsol_box(path: Path, xs, ys, zs) -> None:
    """sdim 3 structured hex mesh (COMSOL tensor vertex order: x fastest, then y, then z).
    Boundary quads (tensor order too) numbered as GiftBTE's mesh generator numbers a box:
    1 = x=min, 2 = y=min, 3 = z=min, 4 = z=max, 5 = y=max, 6 = x=max (entities 0..5)."""
    xs, ys, zs = (np.asarray(a, float) for a in (xs, ys, zs))
    nx, ny, nz = len(xs) - 1, len(ys) - 1, len(zs) - 1
    vid = lambda i, j, k: (k * (ny + 1) + j) * (nx + 1) + i        # noqa: E731
    Z, Y, X = np.meshgrid(zs, ys, xs, indexing="ij")
    pts = np.column_stack([X.ravel(), Y.ravel(), Z.ravel()])
    hexes = []
    for k in range(nz):
        for j in range(ny):
            for i in range(nx):
                hexes.append([vid(i, j, k), vid(i + 1, j, k), vid(i, j + 1, k),
                              vid(i + 1, j + 1, k), vid(i, j, k + 1), vid(i + 1, j, k + 1),
                              vid(i, j + 1, k + 1), vid(i + 1, j + 1, k + 1)])
    quads, ent = [], []
    for j in range(ny):                      # x = min / max
        for k in range(nz):
            for i_, e in ((0, 0), (nx, 5)):
                quads.append([vid(i_, j, k), vid(i_, j + 1, k), vid(i_, j, k + 1),
                              vid(i_, j + 1, k + 1)])
                ent.append(e)
    for i in range(nx):                      # y = min / max
        for k in range(nz):
            for j_, e in ((0, 1), (ny, 4)):
                quads.append([vid(i, j_, k), vid(i + 1, j_, k), vid(i, j_, k + 1),
                              vid(i + 1, j_, k + 1)])
                ent.append(e)
    for i in range(nx):                      # z = min / max
        for j in range(ny):
            for k_, e in ((0, 2), (nz, 3)):
                quads.append([vid(i, j, k_), vid(i + 1, j, k_), vid(i, j + 1, k_),
                              vid(i + 1, j + 1, k_)])
                ent.append(e)
    _write(path, _comsol_file(3, pts, [("quad", np.array(quads), np.array(ent)),
                                       ("hex", np.array(hexes), np.ones(len(hexes), int))]))


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
            _write(inp / "test_heat.dat", [f"{len(heat)} #Number of Geometry"]
                   + [f"{k + 1} {v}" for k, v in enumerate(heat)])
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
