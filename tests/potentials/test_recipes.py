"""The AlN training recipe is the silicon one with other data: the same [model] and [training]
settings, only data paths and the material's constants differ, and every file it names reads."""
from __future__ import annotations

import tomllib

import pytest
from potentials_refdata import DATA

from potentials.bulk_modulus import read_section as read_bulk_modulus_section
from potentials.phonon_validation import read_section as read_phonon_section
from potentials.training_config import TrainingConfig
from potentials.training_data import DatasetEntry, prepare_datasets

#: what may differ between recipes: data paths, names of outputs, the material's own constants
MATERIAL_KEYS = {"model": {"species"}, "training": {"output", "checkpoint"},
                 "bulk_modulus": {"structure", "target"},
                 "phonons": {"phono3py_yaml", "reference", "mesh", "kappa_reference"}}
DATASET_KEYS = {"name", "path", "forces", "phono3py_yaml", "labels"}


def _recipe(name: str) -> dict:
    return tomllib.loads((DATA / name).read_text())


def test_aln_recipe_differs_from_silicon_only_in_data_and_material():
    si, aln = _recipe("si_train.toml"), _recipe("aln_train.toml")
    assert set(si) == set(aln)
    for section, allowed in MATERIAL_KEYS.items():
        keys = set(si[section]) | set(aln[section])
        same = {k for k in keys - allowed if si[section].get(k) == aln[section].get(k)}
        assert same == keys - allowed, section
    assert len(si["datasets"]) == len(aln["datasets"])
    for a, b in zip(si["datasets"], aln["datasets"]):
        keys = (set(a) | set(b)) - DATASET_KEYS
        assert {k: a.get(k) for k in keys} == {k: b.get(k) for k in keys}


def test_aln_recipe_reads():
    config = TrainingConfig.read(DATA / "aln_train.toml")
    assert config.model["species"] == ["Al", "N"]
    entries = [DatasetEntry.read(d, k, config.source) for k, d in enumerate(config.datasets)]
    for entry in entries:
        assert (config.root / entry.path).is_file()
    atoms, target, _ = read_bulk_modulus_section(config.bulk_modulus, config.root)
    assert sorted(set(atoms.get_chemical_symbols())) == ["Al", "N"] and target > 0
    options = read_phonon_section(config.phonons, config.source)
    assert (config.root / options["phono3py_yaml"]).is_file()


@pytest.mark.slow
def test_aln_recipe_datasets_split_with_force_constant_terms():
    config = TrainingConfig.read(DATA / "aln_train.toml")
    options = config.training
    splits = prepare_datasets({"datasets": config.datasets}, config.root, options.seed,
                              options.fc_orders, options.fc2_shell_balance,
                              species=config.model["species"], source=config.source)
    disp, fc2 = splits["disp"], splits["fc2"]
    assert len(disp.train) + len(disp.validation) == 1254 and len(disp.references) == 6
    assert len(fc2.train) + len(fc2.validation) == 6 and len(fc2.train[0].atoms) == 300
    assert all(s.energy is None and s.forces is not None for s in disp.train + fc2.train)
