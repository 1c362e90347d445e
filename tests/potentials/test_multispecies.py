"""Multi-species training from forces-only DFT data: a tiny model trained for two epochs on a
few supercells of the repository's AlN-LDA set (tests/data/aln-lda, phono3py's example) predicts
the held-out DFT forces better than the zero model, and tells Al from N."""
from __future__ import annotations

import json

import numpy as np
import torch
from test_dft_formats import ALN

from potentials import load_model, train
from potentials.calculator import MLCalculator
from potentials.datasets import read_dataset, split_indices, write_extxyz


def test_tiny_aln_model_learns_forces_of_both_species(tmp_path):
    samples = read_dataset(ALN / "phono3py_disp.yaml", ["forces"])[::100]     # 13 supercells
    write_extxyz(samples, tmp_path / "aln.extxyz")
    config = {
        "model": {"species": ["Al", "N"], "cutoff": 3.5, "channels": 4, "l_max": 1,
                  "num_layers": 1, "radial_hidden": 8, "update_hidden": 8,
                  "long_range_cutoff": 4.5, "three_body_cutoff": 4.0, "long_range_basis": 4,
                  "long_range_l_max": 1, "dtype": "float64"},
        "datasets": [{"name": "aln", "path": str(tmp_path / "aln.extxyz"), "labels": ["forces"],
                      "validation_fraction": 0.25}],
        "training": {"epochs": 2, "batch_atoms": 144, "learning_rate": 1e-2, "ema_decay": 0.5,
                     "long_range_every": 1, "output": str(tmp_path / "m"), "progress": False,
                     "threads": 1},
    }
    train(config)
    log = [json.loads(line) for line in (tmp_path / "m.log.jsonl").read_text().splitlines()]
    assert "aln/energy_rmse" not in log[-1]          # forces-only: no energy metric, no NaN
    assert np.isfinite(log[-1]["val_loss"])
    # the held-out supercells, as the training split chose them (seed 0)
    _, held_out = split_indices(len(samples), 0.25, seed=0)
    reference = np.concatenate([samples[i].forces for i in held_out])
    zero_rmse = 1000.0 * np.sqrt(np.mean(reference ** 2))                 # meV/Å
    assert log[-1]["aln/forces_rmse"] < 0.1 * zero_rmse                # 1.8 vs 68.8 meV/Å
    # both species enter: swapping Al and N changes the forces
    model = load_model(tmp_path / "m")
    assert model.config.species == ["Al", "N"]
    calculator = MLCalculator(model, device="cpu", dtype=torch.float64)
    atoms = samples[held_out[0]].atoms.copy()
    swapped = atoms.copy()
    swapped.symbols = ["N" if s == "Al" else "Al" for s in atoms.get_chemical_symbols()]
    forces, forces_swapped = (r["forces"] for r in calculator.evaluate_batch([atoms, swapped]))
    assert np.abs(forces - forces_swapped).max() > 1e-3
