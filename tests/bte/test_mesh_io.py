"""Mesh readers: every shipped GiftBTE mesh loads with the counts of its header; bad files raise
BTEInputError naming the file."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from bte.mesh_io import read_1d_generator, read_comsol, read_gmsh, read_mesh
from bte.problem import BTEInputError

ROOT = Path(__file__).resolve().parents[2] / "examples" / "giftbte"
EX = ROOT / "examples"
DATA = Path(__file__).resolve().parent / "data" / "meshes"
CROSS = EX / "cross-plane" / "1e-7" / "input" / "2D_100_100.mphtxt"
FINFET = EX / "FinFET" / "1e-7" / "input" / "FinFet_bound_1w4.mphtxt"
TDTR = EX / "TDTR" / "input" / "TDTR_3D.mphtxt"
POROUS = EX / "nanoporous" / "50" / "input" / "gms2685.msh"
INTERFACE = EX / "interface" / "50nm" / "input" / "tworegin_2D_y.mphtxt"


@lru_cache(maxsize=None)
def load(kind: str, path: Path, dim: int, scale=(1.0, 1.0, 1.0)):
    return read_mesh(kind, path, dim, scale)


def _sdim(path: Path) -> int:
    for line in path.read_text().splitlines():
        if "# sdim" in line:
            return int(line.split()[0])
    raise AssertionError(path)


SHIPPED = sorted(EX.glob("*/*/input/*.mphtxt")) + sorted(EX.glob("*/input/*.mphtxt")) + \
    [ROOT / "input" / "2D_20_20.mphtxt", ROOT / "mesh_generator_output" / "inputmesh.txt"]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_shipped_comsol_mesh_loads(path):
    dim = _sdim(path)
    m = read_mesh("COMSOL", path, dim, (2.0, 3.0, 4.0))
    assert m.dim == dim and m.points.shape[1] == 3 and m.n_cells > 0
    assert np.all(m.points[:, dim:] == 0)
    assert m.cell_nodes.min() >= 0 and m.cell_nodes.max() < len(m.points)
    assert m.bnd_index.min() >= 1 and len(m.bnd_offsets) == len(m.bnd_index) + 1
    assert m.cell_region.min() == 0


@pytest.mark.parametrize("path", sorted(EX.glob("*/*/input/*.msh")),
                         ids=lambda p: p.parent.parent.name)
def test_every_shipped_gmsh_mesh_loads(path):
    m = read_mesh("MSH", path, 2, (1.0, 1.0, 1.0))
    assert m.n_cells == 2467


def test_1d_generator_default_input():
    m = read_1d_generator(ROOT / "input" / "inputmesh.dat", (2e-7, 1.0, 1.0))
    assert m.dim == 1 and m.n_cells == 10 and set(m.cell_types) == {3}
    np.testing.assert_allclose(m.points[:, 0], np.linspace(0, 2e-7, 11))
    assert list(m.bnd_index) == [1, 2]
    np.testing.assert_allclose(m.points[m.bnd_nodes, 0], [0.0, 2e-7])


def test_1d_generator_regions(tmp_path):
    f = tmp_path / "mesh1d.dat"
    f.write_text("Number_GEO=\r\n2\r\ndistribution=\r\n1 0.3 3\r\n2 1 7\r\n")
    m = read_mesh("1D", f, 1, (1e-6, 1.0, 1.0))
    assert m.n_cells == 10 and list(m.cell_region) == [0] * 3 + [1] * 7
    np.testing.assert_allclose(m.points[:4, 0], [0, 1e-7, 2e-7, 3e-7])
    assert list(m.bnd_index) == [1, 2, 3]
    np.testing.assert_allclose(m.points[m.bnd_nodes, 0], [0, 3e-7, 1e-6])


def test_comsol_cross_plane_square():
    m = load("COMSOL", CROSS, 2, (1e-7, 1e-7, 1.0))
    assert len(m.points) == 10201 and m.n_cells == 10000 and set(m.cell_types) == {9}
    assert len(m.bnd_index) == 400 and sorted(set(m.bnd_index)) == [1, 2, 3, 4]
    L = 1e-7
    np.testing.assert_allclose(m.points.max(axis=0), [L, L, 0])
    for idx, axis, value in ((1, 0, 0.0), (2, 1, 0.0), (3, 1, L), (4, 0, L)):
        nodes = m.bnd_nodes.reshape(-1, 2)[m.bnd_index == idx]
        assert len(nodes) == 100
        np.testing.assert_allclose(m.points[nodes, axis], value, atol=1e-20)
    # VTK quads go round the cell: consecutive vertices are edge neighbours (distance h)
    q = m.cell_nodes.reshape(-1, 4)
    d = np.linalg.norm(m.points[q] - m.points[np.roll(q, -1, axis=1)], axis=2)
    np.testing.assert_allclose(d, L / 100, rtol=1e-6)


@pytest.mark.parametrize("path, scale, n_points, n_cells, cell_type, n_bnd, nodes_per_bnd", [
    (FINFET, 1e-7, 16930, 14442, 12, 5060, 4),     # hexahedra
    (TDTR, 5e-5, 5466, 28595, 10, 3212, 3),        # tetrahedra, CRLF line ends
])
def test_comsol_3d(path, scale, n_points, n_cells, cell_type, n_bnd, nodes_per_bnd):
    m = read_comsol(path, 3, (scale, scale, scale))
    assert len(m.points) == n_points and m.n_cells == n_cells
    assert set(m.cell_types) == {cell_type}
    assert len(m.bnd_index) == n_bnd and np.all(np.diff(m.bnd_offsets) == nodes_per_bnd)
    if path == FINFET:
        assert m.n_regions == 3 and sorted(set(m.bnd_index)) == list(range(1, 22))
        assert np.abs(m.points).max() < 1e-4


def test_comsol_1d_ttg():
    m = read_comsol(EX / "TTG" / "2pikn=1" / "input" / "500_1D.mphtxt", 1, (6.71121e-7, 1, 1))
    assert m.n_cells == 500 and len(m.points) == 501 and set(m.cell_types) == {3}
    assert sorted(m.bnd_index) == [1, 2]
    np.testing.assert_allclose(np.sort(m.points[m.bnd_nodes, 0]), [0, 6.71121e-7])


def test_generator_output_and_two_domain_mesh():
    gen = read_comsol(ROOT / "mesh_generator_output" / "inputmesh.txt", 3, (1, 1, 1))
    assert len(gen.points) == 2541 and gen.n_cells == 2000 and set(gen.cell_types) == {12}
    assert len(gen.bnd_index) == 1000 and sorted(set(gen.bnd_index)) == [1, 2, 3, 4, 5, 6]
    m = load("COMSOL", INTERFACE, 2)
    assert len(m.points) == 861 and m.n_cells == 800 and m.n_regions == 2
    assert sorted(set(m.bnd_index)) == list(range(1, 8))


def test_gmsh_nanoporous():
    m = read_gmsh(POROUS, 2, (5e-7, 5e-7, 1.0))
    assert len(m.points) == 1335 and m.n_cells == 2467 and set(m.cell_types) == {5}
    assert len(m.bnd_index) == 207 and sorted(set(m.bnd_index)) == list(range(1, 12))
    assert set(m.cell_region) == {0}
    edges = m.bnd_nodes.reshape(-1, 2)
    np.testing.assert_allclose(m.points[edges[m.bnd_index == 1], 0], 5e-7)
    np.testing.assert_allclose(m.points[edges[m.bnd_index == 5], 0], 0.0, atol=1e-20)
    r = np.linalg.norm(m.points[edges[m.bnd_index == 9]] / 5e-7 - [0.25, 0.25, 0], axis=2)
    np.testing.assert_allclose(r, 0.1, rtol=1e-6)


def test_mixed_3d_comsol_and_gmsh_agree():
    a = read_comsol(DATA / "mixed_3d.mphtxt", 3, (1, 1, 1))
    b = read_gmsh(DATA / "mixed_3d.msh", 3, (1, 1, 1))
    for m in (a, b):
        assert list(m.cell_types) == [12, 13, 13, 14] and list(m.cell_region) == [0, 1, 1, 2]
        assert sorted(set(m.bnd_index)) == list(range(1, 10))
    np.testing.assert_array_equal(a.points, b.points)
    np.testing.assert_array_equal(a.cell_nodes, b.cell_nodes)   # COMSOL orders -> VTK orders
    def key(m):
        return sorted((i, tuple(sorted(m.bnd_nodes[m.bnd_offsets[k]:m.bnd_offsets[k + 1]])))
                      for k, i in enumerate(m.bnd_index))
    assert key(a) == key(b)


def test_gmsh_40_format(tmp_path):
    f = tmp_path / "m40.msh"
    f.write_text("$MeshFormat\n4 0 8\n$EndMeshFormat\n$Nodes\n1 4\n1 2 0 4\n"
                 "7 0 0 0\n8 1 0 0\n9 1 1 0\n11 0 1 0\n$EndNodes\n$Elements\n3 4\n"
                 "1 2 3 1\n1 7 8 9 11\n2 1 1 2\n2 7 8\n3 8 9\n4 1 1 2\n4 9 11\n5 11 7\n"
                 "$EndElements\n")
    m = read_gmsh(f, 2, (1, 1, 1))
    assert m.n_cells == 1 and list(m.cell_nodes) == [0, 1, 2, 3]
    assert list(m.bnd_index) == [2, 2, 4, 4]


# ------------------------------------------------------------------------------ bad input

def _err(kind, path, dim) -> BTEInputError:
    with pytest.raises(BTEInputError) as info:
        read_mesh(kind, path, dim, (1, 1, 1))
    assert str(path) in str(info.value)
    return info.value


def test_truncated_mphtxt(tmp_path):
    lines = (ROOT / "input" / "2D_20_20.mphtxt").read_text().splitlines()
    for cut in (300, 700, 1060, 1100):
        f = tmp_path / f"cut{cut}.mphtxt"
        f.write_text("\n".join(lines[:cut]) + "\n")
        _err("COMSOL", f, 2)


def test_bad_number_in_mphtxt(tmp_path):
    lines = (ROOT / "input" / "2D_20_20.mphtxt").read_text().splitlines()
    lines[700] = "12 x 14 15"
    f = tmp_path / "bad.mphtxt"
    f.write_text("\n".join(lines) + "\n")
    assert _err("COMSOL", f, 2).line == 701


def test_sdim_mismatch():
    e = _err("COMSOL", ROOT / "input" / "2D_20_20.mphtxt", 3)
    assert e.line == 17 and e.field == "GeometryDimension" and "GeometryDimension" in str(e)


def test_gmsh_missing_end_nodes(tmp_path):
    f = tmp_path / "noend.msh"
    f.write_text(POROUS.read_text().replace("$EndNodes\n", ""))
    _err("MSH", f, 2)


def test_gmsh_bad_inputs(tmp_path):
    _err("MSH", DATA / "mixed_3d.msh", 2)                      # 3D elements in a 2D mesh
    f = tmp_path / "old.msh"
    f.write_text("$MeshFormat\n2.2 0 8\n$EndMeshFormat\n")
    _err("MSH", f, 2)
    f = tmp_path / "short.msh"
    text = POROUS.read_text()
    i = text.index("$EndElements")
    f.write_text(text[:text.rindex("\n", 0, i - 1)] + "\n$EndElements\n")   # one element short
    _err("MSH", f, 2)


def test_other_bad_inputs(tmp_path):
    _err("XYZ", ROOT / "input" / "inputmesh.dat", 1)
    _err("COMSOL", tmp_path / "missing.mphtxt", 2)
    f = tmp_path / "bad1d.dat"
    f.write_text("Number_GEO=\n2\ndistribution=\n1 0.5 4\n")
    _err("1D", f, 1)
