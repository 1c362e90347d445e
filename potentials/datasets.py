"""Training data: labelled structures read from extxyz (ASE) or phonopy yaml files.

Labels are in ASE units: energy eV, forces eV/Å, stress eV/Å^3 (ASE sign convention, stored as
a 3x3 matrix).  extxyz files may carry the labels under ``REF_energy`` / ``REF_forces`` /
``REF_stress`` or as the plain ASE results (``energy``, ``forces``, ``stress``); phonopy yaml
files (``phonopy_params*.yaml[.gz]`` with displacements and forces) give forces only.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from ase import Atoms

from mtscore import InputError

LABELS = ("energy", "forces", "stress")


class DatasetError(InputError):
    """A dataset that cannot be read or lacks a requested label."""


@dataclass
class Sample:
    """One labelled structure; missing labels are None."""

    atoms: Atoms
    energy: float | None = None          # eV
    forces: np.ndarray | None = None     # [N, 3] eV/Å
    stress: np.ndarray | None = None     # [3, 3] eV/Å^3


def _stress_matrix(value) -> np.ndarray:
    value = np.asarray(value, dtype=np.float64).ravel()
    if value.size == 9:
        return value.reshape(3, 3)
    if value.size == 6:
        xx, yy, zz, yz, xz, xy = value
        return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])
    raise DatasetError(f"stress must have 6 (Voigt) or 9 components, got {value.size}")


def _ase_result(atoms: Atoms, name: str):
    calc = atoms.calc
    if calc is None or name not in getattr(calc, "results", {}):
        return None
    return calc.results[name]


def sample_from_atoms(atoms: Atoms, prefix: str = "REF_") -> Sample:
    """Labels of an ASE structure: ``{prefix}energy`` etc. if present, else the ASE results."""
    energy = atoms.info.get(f"{prefix}energy", _ase_result(atoms, "energy"))
    forces = atoms.arrays.get(f"{prefix}forces", _ase_result(atoms, "forces"))
    stress = atoms.info.get(f"{prefix}stress", _ase_result(atoms, "stress"))
    bare = Atoms(atoms.get_chemical_symbols(), positions=atoms.positions, cell=atoms.cell,
                 pbc=atoms.pbc)
    return Sample(atoms=bare,
                  energy=None if energy is None else float(energy),
                  forces=None if forces is None else np.asarray(forces, dtype=np.float64).copy(),
                  stress=None if stress is None else _stress_matrix(stress))


def read_extxyz(path: str | Path, prefix: str = "REF_") -> list[Sample]:
    """All frames of an extxyz file as samples (see :func:`sample_from_atoms`)."""
    from ase.io import read

    try:
        frames = read(str(path), index=":", format="extxyz")
    except (OSError, ValueError, KeyError) as exc:
        raise DatasetError(f"{path}: cannot read as extxyz: {exc}") from exc
    return [sample_from_atoms(atoms, prefix) for atoms in frames]


def read_phonopy(path: str | Path) -> list[Sample]:
    """Displaced supercells and their forces (eV/Å) from a phonopy yaml (type-1 or type-2
    dataset)."""
    import phonopy

    try:
        phonon = phonopy.load(str(path), produce_fc=False, log_level=0)
    except Exception as exc:  # phonopy raises many kinds of errors on bad files
        raise DatasetError(f"{path}: cannot read as phonopy yaml: {exc}") from exc
    dataset = phonon.dataset or {}
    supercell = phonon.supercell
    symbols = supercell.symbols
    cell = supercell.cell
    samples = []
    if "displacements" in dataset:
        displacements = np.asarray(dataset["displacements"], dtype=np.float64)
        forces = dataset.get("forces")
        for k, u in enumerate(displacements):
            atoms = Atoms(symbols, positions=supercell.positions + u, cell=cell, pbc=True)
            samples.append(Sample(atoms, forces=None if forces is None
                                  else np.asarray(forces[k], dtype=np.float64)))
    else:
        for entry in dataset.get("first_atoms", []):
            positions = supercell.positions.copy()
            positions[entry["number"]] += entry["displacement"]
            atoms = Atoms(symbols, positions=positions, cell=cell, pbc=True)
            samples.append(Sample(atoms, forces=None if "forces" not in entry
                                  else np.asarray(entry["forces"], dtype=np.float64)))
    if not samples:
        raise DatasetError(f"{path}: no displacement dataset in this phonopy file")
    return samples


def read_dataset(path: str | Path, labels: Sequence[str] = ("energy", "forces"),
                 file_format: str = "auto", prefix: str = "REF_") -> list[Sample]:
    """Read a dataset and check that every structure has the requested ``labels``.

    ``file_format`` is ``"extxyz"``, ``"phonopy"`` or ``"auto"`` (phonopy for ``*.yaml[.gz]``).
    Raises :class:`DatasetError` naming the file, structure and label that is missing.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path}: no such dataset file")
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise DatasetError(f"unknown labels {sorted(unknown)}; choose from {LABELS}")
    if file_format == "auto":
        file_format = "phonopy" if path.name.endswith((".yaml", ".yaml.gz", ".yml")) else "extxyz"
    if file_format == "phonopy":
        samples = read_phonopy(path)
    elif file_format == "extxyz":
        samples = read_extxyz(path, prefix)
    else:
        raise DatasetError(f"{path}: unknown dataset format {file_format!r} (extxyz or phonopy)")
    for index, sample in enumerate(samples):
        for label in labels:
            if getattr(sample, label) is None:
                where = (f"'{prefix}{label}' or the ASE '{label}'" if file_format == "extxyz"
                         else "the phonopy dataset (forces only)")
                raise DatasetError(f"{path}: structure {index} lacks the requested label "
                                   f"'{label}' (looked for {where})")
    return samples


def split_indices(count: int, validation_fraction: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train, validation) index arrays: a seeded permutation, the last fraction
    held out."""
    if not 0.0 <= validation_fraction < 1.0:
        raise DatasetError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    order = np.random.default_rng(seed).permutation(count)
    n_validation = int(round(validation_fraction * count))
    return np.sort(order[: count - n_validation]), np.sort(order[count - n_validation:])
