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
        Tersoff_PRB_39_5566_Si_C,
        TersoffBrenner,
    )

    return Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    """Ten rattled 8-atom Si cells labelled by Tersoff (energy, forces, stress) in an extxyz
    file."""
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
        "datasets": [{"name": "tiny", "path": str(dataset),
                      "labels": ["energy", "forces", "stress"],
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
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1, long_range_every=-1)
    with pytest.raises(ValueError, match="long_range_every must be an integer >= 0, got -1"):
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
    (tmp_path / "bad.toml").write_text(
        "[[datasets]]\npath = 'missing.extxyz'\n[model]\nspecies=['Si']\n")
    assert main(["train", str(tmp_path / "bad.toml")]) == 2
    assert "missing.extxyz: no such dataset file" in capsys.readouterr().err
    bad = tmp_path / "bad_option.toml"
    bad.write_text((tmp_path / "cfg.toml").read_text().replace("epochs = 1", "lbfgs_epochs = -1"))
    assert main(["train", str(bad)]) == 2
    assert f"{bad}: [training] lbfgs_epochs must be an integer >= 0" in capsys.readouterr().err


def test_long_range_fit_is_the_least_squares_minimum(tiny_dataset):
    """LongRangeFit lands on the minimum of the training loss over the long-range weights: the
    weights of an independent weighted least-squares solve whose columns are difference
    quotients of the model outputs (exact, the outputs being linear in these weights)."""
    import copy

    import numpy as np

    from potentials.datasets import read_dataset
    from potentials.model import EquivariantPotential, ModelConfig
    from potentials.training import (
        TRAINING_DEFAULTS,
        LongRangeFit,
        collate_labelled,
        full_batch_loss,
        labelled_graph,
    )

    torch.manual_seed(3)
    config = ModelConfig(species=["Si"], cutoff=3.0, channels=4, num_layers=1, radial_hidden=8,
                         update_hidden=8, energy_shifts=[-4.6], long_range_cutoff=5.0,
                         long_range_basis=3, long_range_l_max=2)
    model = EquivariantPotential(config).double()
    samples = read_dataset(tiny_dataset, labels=("energy", "forces", "stress"))
    batch = collate_labelled([labelled_graph(s, config, 1.0) for s in samples], torch.float64)
    weights = {"energy_weight": 1.0, "forces_weight": 100.0, "stress_weight": 10.0}
    options = {**TRAINING_DEFAULTS, **weights}

    def rows(m):   # energy per atom, force and stress components: residuals and label weights
        out = m(batch.graph, forces=True, stress=True)
        n = len(samples)
        parts = [((out["energy"] - batch.energy) / batch.num_atoms, weights["energy_weight"] / n),
                 ((out["forces"] - batch.forces).reshape(-1),
                  weights["forces_weight"] / (3 * len(batch.forces))),
                 ((out["stress"] - batch.stress).reshape(-1), weights["stress_weight"] / (9 * n))]
        return [(r.detach().numpy(), np.sqrt(w)) for r, w in parts]

    probe = copy.deepcopy(model)
    with torch.no_grad():
        probe.long_range.weights.zero_()
    base = np.concatenate([w * r for r, w in rows(probe)])
    columns = []
    for k in range(probe.long_range.weights.numel()):
        with torch.no_grad():
            probe.long_range.weights.zero_()
            probe.long_range.weights.view(-1)[k] = 1.0
        columns.append(np.concatenate([w * r for r, w in rows(probe)]) - base)
    expected = np.linalg.lstsq(np.array(columns).T, -base, rcond=None)[0]

    loss_before = float(full_batch_loss(model, [batch], options, stress=True))
    items = [labelled_graph(s, config, 1.0) for s in samples]
    LongRangeFit(model, [batch], options, stress=True, items=items)(model)
    fitted = model.long_range.weights.detach().reshape(-1).numpy()
    loss_after = float(full_batch_loss(model, [batch], options, stress=True))
    minimum = float(np.sum((base + np.array(columns).T @ expected) ** 2))
    assert loss_after < 0.5 * loss_before
    assert loss_after == pytest.approx(minimum, rel=1e-8)
    # the same weights up to the few flat directions of a small, nearly collinear basis, which
    # the fit's damping (1e-9 of the diagonal) leaves slightly shorter
    np.testing.assert_allclose(fitted, expected, rtol=1e-3, atol=1e-4 * np.abs(expected).max())


def test_training_fits_the_long_range_term(tiny_dataset, tmp_path):
    """With a long-range term the weights are solved for after every epoch: the saved model
    carries them, and the same epochs end far below the model without it."""
    results = {}
    for long_range in (0.0, 5.0):
        config = tiny_config(tiny_dataset, tmp_path / f"m{int(long_range)}", epochs=3,
                             long_range_every=1)
        config["model"].update(long_range_cutoff=long_range, long_range_basis=4)
        train(config)
        log = [json.loads(line) for line in
               (tmp_path / f"m{int(long_range)}.log.jsonl").read_text().splitlines()]
        results[long_range] = log[-1]["tiny/forces_rmse"]
    model = load_model(tmp_path / "m5")
    assert model.config.long_range_cutoff == 5.0
    assert float(model.long_range.weights.detach().abs().max()) > 0
    assert results[5.0] < 0.2 * results[0.0]


def test_bulk_modulus_section_holds_the_model_to_its_target(tiny_dataset, tmp_path):
    """[bulk_modulus] makes the long-range fit hold B: the trained model's B, measured here by
    a polynomial fit of its ASE-calculator energies over ±0.8 % strains (not the module's
    central difference), is the target, and B is logged per epoch."""
    import numpy as np
    from ase.units import GPa

    from potentials import MLCalculator

    crystal = bulk("Si", "diamond", a=5.432)
    write(tmp_path / "si.vasp", crystal, format="vasp")
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=2, long_range_every=1)
    config["model"].update(long_range_cutoff=5.0, long_range_basis=4)
    config["bulk_modulus"] = {"structure": str(tmp_path / "si.vasp"), "target": 60.0,
                              "weight": 1e4}
    model = train(config)
    log = [json.loads(line) for line in (tmp_path / "m.log.jsonl").read_text().splitlines()]
    assert [row["bulk_modulus"] for row in log] == pytest.approx([60.0, 60.0], rel=1e-3)

    calc = MLCalculator(model, device="cpu")
    strains = np.linspace(-0.008, 0.008, 9)
    energies = []
    for strain in strains:
        atoms = crystal.copy()
        atoms.set_cell(crystal.cell * (1 + strain), scale_atoms=True)
        atoms.calc = calc
        energies.append(atoms.get_potential_energy())
    curvature = 2 * np.polyfit(strains, energies, 4)[2]
    assert curvature / (9 * crystal.get_volume()) / GPa == pytest.approx(60.0, rel=1e-3)


def test_bulk_modulus_section_errors(tiny_dataset, tmp_path):
    write(tmp_path / "si.vasp", bulk("Si", "diamond", a=5.432), format="vasp")
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1)
    config["bulk_modulus"] = {"structure": str(tmp_path / "si.vasp"), "target": 60.0}
    with pytest.raises(ValueError, match="held by the long-range weights"):
        train(config)
    config["model"].update(long_range_cutoff=5.0, long_range_basis=4)
    config["bulk_modulus"] = {"structure": str(tmp_path / "si.vasp"), "target": -1.0}
    with pytest.raises(ValueError, match="target and weight must be numbers > 0, got -1.0"):
        train(config)
    config["bulk_modulus"] = {"structure": str(tmp_path / "si.vasp")}
    with pytest.raises(ValueError, match="needs 'target'"):
        train(config)
    config["bulk_modulus"] = {"structure": str(tmp_path / "nope.vasp"), "target": 60.0}
    with pytest.raises(ValueError, match="structure: cannot read .*nope.vasp"):
        train(config)
    assert not (tmp_path / "m.pt").exists()


def test_config_file_errors_name_the_file_and_key(tiny_dataset, tmp_path):
    """Bad settings of a TOML config are input errors naming the file and the dotted key."""
    from mtscore import InputError

    base = f'[model]\nspecies = ["Si"]\n[[datasets]]\npath = "{tiny_dataset}"\n'
    cases = {"training.learning_rate": "[training]\nlearning_rate = -1.0\n",
             "training.schedule": "[training]\nschedule = 'linear'\n",
             "training.epochs": "[training]\nepochs = 2.5\n",
             "model.dtype": "",
             "trainnig": "[trainnig]\nepochs = 1\n"}
    for key, text in cases.items():
        path = tmp_path / f"{key}.toml"
        body = base.replace("[model]\n", '[model]\ndtype = "float16"\n') if key == "model.dtype" \
            else base
        path.write_text(body + text)
        with pytest.raises(InputError) as caught:
            train(path)
        assert (caught.value.file, caught.value.key) == (str(path), key), str(caught.value)
    broken = tmp_path / "broken.toml"
    broken.write_text("[training\n")
    with pytest.raises(InputError, match="invalid TOML") as caught:
        train(broken)
    assert caught.value.file == str(broken)


def test_unknown_species_names_the_dataset_file(tiny_dataset, tmp_path):
    config = tiny_config(tiny_dataset, tmp_path / "m", epochs=1)
    config["model"]["species"] = ["C"]
    with pytest.raises(DatasetError) as caught:
        train(config)
    assert caught.value.file == str(tiny_dataset)
    assert "structure 0 has species Si" in str(caught.value) and "species = C" in str(caught.value)


def test_checkpoint_holding_code_is_refused(tiny_dataset, tmp_path):
    """A checkpoint that pickles a callable is refused (never executed) when resuming."""
    import os

    from potentials.model_files import ModelFileError

    torch.save({"payload": os.system}, tmp_path / "m.ckpt")
    with pytest.raises(ModelFileError, match="holds code"):
        train(tiny_config(tiny_dataset, tmp_path / "m", epochs=1))


def test_dataset_and_phonons_entries_name_the_file_and_key(tiny_dataset, tmp_path):
    """Bad [[datasets]] and [phonons] entries of a TOML config name the file and the key."""
    from mtscore import InputError

    base = f'[model]\nspecies = ["Si"]\n[[datasets]]\npath = "{tiny_dataset}"\n'
    cases = {"datasets[0].weight": base + "weight = -1.0\n",
             "datasets[0].format": base + "format = 'cif'\n",
             "datasets[0].labels": base + "labels = 'forces'\n",
             "datasets[0].wieght": base + "wieght = 2.0\n",
             "datasets[1].path": base + "[[datasets]]\nname = 'other'\n",
             "phonons.mesh": base + "[phonons]\nphono3py_yaml = 'p.yaml'\nreference = 'r.xyz'\n"
                                    "mesh = [11, 11]\n"}
    for key, text in cases.items():
        path = tmp_path / "cfg.toml"
        path.write_text(text)
        with pytest.raises(InputError) as caught:
            train(path)
        assert (caught.value.file, caught.value.key) == (str(path), key), str(caught.value)
