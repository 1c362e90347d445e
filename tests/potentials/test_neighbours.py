"""Neighbour lists (vesin) against ASE's independent implementation, and batched graphs."""
from __future__ import annotations

import pytest
from ase import Atoms
from ase.neighborlist import neighbor_list

from potentials.neighbours import build_graph, neighbour_list


def as_set(i, j, shifts):
    return {(int(a), int(b), tuple(int(s) for s in shift)) for a, b, shift in zip(i, j, shifts)}


@pytest.mark.parametrize("pbc", [(True, True, True), (True, False, True), (False, False, False)])
def test_matches_ase_for_small_triclinic_cells(mixed_crystal, pbc):
    atoms = mixed_crystal.copy()
    atoms.pbc = pbc
    cutoff = 5.6  # larger than half the cell: several images of the same atom
    ours = as_set(*neighbour_list(atoms, cutoff))
    reference = as_set(*neighbor_list("ijS", atoms, cutoff))
    assert ours == reference and len(ours) > 0


def test_batched_graph_offsets(mixed_crystal):
    molecule = Atoms("CSi", positions=[[0, 0, 0], [1.9, 0, 0]])
    graph = build_graph([mixed_crystal, molecule], ["Si", "C"], 4.0)
    n = len(mixed_crystal)
    assert graph.num_graphs == 2
    assert graph.node_graph.tolist() == [0] * n + [1, 1]
    last_edges = graph.edge_index[:, -2:].tolist()
    assert sorted(map(tuple, zip(*last_edges))) == [(n, n + 1), (n + 1, n)]
    vectors = (graph.positions[graph.edge_index[1]] - graph.positions[graph.edge_index[0]]
               + graph.edge_shift).norm(dim=1)
    assert float(vectors.max()) <= 4.0
