"""Surface hopping in the classical path approximation (CPA): inputs, checks, orchestration.

The vibronic Hamiltonian along a ground-state trajectory is a :class:`VibronicHamiltonian`:
state energies E_i(t) (eV) at times k·dt (fs) and nonadiabatic couplings d_ij (1/fs, real and
antisymmetric) on the intervals [k·dt, (k+1)·dt].  The electronic amplitudes obey
iħ ċ = (E - iħ d) c; the per-step propagators are built here once and shared by all
realisations, which the numba kernels of :mod:`nad.hopping_kernels` then run.

Methods and their known limits (validated on the two-level system with a fluctuating gap of
REFERENCES §4.2 against the numerically exact noise average, ``tests/nad/test_hopping.py``):

* ``"fssh"``: fewest switches with the CPA amplitudes.  Transition times within 20 % of exact
  in both golden-rule cases, but detailed balance by rejecting upward hops does NOT give
  Boltzmann populations (the amplitudes keep running to the infinite-temperature mixture: at
  Δ0 = 50 meV, 300 K, p_upper/p_lower ≈ 0.28 instead of 0.145).  Use it without temperature.
* ``"dish"`` (decoherence-induced surface hopping, Jaeger, Fischer & Prezhdo, J. Chem. Phys.
  137, 22A545 (2012)): hops only at decoherence events, state i decoheres after
  τ_i = 1/Σ_j |c_j|²/τ_ij.  The kernel agrees with an independent implementation of the
  published algorithm.  With the published convention (τ_ij = the pure-dephasing time of the
  gap, ``decoherence_scale=1``) DISH itself deviates whenever the gap fluctuations are in the
  amplitudes, as in every CPA run: a collapse after one dephasing time interrupts the
  amplitude build-up that the explicit noise already dephases (a quantum-Zeno slow-down,
  rate ≈ (2V²/ħ²)∫₀^τ (1 - s/τ) D(s) cos(Δ0 s/ħ) ds instead of the golden rule's ∫₀^∞):
  transition times 2.8x too long at Δ0 = 0 and 1.3x at 50 meV.  The default here,
  ``decoherence_scale`` = :data:`DISH_CPA_SCALE`, lets the intervals run 8 dephasing times, so
  the noise has dephased the amplitudes before a collapse (the remaining slow-down is about
  ∫s D ds / (8 τ ∫D ds) ≈ 10 %): transition times 3-20 % longer than exact in both cases and
  Boltzmann populations within 10 % with detailed balance.  It needs
  the intervals short compared with the transition time itself (8 τ_ij ≪ 1/k); for a faster
  transfer the rate saturates at about one hop per interval.
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass, field

import numpy as np

from .analysis import HBAR, KB, TimeConstantFit, decay_time, decoherence_times
from .errors import NADInputError
from .hopping_kernels import DISH, FSSH, cpa_surface_hopping

#: Largest allowed |d_ij|·dt: beyond it the adiabatic states change character within one step and
#: overlap-based couplings (and the hopping probabilities built on them) are meaningless.
MAX_NAC_DT = 0.3

METHODS = {"fssh": FSSH, "dish": DISH}

#: DISH intervals in units of the pure-dephasing times τ_ij for CPA runs (see the module
#: docstring: 1 is the published convention, which slows golden-rule transfer down).
DISH_CPA_SCALE = 8.0


@dataclass
class VibronicHamiltonian:
    """State energies (nsteps, n) in eV and Hermitian couplings (nsteps, n, n) in eV; dt in fs.

    The full vibronic Hamiltonian is H = diag(E) + couplings (PYXAID convention); for adiabatic
    states the couplings are -iħ d_ij with real antisymmetric NACs d_ij (1/fs), see
    :meth:`from_nac`.  ``couplings[k]`` belongs to the interval from step k to k+1 (the last one
    to the wrap back to step 0 when the trajectory is reused cyclically).  ``labels`` optionally
    name the states.
    """

    energies: np.ndarray
    couplings: np.ndarray
    dt: float
    labels: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.energies = np.asarray(self.energies, dtype=float)
        self.couplings = np.asarray(self.couplings, dtype=complex)
        validate(self.energies, self.couplings, self.dt)

    @property
    def nstates(self) -> int:
        return self.energies.shape[1]

    @property
    def nsteps(self) -> int:
        return self.energies.shape[0]

    @property
    def nac(self) -> np.ndarray:
        """NACs d_ij = -Im(H_ij)/ħ in 1/fs (the real part of the couplings is not a NAC)."""
        return -self.couplings.imag / HBAR

    @classmethod
    def from_nac(cls, energies: np.ndarray, nac: np.ndarray, dt: float,
                 labels: list[str] | None = None) -> "VibronicHamiltonian":
        """From adiabatic energies (nsteps, n) eV and real antisymmetric NACs (nsteps, n, n) 1/fs.

        Raises :class:`NADInputError` naming ``nac`` for bad shapes or a non-antisymmetric d.
        """
        e = np.asarray(energies, dtype=float)
        d = np.asarray(nac, dtype=float)
        _check_shapes(e, d, "nac")
        asym = np.abs(d + np.transpose(d, (0, 2, 1))).max() if d.size else 0.0
        if asym > 1e-8 * max(np.abs(d).max(), 1e-12):
            raise NADInputError(f"nac: not antisymmetric (max |d_ij + d_ji| = {asym:.3g} 1/fs)")
        worst = np.abs(d).max() * dt if d.size else 0.0
        if np.isfinite(dt) and dt > 0 and worst > MAX_NAC_DT:
            raise NADInputError(f"dt: time step {dt} fs too large for the couplings: "
                                f"max |d_ij|·dt = {worst:.3g} > {MAX_NAC_DT} (use a smaller dt)")
        return cls(e, -1j * HBAR * d, dt, list(labels or []))

    @classmethod
    def from_hamiltonian(cls, hamiltonian: np.ndarray, dt: float,
                         labels: list[str] | None = None) -> "VibronicHamiltonian":
        """From full complex vibronic Hamiltonians (nsteps, n, n) in eV (diagonal = energies).

        Raises :class:`NADInputError` naming ``hamiltonian`` when a matrix is not Hermitian.
        """
        h = np.asarray(hamiltonian, dtype=complex)
        if h.ndim != 3 or h.shape[1] != h.shape[2]:
            raise NADInputError(f"hamiltonian: expected shape (nsteps, n, n), got {h.shape}")
        herm = np.abs(h - np.conj(np.transpose(h, (0, 2, 1)))).max(axis=(1, 2))
        bad = np.nonzero(herm > 1e-8 * max(np.abs(h).max(), 1e-12))[0]
        if bad.size:
            raise NADInputError(f"hamiltonian: not Hermitian at step {bad[0]} "
                                f"(max |H - H^†| = {herm[bad[0]]:.3g} eV)")
        idx = np.arange(h.shape[1])
        energies = h[:, idx, idx].real.copy()
        couplings = h.copy()
        couplings[:, idx, idx] = 0.0
        return cls(energies, couplings, dt, list(labels or []))

    def hamiltonian(self) -> np.ndarray:
        """Full complex vibronic Hamiltonians H = diag(E) + couplings (nsteps, n, n) in eV."""
        h = self.couplings.copy()
        idx = np.arange(self.nstates)
        h[:, idx, idx] = self.energies
        return h

    def select(self, states: list[int] | np.ndarray) -> "VibronicHamiltonian":
        """The sub-Hamiltonian of the given state indices (in that order)."""
        s = np.asarray(states, dtype=int)
        labels = [self.labels[i] for i in s] if self.labels else []
        return VibronicHamiltonian(self.energies[:, s], self.couplings[:, s][:, :, s], self.dt,
                                   labels)


def _check_shapes(energies: np.ndarray, couplings: np.ndarray, name: str) -> None:
    if energies.ndim != 2:
        raise NADInputError(f"energies: expected shape (nsteps, nstates), got {energies.shape}")
    nsteps, n = energies.shape
    if couplings.ndim != 3 or couplings.shape[1] != couplings.shape[2]:
        raise NADInputError(f"{name}: expected shape (nsteps, nstates, nstates), "
                            f"got {couplings.shape}")
    if couplings.shape[1] != n:
        raise NADInputError(f"{name}: {couplings.shape[1]} states but energies has {n} "
                            "(inconsistent state counts)")
    if couplings.shape[0] != nsteps:
        raise NADInputError(f"{name}: {couplings.shape[0]} steps but energies has {nsteps}")
    if not np.all(np.isfinite(energies)):
        raise NADInputError("energies: contains NaN or inf")
    if not np.all(np.isfinite(couplings)):
        raise NADInputError(f"{name}: contains NaN or inf")


def validate(energies: np.ndarray, couplings: np.ndarray, dt: float) -> None:
    """Check shapes, finiteness, Hermiticity and the time step; raise :class:`NADInputError`."""
    if not (np.isfinite(dt) and dt > 0):
        raise NADInputError(f"dt: time step must be a positive number of fs, got {dt!r}")
    _check_shapes(energies, couplings, "couplings")
    herm = np.abs(couplings - np.conj(np.transpose(couplings, (0, 2, 1)))).max()
    if herm > 1e-8 * max(np.abs(couplings).max(), 1e-12):
        raise NADInputError(f"couplings: not Hermitian (max |V_ij - V_ji*| = {herm:.3g} eV)")
    worst = np.abs(couplings).max() * dt / HBAR if couplings.size else 0.0
    if worst > MAX_NAC_DT:
        raise NADInputError(f"dt: time step {dt} fs too large for the couplings: max |V_ij|·dt/ħ "
                            f"= {worst:.3g} > {MAX_NAC_DT} (use a smaller dt)")


def propagators(ham: VibronicHamiltonian, max_phase: float = 0.05) -> np.ndarray:
    """Step propagators U[k] (nsteps, n, n) of iħċ = (diag(E) + V)c over [k·dt, (k+1)·dt].

    Energies are interpolated linearly inside the step (held at the last step), the couplings V
    are constant;
    each step is split into substeps whose largest phase |H|·δt/ħ stays below ``max_phase``.
    """
    e = ham.energies
    e_next = np.concatenate([e[1:], e[-1:]], axis=0)
    spread = (np.abs(e - e.mean(axis=1, keepdims=True)).max()
              + np.abs(ham.couplings).sum(axis=2).max())
    nsub = max(1, int(np.ceil(spread * ham.dt / HBAR / max_phase)))
    delta = ham.dt / nsub
    idx = np.arange(ham.nstates)
    u = np.broadcast_to(np.eye(ham.nstates, dtype=complex), ham.couplings.shape).copy()
    for m in range(nsub):
        frac = (m + 0.5) / nsub
        h = ham.couplings.copy()
        h[:, idx, idx] = (1 - frac) * e + frac * e_next
        w, v = np.linalg.eigh(h)
        step = np.einsum("kij,kj,klj->kil", v, np.exp(-1j * w * delta / HBAR), np.conj(v))
        u = step @ u
    return u


@dataclass
class HoppingResult:
    """Populations vs time: ``times`` (fs), ``populations`` (active-state occupations, the
    surface-hopping result) and ``coherent`` (mean |c_i|²), both (nsteps + 1, nstates);
    ``blocks`` (nblocks, nsteps + 1, nstates): the active-state occupations of independent
    groups of time origins (of realisations when there are fewer origins than blocks), from
    which :meth:`decay_time` estimates its error."""

    times: np.ndarray
    populations: np.ndarray
    coherent: np.ndarray
    method: str
    labels: list[str]
    blocks: np.ndarray | None = None

    def decay_time(self, state: int, final: float | None = None,
                   model: str = "exponential") -> TimeConstantFit:
        """Time constant (fs) of the population of ``state`` with its error over the blocks of
        time origins; ``final``: the known long-time population (None: fitted).  See
        :func:`nad.analysis.decay_time` for the convention and when it is not resolved."""
        if not 0 <= state < self.populations.shape[1]:
            raise NADInputError(f"{state} outside 0..{self.populations.shape[1] - 1}",
                                key="state")
        blocks = self.populations[None] if self.blocks is None else self.blocks
        return decay_time(self.times, blocks[:, :, state], final=final, model=model)


def run_surface_hopping(ham: VibronicHamiltonian, initial_state: int, nsteps: int,
                        method: str = "dish", nreal: int = 100, starts: np.ndarray | None = None,
                        temperature: float | None = None,
                        decoherence: np.ndarray | None = None, balance: str = "mean",
                        seed: int = 1, nblocks: int = 8,
                        decoherence_scale: float = DISH_CPA_SCALE) -> HoppingResult:
    """Run FSSH or DISH in the CPA along ``ham`` (reused cyclically) from ``initial_state``.

    nsteps: NA-MD steps of ham.dt fs; nreal: stochastic realisations per time origin; starts:
    time-origin step indices (default: 0); temperature: K, turns on detailed balance (Boltzmann
    factor on upward hops), None = off; balance: which energy difference enters the Boltzmann
    factor, ``"mean"`` (the trajectory-averaged gap, i.e. the free-energy difference of the
    states: this gives Boltzmann populations even when the gap fluctuates by several k_BT, because
    classical-path hops cluster where the instantaneous gap is small) or ``"instantaneous"``
    (PYXAID's choice); decoherence: τ_ij (fs) for DISH, default from the energy-gap dephasing
    functions of ``ham`` (:func:`nad.analysis.decoherence_times`; pass times pooled over several
    trajectories for short ones); decoherence_scale: the DISH intervals are
    decoherence_scale·τ_ij (default :data:`DISH_CPA_SCALE`, validated; 1 = the published DISH,
    see the module docstring for why it is too slow in the CPA); nblocks: independent groups
    of time origins kept apart for error estimates (:attr:`HoppingResult.blocks`).  Steps
    beyond the end of ``ham`` wrap around to its start (a stationary trajectory reused
    cyclically).
    Raises :class:`NADInputError` naming the field for bad input.
    """
    for name, value in (("nsteps", nsteps), ("nreal", nreal), ("nblocks", nblocks),
                        ("initial_state", initial_state), ("seed", seed)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise NADInputError(f"must be an integer, got {value!r}", key=name)
    if temperature is not None and (isinstance(temperature, bool)
                                    or not isinstance(temperature, numbers.Real)
                                    or not np.isfinite(temperature) or temperature <= 0):
        raise NADInputError(f"must be a positive number of K (or None), got {temperature!r}",
                            key="temperature")
    if nblocks < 1:
        raise NADInputError(f"must be positive, got {nblocks}", key="nblocks")
    if isinstance(decoherence_scale, bool) or not isinstance(decoherence_scale, numbers.Real) \
            or not np.isfinite(decoherence_scale) or decoherence_scale <= 0:
        raise NADInputError(f"must be a positive number, got {decoherence_scale!r}",
                            key="decoherence_scale")
    if method not in METHODS:
        raise NADInputError(f"method: unknown surface hopping method {method!r} "
                            f"(choose from {', '.join(METHODS)})")
    if not 0 <= initial_state < ham.nstates:
        raise NADInputError(f"initial_state: {initial_state} outside 0..{ham.nstates - 1}")
    if nsteps < 1 or nreal < 1:
        raise NADInputError("nsteps/nreal: must be positive")
    starts = np.zeros(1, dtype=np.int64) if starts is None else np.asarray(starts, np.int64)
    if starts.size == 0 or starts.min() < 0 or starts.max() >= ham.nsteps:
        raise NADInputError(f"starts: time origins must lie in 0..{ham.nsteps - 1}")
    rates = np.zeros((ham.nstates, ham.nstates))
    if method == "dish":
        tau = decoherence_times(ham.energies, ham.dt) if decoherence is None else decoherence
        tau = np.asarray(tau, dtype=float)
        if tau.shape != rates.shape:
            raise NADInputError(f"decoherence: shape {tau.shape} does not match "
                                f"{ham.nstates} states")
        off = ~np.eye(ham.nstates, dtype=bool)
        if np.isnan(tau[off]).any() or (tau[off] <= 0).any():
            raise NADInputError("decoherence: off-diagonal times must be positive fs "
                                "(inf: no decoherence)")
        tau = tau * float(decoherence_scale)
        with np.errstate(divide="ignore"):
            rates = np.where(np.isfinite(tau) & (tau > 0), 1.0 / tau, 0.0)
        np.fill_diagonal(rates, 0.0)
    kt = -1.0 if temperature is None else KB * float(temperature)
    if balance == "mean":
        balance_energies = np.broadcast_to(ham.energies.mean(axis=0), ham.energies.shape).copy()
    elif balance == "instantaneous":
        balance_energies = ham.energies
    else:
        raise NADInputError(f"balance: unknown detailed-balance energy {balance!r} "
                            "(mean, instantaneous)")
    index = np.arange(starts.size * nreal).reshape(starts.size, nreal)
    if starts.size >= nblocks:  # blocks of time origins
        block_of = (index // nreal) % nblocks
    else:  # fewer origins: blocks of realisations
        block_of = index % min(nblocks, index.size)
    blocks, se = cpa_surface_hopping(propagators(ham), balance_energies, ham.couplings, HBAR,
                                     ham.dt, starts, int(nreal), int(nsteps),
                                     int(initial_state), METHODS[method], kt, rates, int(seed),
                                     block_of.astype(np.int64))
    weights = np.bincount(block_of.ravel()).astype(float)
    sh = np.tensordot(weights / weights.sum(), blocks, axes=1)
    return HoppingResult(np.arange(nsteps + 1) * ham.dt, sh, se, method, list(ham.labels),
                         blocks)


def carrier_hamiltonian(orbitals: VibronicHamiltonian, kind: str, electron_states: list[int],
                        hole_states: list[int] | None = None) -> VibronicHamiltonian:
    """Many-state carrier Hamiltonian from one-particle orbital energies and NACs.

    kind ``"electron"``: states = orbitals ``electron_states``; ``"hole"``: orbitals
    ``hole_states`` with energies -E (a hole relaxes upward in orbital energy); ``"exciton"``:
    the ground state (energy 0) plus every excitation hole v → electron i, energy E_i - E_v,
    couplings d_ii' (electron moves), d_vv' (hole moves) and d_vi (recombination to the ground
    state).  Energies eV, couplings eV.
    """
    if kind == "electron":
        return orbitals.select(electron_states)
    if kind == "hole":
        if not hole_states:
            raise NADInputError("hole_states: needed for kind='hole'")
        sub = orbitals.select(hole_states)
        return VibronicHamiltonian(-sub.energies, sub.couplings, sub.dt, sub.labels)
    if kind != "exciton":
        raise NADInputError(f"kind: unknown carrier kind {kind!r} (electron, hole, exciton)")
    if not hole_states:
        raise NADInputError("hole_states: needed for kind='exciton'")
    pairs = [(i, v) for i in electron_states for v in hole_states]
    e, d = orbitals.energies, orbitals.couplings
    n = len(pairs) + 1
    energies = np.zeros((orbitals.nsteps, n))
    coup = np.zeros((orbitals.nsteps, n, n), dtype=complex)
    for a, (i, v) in enumerate(pairs, start=1):
        energies[:, a] = e[:, i] - e[:, v]
        coup[:, 0, a] = d[:, v, i]
        coup[:, a, 0] = d[:, i, v]
        for b, (j, w) in enumerate(pairs, start=1):
            if v == w and i != j:
                coup[:, a, b] = d[:, i, j]
            elif i == j and v != w:
                coup[:, a, b] = d[:, v, w]
    name = (lambda k: orbitals.labels[k]) if orbitals.labels else str
    labels = ["ground"] + [f"e:{name(i)} h:{name(v)}" for i, v in pairs]
    return VibronicHamiltonian(energies, coup, orbitals.dt, labels)
