"""The honeycomb tight-binding model against its Bloch Hamiltonian and its defining rules."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sl

from nad.descriptors import minimum_image
from nad.tight_binding import (
    TBParameters,
    TightBinding,
    chalcogen_vacancies,
    honeycomb,
    smooth_cutoff,
    vacancy_concentration,
)


def bloch_bands(p: TBParameters, n: int) -> np.ndarray:
    """All eigenvalues of the 2x2 Bloch Hamiltonian on the n×n Γ-centred k-grid (eV)."""
    a1 = np.array([p.a, 0.0])
    a2 = np.array([0.5 * p.a, 0.5 * np.sqrt(3) * p.a])
    deltas = [(a1 + a2) / 3, (a1 + a2) / 3 - a1, (a1 + a2) / 3 - a2]   # metal -> chalcogen
    second = [a1, a2, a2 - a1]
    recip = 2 * np.pi * np.linalg.inv(np.array([a1, a2])).T
    out = []
    for i in range(n):
        for j in range(n):
            k = (i / n) * recip[0] + (j / n) * recip[1]
            f = sum(np.exp(1j * k @ d) for d in deltas)
            s = sum(2 * np.cos(k @ r) for r in second)
            h = np.array([[p.eps_metal + p.t_mm * s, p.t_mx * f],
                          [p.t_mx * np.conj(f), p.eps_chalcogen + p.t_xx * s]])
            out.extend(np.linalg.eigvalsh(h))
    return np.sort(out)


def test_pristine_supercell_spectrum_is_the_bloch_spectrum():
    p = TBParameters()
    atoms = honeycomb(6, p.a)
    w = sl.eigh(TightBinding(atoms, p).hamiltonian(atoms.positions).toarray(), eigvals_only=True)
    assert np.allclose(w, bloch_bands(p, 6), atol=1e-10)


def test_band_edges_at_gamma_and_nondegenerate_cbm():
    p = TBParameters()
    bands = bloch_bands(p, 12)
    cb = bands[144:]
    assert cb[1] - cb[0] > 0.05                       # a single Γ state at the CB bottom
    assert cb[0] - bands[143] > 2.0                   # a wide gap


def test_vacancy_lowers_its_metal_neighbours_and_binds_a_trap():
    p = TBParameters()
    atoms, sites = chalcogen_vacancies(honeycomb(8, p.a), 1, rng=1)
    tb = TightBinding(atoms, p)
    eps = tb.onsite(atoms.positions)
    near = np.linalg.norm(minimum_image(atoms.positions - sites[0], np.array(atoms.cell),
                                        atoms.pbc), axis=1) < p.d0 + 0.1
    assert near.sum() == 3
    assert np.allclose(eps[near], p.eps_metal - p.u_metal)
    assert np.allclose(eps[~near & tb.is_metal], p.eps_metal)
    w, v = sl.eigh(tb.hamiltonian(atoms.positions).toarray())
    pristine_cbm = bloch_bands(p, 8)[64]
    trap = np.nonzero(w < pristine_cbm - 0.02)[0][-1]
    assert w[trap] > bloch_bands(p, 8)[63]            # inside the gap
    assert np.sum(v[near, trap] ** 2) > 0.1            # localised on the vacancy's metals


def test_hopping_is_smooth_at_the_cutoff():
    r = np.linspace(1.0, 6.0, 2001)
    f, df = smooth_cutoff(r, 2.0, 3.0)
    assert f[0] == 1.0 and f[-1] == 0.0
    assert np.allclose(np.gradient(f, r), df, atol=1e-3)
    assert np.all(np.abs(np.diff(df)) < 0.02)          # continuous derivative (C¹ or better)


def test_vacancies_spread_out_and_concentration():
    atoms, sites = chalcogen_vacancies(honeycomb(12), 4, rng=2, min_separation=9.0)
    assert len(atoms) == 2 * 144 - 4
    assert vacancy_concentration(atoms, 12) == pytest.approx(4 / 144)
    with pytest.raises(ValueError, match="count"):
        chalcogen_vacancies(honeycomb(4), 20)
