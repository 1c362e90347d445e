"""Finite-volume geometry of a mesh: cell centroids and volumes, faces with outward normals,
boundary faces (with periodic and split-interface partners), least-squares gradient stencils
and upwind sweep orders.

Lengths in m (the mesh is already scaled); volumes in m^dim (area per unit depth in 2D, length
in 1D); face areas in m^(dim-1) (edge length in 2D, 1 in 1D).
"""
from __future__ import annotations

from typing import Iterable

import numba
import numpy as np
from scipy.spatial import cKDTree

from .problem import BTEInputError, Geometry, Mesh

__all__ = ["build_geometry", "least_squares_gradient", "boundary_translation", "sweep_orders"]

# local faces of each VTK cell type (polygon faces in cyclic vertex order)
_FACES = {
    3: [(0,), (1,)],
    5: [(0, 1), (1, 2), (2, 0)],
    9: [(0, 1), (1, 2), (2, 3), (3, 0)],
    10: [(0, 1, 2), (0, 1, 3), (1, 2, 3), (0, 2, 3)],
    12: [(0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)],
    13: [(0, 1, 2), (3, 4, 5), (0, 1, 4, 3), (1, 2, 5, 4), (2, 0, 3, 5)],
    14: [(0, 1, 2, 3), (0, 1, 4), (1, 2, 4), (2, 3, 4), (3, 0, 4)],
}
_CELL_DIM = {3: 1, 5: 2, 9: 2, 10: 3, 12: 3, 13: 3, 14: 3}


def _fmt(x: np.ndarray) -> str:
    return "(" + ", ".join(f"{v:.6g}" for v in x) + ")"


def _face_shapes(points: np.ndarray, nodes: np.ndarray, k: np.ndarray):
    """Area vector S, centroid and vertex average of faces given as padded node rows.

    nodes (m, W) with the first k entries valid (cyclic order).  k = 1: point face of a 1D
    cell (S = e_x); k = 2: edge in the xy plane (S = edge rotated by -90 degrees, |S| = length);
    k >= 3: polygon fanned about its vertex average m (S = sum of triangle area vectors,
    centroid = area-weighted triangle centroids).
    """
    m = len(nodes)
    S, cen, mid = np.zeros((m, 3)), np.zeros((m, 3)), np.zeros((m, 3))
    for kk in np.unique(k):
        sel = np.flatnonzero(k == kk)
        v = points[nodes[sel, :kk]]                          # (s, kk, 3)
        avg = v.mean(axis=1)
        mid[sel] = avg
        if kk == 1:
            S[sel, 0] = 1.0
            cen[sel] = avg
        elif kk == 2:
            d = v[:, 1] - v[:, 0]
            S[sel, 0], S[sel, 1] = d[:, 1], -d[:, 0]
            cen[sel] = avg
        else:
            a = v - avg[:, None, :]
            tri = 0.5 * np.cross(a, np.roll(a, -1, axis=1))  # (s, kk, 3)
            Ssum = tri.sum(axis=1)
            nrm = np.linalg.norm(Ssum, axis=1)
            w = np.einsum("skj,sj->sk", tri, Ssum) / np.where(nrm > 0, nrm, 1.0)[:, None]
            tc = (a + np.roll(a, -1, axis=1)) / 3.0            # triangle centroids - avg
            wsum = w.sum(axis=1)
            wsum = np.where(wsum != 0, wsum, 1.0)
            cen[sel] = avg + np.einsum("sk,skj->sj", w, tc) / wsum[:, None]
            S[sel] = Ssum
    return S, cen, mid


def build_geometry(mesh: Mesh, split_boundaries: Iterable[int] = frozenset(),
                   periodic_pairs: Iterable[tuple[int, int]] = ()) -> Geometry:
    """Finite-volume geometry of ``mesh`` (see :class:`bte.problem.Geometry`).

    split_boundaries: boundary indices whose faces between two cells become two boundary faces
    (one per side, partners of each other), e.g. material interfaces.  Other boundary elements
    between two cells are ordinary interior faces.
    periodic_pairs: (a, b) boundary pairs whose faces are linked through ``bface_partner`` by
    the translation between the two boundaries (both directions are linked).
    Raises BTEInputError (naming the mesh file) for external faces without boundary element,
    non-conforming or degenerate cells and unmatched periodic faces.
    """
    src = mesh.source or None
    dim = int(mesh.dim)
    pts = np.asarray(mesh.points, dtype=np.float64)
    n = mesh.n_cells
    types = np.asarray(mesh.cell_types)
    off = np.asarray(mesh.cell_offsets, dtype=np.int64)
    cnodes = np.asarray(mesh.cell_nodes, dtype=np.int64)
    counts = np.diff(off)
    bad = [t for t in np.unique(types) if _CELL_DIM.get(int(t)) != dim]
    if bad:
        raise BTEInputError(f"cell type(s) {bad} are not {dim}D cells", src, None, "MeshFile")

    # centroid = vertex average (GiftBTE convention)
    owner = np.repeat(np.arange(n), counts)
    centroid = np.stack([np.bincount(owner, pts[cnodes, j], n) for j in range(3)], axis=1)
    centroid /= counts[:, None]

    # all cell faces, padded node rows, in cell-major order
    W = max(len(f) for t in np.unique(types) for f in _FACES[int(t)])
    fcell, flocal, fk, fnodes = [], [], [], []
    for t in np.unique(types):
        cells = np.flatnonzero(types == t)
        nv = int(counts[cells[0]])
        if (counts[cells] != nv).any():
            raise BTEInputError(f"VTK cells of type {t} with varying vertex counts", src, None,
                                "MeshFile")
        cn = cnodes[off[cells, None] + np.arange(nv)]
        for lf, loc in enumerate(_FACES[int(t)]):
            rows = np.full((len(cells), W), -1, dtype=np.int64)
            rows[:, :len(loc)] = cn[:, loc]
            fcell.append(cells), flocal.append(np.full(len(cells), lf))
            fk.append(np.full(len(cells), len(loc))), fnodes.append(rows)
    fcell, flocal = np.concatenate(fcell), np.concatenate(flocal)
    perm = np.lexsort((flocal, fcell))
    fcell, fk, fnodes = fcell[perm], np.concatenate(fk)[perm], np.concatenate(fnodes)[perm]
    nF = len(fcell)
    face_offsets = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(fcell, minlength=n), out=face_offsets[1:])

    # boundary elements, padded
    boff = np.asarray(mesh.bnd_offsets, dtype=np.int64)
    bnodes = np.asarray(mesh.bnd_nodes, dtype=np.int64)
    bidx = np.asarray(mesh.bnd_index, dtype=np.int64)
    nB = len(bidx)
    bk = np.diff(boff)
    Wk = max(W, int(bk.max()) if nB else 0)
    keys = np.full((nF + nB, Wk), -1, dtype=np.int64)
    keys[:nF, :W] = fnodes
    if nB:
        col = np.arange(len(bnodes)) - np.repeat(boff[:-1], bk)
        keys[nF + np.repeat(np.arange(nB), bk), col] = bnodes
    keys.sort(axis=1)
    order = np.lexsort(keys.T[::-1])
    ks = keys[order]
    new = np.ones(len(ks), dtype=bool)
    new[1:] = (ks[1:] != ks[:-1]).any(axis=1)
    gid = np.empty(len(ks), dtype=np.int64)
    gid[order] = np.cumsum(new) - 1
    G = int(new.sum())
    gF, gB = gid[:nF], gid[nF:]

    cnt = np.bincount(gF, minlength=G)           # cells sharing the face: 1 or 2
    bcnt = np.bincount(gB, minlength=G)          # boundary elements on it: 0 or 1
    sortF = np.argsort(gF, kind="stable")
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    first = np.where(cnt > 0, sortF[np.minimum(start, nF - 1)], -1)
    second = np.where(cnt > 1, sortF[np.minimum(start + 1, nF - 1)], -1)
    group_row = order[new]                       # a row of `keys` for each group

    def where(g):
        row = keys[group_row[g]]
        return _fmt(pts[row[row >= 0]].mean(axis=0))

    gidx = np.zeros(G, dtype=np.int64)
    if nB:
        bmin = np.full(G, np.iinfo(np.int64).max)
        bmax = np.full(G, np.iinfo(np.int64).min)
        np.minimum.at(bmin, gB, bidx)
        np.maximum.at(bmax, gB, bidx)
        gidx[bcnt > 0] = bmax[bcnt > 0]
        dup = np.flatnonzero((bcnt > 0) & (bmin != bmax))
        if dup.size:
            raise BTEInputError(f"a boundary element at {where(dup[0])} is given two boundary "
                                f"indices ({bmin[dup[0]]}, {bmax[dup[0]]})", src, None, "MeshFile")

    # geometry of each distinct face, from its first cell-face
    has = first >= 0
    Sg, cg, mg = np.zeros((G, 3)), np.zeros((G, 3)), np.zeros((G, 3))
    Sg[has], cg[has], mg[has] = _face_shapes(pts, fnodes[first[has]], fk[first[has]])
    areag = np.linalg.norm(Sg, axis=1)
    for mask, msg in (
            (cnt > 2, "face at {} is shared by more than two cells (non-conforming mesh)"),
            (~has & (bcnt > 0), "boundary element at {} is not a face of any cell"),
            ((cnt == 1) & (bcnt == 0), "face at {} is on the outside of the mesh but belongs to "
                                       "no boundary element"),
            (has & ~(areag > 0), "face at {} has zero area (degenerate cell)")):
        g = np.flatnonzero(mask)
        if g.size:
            raise BTEInputError(msg.format(where(g[0])) + f" ({g.size} such faces)", src, None,
                                "MeshFile")

    # per cell-face orientation, areas, volumes
    side = np.einsum("fj,fj->f", Sg[gF], cg[gF] - centroid[fcell])
    sgn = np.sign(side)
    if (sgn == 0).any():
        f = np.flatnonzero(sgn == 0)[0]
        raise BTEInputError(f"cell {fcell[f]} at {_fmt(centroid[fcell[f]])} is degenerate "
                            "(its centroid lies on a face)", src, None, "MeshFile")
    two = np.flatnonzero(cnt == 2)
    if (sgn[first[two]] == sgn[second[two]]).any():
        g = two[np.flatnonzero(sgn[first[two]] == sgn[second[two]])[0]]
        raise BTEInputError(f"the two cells at face {_fmt(cg[g])} overlap (inverted or "
                            "non-convex cells)", src, None, "MeshFile")
    face_area = areag[gF]
    face_normal = Sg[gF] * (sgn / face_area)[:, None]
    face_center = cg[gF]
    vol_part = np.abs(np.einsum("fj,fj->f", Sg[gF], mg[gF] - centroid[fcell])) / dim
    volume = np.bincount(fcell, vol_part, n)
    if (volume <= 0).any():
        c = np.flatnonzero(volume <= 0)[0]
        raise BTEInputError(f"cell {c} at {_fmt(centroid[c])} has zero volume", src, None,
                            "MeshFile")

    # interior faces, boundary faces, split interfaces
    split = np.isin(gidx, np.fromiter((int(b) for b in split_boundaries or ()), dtype=np.int64))
    split &= (cnt == 2) & (bcnt > 0)
    is_b = ~((cnt[gF] == 2) & ~split[gF])
    other = np.where(np.arange(nF) == first[gF], second[gF], first[gF])
    bid = np.cumsum(is_b) - 1
    face_neighbor = np.where(is_b, -(bid + 1), fcell[np.maximum(other, 0)])
    bf = np.flatnonzero(is_b)
    partner = np.full(len(bf), -1, dtype=np.int64)
    sp = split[gF[bf]]
    partner[sp] = bid[other[bf[sp]]]

    geom = Geometry(
        dim=dim, centroid=centroid, volume=volume, region=np.asarray(mesh.cell_region, np.int64),
        face_offsets=face_offsets, face_neighbor=face_neighbor.astype(np.int64),
        face_normal=np.ascontiguousarray(face_normal), face_area=face_area,
        face_center=np.ascontiguousarray(face_center),
        bface_cell=fcell[bf].astype(np.int64), bface_index=gidx[gF[bf]],
        bface_normal=np.ascontiguousarray(face_normal[bf]), bface_area=face_area[bf],
        bface_center=np.ascontiguousarray(face_center[bf]), bface_partner=partner)
    for a, b in periodic_pairs or ():
        _link_periodic(geom, int(a), int(b), src)
    return geom


# ----------------------------------------------------------------------------------------------
# periodic boundaries

def boundary_translation(geometry: Geometry, a: int, b: int) -> np.ndarray:
    """Translation (m, shape (3,)) mapping boundary a onto boundary b: difference of their
    area-weighted face-centre averages (x_b - x_a)."""
    cen = []
    for idx in (a, b):
        sel = geometry.bface_index == idx
        if not sel.any():
            raise BTEInputError(f"boundary {idx} has no faces in the mesh", None, None,
                                "BoundaryIndex")
        w = geometry.bface_area[sel]
        cen.append((geometry.bface_center[sel] * w[:, None]).sum(axis=0) / w.sum())
    return cen[1] - cen[0]


def _link_periodic(geom: Geometry, a: int, b: int, src) -> None:
    """Set bface_partner between boundaries a and b (both ways), translation-aware."""
    if a == b:
        raise BTEInputError(f"boundary {a} cannot be periodic with itself", src, None,
                            "BoundaryType")
    fa = np.flatnonzero(geom.bface_index == a)
    fb = np.flatnonzero(geom.bface_index == b)
    for idx, f in ((a, fa), (b, fb)):
        if f.size == 0:
            raise BTEInputError(f"periodic boundary {idx} (paired with {a if idx == b else b}) "
                                "has no faces in the mesh", src, None, "BoundaryType")
        linked = geom.bface_partner[f][geom.bface_partner[f] >= 0]
        if not np.isin(linked, np.concatenate([fa, fb])).all():
            raise BTEInputError(f"boundary {idx} is already linked to another boundary "
                                "(split interface or a second periodic pair)", src, None,
                                "BoundaryType")
    t = boundary_translation(geom, a, b)
    dim = geom.dim
    if dim == 1:
        size = geom.volume[geom.bface_cell]
    else:
        size = geom.bface_area ** (1.0 / (dim - 1))
    match = []
    for ia, ib, f_from, f_to, shift in ((a, b, fa, fb, t), (b, a, fb, fa, -t)):
        dist, k = cKDTree(geom.bface_center[f_to]).query(geom.bface_center[f_from] + shift)
        bad = np.flatnonzero(dist > 0.3 * size[f_from])
        if bad.size:
            raise BTEInputError(
                f"periodic boundaries {a} and {b}: face at "
                f"{_fmt(geom.bface_center[f_from[bad[0]]])} of boundary {ia} has no counterpart "
                f"on boundary {ib} after translation by {_fmt(shift)} ({bad.size} unmatched "
                "faces)", src, None, "BoundaryType")
        match.append(f_to[k])
    pa, pb = match
    if len(fa) != len(fb) or not np.array_equal(pb[np.searchsorted(fb, pa)], fa):
        raise BTEInputError(f"periodic boundaries {a} and {b} do not have matching faces "
                            f"({len(fa)} vs {len(fb)} faces)", src, None, "BoundaryType")
    geom.bface_partner[fa] = pa
    geom.bface_partner[fb] = pb


# ----------------------------------------------------------------------------------------------
# least-squares gradients

@numba.njit(cache=True)
def _vertex_stencil(cell_offsets, cell_nodes, n_points, material):  # pragma: no cover - numba
    n = len(cell_offsets) - 1
    vcount = np.zeros(n_points + 1, np.int64)
    for p in cell_nodes:
        vcount[p + 1] += 1
    voff = np.cumsum(vcount)
    vcells = np.empty(len(cell_nodes), np.int64)
    fill = voff[:-1].copy()
    for c in range(n):
        for q in range(cell_offsets[c], cell_offsets[c + 1]):
            p = cell_nodes[q]
            vcells[fill[p]] = c
            fill[p] += 1
    stamp = np.full(n, -1, np.int64)
    offsets = np.zeros(n + 1, np.int64)
    nbrs = np.empty(0, np.int64)
    for sweep in range(2):
        if sweep == 1:
            nbrs = np.empty(offsets[n], np.int64)
            stamp[:] = -1
        for c in range(n):
            k = offsets[c]
            stamp[c] = c
            for q in range(cell_offsets[c], cell_offsets[c + 1]):
                p = cell_nodes[q]
                for r in range(voff[p], voff[p + 1]):
                    j = vcells[r]
                    if stamp[j] != c and material[j] == material[c]:
                        stamp[j] = c
                        if sweep == 1:
                            nbrs[k] = j
                        k += 1
            if sweep == 0:
                offsets[c + 1] = offsets[c] + (k - offsets[c])
    return offsets, nbrs


@numba.njit(cache=True)
def _ls_weights(offsets, nbrs, centroid, dim):  # pragma: no cover - numba
    n = len(offsets) - 1
    w = np.zeros((len(nbrs), 3))
    for i in range(n):
        M = np.zeros((dim, dim))
        for k in range(offsets[i], offsets[i + 1]):
            j = nbrs[k]
            for a in range(dim):
                da = centroid[j, a] - centroid[i, a]
                for b in range(dim):
                    M[a, b] += da * (centroid[j, b] - centroid[i, b])
        tr = 0.0
        for a in range(dim):
            tr += M[a, a]
        if tr <= 0.0:
            continue
        s = tr / dim              # normalise: scale-free rank cut-off
        # pseudo-inverse: where the neighbours span fewer than dim directions (one row of
        # cells, a thin layer) the gradient is kept along the directions they do span
        inv = np.linalg.pinv(M / s, 1e-9)
        for k in range(offsets[i], offsets[i + 1]):
            j = nbrs[k]
            for a in range(dim):
                acc = 0.0
                for b in range(dim):
                    acc += inv[a, b] * (centroid[j, b] - centroid[i, b])
                w[k, a] = acc / s
    return w


def least_squares_gradient(mesh: Mesh, geometry: Geometry,
                           cell_material: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Least-squares gradient stencil on the vertex neighbourhood of each cell (GiftBTE's
    "larger" stencil: every cell sharing at least one vertex and having the same material).

    Returns CSR ``(offsets (n+1,) int64, neighbors (m,) int64, weights (m, 3) float64)`` with
    grad e_i = sum_k weights[k] * (e[neighbors[k]] - e_i), k in offsets[i]:offsets[i+1]; weights
    in 1/m.  Only the mesh's geometric axes are used (z = 0 in 2D, y = z = 0 in 1D); a cell with
    neighbours spanning fewer than ``dim`` directions gets the minimum-norm (pseudo-inverse)
    gradient: exact along the directions they span, zero across.
    """
    material = np.ascontiguousarray(cell_material, dtype=np.int64)
    if len(material) != geometry.n_cells:
        raise ValueError("cell_material must have one entry per cell")
    offsets, nbrs = _vertex_stencil(np.ascontiguousarray(mesh.cell_offsets, dtype=np.int64),
                                    np.ascontiguousarray(mesh.cell_nodes, dtype=np.int64),
                                    len(mesh.points), material)
    weights = _ls_weights(offsets, nbrs, np.ascontiguousarray(geometry.centroid, np.float64),
                          int(geometry.dim))
    return offsets, nbrs, weights


# ----------------------------------------------------------------------------------------------
# sweep orders

@numba.njit(cache=True)
def _sweep_one(face_offsets, face_neighbor, face_normal, centroid, s, eps,
               order):  # pragma: no cover - numba
    n = len(face_offsets) - 1
    indeg = np.zeros(n, np.int64)
    for i in range(n):
        for f in range(face_offsets[i], face_offsets[i + 1]):
            if face_neighbor[f] >= 0:
                sn = s[0] * face_normal[f, 0] + s[1] * face_normal[f, 1] + s[2] * face_normal[f, 2]
                if sn < -eps:
                    indeg[i] += 1
    queue = np.empty(n, np.int64)
    done = np.zeros(n, np.bool_)
    remaining = np.arange(n)
    n_rem = n
    head = 0
    tail = 0
    for i in range(n):
        if indeg[i] == 0:
            queue[tail] = i
            tail += 1
    broken = 0
    count = 0
    while count < n:
        if head == tail:          # cycle: take the remaining cell with fewest upwind cells left
            best = -1
            best_deg = 0
            best_x = 0.0
            k = 0
            for r in range(n_rem):
                c = remaining[r]
                if not done[c]:
                    remaining[k] = c
                    k += 1
                    x = s[0] * centroid[c, 0] + s[1] * centroid[c, 1] + s[2] * centroid[c, 2]
                    if best < 0 or indeg[c] < best_deg or (indeg[c] == best_deg and x < best_x):
                        best, best_deg, best_x = c, indeg[c], x
            n_rem = k
            queue[tail] = best
            tail += 1
            broken += 1
        c = queue[head]
        head += 1
        done[c] = True
        order[count] = c
        count += 1
        for f in range(face_offsets[c], face_offsets[c + 1]):
            j = face_neighbor[f]
            if j >= 0 and not done[j]:
                sn = s[0] * face_normal[f, 0] + s[1] * face_normal[f, 1] + s[2] * face_normal[f, 2]
                if sn > eps:
                    indeg[j] -= 1
                    if indeg[j] == 0:
                        queue[tail] = j
                        tail += 1
    return broken


@numba.njit(cache=True)
def _sweep_all(face_offsets, face_neighbor, face_normal, centroid, dirs, eps):  # pragma: no cover
    orders = np.empty((dirs.shape[0], len(face_offsets) - 1), np.int64)
    broken = np.zeros(dirs.shape[0], np.int64)
    for d in range(dirs.shape[0]):
        broken[d] = _sweep_one(face_offsets, face_neighbor, face_normal, centroid, dirs[d], eps,
                               orders[d])
    return orders, broken


def sweep_orders(geometry: Geometry, directions: np.ndarray,
                 eps: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """Upwind cell orders for transport sweeps.

    For each unit direction s (rows of ``directions``, shape (n_dir, 3)), an order of the cells
    in which every cell comes after its upwind neighbours (cells across interior faces with
    s.n < -eps, n outward from the cell).  Boundary faces impose no order.  Cycles of the upwind
    graph are broken by taking the remaining cell with the fewest unprocessed upwind neighbours
    (ties: most upstream centroid); its lagged inflow then uses the previous iterate.

    Returns ``(orders (n_dir, n_cells) int64, n_broken (n_dir,) int64)``, the latter the number
    of cycle-broken cells per direction.
    """
    dirs = np.ascontiguousarray(np.atleast_2d(directions), dtype=np.float64)
    if dirs.shape[1] != 3:
        raise ValueError("directions must have shape (n_dir, 3)")
    return _sweep_all(np.ascontiguousarray(geometry.face_offsets, np.int64),
                      np.ascontiguousarray(geometry.face_neighbor, np.int64),
                      np.ascontiguousarray(geometry.face_normal, np.float64),
                      np.ascontiguousarray(geometry.centroid, np.float64), dirs, float(eps))
