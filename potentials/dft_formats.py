"""DFT outputs as users have them, read into labelled structures (:class:`~potentials.datasets.
Sample`; energy eV, forces eV/Å, stress eV/Å^3 in ASE's sign convention).

* VASP ``vasprun.xml`` (every ionic step; read by ASE): :func:`read_vasprun`, also from an
  open file (members of a tarball, :func:`read_vasprun_tarball`).
* A phono3py displacement yaml (``phono3py_disp.yaml``, ``phono3py_params.yaml``) with the forces
  in the yaml itself or in a ``FORCES_FC3`` / ``FORCES_FC2`` file (plain, ``.xz``, ``.gz`` or
  ``.bz2``): forces-only labels of the displaced supercells, :func:`read_phono3py`.
"""
from __future__ import annotations

import bz2
import gzip
import io
import lzma
import tarfile
from pathlib import Path
from typing import IO

import numpy as np
from ase import Atoms

from potentials.datasets import DatasetError, Sample, sample_from_atoms

#: FORCES file names looked for next to a phono3py yaml, in this order per set
FORCES_SUFFIXES = ("", ".xz", ".gz", ".bz2")


def _open_text(path: Path) -> IO[str]:
    """``path`` opened as text, decompressed by its suffix (.xz, .gz, .bz2)."""
    opener = {".xz": lzma.open, ".gz": gzip.open, ".bz2": bz2.open}.get(path.suffix, open)
    return opener(path, "rt")


def read_vasprun(source: str | Path | IO[bytes], name: str | Path | None = None) -> list[Sample]:
    """Every ionic step of a ``vasprun.xml`` (path or open binary file; ``name`` is the file
    named in errors).  A step without forces is a :class:`DatasetError` naming the file and
    the field (VASP writes ``<varray name="forces">`` for every step of a finished run)."""
    from ase.io import read

    name = str(source if name is None else name)
    try:
        frames = read(source, index=":", format="vasp-xml")
    except Exception as exc:  # ElementTree and ASE raise many kinds on a bad file
        raise DatasetError(f"cannot read as vasprun.xml: {exc}", name) from exc
    if not frames:
        raise DatasetError("no ionic step (<calculation>) in this vasprun.xml", name)
    samples = [sample_from_atoms(atoms, prefix="REF_") for atoms in frames]
    for step, sample in enumerate(samples):
        if sample.forces is None:
            raise DatasetError(f"ionic step {step} has no forces (<varray name=\"forces\">)",
                               name, None, "forces")
    return samples


def read_vasprun_tarball(path: str | Path) -> list[Sample]:
    """The ionic steps of every ``*.xml`` member of a tarball (``.tar``, ``.tar.gz``, ``.tgz``,
    ``.tar.xz``), members in name order; errors name ``archive:member``."""
    path = Path(path)
    try:
        with tarfile.open(path) as archive:
            members = sorted((m for m in archive.getmembers()
                              if m.isfile() and m.name.endswith(".xml")), key=lambda m: m.name)
            if not members:
                raise DatasetError("no *.xml (vasprun.xml) member in this archive", path)
            samples = []
            for member in members:
                data = archive.extractfile(member).read()
                samples += read_vasprun(io.BytesIO(data), f"{path}:{member.name}")
    except tarfile.TarError as exc:
        raise DatasetError(f"cannot read as a tar archive: {exc}", path) from exc
    return samples


def _displaced_positions(supercell, dataset: dict) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(positions, forces or None) of every displaced supercell of a phono3py/phonopy dataset
    in the order of its FORCES file (first displacements, then the pairs; type-2 datasets in
    their own order).  Pairs phono3py marks ``included: false`` give None positions."""
    positions0 = np.asarray(supercell.positions, dtype=np.float64)
    if "displacements" in dataset:          # type 2: every atom displaced at once
        forces = dataset.get("forces")
        return [(positions0 + u, None if forces is None else np.asarray(forces[k]))
                for k, u in enumerate(np.asarray(dataset["displacements"], dtype=np.float64))]
    out = []
    for first in dataset["first_atoms"]:
        positions = positions0.copy()
        positions[first["number"]] += first["displacement"]
        out.append((positions, first.get("forces")))
    for first in dataset["first_atoms"]:
        for second in first.get("second_atoms", []):
            positions = positions0.copy()
            positions[first["number"]] += first["displacement"]
            positions[second["number"]] += second["displacement"]
            out.append((None if second.get("included", True) is False else positions,
                        second.get("forces")))
    return out


def read_forces_file(path: Path, count: int, natom: int, yaml: Path) -> np.ndarray:
    """The ``[count, natom, 3]`` forces (eV/Å) of a FORCES_FC3/FORCES_FC2 file; a
    :class:`DatasetError` naming the file when its number of force lines is not what the
    ``yaml``'s displacement set needs."""
    try:
        with _open_text(path) as handle:
            values = np.loadtxt(handle, comments="#", dtype=np.float64, ndmin=2)
    except (OSError, ValueError, EOFError, lzma.LZMAError) as exc:
        raise DatasetError(f"cannot read forces: {exc}", path) from exc
    if values.shape[1] != 3 or len(values) != count * natom:
        raise DatasetError(f"{len(values)} force lines, but {yaml.name} has {count} displaced "
                           f"supercells of {natom} atoms ({count * natom} lines)", path, None,
                           "forces")
    return values.reshape(count, natom, 3)


def _forces_next_to(yaml: Path, stem: str) -> Path | None:
    for suffix in FORCES_SUFFIXES:
        candidate = yaml.parent / f"{stem}{suffix}"
        if candidate.is_file():
            return candidate
    return None


def read_phono3py(yaml: str | Path, forces: str | Path | None = None) -> list[Sample]:
    """Displaced supercells of a phono3py yaml with their forces (eV/Å; no energy, no stress).

    ``forces``: a FORCES_FC3 file (the fc3 set) or a file named ``FORCES_FC2*`` (the yaml's
    separate fc2 set, or its fc3 set's single displacements when it has none).  None: the
    forces in the yaml (``phono3py_params.yaml``), else ``FORCES_FC3[.xz|.gz|.bz2]`` next to
    the yaml for the fc3 set and, when the yaml has a separate fc2 set, ``FORCES_FC2*`` for it.
    """
    from phono3py.interface.phono3py_yaml import Phono3pyYaml

    yaml = Path(yaml)
    reader = Phono3pyYaml()
    try:
        reader.read(str(yaml))
    except Exception as exc:  # yaml and phono3py raise many kinds on a bad file
        raise DatasetError(f"cannot read as phono3py yaml: {exc}", yaml) from exc
    sets = []            # (supercell, dataset, FORCES file or None)
    fc3 = reader.dataset
    fc2 = reader.phonon_dataset
    if forces is not None:
        forces = Path(forces)
        if forces.name.startswith("FORCES_FC2"):
            if fc2:
                sets.append((reader.phonon_supercell, fc2, forces))
            elif fc3:
                first_only = {"natom": fc3["natom"], "first_atoms": [
                    {k: v for k, v in d.items() if k != "second_atoms"}
                    for d in fc3["first_atoms"]]}
                sets.append((reader.supercell, first_only, forces))
        elif fc3:
            sets.append((reader.supercell, fc3, forces))
    else:
        for supercell, dataset, stem in ((reader.supercell, fc3, "FORCES_FC3"),
                                         (reader.phonon_supercell, fc2, "FORCES_FC2")):
            if not dataset:
                continue
            in_yaml = _has_forces(dataset)
            file = None if in_yaml else _forces_next_to(yaml, stem)
            if in_yaml or file is not None:
                sets.append((supercell, dataset, file))
    if not sets:
        raise DatasetError("no displacement set with forces (in the yaml or a FORCES_FC3/"
                           "FORCES_FC2 file next to it)", yaml, None, "forces")
    samples = []
    for supercell, dataset, file in sets:
        displaced = _displaced_positions(supercell, dataset)
        if file is not None:
            values = read_forces_file(file, len(displaced), len(supercell), yaml)
            displaced = [(positions, values[k]) for k, (positions, _) in enumerate(displaced)]
        symbols = list(supercell.symbols)
        for positions, force in displaced:
            if positions is None:
                continue
            if force is None:
                raise DatasetError("a displaced supercell has no forces", file or yaml, None,
                                   "forces")
            atoms = Atoms(symbols, positions=positions, cell=supercell.cell, pbc=True)
            samples.append(Sample(atoms, forces=np.array(force, dtype=np.float64)))
    return samples


def _has_forces(dataset: dict) -> bool:
    if "displacements" in dataset:
        return dataset.get("forces") is not None
    return all("forces" in first for first in dataset["first_atoms"])


def is_phono3py_yaml(path: Path) -> bool:
    """Whether a yaml (plain or .gz/.xz) starts with phono3py's ``phono3py:`` header."""
    try:
        with _open_text(path) as handle:
            head = handle.read(4096)
    except (OSError, EOFError, lzma.LZMAError, UnicodeDecodeError):
        return False
    return any(line.startswith("phono3py:") for line in head.splitlines())
