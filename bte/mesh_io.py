"""Mesh readers for GiftBTE's mesh formats: the built-in 1D generator file, COMSOL ``.mphtxt``
text exports (sdim 1, 2, 3) and Gmsh 4.x ASCII ``.msh`` files.

Every reader returns a :class:`bte.problem.Mesh` whose coordinates are already multiplied by
(ScaleX, ScaleY, ScaleZ), i.e. in m, stored as (n_points, 3) with unused axes 0; cells are in VTK
vertex order.  Conventions (GiftBTE): boundary index = COMSOL geometric entity index + 1, or the
Gmsh entity tag of the boundary curve/surface; region = COMSOL domain index - 1, or Gmsh entity
tag - 1.  Every format error raises :class:`BTEInputError` naming the file and the line.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .problem import BTEInputError, Mesh

__all__ = ["read_mesh", "read_1d_generator", "read_comsol", "read_gmsh"]

# VTK cell type ids
VTK_VERTEX, VTK_LINE, VTK_TRIANGLE, VTK_QUAD = 1, 3, 5, 9
VTK_TETRA, VTK_HEXAHEDRON, VTK_WEDGE, VTK_PYRAMID = 10, 12, 13, 14

# COMSOL type name -> (topological dimension, VTK type, permutation COMSOL -> VTK order).
# COMSOL numbers quadrilateral faces in tensor order (0,1,3,2 goes round), VTK cyclically.
_COMSOL_TYPES = {
    "vtx": (0, VTK_VERTEX, [0]),
    "edg": (1, VTK_LINE, [0, 1]),
    "tri": (2, VTK_TRIANGLE, [0, 1, 2]),
    "quad": (2, VTK_QUAD, [0, 1, 3, 2]),
    "tet": (3, VTK_TETRA, [0, 1, 2, 3]),
    "pyr": (3, VTK_PYRAMID, [0, 1, 3, 2, 4]),
    "prism": (3, VTK_WEDGE, [0, 1, 2, 3, 4, 5]),
    "hex": (3, VTK_HEXAHEDRON, [0, 1, 3, 2, 4, 5, 7, 6]),
}

# Gmsh element type -> (topological dimension, VTK type); Gmsh's first-order orders equal VTK's.
_GMSH_TYPES = {15: (0, VTK_VERTEX), 1: (1, VTK_LINE), 2: (2, VTK_TRIANGLE), 3: (2, VTK_QUAD),
               4: (3, VTK_TETRA), 5: (3, VTK_HEXAHEDRON), 6: (3, VTK_WEDGE), 7: (3, VTK_PYRAMID)}
_VTK_NNODES = {VTK_VERTEX: 1, VTK_LINE: 2, VTK_TRIANGLE: 3, VTK_QUAD: 4, VTK_TETRA: 4,
               VTK_HEXAHEDRON: 8, VTK_WEDGE: 6, VTK_PYRAMID: 5}


def read_mesh(mesh_type: str, path: Path, dim: int,
              scale: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Mesh:
    """Read a mesh of GEOMETRY's ``MeshType`` (``1D``, ``COMSOL`` or ``MSH``, case-insensitive).

    dim: GeometryDimension (1, 2 or 3); scale: (ScaleX, ScaleY, ScaleZ) in m per mesh unit.
    """
    path = Path(path)
    kind = str(mesh_type).strip().upper()
    if dim not in (1, 2, 3):
        raise BTEInputError(f"must be 1, 2 or 3, got {dim!r}", path, None, "GeometryDimension")
    if kind == "1D":
        if dim != 1:
            raise BTEInputError(f"MeshType=1D needs GeometryDimension=1, got {dim}", path, None,
                                "GeometryDimension")
        return read_1d_generator(path, scale)
    if kind == "COMSOL":
        return read_comsol(path, dim, scale)
    if kind in ("MSH", "GMSH"):
        return read_gmsh(path, dim, scale)
    raise BTEInputError(f"unknown mesh type {mesh_type!r} (expected 1D, COMSOL or MSH)", path,
                        None, "MeshType")


# ----------------------------------------------------------------------------------------------
# helpers

def _lines(path: Path) -> list[str]:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise BTEInputError(f"cannot read mesh file ({exc.strerror or exc})", path, None,
                            "MeshFile") from None
    return [ln.strip() for ln in text.splitlines()]   # also strips '\r'


def _block(lines: list[str], start: int, nrows: int, ncols: int | None, dtype, path: Path,
           what: str) -> np.ndarray:
    """Parse ``nrows`` data lines from 0-based line ``start`` into an (nrows, ncols) array.

    ncols None: every row has the same (unknown) number of columns, returned as found.
    """
    if nrows < 0:
        raise BTEInputError(f"negative count {nrows} for the {what}", path, start, what)
    if nrows == 0:                  # an empty block (e.g. a Gmsh entity with no nodes of its own)
        return np.zeros((0, ncols or 0), dtype=dtype)
    rows = lines[start:start + nrows]
    if len(rows) < nrows:
        raise BTEInputError(f"file ends inside the {what} ({nrows} lines expected, "
                            f"{len(rows)} found)", path, len(lines), what)
    tokens = " ".join(rows).split()
    try:
        data = np.array(tokens, dtype=dtype)
    except (ValueError, OverflowError):
        data = None
    if ncols is None and data is not None and nrows:
        ncols = len(rows[0].split())
    if data is None or ncols is None or data.size != nrows * ncols:
        for k, row in enumerate(rows):            # slow path: locate the faulty line
            toks = row.split()
            try:
                np.array(toks, dtype=dtype)
            except (ValueError, OverflowError):
                toks = None
            if toks is None or (ncols is not None and len(toks) != ncols) or not toks:
                kind = "numbers" if np.dtype(dtype).kind == "f" else "integers"
                raise BTEInputError(f"bad line in the {what}: {row[:60]!r} (expected {ncols} "
                                    f"{kind})", path, start + k + 1, what)
        raise BTEInputError(f"inconsistent {what}", path, start + 1, what)
    return data.reshape(nrows, ncols) if nrows else data.reshape(0, ncols or 0)


def _int(token: str, path: Path, line: int, what: str) -> int:
    try:
        return int(token)
    except ValueError:
        raise BTEInputError(f"expected an integer, got {token!r}", path, line, what) from None


def _scaled(coords: np.ndarray, dim: int, scale) -> np.ndarray:
    points = np.zeros((len(coords), 3))
    k = min(coords.shape[1], 3)
    points[:, :k] = coords[:, :k]
    points[:, dim:] = 0.0
    return points * np.asarray(scale, dtype=float)[None, :]


def _csr(blocks: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """CSR (offsets, nodes) of a list of (n_i, k_i) connectivity arrays, in order."""
    sizes = [np.full(len(b), b.shape[1], dtype=np.int64) for b in blocks]
    sizes = np.concatenate(sizes) if sizes else np.zeros(0, np.int64)
    offsets = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=offsets[1:])
    nodes = np.concatenate([b.ravel() for b in blocks]).astype(np.int64) if blocks \
        else np.zeros(0, np.int64)
    return offsets, nodes


def _make_mesh(path: Path, dim: int, scale, points: np.ndarray, cells: list, bnds: list) -> Mesh:
    """cells: [(conn (n,k) VTK order, vtk type, region (n,))]; bnds: [(conn, index (n,))]."""
    if not cells:
        raise BTEInputError(f"no {dim}D cells in the mesh", path, None, "MeshFile")
    if not np.isfinite(points).all():
        bad = np.flatnonzero(~np.isfinite(points).all(axis=1))[0]
        raise BTEInputError(f"vertex {bad} has a non-finite coordinate {points[bad].tolist()}",
                            path, None, "MeshFile")
    c_off, c_nodes = _csr([c[0] for c in cells])
    b_off, b_nodes = _csr([b[0] for b in bnds])
    for nodes, what in ((c_nodes, "cell"), (b_nodes, "boundary element")):
        if nodes.size and (nodes.min() < 0 or nodes.max() >= len(points)):
            raise BTEInputError(f"a {what} refers to a vertex outside 0..{len(points) - 1}", path,
                                None, "MeshFile")
    cat = lambda arrs: (np.concatenate(arrs).astype(np.int64) if arrs  # noqa: E731
                        else np.zeros(0, np.int64))
    return Mesh(dim=dim, points=np.ascontiguousarray(points, dtype=np.float64),
                cell_offsets=c_off, cell_nodes=c_nodes,
                cell_types=cat([np.full(len(c[0]), c[1]) for c in cells]),
                cell_region=cat([c[2] for c in cells]),
                bnd_offsets=b_off, bnd_nodes=b_nodes, bnd_index=cat([b[1] for b in bnds]),
                scale=tuple(float(s) for s in scale), source=str(path))


# ----------------------------------------------------------------------------------------------
# GiftBTE 1D generator file

def read_1d_generator(path: Path, scale: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Mesh:
    """GiftBTE ``MeshType=1D`` file: line 1 ignored, ``N_regions <word>``, then per region
    ``index x_end/Lx n_cells``; uniform cells on [0, Lx] with Lx = ScaleX (m).

    Boundary points: 1 at x = 0, k (2..N) at the start of region k, N+1 at x = Lx.
    """
    path = Path(path)
    lines = _lines(path)
    toks = [(tok, i + 1) for i, ln in enumerate(lines[1:], start=1) for tok in ln.split()]
    if not toks:
        raise BTEInputError("missing the number of regions", path, 2, "N_regions")
    n_reg = _int(toks[0][0], path, toks[0][1], "N_regions")
    if n_reg < 1:
        raise BTEInputError(f"number of regions must be >= 1, got {n_reg}", path, toks[0][1],
                            "N_regions")
    rows = toks[2:2 + 3 * n_reg]
    if len(rows) < 3 * n_reg:
        raise BTEInputError(f"{n_reg} region lines 'index x_end n_cells' expected, file ends",
                            path, len(lines), "distribution")
    xs, ends, prev = [np.zeros(1)], [], 0.0
    for k in range(n_reg):
        (_, _), (xe, lx), (nc, ln) = rows[3 * k:3 * k + 3]
        try:
            x_end = float(xe)
        except ValueError:
            raise BTEInputError(f"x_end must be a number, got {xe!r}", path, lx,
                                "distribution") from None
        n_cells = _int(nc, path, ln, "distribution")
        if not (np.isfinite(x_end) and x_end > prev) or n_cells < 1:
            raise BTEInputError(f"region {k + 1}: x_end must increase and n_cells be >= 1 "
                                f"(got x_end={x_end}, n_cells={n_cells})", path, lx, "distribution")
        xs.append(np.linspace(prev, x_end, n_cells + 1)[1:])
        ends.append(n_cells)
        prev = x_end
    x = np.concatenate(xs)
    n_pts = len(x)
    conn = np.stack([np.arange(n_pts - 1), np.arange(1, n_pts)], axis=1)
    region = np.repeat(np.arange(n_reg), ends)
    bnd_pts = np.concatenate([[0], np.cumsum(ends)])          # x=0, region starts, x=Lx
    points = _scaled(x[:, None], 1, scale)
    return _make_mesh(path, 1, scale, points, [(conn, VTK_LINE, region)],
                      [(bnd_pts[:, None], np.arange(1, n_reg + 2))])


# ----------------------------------------------------------------------------------------------
# COMSOL .mphtxt

def read_comsol(path: Path, dim: int, scale: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Mesh:
    """COMSOL ``.mphtxt`` mesh (text export, or GiftBTE's mesh-generator imitation of one).

    The layout is found from the ``# ...`` comments (sdim, number of mesh vertices, vertex
    coordinates, type name, number of vertices per element, number of elements, Elements,
    number of geometric entity indices, Geometric entity indices).  Cells are the elements of
    dimension ``dim``, boundary elements those of dimension ``dim - 1``.
    """
    path = Path(path)
    lines = _lines(path)
    sdim = n_vert = coords = None
    lowest = 0
    types: list[dict] = []
    cur: dict | None = None
    i, n = 0, len(lines)
    # start at the Mesh object when the file holds several serialized objects
    for k, ln in enumerate(lines):
        if "#" in ln and ln.split("#", 1)[1].strip().lower() == "class" and "mesh" in ln.lower():
            i = k + 1
            break
    while i < n:
        ln = lines[i]
        i += 1
        if "#" not in ln:
            continue
        value, comment = ln.split("#", 1)
        key = comment.strip().lower()
        vals = value.split()
        lineno = i                                         # 1-based number of this line
        if key == "sdim":
            sdim = _int(vals[0] if vals else "", path, lineno, "sdim")
            if sdim != dim:
                raise BTEInputError(f"the mesh has sdim {sdim} but GeometryDimension is {dim}",
                                    path, lineno, "GeometryDimension")
        elif key in ("number of mesh vertices", "number of mesh points"):
            n_vert = _int(vals[0] if vals else "", path, lineno, "number of mesh vertices")
        elif key in ("lowest mesh vertex index", "lowest mesh point index"):
            lowest = _int(vals[0] if vals else "", path, lineno, "lowest mesh vertex index")
        elif key.startswith("mesh vertex coordinates") or key.startswith("mesh point coordinates"):
            if sdim is None or n_vert is None:
                raise BTEInputError("vertex coordinates before '# sdim' and '# number of mesh "
                                    "vertices'", path, lineno, "sdim")
            coords = _block(lines, i, n_vert, sdim, np.float64, path, "mesh vertex coordinates")
            i += n_vert
        elif key == "type name":
            name = vals[-1].lower() if vals else ""
            if name not in _COMSOL_TYPES:
                raise BTEInputError(f"unsupported COMSOL element type {name!r} (supported: "
                                    f"{', '.join(_COMSOL_TYPES)})", path, lineno, "type name")
            cur = {"name": name, "nep": len(_COMSOL_TYPES[name][2]), "ne": None, "elem": None,
                   "dom": None, "nd": None, "line": lineno}
            types.append(cur)
        elif cur is None:
            continue
        elif key in ("number of vertices per element", "number of nodes per element"):
            cur["nep"] = _int(vals[0] if vals else "", path, lineno,
                              "number of vertices per element")
            if cur["nep"] != len(_COMSOL_TYPES[cur["name"]][2]):
                raise BTEInputError(f"{cur['name']} elements with {cur['nep']} vertices are not "
                                    "supported (first-order elements only)", path, lineno,
                                    "number of vertices per element")
        elif key == "number of elements":
            cur["ne"] = _int(vals[0] if vals else "", path, lineno, "number of elements")
        elif key.startswith("elements"):
            if cur["ne"] is None:
                raise BTEInputError("'# Elements' before '# number of elements'", path, lineno,
                                    "number of elements")
            cur["elem"] = _block(lines, i, cur["ne"], cur["nep"], np.int64, path,
                                 f"{cur['name']} elements") - lowest
            i += cur["ne"]
        elif key in ("number of geometric entity indices", "number of domains"):
            cur["nd"] = _int(vals[0] if vals else "", path, lineno,
                             "number of geometric entity indices")
        elif key.startswith("geometric entity indices") or key.startswith("domains"):
            if cur["nd"] is None:
                raise BTEInputError("entity indices before their count", path, lineno,
                                    "number of geometric entity indices")
            cur["dom"] = _block(lines, i, cur["nd"], 1, np.int64, path,
                                f"{cur['name']} geometric entity indices")[:, 0]
            i += cur["nd"]
    if sdim is None:
        raise BTEInputError("no '# sdim' line: not a COMSOL mesh", path, None, "sdim")
    if coords is None:
        raise BTEInputError("no '# Mesh vertex coordinates' block", path, None,
                            "mesh vertex coordinates")
    cells, bnds = [], []
    for t in types:
        if t["elem"] is None or t["dom"] is None:
            raise BTEInputError(f"element type {t['name']} lacks its elements or its geometric "
                                "entity indices (truncated file?)", path, t["line"], t["name"])
        if len(t["dom"]) != len(t["elem"]):
            raise BTEInputError(f"{len(t['elem'])} {t['name']} elements but {len(t['dom'])} "
                                "geometric entity indices", path, t["line"], t["name"])
        tdim, vtk, perm = _COMSOL_TYPES[t["name"]]
        conn = t["elem"][:, perm]
        if tdim == dim:
            if len(t["dom"]) and t["dom"].min() < 1:
                raise BTEInputError(f"{t['name']} domain indices must be >= 1", path, t["line"],
                                    "geometric entity indices")
            cells.append((conn, vtk, t["dom"] - 1))
        elif tdim == dim - 1:
            bnds.append((conn, t["dom"] + 1))
        elif tdim > dim:
            raise BTEInputError(f"{t['name']} elements in a {dim}D mesh", path, t["line"],
                                "GeometryDimension")
    return _make_mesh(path, dim, scale, _scaled(coords, dim, scale), cells, bnds)


# ----------------------------------------------------------------------------------------------
# Gmsh 4.x ASCII .msh

def _section(lines: list[str], name: str, path: Path, required: bool = True) -> tuple[int, int]:
    """0-based (first content line, end-marker line) of ``$name ... $Endname``."""
    try:
        start = lines.index("$" + name)
    except ValueError:
        if required:
            raise BTEInputError(f"no ${name} section", path, None, name) from None
        return -1, -1
    try:
        end = lines.index("$End" + name, start + 1)
    except ValueError:
        raise BTEInputError(f"${name} section without ${'End' + name}", path, start + 1,
                            name) from None
    return start + 1, end


def _block_section(lines: list[str], name: str, path: Path) -> tuple[int, int, int]:
    """(first content line, end-marker line, number of entity blocks) of a Gmsh 4 section
    whose header line starts with ``numEntityBlocks numItems``."""
    s, e = _section(lines, name, path)
    head = lines[s].split() if s < e else []
    if len(head) < 2:
        raise BTEInputError(f"bad ${name} header", path, s + 1, name)
    return s, e, _int(head[0], path, s + 1, name)


def read_gmsh(path: Path, dim: int, scale: tuple[float, float, float] = (1.0, 1.0, 1.0)) -> Mesh:
    """Gmsh 4.x ASCII mesh.  Elements on entities of dimension ``dim`` are cells (region = entity
    tag - 1), those on entities of dimension ``dim - 1`` boundary elements (boundary index = the
    entity tag, not the physical group); lower-dimensional elements are skipped.
    """
    path = Path(path)
    lines = _lines(path)
    s, e = _section(lines, "MeshFormat", path)
    fmt = lines[s].split() if s < e else []
    if len(fmt) < 2 or not fmt[0].startswith("4"):
        raise BTEInputError(f"only Gmsh format 4.x is supported, found {' '.join(fmt)!r}", path,
                            s + 1, "MeshFormat")
    if fmt[1] != "0":
        raise BTEInputError("binary Gmsh files are not supported; save as ASCII", path, s + 1,
                            "MeshFormat")
    try:
        v41 = float(fmt[0]) >= 4.1
    except ValueError:
        raise BTEInputError(f"bad version {fmt[0]!r}", path, s + 1, "MeshFormat") from None

    # $Nodes: numEntityBlocks numNodes [minTag maxTag]; per block (4.1) entityDim entityTag
    # parametric n, then n tags, then n coordinate lines; (4.0) entityTag entityDim parametric n,
    # then n lines "tag x y z".
    s, e, n_blocks = _block_section(lines, "Nodes", path)
    i, tags, xyz = s + 1, [], []
    for _ in range(n_blocks):
        blk = _block(lines, i, 1, 4, np.int64, path, "Nodes")[0] if i < e else None
        if blk is None:
            raise BTEInputError("$Nodes ends before all its entity blocks", path, e + 1, "Nodes")
        cnt = int(blk[3])
        i += 1
        if i + cnt * (2 if v41 else 1) > e:
            raise BTEInputError("$Nodes block runs past $EndNodes", path, i, "Nodes")
        if v41:
            tags.append(_block(lines, i, cnt, 1, np.int64, path, "Nodes")[:, 0])
            c = _block(lines, i + cnt, cnt, None, np.float64, path, "Nodes")
            i += 2 * cnt
        else:
            c = _block(lines, i, cnt, None, np.float64, path, "Nodes")
            tags.append(c[:, 0].astype(np.int64))
            c = c[:, 1:]
            i += cnt
        if cnt and c.shape[1] < 3:
            raise BTEInputError("node coordinates need x y z", path, i, "Nodes")
        xyz.append(c[:, :3] if cnt else np.zeros((0, 3)))
    node_tags = np.concatenate(tags) if tags else np.zeros(0, np.int64)
    coords = np.concatenate(xyz) if xyz else np.zeros((0, 3))
    if node_tags.size == 0:
        raise BTEInputError("no nodes", path, s + 1, "Nodes")
    if node_tags.min() < 0 or len(np.unique(node_tags)) != len(node_tags):
        raise BTEInputError("node tags must be unique and non-negative", path, s + 1, "Nodes")
    tag_to_index = np.full(int(node_tags.max()) + 1, -1, dtype=np.int64)
    tag_to_index[node_tags] = np.arange(len(node_tags))

    # $Elements: numEntityBlocks numElements [minTag maxTag]; per block (4.1) entityDim entityTag
    # elementType n (4.0: entityTag entityDim elementType n), then n lines "tag n1 n2 ...".
    s, e, n_blocks = _block_section(lines, "Elements", path)
    i, cells, bnds = s + 1, [], []
    for _ in range(n_blocks):
        if i >= e:
            raise BTEInputError("$Elements ends before all its entity blocks", path, e + 1,
                                "Elements")
        blk = _block(lines, i, 1, 4, np.int64, path, "Elements")[0]
        ent_dim, ent_tag = (int(blk[0]), int(blk[1])) if v41 else (int(blk[1]), int(blk[0]))
        etype, cnt, line0 = int(blk[2]), int(blk[3]), i + 1
        i += 1
        if i + cnt > e:
            raise BTEInputError("$Elements block runs past $EndElements", path, line0, "Elements")
        if ent_dim > dim:
            raise BTEInputError(f"{ent_dim}D elements in a {dim}D mesh (GeometryDimension)", path,
                                line0, "GeometryDimension")
        if ent_dim < dim - 1:
            i += cnt
            continue
        if etype not in _GMSH_TYPES or _GMSH_TYPES[etype][0] != ent_dim:
            raise BTEInputError(f"unsupported Gmsh element type {etype} on a {ent_dim}D entity "
                                "(first-order lines, triangles, quads, tets, hexes, prisms, "
                                "pyramids only)", path, line0, "Elements")
        vtk = _GMSH_TYPES[etype][1]
        data = _block(lines, i, cnt, 1 + _VTK_NNODES[vtk], np.int64, path, "Elements")
        i += cnt
        nodes = data[:, 1:]
        if nodes.size and (nodes.min() < 0 or nodes.max() >= len(tag_to_index)
                           or (tag_to_index[nodes] < 0).any()):
            raise BTEInputError("an element refers to an undefined node tag", path, line0,
                                "Elements")
        conn = tag_to_index[nodes]
        if ent_dim == dim:
            if ent_tag < 1:
                raise BTEInputError(f"entity tag {ent_tag} must be >= 1", path, line0, "Elements")
            cells.append((conn, vtk, np.full(cnt, ent_tag - 1)))
        else:
            bnds.append((conn, np.full(cnt, ent_tag)))
    return _make_mesh(path, dim, scale, _scaled(coords, dim, scale), cells, bnds)
