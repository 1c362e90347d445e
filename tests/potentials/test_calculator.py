"""ASE calculator, batched evaluation, model files and the errors users see."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.calculators.calculator import PropertyNotImplementedError

import potentials
from potentials import MLCalculator, StructureError, load_model, save_model


def test_ase_calculator_matches_batch(random_model, mixed_crystal):
    calc = MLCalculator(random_model, device="cpu")
    structures = []
    for seed in range(3):
        atoms = mixed_crystal.copy()
        atoms.rattle(0.02, seed=seed)
        structures.append(atoms)
    structures.append(Atoms("SiC", positions=[[0, 0, 0], [1.8, 0.1, 0.2]]))  # molecule, no stress
    batch = calc.evaluate_batch(structures)
    for atoms, result in zip(structures, batch):
        atoms.calc = calc
        assert atoms.get_potential_energy() == pytest.approx(result["energy"], abs=1e-10)
        np.testing.assert_allclose(atoms.get_forces(), result["forces"], atol=1e-10)
        if atoms.pbc.all():
            assert atoms.get_stress().shape == (6,)
            np.testing.assert_allclose(atoms.get_stress(), result["stress"], atol=1e-12)
        else:
            assert "stress" not in result
            with pytest.raises(PropertyNotImplementedError):
                atoms.get_stress()


def test_unknown_species_error(random_model):
    atoms = Atoms("SiGe", positions=[[0, 0, 0], [2.3, 0, 0]])
    with pytest.raises(StructureError,
                       match=r"species Ge not known to this model \(it knows Si, C\)"):
        MLCalculator(random_model, device="cpu").evaluate_batch([atoms])


def test_periodic_structure_without_cell_error(random_model):
    atoms = Atoms("Si2", positions=[[0, 0, 0], [2.3, 0, 0]], pbc=True)
    atoms.calc = MLCalculator(random_model, device="cpu")
    with pytest.raises(StructureError, match="periodic .* but has no valid cell"):
        atoms.get_potential_energy()


def test_model_file_roundtrip(tmp_path, random_model, mixed_crystal):
    path = save_model(random_model, tmp_path / "m", metadata={"note": "test"})
    assert path.suffix == ".pt" and path.with_suffix(".json").is_file()
    assert json.loads(path.with_suffix(".json").read_text())["model"]["species"] == ["Si", "C"]
    loaded = load_model(tmp_path / "m")
    assert loaded.metadata == {"note": "test"}
    a = MLCalculator(random_model, device="cpu").evaluate_batch([mixed_crystal])[0]
    b = MLCalculator(loaded, device="cpu").evaluate_batch([mixed_crystal])[0]
    np.testing.assert_array_equal(a["forces"], b["forces"])
    # the weights file is a plain state dict: it loads with weights_only=True
    state = torch.load(path, weights_only=True)
    assert all(isinstance(v, torch.Tensor) for v in state.values())


def test_model_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a shipped model"):
        load_model(tmp_path / "missing")
    torch.save({}, tmp_path / "lonely.pt")
    with pytest.raises(FileNotFoundError, match="model config .*lonely.json missing"):
        load_model(tmp_path / "lonely.pt")


def test_shipped_model_entry_points(si_supercell):
    calc = potentials.pretrained_calculator("si")
    atoms = si_supercell(1, rattle=0.03, seed=1)
    atoms.calc = calc
    energy = atoms.get_potential_energy()
    batch = potentials.evaluate_batch([atoms])  # None = the shipped model
    assert batch[0]["energy"] == pytest.approx(energy, abs=1e-10)
    assert set(batch[0]) == {"energy", "forces", "stress"}
    assert hasattr(calc, "evaluate_batch")
    assert calc.implemented_properties[:1] == ["energy"]
    # the perfect crystal: forces vanish by symmetry, energy ~ -5.74 eV/atom (PBEsol)
    perfect = si_supercell(1)
    result = potentials.evaluate_batch([perfect], calc)[0]
    assert np.abs(result["forces"]).max() < 1e-10
    assert result["energy"] / len(perfect) == pytest.approx(-367.51359876 / 64, abs=0.01)


def test_model_file_with_code_is_refused(tmp_path, random_model):
    """A .pt file that pickles a callable (here os.system) is refused as holding code, with an
    input error naming the file, and without torch's advice to load it with
    weights_only=False (which would run the code)."""
    import os

    from mtscore import InputError
    from potentials.model_files import ModelFileError

    path = save_model(random_model, tmp_path / "m")
    state = torch.load(path, weights_only=True)
    torch.save({**state, "payload": os.system}, path)
    with pytest.raises(ModelFileError) as caught:
        load_model(path)
    error = caught.value
    assert isinstance(error, InputError) and error.file == str(path)
    assert "holds code" in str(error) and "refused" in str(error)
    assert "weights_only" not in str(error) and error.__suppress_context__
    assert error.__cause__ is None
