"""The equivariant interatomic potential (NequIP/MACE family, built from e3nn 0.6 blocks).

Energy in eV, positions and cells in Å, forces in eV/Å, stress in eV/Å^3 (ASE sign convention:
sigma = (1/V) dE/d(strain), Voigt order xx, yy, zz, yz, xz, xy).

Architecture (``ModelConfig`` sets the sizes; MACE with invariant hidden features):

* species embedding: ``channels`` scalars per atom;
* per layer, an equivariant atomic basis A_i = sum_j R(r_ij) Y(r_ij/|r_ij|) (W h_j) with
  spherical harmonics Y up to ``l_max`` and radial weights R = MLP(Bessel(r)) * envelope(r)
  (a polynomial cutoff whose first ``envelope_smoothness`` derivatives vanish at ``cutoff``);
* its rotation invariants (the power spectrum sum_m A[c, lm] A[c', lm]: bond-angle terms at
  each atom) feed a residual update of h;
* per-layer readouts summed into a per-atom energy, scaled and shifted per species.

Forces and stress come from one autograd pass through the edge vectors: F_i = -dE/dr_i by
scattering the edge gradients, sigma = (1/V) sum_edges r_ij (x) dE/dr_ij (the virial).
Only the atomic basis A carries l > 0 irreps; the features passed between layers are invariant
(MACE's "L = 0" setting), which keeps a 64-atom evaluation near 15 ms on one CPU core.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields

import torch
from e3nn import nn as e3nn_nn
from e3nn import o3

from potentials.neighbours import Graph
from potentials.radial import BesselBasis, PolynomialEnvelope


@dataclass
class ModelConfig:
    """Hyperparameters of :class:`EquivariantPotential` (lengths in Å, energies in eV)."""

    species: list[str]
    cutoff: float = 5.0
    channels: int = 16
    l_max: int = 2
    num_layers: int = 2
    num_bessel: int = 8
    envelope_p: int = 6
    envelope_smoothness: int = 3
    radial_hidden: int = 32
    update_hidden: int = 32
    avg_num_neighbors: float = 28.0
    energy_shifts: list[float] = field(default_factory=list)  # eV/atom per species
    energy_scales: list[float] = field(default_factory=list)  # eV per species

    def __post_init__(self) -> None:
        if not self.species:
            raise ValueError("ModelConfig.species must list at least one chemical symbol")
        if self.l_max < 0:
            raise ValueError(f"l_max must be >= 0, got {self.l_max}")
        if self.envelope_p < 5:
            raise ValueError(f"envelope_p must be >= 5 for smooth force constants, got {self.envelope_p}")
        n = len(self.species)
        self.energy_shifts = list(self.energy_shifts) or [0.0] * n
        self.energy_scales = list(self.energy_scales) or [1.0] * n
        if len(self.energy_shifts) != n or len(self.energy_scales) != n:
            raise ValueError("energy_shifts and energy_scales need one value per species")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config keys: {', '.join(sorted(unknown))}")
        return cls(**data)


class InteractionLayer(torch.nn.Module):
    """One MACE-style interaction: equivariant atomic basis A, many-body invariants, update.

    A_i[c, lm] = sum_j R_c,l(r_ij) Y_lm(r_ij/|r_ij|) (W h_j)_c  (an irreps field
    channels x (0e + 1o + 2e + ...)); its rotation invariants B_i[c, c', l] =
    sum_m A_i[c, lm] A_i[c', lm] (c <= c', the power spectrum: body order 3, i.e. bond angles at
    i) update the scalar features, h_i <- h_i + MLP([A_i[:, 0], B_i]).
    """

    def __init__(self, config: ModelConfig):
        super().__init__()
        channels, l_max = config.channels, config.l_max
        self.l_max = l_max
        self.avg_num_neighbors = float(config.avg_num_neighbors)
        pairs = torch.triu_indices(channels, channels)
        self.register_buffer("pair_index", pairs[0] * channels + pairs[1], persistent=False)
        self.sender_mix = torch.nn.Linear(channels, channels, bias=False)
        self.radial = e3nn_nn.FullyConnectedNet(
            [config.num_bessel, config.radial_hidden, config.radial_hidden,
             channels * (l_max + 1)], torch.nn.functional.silu)
        n_invariants = channels + (l_max + 1) * pairs.shape[1]
        self.update = e3nn_nn.FullyConnectedNet(
            [n_invariants, config.update_hidden, channels], torch.nn.functional.silu)

    def forward(self, h: torch.Tensor, sh_padded: torch.Tensor, radial_basis: torch.Tensor,
                envelope: torch.Tensor, sender: torch.Tensor, edges: "PaddedEdges") -> torch.Tensor:
        """New scalar features [N, channels].

        The neighbour sums are batched matrix products over the receiver-padded edges
        (``edges``; ``sh_padded`` [N, K, (l_max+1)^2]): per edge only the [channels, l_max+1]
        weights R (W h_j) are formed, never the [channels, (l_max+1)^2] messages.
        """
        n_edges, n_nodes, channels = radial_basis.shape[0], h.shape[0], h.shape[1]
        n_l, n_sh = self.l_max + 1, sh_padded.shape[-1]
        weights = ((self.radial(radial_basis) * envelope.unsqueeze(-1)).view(n_edges, channels, n_l)
                   * self.sender_mix(h)[sender].unsqueeze(-1))
        summed = torch.bmm(edges.pad(weights.view(n_edges, -1)).transpose(1, 2), sh_padded)
        summed = summed.view(n_nodes, channels, n_l, n_sh) / self.avg_num_neighbors
        invariants = [summed[:, :, 0, 0]]
        for l in range(n_l):
            block = summed[:, :, l, l * l:(l + 1) * (l + 1)]
            gram = torch.einsum("ncm,nkm->nck", block, block).reshape(n_nodes, -1)
            invariants.append(gram[:, self.pair_index])
        return h + self.update(torch.cat(invariants, dim=-1))


@dataclass
class PaddedEdges:
    """Edges laid out per receiving atom: edge e sits at ``index[e]`` = receiver * width + slot
    of an [N, width] table (width: the largest neighbour count; empty slots hold zeros)."""

    index: torch.Tensor
    n_nodes: int
    width: int

    @classmethod
    def of(cls, receiver: torch.Tensor, n_nodes: int) -> "PaddedEdges":
        counts = torch.bincount(receiver, minlength=n_nodes)
        order = torch.argsort(receiver, stable=True)
        start = torch.cumsum(counts, 0) - counts
        slot = torch.empty_like(receiver)
        slot[order] = torch.arange(len(receiver), device=receiver.device) - start[receiver[order]]
        width = max(int(counts.max()), 1) if len(receiver) else 1
        return cls(receiver * width + slot, n_nodes, width)

    def pad(self, values: torch.Tensor) -> torch.Tensor:
        """[E, F] per-edge values -> [N, width, F]."""
        table = values.new_zeros(self.n_nodes * self.width, values.shape[-1])
        return table.index_copy(0, self.index, values).view(self.n_nodes, self.width, -1)


class EquivariantPotential(torch.nn.Module):
    """E(3)-equivariant message-passing potential; see the module docstring for units."""

    def __init__(self, config: ModelConfig | dict):
        super().__init__()
        if isinstance(config, dict):
            config = ModelConfig.from_dict(config)
        self.config = config
        self.species = list(config.species)
        self.cutoff = float(config.cutoff)
        n_species = len(config.species)
        irreps_sh = o3.Irreps.spherical_harmonics(config.l_max)
        self.spherical_harmonics = o3.SphericalHarmonics(irreps_sh, normalize=True,
                                                         normalization="component")
        self.bessel = BesselBasis(config.cutoff, config.num_bessel)
        self.envelope = PolynomialEnvelope(config.cutoff, config.envelope_p,
                                           config.envelope_smoothness)
        self.embedding = torch.nn.Embedding(n_species, config.channels)
        self.layers = torch.nn.ModuleList(InteractionLayer(config) for _ in range(config.num_layers))
        self.readouts = torch.nn.ModuleList(
            e3nn_nn.FullyConnectedNet([config.channels, config.update_hidden, 1],
                                      torch.nn.functional.silu)
            for _ in range(config.num_layers))
        self.register_buffer("energy_shifts", torch.tensor(config.energy_shifts,
                                                           dtype=torch.get_default_dtype()))
        self.register_buffer("energy_scales", torch.tensor(config.energy_scales,
                                                           dtype=torch.get_default_dtype()))

    def atomic_energies(self, graph: Graph, edge_vectors: torch.Tensor) -> torch.Tensor:
        """Per-atom energies (eV) for the graph's atoms given its edge vectors r_j - r_i (Å)."""
        lengths = torch.linalg.norm(edge_vectors, dim=-1)
        sh = self.spherical_harmonics(edge_vectors)
        radial_basis = self.bessel(lengths)
        envelope = self.envelope(lengths)
        h = self.embedding(graph.species)
        edges = PaddedEdges.of(graph.edge_index[0], h.shape[0])
        sh_padded = edges.pad(sh)
        energy = torch.zeros(h.shape[0], dtype=h.dtype, device=h.device)
        for layer, readout in zip(self.layers, self.readouts):
            h = layer(h, sh_padded, radial_basis, envelope, graph.edge_index[1], edges)
            energy = energy + readout(h).squeeze(-1)
        return self.energy_shifts[graph.species] + self.energy_scales[graph.species] * energy

    def forward(self, graph: Graph, forces: bool = True, stress: bool = False,
                training: bool = False) -> dict[str, torch.Tensor]:
        """Energies [G] (eV), and if asked forces [N, 3] (eV/Å) and stress [G, 3, 3] (eV/Å^3).

        Edge vectors are formed in the graph's (float64) precision and only then cast to the
        model's dtype, so float32 models see exact geometry; forces and the virial follow from
        the energy gradient with respect to the edge vectors.  ``training=True`` keeps the
        autograd graph of the forces so a force loss can be back-propagated to the weights.
        """
        dtype = self.energy_shifts.dtype
        sender, receiver = graph.edge_index[1], graph.edge_index[0]
        vectors = (graph.positions[sender] - graph.positions[receiver] + graph.edge_shift).to(dtype)
        if forces or stress:
            vectors.requires_grad_(True)
        atomic = self.atomic_energies(graph, vectors)
        energy = torch.zeros(graph.num_graphs, dtype=dtype, device=atomic.device)
        energy.index_add_(0, graph.node_graph, atomic)
        result = {"energy": energy}
        if forces or stress:
            (gradient,) = torch.autograd.grad(energy.sum(), vectors, create_graph=training)
            if forces:
                force = torch.zeros(len(graph.species), 3, dtype=dtype, device=atomic.device)
                force.index_add_(0, receiver, gradient)
                force.index_add_(0, sender, -gradient)
                result["forces"] = force
            if stress:
                virial = torch.zeros(graph.num_graphs, 3, 3, dtype=dtype, device=atomic.device)
                virial.index_add_(0, graph.node_graph[receiver],
                                  vectors.unsqueeze(-1) * gradient.unsqueeze(-2))
                virial = 0.5 * (virial + virial.transpose(1, 2))
                volume = torch.abs(torch.linalg.det(graph.cells.to(dtype)))
                result["stress"] = virial / volume.clamp_min(1e-12)[:, None, None]
        return result
