"""Shared fixtures of the potentials tests: small random models and structures (float64)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.build import bulk

from potentials.model import EquivariantPotential, ModelConfig

# two shared cores: one torch thread avoids spin-waiting against other jobs (and keeps tests fast)
torch.set_num_threads(1)

A_SI = 5.43356  # Å, PBEsol lattice constant of the DFT data


@pytest.fixture(scope="session", params=[2, 4], ids=lambda l: f"l_max={l}")
def random_model(request) -> EquivariantPotential:
    """A small untrained two-species model in float64 (weights from a fixed seed), with angular
    features up to l = 2 (the default) and l = 4, and a long-range term (pairs to 5.5 Å, three-body
    terms to 4.8 Å) whose weights are random too (training would start them at zero)."""
    torch.manual_seed(1)
    config = ModelConfig(species=["Si", "C"], cutoff=4.0, channels=8, l_max=request.param,
                         num_layers=2, radial_hidden=16, update_hidden=16,
                         energy_shifts=[-5.0, -7.0], energy_scales=[0.5, 0.7],
                         long_range_cutoff=5.5, three_body_cutoff=4.8, long_range_basis=4,
                         long_range_l_max=3)
    model = EquivariantPotential(config).to(torch.float64).eval()
    with torch.no_grad():
        model.long_range.weights.normal_(std=1e-3)
    return model


@pytest.fixture()
def mixed_crystal() -> Atoms:
    """A rattled, sheared 8-atom Si/C cell (triclinic, periodic)."""
    atoms = bulk("Si", "diamond", a=4.9, cubic=True)
    atoms.symbols[[1, 4]] = "C"
    atoms.set_cell(atoms.cell.array @ np.array([[1.0, 0.03, -0.02], [0.01, 0.98, 0.04],
                                                [0.0, -0.03, 1.02]]), scale_atoms=True)
    atoms.rattle(0.08, seed=3)
    return atoms


def make_si_supercell(repeat: int = 2, rattle: float = 0.0, seed: int = 0) -> Atoms:
    """Conventional diamond Si (a = 5.43356 Å) repeated ``repeat`` times, optionally rattled (Å)."""
    atoms = bulk("Si", "diamond", a=A_SI, cubic=True).repeat(repeat)
    if rattle:
        atoms.rattle(rattle, seed=seed)
    return atoms


@pytest.fixture()
def si_supercell():
    """The factory :func:`make_si_supercell`."""
    return make_si_supercell
