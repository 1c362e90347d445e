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
* per-layer readouts summed into a per-atom energy, scaled and shifted per species;
* optionally (``long_range_cutoff`` > 0) a :class:`LongRangeTerm`: an energy linear in its
  weights, of two- and three-body invariants of all neighbours within a longer cutoff.  It gives
  the weak couplings between distant atoms (in silicon the [110]-chain couplings at 5.9 and 7.7 Å
  that set the acoustic branches and κ) direct, linear parameters, which training solves for by
  least squares (:class:`potentials.training.LongRangeFit`); the message-passing part then only
  has to get the short-range chemistry right.

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
    long_range_cutoff: float = 0.0     # Å; > 0 adds the LongRangeTerm: its pair terms' cutoff
    three_body_cutoff: float = 0.0     # Å; its three-body terms' cutoff (0: long_range_cutoff)
    long_range_basis: int = 10         # radial functions of each of its parts
    long_range_l_max: int = 3          # its largest angular momentum (bond angles to l_max)

    def __post_init__(self) -> None:
        if not self.species:
            raise ValueError("ModelConfig.species must list at least one chemical symbol")
        if self.l_max < 0:
            raise ValueError(f"l_max must be >= 0, got {self.l_max}")
        if self.envelope_p < 5:
            raise ValueError("envelope_p must be >= 5 for smooth force constants, got "
                             f"{self.envelope_p}")
        n = len(self.species)
        self.energy_shifts = list(self.energy_shifts) or [0.0] * n
        self.energy_scales = list(self.energy_scales) or [1.0] * n
        if len(self.energy_shifts) != n or len(self.energy_scales) != n:
            raise ValueError("energy_shifts and energy_scales need one value per species")
        if self.long_range_cutoff and self.long_range_cutoff <= self.cutoff:
            raise ValueError(f"long_range_cutoff ({self.long_range_cutoff} Å) must exceed cutoff "
                             f"({self.cutoff} Å), or be 0 for no long-range term")
        if self.long_range_cutoff and (self.long_range_basis < 1 or self.long_range_l_max < 0):
            raise ValueError("long_range_basis must be >= 1 and long_range_l_max >= 0")
        if self.three_body_cutoff and not (self.cutoff <= self.three_body_cutoff
                                           <= self.long_range_cutoff):
            # the message passing takes its edges from the three-body ones
            raise ValueError(f"three_body_cutoff ({self.three_body_cutoff} Å) must be in "
                             f"[cutoff = {self.cutoff} Å, long_range_cutoff = "
                             f"{self.long_range_cutoff} Å]")

    @property
    def graph_cutoff(self) -> float:
        """The neighbour-list radius (Å) the model needs: the larger of its two cutoffs."""
        return max(self.cutoff, self.long_range_cutoff)

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


class LongRangeTerm(torch.nn.Module):
    """Energy linear in its weights: pair sums of all neighbours within ``long_range_cutoff``
    and the three-body power spectrum of those within ``three_body_cutoff`` (an ACE basis of
    body order 3; lengths in Å, energies in eV).

    With g_n, h_n the Bessel functions of the two cutoffs times a polynomial envelope (p = 6,
    three vanishing derivatives at the cutoff, so force constants up to third order stay
    continuous), per neighbour species s:
        pair sums  P_i[(s, n)] = sum_{j of species s} g_n(r_ij),
        densities  A_i[(s, n), lm] = sum_{j of species s} h_n(r_ij) Y_lm(r_ij/|r_ij|),
    basis of atom i: P_i and sum_m A_i[k, lm] A_i[k', lm] (k <= k', l = 0..l_max);
    E_i = sum_b w[z_i, b] basis_i[b].  The weights start at zero; being linear, they are fitted
    by least squares (:meth:`unit_outputs`, :class:`potentials.training.LongRangeFit`).
    The angular part may stop short of the pair part (``three_body_cutoff``): three-body terms
    reaching past half a training supercell are fixed by its data only as sums over periodic
    images, which leaves room for anharmonicity and an E(V) curvature the data do not hold
    (``potentials/data/README.md``, :mod:`potentials.bulk_modulus`).
    """

    ENVELOPE_P, ENVELOPE_SMOOTHNESS = 6, 3

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.cutoff = float(config.long_range_cutoff)
        self.three_body_cutoff = float(config.three_body_cutoff or config.long_range_cutoff)
        self.l_max = int(config.long_range_l_max)
        self.n_species = len(config.species)
        self.pair_bessel = BesselBasis(self.cutoff, config.long_range_basis)
        self.pair_envelope = PolynomialEnvelope(self.cutoff, self.ENVELOPE_P,
                                                self.ENVELOPE_SMOOTHNESS)
        self.bessel = BesselBasis(self.three_body_cutoff, config.long_range_basis)
        self.envelope = PolynomialEnvelope(self.three_body_cutoff, self.ENVELOPE_P,
                                           self.ENVELOPE_SMOOTHNESS)
        self.spherical_harmonics = o3.SphericalHarmonics(
            o3.Irreps.spherical_harmonics(self.l_max), normalize=True, normalization="component")
        self.n_channels = self.n_species * config.long_range_basis
        pairs = torch.triu_indices(self.n_channels, self.n_channels)
        self.register_buffer("pairs", pairs, persistent=False)
        self.n_basis = self.n_channels + (self.l_max + 1) * pairs.shape[1]
        self.weights = torch.nn.Parameter(torch.zeros(self.n_species, self.n_basis))
        self.double()

    def _apply(self, fn, recurse=True):
        """Moves to another device apply, casts to another precision do not: the least-squares
        weights are large and cancel to many digits, so this term stays float64 (in float32
        its forces would be off by 3e-5 eV/Å)."""
        def keep_float64(tensor: torch.Tensor) -> torch.Tensor:
            moved = fn(tensor)
            return moved.double() if tensor.is_floating_point() else moved
        return super()._apply(keep_float64, recurse)

    def _radial(self, lengths: torch.Tensor, neighbour_species: torch.Tensor,
                pair: bool) -> torch.Tensor:
        """[E, species x n] radial functions of the pair (``pair``) or three-body part: one block
        of n functions per neighbour species."""
        bessel, envelope = ((self.pair_bessel, self.pair_envelope) if pair
                            else (self.bessel, self.envelope))
        radial = bessel(lengths) * envelope(lengths).unsqueeze(-1)
        if self.n_species == 1:
            return radial
        one_hot = torch.nn.functional.one_hot(neighbour_species, self.n_species).to(radial.dtype)
        return (one_hot.unsqueeze(-1) * radial.unsqueeze(1)).flatten(1)

    def _power_spectrum(self, density: torch.Tensor) -> torch.Tensor:
        """[N, channels, (l_max + 1)^2] densities -> [N, (l_max + 1) x pairs] invariants."""
        parts = []
        for l in range(self.l_max + 1):
            block = density[:, :, l * l:(l + 1) ** 2]
            gram = torch.einsum("nkm,nqm->nkq", block, block)
            parts.append(gram[:, self.pairs[0], self.pairs[1]])
        return torch.cat(parts, dim=-1)

    def forward(self, lengths: torch.Tensor, receiver: torch.Tensor,
                neighbour_species: torch.Tensor, angular_edges: torch.Tensor, sh: torch.Tensor,
                edges: "PaddedEdges", species: torch.Tensor) -> torch.Tensor:
        """Per-atom energies [N] (eV, float64).  ``lengths``, ``receiver``, ``neighbour_species``:
        all edges (within ``cutoff``); ``angular_edges``: the indices of those within
        ``three_body_cutoff``, whose spherical harmonics (up to at least ``l_max``) are ``sh``
        and whose layout per receiving atom is ``edges``; lengths and harmonics in float64."""
        n_nodes = len(species)
        pair = self._radial(lengths, neighbour_species, pair=True)
        pair_sums = pair.new_zeros(n_nodes, pair.shape[1]).index_add(0, receiver, pair)
        radial = self._radial(lengths[angular_edges], neighbour_species[angular_edges],
                             pair=False)
        density = torch.bmm(edges.pad(radial).transpose(1, 2),
                            edges.pad(sh[:, :(self.l_max + 1) ** 2]))
        basis = torch.cat([pair_sums, self._power_spectrum(density)], dim=-1)
        return (basis * self.weights[species]).sum(-1)

    def basis_derivatives(self, vectors: torch.Tensor, receiver: torch.Tensor,
                          neighbour_species: torch.Tensor, n_nodes: int
                          ) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-atom basis [N, n_basis], d basis_receiver / d vector [E, n_basis, 3]), exact.

        Each edge moves only its receiver's pair sums and densities, so the derivative of every
        basis function with respect to every edge vector is one dense array, built from the
        edge functions' own gradients (no backward pass per basis function)."""
        vectors = vectors.detach().requires_grad_(True)
        with torch.enable_grad():
            lengths = torch.linalg.norm(vectors, dim=-1)
            pair = self._radial(lengths, neighbour_species, pair=True)
            radial = self._radial(lengths, neighbour_species, pair=False)
            sh = self.spherical_harmonics(vectors)
            functions = torch.cat([pair, radial, sh], dim=1)
            gradients = torch.stack([torch.autograd.grad(functions[:, k].sum(), vectors,
                                                         retain_graph=k + 1 < functions.shape[1])[0]
                                     for k in range(functions.shape[1])], dim=1)
        pair, radial, sh = pair.detach(), radial.detach(), sh.detach()
        channels = self.n_channels
        d_pair, d_radial = gradients[:, :channels], gradients[:, channels:2 * channels]
        d_sh = gradients[:, 2 * channels:]
        pair_sums = pair.new_zeros(n_nodes, channels).index_add(0, receiver, pair)
        density = radial.new_zeros(n_nodes, channels, sh.shape[1])
        density = density.index_add(0, receiver, radial.unsqueeze(-1) * sh.unsqueeze(1))
        # d(h_k Y_m)/dr for every edge: [E, channels, (l_max+1)^2, 3]
        d_product = (d_radial.unsqueeze(2) * sh.unsqueeze(1).unsqueeze(-1)
                     + radial.unsqueeze(-1).unsqueeze(-1) * d_sh.unsqueeze(1))
        at_receiver = density[receiver]
        parts = [d_pair]
        for l in range(self.l_max + 1):
            cut = slice(l * l, (l + 1) ** 2)
            # d/dr sum_m A[k, m] A[q, m] = sum_m dA[k, m] A[q, m] + A[k, m] dA[q, m]
            half = torch.einsum("ekmx,eqm->ekqx", d_product[:, :, cut], at_receiver[:, :, cut])
            parts.append((half + half.transpose(1, 2))[:, self.pairs[0], self.pairs[1]])
        basis = torch.cat([pair_sums, self._power_spectrum(density)], dim=-1)
        return basis, torch.cat(parts, dim=1)

    def unit_outputs(self, graph: Graph, stress: bool = False) -> dict[str, torch.Tensor]:
        """Energies [G, P] (eV), forces [N, 3, P] (eV/Å) and, if asked, stresses [G, 3, 3, P]
        (eV/Å^3) that each of the P = species x basis weights contributes per unit value, in
        float64: the columns of the linear least-squares problem of these weights."""
        vectors = graph.edge_vectors().double()
        receiver, sender = graph.edge_index
        n_nodes, n_graphs = len(graph.species), graph.num_graphs
        basis, derivative = self.basis_derivatives(vectors, receiver, graph.species[sender],
                                                   n_nodes)
        n_columns = self.n_species * self.n_basis
        if self.n_species == 1:
            atom_energy, gradient = basis, derivative
        else:   # an atom's basis, and d E / d r_ij, land in the columns of its species
            block = graph.species * self.n_basis
            columns = block.unsqueeze(-1) + torch.arange(self.n_basis, device=block.device)
            atom_energy = basis.new_zeros(n_nodes, n_columns).scatter_(1, columns, basis)
            gradient = derivative.new_zeros(len(receiver), n_columns, 3)
            gradient.scatter_(1, columns[receiver].unsqueeze(-1).expand(-1, -1, 3), derivative)
        energy = basis.new_zeros(n_graphs, n_columns).index_add_(0, graph.node_graph, atom_energy)
        forces = derivative.new_zeros(n_nodes, n_columns, 3)
        forces.index_add_(0, receiver, gradient).index_add_(0, sender, -gradient)
        result = {"energy": energy, "forces": forces.transpose(1, 2)}
        if stress:
            virial = vectors.new_zeros(n_graphs, 3, 3, n_columns)
            virial.index_add_(0, graph.node_graph[receiver],
                              torch.einsum("ea,epb->eabp", vectors, gradient))
            virial = 0.5 * (virial + virial.transpose(1, 2))
            volume = torch.abs(torch.linalg.det(graph.cells.double())).clamp_min(1e-12)
            result["stress"] = virial / volume[:, None, None, None]
        return result


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
        # one set of spherical harmonics serves both the message passing and the long-range term
        l_sh = max(config.l_max, config.long_range_l_max if config.long_range_cutoff else 0)
        self.l_max = config.l_max
        irreps_sh = o3.Irreps.spherical_harmonics(l_sh)
        self.spherical_harmonics = o3.SphericalHarmonics(irreps_sh, normalize=True,
                                                         normalization="component")
        self.bessel = BesselBasis(config.cutoff, config.num_bessel)
        self.envelope = PolynomialEnvelope(config.cutoff, config.envelope_p,
                                           config.envelope_smoothness)
        self.embedding = torch.nn.Embedding(n_species, config.channels)
        self.layers = torch.nn.ModuleList(InteractionLayer(config)
                                          for _ in range(config.num_layers))
        self.readouts = torch.nn.ModuleList(
            e3nn_nn.FullyConnectedNet([config.channels, config.update_hidden, 1],
                                      torch.nn.functional.silu)
            for _ in range(config.num_layers))
        self.register_buffer("energy_shifts", torch.tensor(config.energy_shifts,
                                                           dtype=torch.get_default_dtype()))
        self.register_buffer("energy_scales", torch.tensor(config.energy_scales,
                                                           dtype=torch.get_default_dtype()))
        self.long_range = LongRangeTerm(config) if config.long_range_cutoff else None

    @property
    def graph_cutoff(self) -> float:
        """The neighbour-list radius (Å) of this model's graphs."""
        return self.config.graph_cutoff

    def atomic_energies(self, graph: Graph, edge_vectors: torch.Tensor) -> torch.Tensor:
        """Per-atom energies (eV) for the graph's atoms given its float64 edge vectors
        r_j - r_i (Å); the message passing runs in the model's precision, the long-range term
        in float64 (then so are the energies)."""
        dtype = self.energy_shifts.dtype
        receiver, sender = graph.edge_index[0], graph.edge_index[1]
        n_nodes = len(graph.species)
        long_range = None
        if self.long_range is not None:
            # the graph reaches the pair cutoff; the angular terms and the message passing see
            # the shorter edges only, whose spherical harmonics both share
            lengths = torch.linalg.norm(edge_vectors, dim=-1)
            angular = torch.nonzero(lengths.detach() < self.long_range.three_body_cutoff)[:, 0]
            sh = self.spherical_harmonics(edge_vectors[angular])
            long_range = self.long_range(lengths, receiver, graph.species[sender], angular, sh,
                                         PaddedEdges.of(receiver[angular], n_nodes), graph.species)
            short = torch.nonzero(lengths[angular].detach() < self.cutoff)[:, 0]
            sh = sh[short, :(self.l_max + 1) ** 2].to(dtype)
            lengths = lengths[angular][short].to(dtype)
            receiver, sender = receiver[angular][short], sender[angular][short]
        else:
            edge_vectors = edge_vectors.to(dtype)
            lengths = torch.linalg.norm(edge_vectors, dim=-1)
            sh = self.spherical_harmonics(edge_vectors)
        radial_basis = self.bessel(lengths)
        envelope = self.envelope(lengths)
        h = self.embedding(graph.species)
        edges = PaddedEdges.of(receiver, n_nodes)
        sh_padded = edges.pad(sh)
        energy = torch.zeros(h.shape[0], dtype=h.dtype, device=h.device)
        for layer, readout in zip(self.layers, self.readouts):
            h = layer(h, sh_padded, radial_basis, envelope, sender, edges)
            energy = energy + readout(h).squeeze(-1)
        energy = self.energy_shifts[graph.species] + self.energy_scales[graph.species] * energy
        return energy if long_range is None else energy + long_range

    def forward(self, graph: Graph, forces: bool = True, stress: bool = False,
                training: bool = False) -> dict[str, torch.Tensor]:
        """Energies [G] (eV), and if asked forces [N, 3] (eV/Å) and stress [G, 3, 3] (eV/Å^3),
        in the model's precision.

        Edge vectors are formed in the graph's (float64) precision and only then cast to the
        model's dtype, so float32 models see exact geometry; forces and the virial follow from
        the energy gradient with respect to the edge vectors.  ``training=True`` keeps the
        autograd graph of the forces so a force loss can be back-propagated to the weights.
        """
        dtype = self.energy_shifts.dtype
        sender, receiver = graph.edge_index[1], graph.edge_index[0]
        vectors = graph.edge_vectors().double()
        if forces or stress:
            vectors.requires_grad_(True)
        atomic = self.atomic_energies(graph, vectors)
        energy = torch.zeros(graph.num_graphs, dtype=atomic.dtype, device=atomic.device)
        energy.index_add_(0, graph.node_graph, atomic)
        result = {"energy": energy.to(dtype)}
        if forces or stress:
            (gradient,) = torch.autograd.grad(energy.sum(), vectors, create_graph=training)
            if forces:
                force = torch.zeros(len(graph.species), 3, dtype=gradient.dtype,
                                    device=atomic.device)
                force.index_add_(0, receiver, gradient)
                force.index_add_(0, sender, -gradient)
                result["forces"] = force.to(dtype)
            if stress:
                virial = torch.zeros(graph.num_graphs, 3, 3, dtype=gradient.dtype,
                                     device=atomic.device)
                virial.index_add_(0, graph.node_graph[receiver],
                                  vectors.unsqueeze(-1) * gradient.unsqueeze(-2))
                virial = 0.5 * (virial + virial.transpose(1, 2))
                volume = torch.abs(torch.linalg.det(graph.cells.double()))
                result["stress"] = (virial / volume.clamp_min(1e-12)[:, None, None]).to(dtype)
        return result
