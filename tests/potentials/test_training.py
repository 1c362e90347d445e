"""Training loop on a tiny Tersoff-labelled dataset: loss goes down, checkpoints resume exactly,
``mts train`` runs, and bad configs give clear errors."""
from __future__ import annotations

import json

import pytest
import torch
from ase.build import bulk
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write

from potentials import DatasetError, load_model, train


def tersoff():
    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C, TersoffBrenner)

    return Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """Ten rattled 8-atom Si cells labelled by Tersoff (energy, forces, stress) in an extxyz file."""
    path = tmp_path_factory.mktemp("data") / "tiny.extxyz"
    teacher = tersoff()
    frames = []
    for seed in range(10):
        atoms = bulk("Si", "diamond", a=5.432, cubic=True)
        atoms.rattle(0.08, seed=seed)
        atoms.calc = teacher
        labels = dict(energy=atoms.get_potential_energy(), forces=atoms.get_forces(),
                      stress=atoms.get_stress())
        atoms.calc = SinglePointCalculator(atoms, **labels)
        frames.append(atoms)
    write(path, frames)
    return path


def tiny_config(dataset, output, epochs, **training):
    return {
        "model": {"species": ["Si"], "cutoff": 3.5, "channels": 4, "num_layers": 1,
                  "radial_hidden": 8, "update_hidden": 8, "dtype": "float64"},
        "datasets": [{"name": "tiny", "path": str(dataset), "labels": ["energy", "forces", "stress"],
                      "validation_fraction": 0.2}],
        "training": {"epochs": epochs, "batch_atoms": 16, "learning_rate": 2e-2, "ema_decay": 0.5,
                     "stress_weight": 10.0, "output": str(output), "progress": False, **training},
    }


def test_training_reduces_loss_and_writes_files(tiny_dataset, tmp_path):
    model = train(tiny_config(tiny_dataset, tmp_path / "m", epochs=6))
    log = [json.loads(line) for line in (tmp_path / "m.log.jsonl").read_text().splitlines()]
    assert len(log) == 6
    assert log[-1]["tiny/forces_rmse"] < 0.8 * log[0]["tiny/forces_rmse"]
    assert {"tiny/energy_rmse", "tiny/stress_rmse", "val_loss", "lr"} <= set(log[0])
    loaded = load_model(tmp_path / "m")
    assert loaded.metadata["epochs_run"] == 6
    for a, b in zip(model.state_dict().values(), loaded.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_from_checkpoint_gives_identical_model(tiny_dataset, tmp_path):
    straight = train(tiny_config(tiny_dataset, tmp_path / "straight", epochs=4, schedule="plateau"))
    train(tiny_config(tiny_dataset, tmp_path / "resumed", epochs=2, schedule="plateau"))
    resumed = train(tiny_config(tiny_dataset, tmp_path / "resumed", epochs=4, schedule="plateau"))
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key
    log = (tmp_path / "resumed.log.jsonl").read_text().splitlines()
    assert [json.loads(line)["epoch"] for line in log] == [1, 2, 3, 4]


def test_lbfgs_phase_lowers_the_training_loss(tiny_dataset, tmp_path):
    """Full-batch L-BFGS after Adam (a deterministic optimiser on the same loss) must go below
    the loss Adam left, and its epochs continue the log."""
    train(tiny_config(tiny_dataset, tmp_path / "m", epochs=4, lbfgs_epochs=3, lbfgs_iterations=5))
    log = [json.loads(line) for line in (tmp_path / "m.log.jsonl").read_text().splitlines()]
    assert [row["epoch"] for row in log] == [1, 2, 3, 4, 5, 6, 7]
    assert log[-1]["train_loss"] < 0.5 * log[3]["train_loss"]
    assert load_model(tmp_path / "m").metadata["best_epoch"] > 4


def test_resume_inside_lbfgs_phase_gives_identical_model(tiny_dataset, tmp_path):
    options = {"epochs": 2, "lbfgs_iterations": 4}
    straight = train(tiny_config(tiny_dataset, tmp_path / "straight", lbfgs_epochs=3, **options))
    train(tiny_config(tiny_dataset, tmp_path / "resumed", lbfgs_epochs=1, **options))
    resumed = train(tiny_config(tiny_dataset, tmp_path / "resumed", lbfgs_epochs=3, **options))
    for key, value in straight.state_dict().items():
        assert torch.equal(value, resumed.state_dict()[key]), key


def test_early_stopping(tiny_dataset, tmp_path):
    train(tiny_config(tiny_dataset, tmp_path / "m", epochs=50, patience=2, learning_rate=1e-9,
                      min_learning_rate=1e-9))
    assert load_model(tmp_path / "m").metadata["epochs_run"] < 50


def test_config_errors(tiny_dataset, tmp_path):
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1)
    config["datasets"][0]["labels"] = ["energy", "forces", "charges"]
    with pytest.raises(DatasetError, match="unknown labels"):
        train(config)
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1, learning_rat=1.0)
    with pytest.raises(ValueError, match="unknown \\[training\\] options: learning_rat"):
        train(config)
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1, lbfgs_iterations=0)
    with pytest.raises(ValueError, match="lbfgs_iterations must be an integer >= 1, got 0"):
        train(config)
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1, fc2_shell_balance="yes")
    with pytest.raises(ValueError, match="fc2_shell_balance must be a number >= 0, got 'yes'"):
        train(config)
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1, fc2_shell_balance=30.0)
    with pytest.raises(ValueError, match="fc2_shell_balance weights the fc2 loss term"):
        train(config)
    assert not (tmp_path / "m.pt").exists()


def test_mts_train_command(tiny_dataset, tmp_path, capsys):
    from workflows.cli import main

    (tmp_path / "cfg.toml").write_text(f"""
[model]
species = ["Si"]
cutoff = 3.5
channels = 4
num_layers = 1
[[datasets]]
path = "{tiny_dataset}"
labels = ["energy", "forces"]
[training]
epochs = 1
output = "out/model"
progress = false
""")
    assert main(["train", str(tmp_path / "cfg.toml")]) == 0
    assert (tmp_path / "out" / "model.pt").is_file() and (tmp_path / "out" / "model.json").is_file()
    assert main(["train", str(tmp_path / "nothing.toml")]) == 2
    assert "mts: error:" in capsys.readouterr().err
    (tmp_path / "bad.toml").write_text("[[datasets]]\npath = 'missing.extxyz'\n[model]\nspecies=['Si']\n")
    assert main(["train", str(tmp_path / "bad.toml")]) == 2
    assert "missing.extxyz: no such dataset file" in capsys.readouterr().err
    bad = tmp_path / "bad_option.toml"
    bad.write_text((tmp_path / "cfg.toml").read_text().replace("epochs = 1", "lbfgs_epochs = -1"))
    assert main(["train", str(bad)]) == 2
    assert f"{bad}: [training] lbfgs_epochs must be an integer >= 0" in capsys.readouterr().err
