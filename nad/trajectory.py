"""Electronic structure along a trajectory: eigenstates near the gap, phases, tracking, NACs.

Units: energy eV, time fs, NACs 1/fs.  NACs come from wavefunction overlaps of consecutive
frames, d_ij(t + dt/2) = (⟨i(t)|j(t+dt)⟩ - ⟨j(t)|i(t+dt)⟩) / (2 dt), after the phase of every
state has been aligned with its predecessor and (optionally) states have been reordered to
follow their character through crossings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.linalg as sl
import scipy.sparse as sp
import scipy.sparse.linalg as spl
from scipy.optimize import linear_sum_assignment
from threadpoolctl import threadpool_limits

from .hopping import VibronicHamiltonian

#: Matrices up to this size are diagonalised densely; larger ones by sparse shift-invert.
DENSE_LIMIT = 400


def eigenstates_near(hamiltonian: sp.spmatrix | np.ndarray, sigma: float, k: int
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` eigenpairs with energies closest to ``sigma`` (eV), sorted by energy.

    Dense LAPACK for small matrices, ARPACK shift-invert (sparse LU) for large ones.  Returns
    (energies (k,), vectors (n, k)).
    """
    n = hamiltonian.shape[0]
    if not 0 < k < n:
        raise ValueError(f"k: need 0 < k < {n} states, got {k}")
    if n <= DENSE_LIMIT:
        dense = hamiltonian.toarray() if sp.issparse(hamiltonian) else np.asarray(hamiltonian)
        w, v = sl.eigh(dense)
        pick = np.sort(np.argsort(np.abs(w - sigma), kind="stable")[:k])
        return w[pick], v[:, pick]
    h = sp.csc_matrix(hamiltonian)
    lu = spl.splu(h - sigma * sp.identity(n, format="csc"), permc_spec="MMD_AT_PLUS_A")
    inverse = spl.LinearOperator((n, n), matvec=lu.solve, dtype=float)
    w, v = spl.eigsh(h, k=k, sigma=sigma, which="LM", OPinv=inverse, tol=1e-12)
    order = np.argsort(w)
    return w[order], v[:, order]


def align(previous: np.ndarray, current: np.ndarray, track: bool = True
          ) -> tuple[np.ndarray, np.ndarray]:
    """Reorder (if ``track``) and re-phase ``current`` states (n, k) to follow ``previous``.

    Tracking assigns each previous state the current one of largest |overlap| (Hungarian
    algorithm); phase fixing makes every ⟨i(t)|i(t+dt)⟩ positive.  Returns (states, order).
    """
    overlap = previous.T @ current
    order = np.arange(current.shape[1])
    if track:
        _, order = linear_sum_assignment(-np.abs(overlap))
    current = current[:, order]
    signs = np.sign(np.einsum("ij,ij->j", previous, current))
    signs[signs == 0] = 1.0
    return current * signs, order


def overlap_nac(previous: np.ndarray, current: np.ndarray, dt: float) -> np.ndarray:
    """NAC matrix d_ij (1/fs) at the midpoint of two phase-aligned sets of states ``dt`` fs
    apart."""
    s = previous.T @ current
    return (s - s.T) / (2.0 * dt)


@dataclass
class ElectronicTrajectory:
    """States along a trajectory: ``energies`` (nframes, k) eV, ``nac`` (nframes - 1, k, k) 1/fs
    on each interval, ``ipr`` (nframes, k) inverse participation ratios Σ|ψ|⁴, ``site_weight``
    (nframes, k, ngroups) the weight of each state on the given site groups, dt in fs."""

    energies: np.ndarray
    nac: np.ndarray
    ipr: np.ndarray
    site_weight: np.ndarray
    dt: float

    def vibronic(self, states: list[int] | np.ndarray | None = None,
                 labels: list[str] | None = None) -> VibronicHamiltonian:
        """Vibronic Hamiltonian of the chosen states: midpoint energies and the overlap NACs."""
        s = np.arange(self.energies.shape[1]) if states is None else np.asarray(states, int)
        mid = 0.5 * (self.energies[1:] + self.energies[:-1])
        return VibronicHamiltonian.from_nac(mid[:, s], self.nac[:, s][:, :, s], self.dt, labels)


def electronic_trajectory(hamiltonian_of: Callable[[np.ndarray], sp.spmatrix],
                          positions: np.ndarray, dt: float, sigma: float, k: int,
                          track: bool = True, site_groups: list[np.ndarray] | None = None,
                          phase_reference: np.ndarray | None = None) -> ElectronicTrajectory:
    """Diagonalise ``hamiltonian_of(R)`` at every frame and build energies and overlap NACs.

    positions: (nframes, natoms, 3) Å; dt: fs between frames; sigma, k: the k states nearest
    sigma (eV) are kept (the window should hold every state of interest with a margin, since a
    state leaving the window cannot be followed).  site_groups: index arrays of sites whose
    weight per state is recorded.  phase_reference: (natoms, k) vectors fixing the sign of the
    first frame's states (⟨ref_j|ψ_j⟩ > 0), so that NAC signs agree between trajectories; later
    frames follow by continuity.
    """
    groups = site_groups or []
    nframes = positions.shape[0]
    energies = np.empty((nframes, k))
    ipr = np.empty((nframes, k))
    weight = np.empty((nframes, k, len(groups)))
    nac = np.empty((nframes - 1, k, k))
    previous = None
    for f in range(nframes):
        with threadpool_limits(limits=1, user_api="blas"):  # small dense solves: threads only hurt
            w, v = eigenstates_near(hamiltonian_of(positions[f]), sigma, k)
        if previous is not None:
            v, order = align(previous, v, track)
            w = w[order]
            nac[f - 1] = overlap_nac(previous, v, dt)
        elif phase_reference is not None:
            signs = np.sign(np.einsum("ij,ij->j", phase_reference, v))
            v = v * np.where(signs == 0, 1.0, signs)
        energies[f] = w
        ipr[f] = np.sum(v ** 4, axis=0)
        for g, sites in enumerate(groups):
            weight[f, :, g] = np.sum(v[sites] ** 2, axis=0)
        previous = v
    return ElectronicTrajectory(energies, nac, ipr, weight, dt)
