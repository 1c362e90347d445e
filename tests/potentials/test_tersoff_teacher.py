"""The shipped architecture learns a known potential, strain response included: trained on
Tersoff (matscipy, Tersoff_PRB_39_5566_Si_C) MD snapshots at 300-1200 K in cells strained by up
to ±2 %, it reproduces the teacher's forces on unseen strained structures (RMSE <= 20 meV/Å)."""
from __future__ import annotations

import tomllib

import numpy as np
import pytest
from ase import units
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution
from potentials_refdata import DATA

from potentials import MLCalculator, train

A_TERSOFF = 5.432  # Å


def teacher():
    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C,
        TersoffBrenner,
    )

    return Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))


def md_snapshots(seed: int, strains: int, temperatures, per_run: int):
    """Snapshots (labelled by Tersoff) of Langevin MD in randomly strained 8-atom cells."""
    rng = np.random.default_rng(seed)
    calc = teacher()
    frames = []
    for _ in range(strains):
        strain = rng.uniform(-0.02, 0.02, size=(3, 3))
        strain = 0.5 * (strain + strain.T)
        for temperature in temperatures:
            atoms = bulk("Si", "diamond", a=A_TERSOFF, cubic=True)
            atoms.set_cell(atoms.cell.array @ (np.eye(3) + strain), scale_atoms=True)
            atoms.calc = calc
            MaxwellBoltzmannDistribution(atoms, temperature_K=2 * temperature,
                                         rng=np.random.default_rng(rng.integers(1 << 31)))
            dynamics = Langevin(atoms, 2.0 * units.fs, temperature_K=temperature, friction=0.05,
                                rng=np.random.default_rng(rng.integers(1 << 31)))
            dynamics.run(20)
            for _ in range(per_run):
                dynamics.run(10)
                snapshot = atoms.copy()
                snapshot.calc = SinglePointCalculator(
                    snapshot, energy=atoms.get_potential_energy(), forces=atoms.get_forces(),
                    stress=atoms.get_stress())
                frames.append(snapshot)
    return frames


@pytest.mark.slow
def test_learns_tersoff_forces_on_unseen_strained_cells(tmp_path):
    temperatures = (300, 600, 900, 1200)
    write(tmp_path / "train.extxyz",
          md_snapshots(0, strains=10, temperatures=temperatures, per_run=6))
    unseen = md_snapshots(1, strains=4, temperatures=temperatures, per_run=3)
    model_section = tomllib.loads((DATA / "si_train.toml").read_text())["model"]
    model_section["dtype"] = "float32"    # the shipped architecture, in float32 for speed
    config = {
        "model": model_section,
        "datasets": [{"name": "tersoff", "path": str(tmp_path / "train.extxyz"),
                      "labels": ["energy", "forces", "stress"], "validation_fraction": 0.1}],
        "training": {"epochs": 80, "batch_atoms": 32, "learning_rate": 5e-3,
                     "min_learning_rate": 1e-4, "stress_weight": 100.0, "ema_decay": 0.95,
                     "output": str(tmp_path / "tersoff_model"), "progress": False},
    }
    model = train(config)
    results = MLCalculator(model, device="cpu").evaluate_batch(unseen)
    errors = np.concatenate([r["forces"] - a.get_forces() for r, a in zip(results, unseen)])
    scale = np.sqrt(np.mean(np.concatenate([a.get_forces() for a in unseen]) ** 2))
    rmse = float(np.sqrt(np.mean(errors ** 2)))
    print(f"Tersoff teacher: force RMSE {1000 * rmse:.1f} meV/Å on unseen strained cells "
          f"(force scale {1000 * scale:.0f} meV/Å)")
    assert rmse <= 20e-3
