"""The harmonic force field and the Langevin driver."""
from __future__ import annotations

import numpy as np
import pytest

from nad.analysis import KB
from nad.md import HarmonicNetwork, run_md
from nad.tight_binding import chalcogen_vacancies, honeycomb


def test_forces_are_minus_the_energy_gradient():
    atoms, _ = chalcogen_vacancies(honeycomb(4), 1)
    calc = HarmonicNetwork(atoms)
    rng = np.random.default_rng(0)
    atoms.positions += rng.normal(scale=0.05, size=atoms.positions.shape)
    atoms.calc = calc
    forces = atoms.get_forces()
    h = 1e-5
    for i, c in [(0, 0), (5, 1), (11, 0)]:
        plus, minus = atoms.copy(), atoms.copy()
        plus.positions[i, c] += h
        minus.positions[i, c] -= h
        plus.calc = minus.calc = HarmonicNetwork(atoms)
        plus.calc.__dict__.update(i=calc.i, j=calc.j, shift_vectors=calc.shift_vectors,
                                  r_ref=calc.r_ref, k=calc.k)
        minus.calc.__dict__.update(i=calc.i, j=calc.j, shift_vectors=calc.shift_vectors,
                                   r_ref=calc.r_ref, k=calc.k)
        grad = (plus.get_potential_energy() - minus.get_potential_energy()) / (2 * h)
        assert forces[i, c] == pytest.approx(-grad, rel=1e-6, abs=1e-8)


def test_langevin_md_is_planar_and_thermal():
    atoms = honeycomb(6)
    traj = run_md(atoms, 400, temperature=300.0, dt=1.0, equilibration=300, seed=1)
    assert np.allclose(traj.positions[:, :, 2], atoms.positions[0, 2])
    masses = atoms.get_masses()[None, :, None] * 103.6427        # amu Å²/fs² -> eV
    kinetic = 0.5 * np.sum(masses * traj.velocities ** 2, axis=(1, 2))
    # two in-plane degrees of freedom per atom (minus the fixed centre of mass)
    temperature = kinetic.mean() / ((len(atoms) - 1) * KB)
    assert temperature == pytest.approx(300.0, rel=0.1)
