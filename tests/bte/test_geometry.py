"""Finite-volume geometry, periodic/split boundaries, least-squares gradients and sweep orders,
checked against values computed independently here."""
from __future__ import annotations

from dataclasses import replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from bte.geometry import boundary_translation, build_geometry, least_squares_gradient, sweep_orders
from bte.mesh_io import read_mesh
from bte.problem import BTEInputError

ROOT = Path(__file__).resolve().parents[2] / "examples" / "giftbte"
EX = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data" / "meshes"

MESHES = {   # name: (type, path, dim, scale)
    "1d": ("COMSOL", EX / "TTG" / "2pikn=1" / "input" / "500_1D.mphtxt", 1, (6.7e-7, 1, 1)),
    "quad": ("COMSOL", EX / "cross-plane" / "1e-7" / "input" / "2D_100_100.mphtxt", 2,
             (1e-6, 1e-7, 1)),
    "tri": ("MSH", EX / "nanoporous" / "50" / "input" / "gms2685.msh", 2, (5e-7, 5e-7, 1)),
    "two": ("COMSOL", EX / "interface" / "50nm" / "input" / "tworegin_2D_y.mphtxt", 2,
            (2e-8, 2e-8, 1)),
    "hex": ("COMSOL", EX / "FinFET" / "1e-8" / "input" / "FinFet_bound_1w4.mphtxt", 3,
            (1e-8, 1e-8, 1e-8)),
    "tet": ("COMSOL", EX / "TDTR" / "input" / "TDTR_3D.mphtxt", 3, (5e-5, 5e-5, 5e-5)),
    "mixed": ("COMSOL", DATA / "mixed_3d.mphtxt", 3, (1.0, 2.0, 3.0)),
}


@lru_cache(maxsize=None)
def mesh(name):
    kind, path, dim, scale = MESHES[name]
    return read_mesh(kind, path, dim, scale)


@lru_cache(maxsize=None)
def geom(name):
    return build_geometry(mesh(name))


def _owner(g):
    return np.repeat(np.arange(g.n_cells), np.diff(g.face_offsets))


def _cell_measure(m) -> np.ndarray:
    """Cell volumes computed independently: segment length, shoelace, 6-tet hex split, ..."""
    p = m.points
    out = np.empty(m.n_cells)
    splits = {10: [(0, 1, 2, 3)], 14: [(0, 1, 2, 4), (0, 2, 3, 4)],
              13: [(0, 1, 2, 3), (1, 2, 3, 4), (2, 3, 4, 5)],
              12: [(0, 1, 3, 4), (1, 2, 3, 6), (1, 3, 4, 6), (1, 4, 5, 6), (3, 4, 6, 7)]}
    for c in range(m.n_cells):
        v, t = p[m.cell(c)], int(m.cell_types[c])
        if t == 3:
            out[c] = abs(v[1, 0] - v[0, 0])
        elif t in (5, 9):
            x, y = v[:, 0], v[:, 1]
            out[c] = 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))
        else:
            out[c] = sum(abs(np.linalg.det(v[list(s[1:])] - v[s[0]])) / 6 for s in splits[t])
    return out


@pytest.mark.parametrize("name", ["1d", "quad", "tri", "two", "tet", "mixed"])
def test_volumes_match_independent_computation(name):
    m, g = mesh(name), geom(name)
    np.testing.assert_allclose(g.volume, _cell_measure(m), rtol=1e-10)
    np.testing.assert_allclose(g.centroid, np.array([m.points[m.cell(c)].mean(0)
                                                     for c in range(m.n_cells)]), rtol=1e-12,
                               atol=1e-14 * np.abs(m.points).max())


def test_domain_sizes():
    sx = MESHES["quad"][3]
    assert geom("quad").volume.sum() == pytest.approx(sx[0] * sx[1], rel=1e-12)
    assert geom("1d").volume.sum() == pytest.approx(6.7e-7, rel=1e-12)
    assert geom("tet").volume.sum() == pytest.approx((5e-5) ** 3, rel=1e-10)
    assert geom("mixed").volume.sum() == pytest.approx((2 + 1 / 6) * 6.0, rel=1e-12)
    lo, hi = mesh("hex").points.min(0), mesh("hex").points.max(0)
    assert geom("hex").volume.sum() == pytest.approx(_cell_measure(mesh("hex")).sum(), rel=1e-10)
    assert geom("hex").volume.sum() < np.prod(hi - lo)
    # unit cell with 3 full pores and 2 half pores of radius 0.1 (inscribed polygons: a bit more)
    area = geom("tri").volume.sum() / (5e-7) ** 2
    assert 0 < area - (1 - 4 * np.pi * 0.01) < 3e-3


@pytest.mark.parametrize("name", list(MESHES))
def test_closed_cells_and_divergence_theorem(name):
    g = geom(name)
    an = g.face_normal * g.face_area[:, None]
    scale = np.sqrt(np.mean(g.face_area ** 2))
    assert np.abs(np.add.reduceat(an, g.face_offsets[:-1])).max() < 1e-10 * scale
    div = np.add.reduceat(np.einsum("fj,fj->f", an, g.face_center - g.centroid[_owner(g)]),
                          g.face_offsets[:-1])
    np.testing.assert_allclose(div, g.dim * g.volume, rtol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(g.face_normal, axis=1), 1.0, rtol=1e-12)
    assert np.all(g.face_normal[:, g.dim:] == 0)


@pytest.mark.parametrize("name", list(MESHES))
def test_interior_faces_are_consistent(name):
    g = geom(name)
    own = _owner(g)
    inner = np.flatnonzero(g.face_neighbor >= 0)
    # the face of the neighbour that points back
    back = {(int(own[f]), int(g.face_neighbor[f])): f for f in inner}
    other = np.array([back[(int(g.face_neighbor[f]), int(own[f]))] for f in inner])
    np.testing.assert_allclose(g.face_normal[inner], -g.face_normal[other], atol=1e-14)
    np.testing.assert_allclose(g.face_area[inner], g.face_area[other])
    np.testing.assert_allclose(g.face_center[inner], g.face_center[other])
    # normals point away from the owning centroid
    d = np.einsum("fj,fj->f", g.face_normal, g.face_center - g.centroid[own])
    assert np.all(d > 0)
    # boundary faces
    b = np.flatnonzero(g.face_neighbor < 0)
    bid = -g.face_neighbor[b] - 1
    np.testing.assert_array_equal(np.sort(bid), np.arange(g.n_bfaces))
    np.testing.assert_array_equal(g.bface_cell[bid], own[b])
    np.testing.assert_array_equal(g.bface_normal[bid], g.face_normal[b])


def test_boundary_indices_of_cross_plane_square():
    g = geom("quad")
    lx, ly = MESHES["quad"][3][:2]
    assert g.n_bfaces == 400
    for idx, n, axis, value in ((1, (-1, 0), 0, 0.0), (2, (0, -1), 1, 0.0), (3, (0, 1), 1, ly),
                                (4, (1, 0), 0, lx)):
        sel = g.bface_index == idx
        assert sel.sum() == 100
        np.testing.assert_allclose(g.bface_normal[sel][:, :2], np.broadcast_to(n, (100, 2)))
        np.testing.assert_allclose(g.bface_center[sel][:, axis], value, atol=1e-22)
        assert g.bface_area[sel].sum() == pytest.approx(ly if axis == 0 else lx)
    assert np.all(g.bface_partner == -1)


def test_internal_boundaries_are_interior_faces():
    # FinFET: boundaries 7, 13, 17 lie between domains; TDTR: 6
    assert set(geom("hex").bface_index) == set(range(1, 22)) - {7, 13, 17}
    assert len(set(geom("tet").bface_index)) == 9
    assert set(geom("mixed").bface_index) == set(range(1, 8))


def test_periodic_pairing_cross_plane():
    g = build_geometry(mesh("quad"), periodic_pairs=[(1, 4), (4, 1)])
    lx = MESHES["quad"][3][0]
    np.testing.assert_allclose(boundary_translation(g, 1, 4), [lx, 0, 0], atol=1e-20)
    a, b = np.flatnonzero(g.bface_index == 1), np.flatnonzero(g.bface_index == 4)
    assert np.all(np.isin(g.bface_partner[a], b)) and np.all(np.isin(g.bface_partner[b], a))
    np.testing.assert_array_equal(g.bface_partner[g.bface_partner[a]], a)
    np.testing.assert_allclose(g.bface_center[g.bface_partner[a]] - g.bface_center[a],
                               np.broadcast_to([lx, 0, 0], (100, 3)), atol=1e-20)
    assert np.all(g.bface_partner[g.bface_index == 2] == -1)


def test_periodic_pairing_porous_and_1d():
    g = build_geometry(mesh("tri"), periodic_pairs=[(1, 5)])
    a = np.flatnonzero(g.bface_index == 1)
    np.testing.assert_allclose(g.bface_center[g.bface_partner[a], 1], g.bface_center[a, 1])
    g1 = build_geometry(mesh("1d"), periodic_pairs=[(1, 2)])
    assert list(g1.bface_partner) == [1, 0]


def test_periodic_pairing_errors():
    with pytest.raises(BTEInputError) as info:
        build_geometry(mesh("quad"), periodic_pairs=[(1, 2)])
    msg = str(info.value)
    assert "1" in msg and "2" in msg and str(MESHES["quad"][1]) in msg
    with pytest.raises(BTEInputError):
        build_geometry(mesh("quad"), periodic_pairs=[(1, 9)])


def test_split_interface():
    m = mesh("two")
    plain = geom("two")
    g = build_geometry(m, split_boundaries={4})
    sel = np.flatnonzero(g.bface_index == 4)
    assert len(sel) == 40 and g.n_bfaces == plain.n_bfaces + 40
    p = g.bface_partner[sel]
    np.testing.assert_array_equal(g.bface_partner[p], sel)
    np.testing.assert_allclose(g.bface_normal[p], -g.bface_normal[sel], atol=1e-15)
    np.testing.assert_allclose(g.bface_center[p], g.bface_center[sel])
    assert np.all(g.region[g.bface_cell[p]] != g.region[g.bface_cell[sel]])
    own = _owner(g)
    inner = g.face_neighbor >= 0
    assert np.all(g.region[own[inner]] == g.region[g.face_neighbor[inner]])
    np.testing.assert_allclose(g.volume, plain.volume)


def test_external_face_without_boundary_element():
    m = mesh("quad")
    keep = m.bnd_index != 2
    counts = np.diff(m.bnd_offsets)[keep]
    nodes = m.bnd_nodes.reshape(-1, 2)[keep].ravel()
    bad = replace(m, bnd_index=m.bnd_index[keep], bnd_nodes=nodes,
                  bnd_offsets=np.concatenate([[0], np.cumsum(counts)]))
    with pytest.raises(BTEInputError) as info:
        build_geometry(bad)
    assert "belongs to no boundary element" in str(info.value)
    assert str(m.source) in str(info.value)


# ------------------------------------------------------------------------ gradients

@pytest.mark.parametrize("name", ["1d", "quad", "tri", "hex", "tet", "mixed"])
def test_least_squares_gradient_exact_for_linear_fields(name):
    m, g = mesh(name), geom(name)
    off, nb, w = least_squares_gradient(m, g, np.zeros(g.n_cells, dtype=np.int64))
    assert off.dtype == nb.dtype == np.int64 and w.dtype == np.float64 and w.flags.c_contiguous
    L = np.abs(m.points).max()
    grad_true = np.array([3.0, -2.0, 0.5])[None, :] / L
    grad_true[:, g.dim:] = 0
    e = 7.0 + g.centroid @ grad_true[0]
    owner = np.repeat(np.arange(g.n_cells), np.diff(off))
    grad = np.zeros((g.n_cells, 3))
    np.add.at(grad, owner, w * (e[nb] - e[owner])[:, None])
    full = np.abs(w).sum(axis=1) > 0
    ok = np.bincount(owner, full, g.n_cells) > 0
    assert ok.mean() > 0.99
    np.testing.assert_allclose(grad[ok], np.broadcast_to(grad_true, (ok.sum(), 3)),
                               rtol=1e-8, atol=1e-8 * np.abs(grad_true).max())
    assert np.all(w[:, g.dim:] == 0)


def test_gradient_stencil_vertex_neighbours_same_material():
    m, g = mesh("quad"), geom("quad")
    off, nb, w = least_squares_gradient(m, g, np.zeros(g.n_cells, dtype=np.int64))
    sizes = np.diff(off)
    assert sorted(set(sizes)) == [3, 5, 8] and (sizes == 8).sum() == 98 * 98
    m2, g2 = mesh("two"), geom("two")
    mat = g2.region.copy()
    off, nb, w = least_squares_gradient(m2, g2, mat)
    owner = np.repeat(np.arange(g2.n_cells), np.diff(off))
    assert np.all(mat[nb] == mat[owner]) and np.all(nb != owner)
    # every cell its own material: empty stencils
    off, nb, w = least_squares_gradient(m2, g2, np.arange(g2.n_cells))
    assert len(nb) == 0 and w.shape == (0, 3)
    # one material per row of cells: neighbours only along x, rank 1 < dim -> the gradient is
    # exact along x and zero across (pseudo-inverse), for a field linear in x and y
    rows = np.round(g.centroid[:, 1] / g.centroid[:, 1].min()).astype(np.int64)
    off, nb, w = least_squares_gradient(m, g, rows)
    assert len(nb) > 0
    x, y = g.centroid[:, 0], g.centroid[:, 1]
    field = 3.0 * x / np.ptp(x) + 7.0 * y / np.ptp(y)
    owner = np.repeat(np.arange(g.n_cells), np.diff(off))
    grad = np.zeros((g.n_cells, 3))
    np.add.at(grad, owner, w * (field[nb] - field[owner])[:, None])
    assert np.allclose(grad[:, 0], 3.0 / np.ptp(x), rtol=1e-9)
    assert np.allclose(grad[:, 1:], 0.0, atol=1e-9 / np.ptp(x))


# ------------------------------------------------------------------------ sweeps

def _directions(n_theta, n_phi):
    mu = np.polynomial.legendre.leggauss(2 * n_theta)[0]
    phi = (np.arange(4 * n_phi) + 0.5) * 2 * np.pi / (4 * n_phi)
    mu, phi = np.meshgrid(mu, phi, indexing="ij")
    st = np.sqrt(1 - mu ** 2)
    return np.stack([(st * np.cos(phi)).ravel(), (st * np.sin(phi)).ravel(), mu.ravel()], axis=1)


def _violations(g, dirs, orders):
    """Per direction: cells that come before one of their upwind interior neighbours."""
    own = _owner(g)
    inner = np.flatnonzero(g.face_neighbor >= 0)
    out = []
    for s, order in zip(dirs, orders):
        pos = np.empty(g.n_cells, dtype=np.int64)
        pos[order] = np.arange(g.n_cells)
        up = inner[g.face_normal[inner] @ s < -1e-12]
        late = pos[g.face_neighbor[up]] > pos[own[up]]
        out.append(np.unique(own[up][late]))
    return out


@pytest.mark.parametrize("name", ["1d", "quad", "tri", "two", "hex", "mixed"])
def test_sweep_orders_valid_without_cycles(name):
    g = geom(name)
    dirs = _directions(4, 4)
    orders, broken = sweep_orders(g, dirs)
    assert orders.shape == (128, g.n_cells) and orders.dtype == np.int64
    assert np.all(np.sort(orders, axis=1) == np.arange(g.n_cells))
    assert broken.sum() == 0
    assert all(v.size == 0 for v in _violations(g, dirs, orders))


def test_sweep_orders_tets():
    g = geom("tet")
    dirs = _directions(2, 4)
    rng = np.random.default_rng(1)
    rnd = rng.normal(size=(64, 3))
    dirs = np.vstack([dirs, rnd / np.linalg.norm(rnd, axis=1)[:, None]])
    orders, broken = sweep_orders(g, dirs)
    assert np.all(np.sort(orders, axis=1) == np.arange(g.n_cells))
    assert broken.max() < 0.01 * g.n_cells
    for v, nb in zip(_violations(g, dirs, orders), broken):
        assert v.size <= nb       # only cycle-broken cells may precede an upwind neighbour


def test_sweep_cycle_breaking():
    # synthetic geometry: 3 cells whose upwind graph for s = +x is a cycle 0 -> 1 -> 2 -> 0
    from bte.problem import Geometry
    n = np.array([[1.0, 0, 0], [-1.0, 0, 0]])
    # cell i: face 0 towards i+1 (s.n > 0, downwind), face 1 towards i-1 (upwind)
    g = Geometry(dim=2, centroid=np.zeros((3, 3)), volume=np.ones(3), region=np.zeros(3, int),
                 face_offsets=np.array([0, 2, 4, 6]),
                 face_neighbor=np.array([1, 2, 2, 0, 0, 1]), face_normal=np.vstack([n, n, n]),
                 face_area=np.ones(6), face_center=np.zeros((6, 3)),
                 bface_cell=np.zeros(0, int), bface_index=np.zeros(0, int),
                 bface_normal=np.zeros((0, 3)), bface_area=np.zeros(0),
                 bface_center=np.zeros((0, 3)), bface_partner=np.zeros(0, int))
    orders, broken = sweep_orders(g, np.array([[1.0, 0, 0], [0, 1.0, 0]]))
    assert list(broken) == [1, 0]
    assert sorted(orders[0]) == [0, 1, 2]


def test_distorted_hex_volume_is_trilinear_volume():
    from bte.problem import Mesh
    rng = np.random.default_rng(3)
    ref = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0],
                    [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], float)
    pts = ref * [2e-9, 1e-9, 3e-9] + rng.uniform(-0.2e-9, 0.2e-9, (8, 3))   # non-planar faces
    faces = [(0, 1, 2, 3), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
    m = Mesh(dim=3, points=pts, cell_offsets=np.array([0, 8]), cell_nodes=np.arange(8),
             cell_types=np.array([12]), cell_region=np.array([0]),
             bnd_offsets=np.arange(0, 25, 4), bnd_nodes=np.array(faces).ravel(),
             bnd_index=np.arange(1, 7), source="distorted-hex")
    g = build_geometry(m)
    # trilinear map volume: 2-point Gauss rule is exact for det J
    gp = (1 + np.array([-1, 1]) / np.sqrt(3)) / 2
    vol = 0.0
    for u in gp:
        for v in gp:
            for w in gp:
                dN = np.array([[-(1 - v) * (1 - w), -(1 - u) * (1 - w), -(1 - u) * (1 - v)],
                               [(1 - v) * (1 - w), -u * (1 - w), -u * (1 - v)],
                               [v * (1 - w), u * (1 - w), -u * v],
                               [-v * (1 - w), (1 - u) * (1 - w), -(1 - u) * v],
                               [-(1 - v) * w, -(1 - u) * w, (1 - u) * (1 - v)],
                               [(1 - v) * w, -u * w, u * (1 - v)],
                               [v * w, u * w, u * v],
                               [-v * w, (1 - u) * w, (1 - u) * v]])
                vol += np.linalg.det(pts.T @ dN) / 8
    assert g.volume[0] == pytest.approx(vol, rel=1e-12)
    an = g.face_normal * g.face_area[:, None]
    assert np.abs(an.sum(axis=0)).max() < 1e-12 * g.face_area.max()
