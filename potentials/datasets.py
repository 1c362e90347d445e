"""Training data: labelled structures read from the files DFT users have (:func:`read_dataset`).

Labels are in ASE units: energy eV, forces eV/Å, stress eV/Å^3 (ASE sign convention, stored as
a 3x3 matrix).  extxyz files may carry the labels under ``REF_energy`` / ``REF_forces`` /
``REF_stress`` or as the plain ASE results (``energy``, ``forces``, ``stress``); phonopy yaml
files (``phonopy_params*.yaml[.gz]`` with displacements and forces) give forces only; VASP
``vasprun.xml`` files (one, a glob of many, or a tarball) and phono3py displacement sets (yaml
with FORCES_FC3 / FORCES_FC2) are read by :mod:`potentials.dft_formats`.
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


FORMATS = ("auto", "extxyz", "phonopy", "phono3py", "vasprun")
_GLOB = set("*?[")
_TARBALL = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".tar.bz2")


def detect_format(path: Path) -> str:
    """The format of a dataset file by its name (and for yaml its header): ``vasprun`` for
    ``*.xml`` and tarballs, ``phono3py`` for a yaml starting ``phono3py:``, ``phonopy`` for other
    ``*.yaml[.gz|.xz]``, ``phono3py`` for a FORCES_FC3/FORCES_FC2 file, else ``extxyz``."""
    from potentials.dft_formats import is_phono3py_yaml

    name = path.name.lower()
    if name.endswith(".xml") or name.endswith(_TARBALL):
        return "vasprun"
    if name.startswith(("forces_fc3", "forces_fc2")):
        return "phono3py"
    if name.endswith((".yaml", ".yml", ".yaml.gz", ".yaml.xz", ".yml.gz")):
        return "phono3py" if is_phono3py_yaml(path) else "phonopy"
    return "extxyz"


def _read_one(path: Path, file_format: str, prefix: str,
              forces: str | Path | None) -> tuple[list[Sample], str]:
    from potentials.dft_formats import read_phono3py, read_vasprun, read_vasprun_tarball

    if file_format == "auto":
        file_format = detect_format(path)
    if file_format == "phono3py" and path.name.upper().startswith("FORCES_FC"):
        yaml = path.parent / "phono3py_disp.yaml"
        if not yaml.is_file():
            raise DatasetError("a FORCES file is read with its phono3py yaml: give the yaml as "
                               "the path and this file as 'forces'", path, None, "path")
        return read_phono3py(yaml, path), file_format
    if file_format == "phono3py":
        return read_phono3py(path, forces), file_format
    if forces is not None:
        raise DatasetError(f"a FORCES file goes with a phono3py yaml, but this is read as "
                           f"{file_format}", path, None, "forces")
    if file_format == "phonopy":
        return read_phonopy(path), file_format
    if file_format == "vasprun":
        if path.name.lower().endswith(_TARBALL):
            return read_vasprun_tarball(path), file_format
        return read_vasprun(path), file_format
    if file_format == "extxyz":
        return read_extxyz(path, prefix), file_format
    raise DatasetError(f"unknown dataset format {file_format!r} (one of {', '.join(FORMATS)})",
                       path, None, "format")


def dataset_files(path: str | Path) -> list[Path]:
    """The files of a dataset path: the path itself, or the sorted matches of a glob pattern
    (``runs/*/vasprun.xml``); a :class:`DatasetError` when nothing is there."""
    path = Path(path)
    if _GLOB & set(str(path)):
        anchor = Path(path.anchor) if path.is_absolute() else Path()
        pattern = str(path.relative_to(anchor)) if path.is_absolute() else str(path)
        files = sorted(p for p in anchor.glob(pattern) if p.is_file())
        if not files:
            raise DatasetError("no file matches this pattern", path)
        return files
    if not path.is_file():
        raise DatasetError("no such dataset file", path)
    return [path]


def read_dataset(path: str | Path, labels: Sequence[str] = ("energy", "forces"),
                 file_format: str = "auto", prefix: str = "REF_",
                 forces: str | Path | None = None) -> list[Sample]:
    """Read a dataset and check that every structure has the requested ``labels``.

    ``path``: a file or a glob pattern (files read in sorted order).  ``file_format``: one of
    :data:`FORMATS`; ``"auto"`` detects it per file (:func:`detect_format`).  ``forces``: the
    FORCES_FC3/FORCES_FC2 file of a phono3py yaml (None: the yaml's own forces or the FORCES
    files next to it; :func:`potentials.dft_formats.read_phono3py`).  Raises
    :class:`DatasetError` naming the file, structure and label that is missing.
    """
    unknown = set(labels) - set(LABELS)
    if unknown:
        raise DatasetError(f"unknown labels {sorted(unknown)}; choose from {LABELS}")
    samples = []
    for file in dataset_files(path):
        found, used_format = _read_one(file, file_format, prefix, forces)
        for index, sample in enumerate(found):
            for label in labels:
                if getattr(sample, label) is None:
                    where = (f"'{prefix}{label}' or the ASE '{label}'" if used_format == "extxyz"
                             else f"the {used_format} data")
                    raise DatasetError(f"structure {index} lacks the requested label "
                                       f"'{label}' (looked for {where})", file)
        samples += found
    return samples


def write_extxyz(samples: Sequence[Sample], path: str | Path, prefix: str = "REF_") -> Path:
    """Write ``samples`` to an extxyz file (atomically) with their labels as ``{prefix}energy``
    (eV), ``{prefix}forces`` (eV/Å) and ``{prefix}stress`` (eV/Å^3, Voigt xx yy zz yz xz xy),
    each frame with the labels it has; :func:`read_extxyz` reads them back."""
    from ase.io import write

    from mtscore import atomic_path

    frames = []
    for sample in samples:
        atoms = sample.atoms.copy()
        if sample.energy is not None:
            atoms.info[f"{prefix}energy"] = float(sample.energy)
        if sample.forces is not None:
            atoms.arrays[f"{prefix}forces"] = np.asarray(sample.forces, dtype=np.float64)
        if sample.stress is not None:
            s = sample.stress
            atoms.info[f"{prefix}stress"] = np.array(
                [s[0, 0], s[1, 1], s[2, 2], s[1, 2], s[0, 2], s[0, 1]])
        frames.append(atoms)
    with atomic_path(path) as tmp:
        write(str(tmp), frames, format="extxyz")
    return Path(path)


def split_indices(count: int, validation_fraction: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic (train, validation) index arrays: a seeded permutation, the last fraction
    held out."""
    if not 0.0 <= validation_fraction < 1.0:
        raise DatasetError(f"validation_fraction must be in [0, 1), got {validation_fraction}")
    order = np.random.default_rng(seed).permutation(count)
    n_validation = int(round(validation_fraction * count))
    return np.sort(order[: count - n_validation]), np.sort(order[count - n_validation:])
