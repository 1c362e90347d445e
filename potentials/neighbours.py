"""Periodic neighbour lists (vesin) and batched graphs of many structures.

A :class:`Graph` holds one or many structures concatenated into a single disconnected graph:
positions in Å, cells in Å, directed edges i -> j with integer cell shifts S so that the edge
vector is r_j - r_i + S @ cell.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from ase import Atoms
from vesin import NeighborList

from mtscore import InputError


class StructureError(InputError):
    """A structure the potential cannot evaluate (unknown species, missing cell under PBC)."""


def neighbour_list(atoms: Atoms, cutoff: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Full neighbour list of ``atoms`` within ``cutoff`` (Å): arrays i, j (int64) and shifts S
    (int64, [E, 3])."""
    positions = np.asarray(atoms.positions, dtype=np.float64)
    pbc = np.asarray(atoms.pbc, dtype=bool)
    cell = np.asarray(atoms.cell.array, dtype=np.float64)
    if pbc.any():
        volume = abs(np.linalg.det(cell))
        if any(pbc[k] and np.linalg.norm(cell[k]) == 0.0 for k in range(3)) or volume < 1e-9:
            raise StructureError(
                f"structure {atoms.get_chemical_formula()} is periodic (pbc={pbc.tolist()}) "
                f"but has no valid cell (cell lengths "
                f"{np.linalg.norm(cell, axis=1).round(4).tolist()} Å); "
                f"set atoms.cell or use pbc=False")
    else:
        cell = np.zeros((3, 3))
    calculator = NeighborList(cutoff=float(cutoff), full_list=True)
    i, j, shifts = calculator.compute(points=positions, box=cell, periodic=pbc.tolist(),
                                      quantities="ijS")
    return i.astype(np.int64), j.astype(np.int64), shifts.astype(np.int64)


@dataclass
class Graph:
    """Tensors of a batch of structures (Å), ready for
    :class:`~potentials.model.EquivariantPotential`."""

    positions: torch.Tensor      # [N, 3] Å
    species: torch.Tensor        # [N] index into the model's species list
    cells: torch.Tensor          # [G, 3, 3] Å (zeros for non-periodic structures)
    edge_index: torch.Tensor     # [2, E] (i, j)
    edge_shift: torch.Tensor     # [E, 3] Å, S @ cell of the edge's structure
    node_graph: torch.Tensor     # [N] structure index of each atom
    num_graphs: int

    def edge_vectors(self) -> torch.Tensor:
        """[E, 3] Å: r_j - r_i + S @ cell of every edge (i, j), in the positions' precision."""
        receiver, sender = self.edge_index
        return self.positions[sender] - self.positions[receiver] + self.edge_shift

    def to(self, device: torch.device | str) -> "Graph":
        """The graph on ``device``; geometry stays float64 (the model casts edge vectors)."""
        return Graph(self.positions.to(device), self.species.to(device), self.cells.to(device),
                     self.edge_index.to(device), self.edge_shift.to(device),
                     self.node_graph.to(device), self.num_graphs)


def species_indices(atoms: Atoms, species: Sequence[str]) -> np.ndarray:
    """Index of each atom's chemical symbol in ``species``; :class:`StructureError` for unknown
    ones."""
    lookup = {symbol: k for k, symbol in enumerate(species)}
    symbols = atoms.get_chemical_symbols()
    unknown = sorted(set(symbols) - set(lookup))
    if unknown:
        raise StructureError(f"species {', '.join(unknown)} not known to this model "
                             f"(it knows {', '.join(species)})")
    return np.fromiter((lookup[s] for s in symbols), dtype=np.int64, count=len(symbols))


def structure_graph(atoms: Atoms, species: Sequence[str], cutoff: float) -> Graph:
    """The float64 CPU graph of one structure (cutoff in Å)."""
    kinds = species_indices(atoms, species)
    i, j, shifts = neighbour_list(atoms, cutoff)
    cell = np.asarray(atoms.cell.array, dtype=np.float64) if np.any(atoms.pbc) else np.zeros((3, 3))
    return Graph(positions=torch.from_numpy(np.asarray(atoms.positions, dtype=np.float64).copy()),
                 species=torch.from_numpy(kinds),
                 cells=torch.from_numpy(cell.copy()).unsqueeze(0),
                 edge_index=torch.from_numpy(np.stack([i, j])),
                 edge_shift=torch.from_numpy(shifts @ cell),
                 node_graph=torch.zeros(len(atoms), dtype=torch.int64),
                 num_graphs=1)


def collate(graphs: Sequence[Graph]) -> Graph:
    """Concatenate graphs into one disconnected batch graph (node and structure indices offset)."""
    node_offsets = np.cumsum([0] + [len(g.species) for g in graphs])
    graph_offsets = np.cumsum([0] + [g.num_graphs for g in graphs])
    return Graph(positions=torch.cat([g.positions for g in graphs]),
                 species=torch.cat([g.species for g in graphs]),
                 cells=torch.cat([g.cells for g in graphs]),
                 edge_index=torch.cat([g.edge_index + int(o) for g, o in zip(graphs, node_offsets)],
                                      dim=1),
                 edge_shift=torch.cat([g.edge_shift for g in graphs]),
                 node_graph=torch.cat([g.node_graph + int(o)
                                       for g, o in zip(graphs, graph_offsets)]),
                 num_graphs=int(graph_offsets[-1]))


def build_graph(atoms_list: Sequence[Atoms], species: Sequence[str], cutoff: float) -> Graph:
    """One batched float64 CPU graph of all structures in ``atoms_list`` (cutoff in Å)."""
    return collate([structure_graph(atoms, species, cutoff) for atoms in atoms_list])
