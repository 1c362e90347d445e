"""Issue 23, item 13: a valid Gmsh 4.1 file whose entity blocks include ones with zero nodes (every
curve and surface whose nodes all sit on lower-dimensional entities, as in a one-layer extrusion
or a coarse square) is read; the Gmsh 4.1 format is documented at gmsh.info (MSH file format)."""
from __future__ import annotations

import numpy as np

from bte.mesh_io import read_gmsh

#: the unit square as Gmsh 4.1 writes it with no interior nodes: four corner points (dim 0,
#: one node each), four curves and one surface with zero nodes of their own; two triangles
SQUARE_41 = """$MeshFormat
4.1 0 8
$EndMeshFormat
$Nodes
9 4 1 4
0 1 0 1
1
0 0 0
0 2 0 1
2
1 0 0
0 3 0 1
3
1 1 0
0 4 0 1
4
0 1 0
1 1 0 0
1 2 0 0
1 3 0 0
1 4 0 0
2 1 0 0
$EndNodes
$Elements
5 6 1 6
1 1 1 1
1 1 2
1 2 1 1
2 2 3
1 3 1 1
3 3 4
1 4 1 1
4 4 1
2 1 2 2
5 1 2 3
6 1 3 4
$EndElements
"""


def test_gmsh41_with_zero_node_entity_blocks(tmp_path):
    path = tmp_path / "square.msh"
    path.write_text(SQUARE_41)
    mesh = read_gmsh(path, 2, (1e-6, 1e-6, 1.0))
    np.testing.assert_allclose(mesh.points[:, :2],
                               1e-6 * np.array([[0, 0], [1, 0], [1, 1], [0, 1]]))
    assert mesh.n_cells == 2
    assert sorted(set(mesh.bnd_index.tolist())) == [1, 2, 3, 4]
