"""Datasets: extxyz with REF_* keys or plain ASE results, phonopy yaml, labels and splits."""
from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from ase.io import write
from potentials_refdata import DATA

from potentials.datasets import DatasetError, read_dataset, split_indices


def test_extxyz_with_ref_keys():
    samples = read_dataset(DATA / "si-pbesol-fc3-disp111.extxyz", ["energy", "forces", "stress"])
    assert len(samples) == 111
    first = samples[0]
    assert first.energy == pytest.approx(-367.51359876)
    assert first.forces[0] == pytest.approx([-0.39682014, 0.0, 0.0])
    assert first.stress[1, 2] == pytest.approx(-2.318191485121938e-04)  # Voigt yz -> [1, 2]
    assert first.atoms.calc is None and len(first.atoms) == 64


def test_extxyz_with_plain_ase_keys(tmp_path):
    frames = []
    for k in range(3):
        atoms = Atoms("Si2", positions=[[0, 0, 0], [1.3 + 0.1 * k, 1.4, 1.3]], cell=[5.4] * 3,
                      pbc=True)
        atoms.calc = SinglePointCalculator(atoms, energy=-10.0 - k, forces=np.full((2, 3), 0.1 * k),
                                           stress=np.arange(6) * 1e-3)
        frames.append(atoms)
    write(tmp_path / "plain.extxyz", frames)
    samples = read_dataset(tmp_path / "plain.extxyz", ["energy", "forces", "stress"])
    assert [s.energy for s in samples] == [-10.0, -11.0, -12.0]
    assert samples[2].forces == pytest.approx(np.full((2, 3), 0.2))
    assert samples[0].stress[0, 1] == pytest.approx(5e-3)  # xy is the 6th Voigt entry


def test_phonopy_yaml_forces_only():
    samples = read_dataset(DATA / "phonopy_params-Si111-iterha.yaml.gz", ["forces"])
    assert len(samples) == 1000 and len(samples[0].atoms) == 8
    assert samples[0].energy is None
    assert samples[0].forces[0] == pytest.approx([1.1663935, -0.07288513, 0.63031885])
    with pytest.raises(DatasetError, match="structure 0 lacks the requested label 'energy'"):
        read_dataset(DATA / "phonopy_params-Si111-iterha.yaml.gz", ["energy", "forces"])


def test_missing_labels_and_files(tmp_path):
    write(tmp_path / "bare.extxyz", Atoms("Si", positions=[[0, 0, 0]], cell=[3] * 3, pbc=True))
    with pytest.raises(DatasetError,
                       match=r"bare.extxyz: structure 0 lacks the requested label 'forces'"):
        read_dataset(tmp_path / "bare.extxyz", ["forces"])
    with pytest.raises(DatasetError, match="no such dataset file"):
        read_dataset(tmp_path / "nothing.extxyz")
    with pytest.raises(DatasetError, match="unknown labels"):
        read_dataset(tmp_path / "bare.extxyz", ["charges"])


def test_split_is_deterministic_and_disjoint():
    train, validation = split_indices(111, 0.2, seed=0)
    assert len(validation) == 22 and len(train) == 89
    assert not set(train) & set(validation)
    again = split_indices(111, 0.2, seed=0)
    assert np.array_equal(again[1], validation)
    assert not np.array_equal(split_indices(111, 0.2, seed=1)[1], validation)
