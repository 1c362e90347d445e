"""Overlap NACs of the tight-binding model against ⟨i|∂H/∂R·v|j⟩/(E_j - E_i) by finite
differences."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from nad.md import run_md
from nad.tight_binding import TightBinding, chalcogen_vacancies, honeycomb
from nad.trajectory import align, eigenstates_near, electronic_trajectory, overlap_nac


@pytest.fixture(scope="module")
def thermal_cell():
    atoms, _ = chalcogen_vacancies(honeycomb(6), 1, rng=3)
    traj = run_md(atoms, 2, temperature=300.0, dt=1.0, equilibration=200, seed=4)
    return atoms, traj


def test_overlap_nac_equals_hellmann_feynman_expression(thermal_cell):
    atoms, traj = thermal_cell
    tb = TightBinding(atoms)
    r0, v = traj.positions[0], traj.velocities[0]        # Å, Å/fs
    dt = 0.25
    k = 12
    sigma = 1.0                                           # inside the gap, near the trap
    _, psi0 = eigenstates_near(tb.hamiltonian(r0), sigma, k)
    _, psi1 = eigenstates_near(tb.hamiltonian(r0 + v * dt), sigma, k)
    psi1, _ = align(psi0, psi1, track=False)
    d_overlap = overlap_nac(psi0, psi1, dt)
    assert np.allclose(d_overlap, -d_overlap.T)
    # reference at the midpoint: dH/dt = (H(R + v h) - H(R - v h)) / 2h, dense eigenpairs
    mid = r0 + 0.5 * dt * v
    h = 1e-4
    hdot = (tb.hamiltonian(mid + v * h) - tb.hamiltonian(mid - v * h)).toarray() / (2 * h)
    w, psi = sl.eigh(tb.hamiltonian(mid).toarray())
    pick = np.sort(np.argsort(np.abs(w - sigma))[:k])
    w, psi = w[pick], psi[:, pick]
    psi *= np.sign(np.einsum("ij,ij->j", psi, psi0))      # same phases as the overlap states
    numerator = psi.T @ hdot @ psi
    gap = w[None, :] - w[:, None]
    spacing = np.abs(gap) + np.eye(k)
    isolated = spacing.min(axis=1) > 0.01                 # away from (near-)crossings
    checked = 0
    for i in range(k):
        for j in range(k):
            if i == j or not (isolated[i] and isolated[j]):
                continue
            ref = numerator[i, j] / gap[i, j]
            if abs(ref) < 1e-3 * np.abs(d_overlap).max():
                continue
            assert d_overlap[i, j] == pytest.approx(ref, rel=0.02), (i, j, w[i], w[j])
            checked += 1
    assert checked >= 10


def test_electronic_trajectory_nacs_are_antisymmetric_and_phase_continuous(thermal_cell):
    atoms, _ = thermal_cell
    traj = run_md(atoms, 20, temperature=300.0, dt=1.0, equilibration=50, seed=9)
    tb = TightBinding(atoms)
    et = electronic_trajectory(tb.hamiltonian, traj.positions, traj.dt, sigma=1.0, k=6)
    assert et.energies.shape == (20, 6) and et.nac.shape == (19, 6, 6)
    assert np.allclose(et.nac, -np.transpose(et.nac, (0, 2, 1)))
    assert np.all(np.diff(et.energies, axis=1) > -0.05)     # tracked states stay near order
    ham = et.vibronic()
    assert ham.nstates == 6 and ham.nsteps == 19


def test_eigenstates_near_sparse_agrees_with_dense():
    atoms, _ = chalcogen_vacancies(honeycomb(16), 1, rng=0)   # 511 sites: sparse path
    tb = TightBinding(atoms)
    hmat = tb.hamiltonian(atoms.positions)
    w_sparse, v_sparse = eigenstates_near(hmat, 0.8, 2)        # the trap and the CBM
    w_all = sl.eigh(hmat.toarray(), eigvals_only=True)
    assert np.allclose(w_sparse, np.sort(w_all[np.argsort(np.abs(w_all - 0.8))[:2]]), atol=1e-9)
    assert np.allclose(v_sparse.T @ v_sparse, np.eye(2), atol=1e-8)
    assert np.allclose(hmat @ v_sparse, v_sparse * w_sparse, atol=1e-8)
