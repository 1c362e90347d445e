"""DFT data as users have it: vasprun.xml (one, a glob, a tarball), phono3py yaml with
FORCES_FC3 / FORCES_FC2 or with its forces inside; checked against the values written into the
files and against phono3py's own reading of the AlN-LDA set (tests/data/aln-lda)."""
from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.units import GPa
from vasprun_files import write_vasprun

from potentials.datasets import DatasetError, detect_format, read_dataset

ALN = Path(__file__).resolve().parents[1] / "data" / "aln-lda"


def _steps(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    steps = []
    for k in range(count):
        atoms = bulk("AlN", "wurtzite", a=3.11, c=4.98)
        atoms.positions += rng.normal(scale=0.02, size=atoms.positions.shape)
        stress = rng.normal(size=(3, 3))
        steps.append((atoms, -30.0 - 0.1 * k - seed, rng.normal(size=(4, 3)),
                      stress + stress.T))         # kBar, symmetric as VASP writes it
    return steps


def _check(samples, steps):
    assert len(samples) == len(steps)
    for sample, (atoms, energy, forces, stress) in zip(samples, steps):
        assert sample.atoms.get_chemical_symbols() == atoms.get_chemical_symbols()
        assert sample.atoms.positions == pytest.approx(atoms.positions, abs=1e-8)
        assert sample.energy == pytest.approx(energy)
        assert sample.forces == pytest.approx(forces, abs=1e-9)
        assert sample.stress == pytest.approx(-0.1 * GPa * stress, abs=1e-12)


def test_vasprun_one_file_every_ionic_step(tmp_path):
    steps = _steps(2)
    path = write_vasprun(tmp_path / "vasprun.xml", steps)
    assert detect_format(path) == "vasprun"
    _check(read_dataset(path, ["energy", "forces", "stress"]), steps)


def test_vasprun_glob_and_tarball(tmp_path):
    steps = [_steps(1, seed)[0] for seed in range(3)]
    for k, step in enumerate(steps):
        write_vasprun(tmp_path / "runs" / f"disp-{k:03d}" / "vasprun.xml", [step])
    _check(read_dataset(tmp_path / "runs" / "*" / "vasprun.xml", ["energy", "forces"]), steps)
    archive = tmp_path / "runs.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(tmp_path / "runs", arcname="runs")
    assert detect_format(archive) == "vasprun"
    _check(read_dataset(archive, ["energy", "forces", "stress"]), steps)
    with pytest.raises(DatasetError, match="no file matches"):
        read_dataset(tmp_path / "none" / "*.xml")


def test_vasprun_without_forces_is_one_line_naming_file_and_field(tmp_path):
    atoms, energy, _, stress = _steps(1)[0]
    path = write_vasprun(tmp_path / "vasprun.xml", [(atoms, energy, None, stress)])
    with pytest.raises(DatasetError) as caught:
        read_dataset(path, ["energy"])
    message = str(caught.value)
    assert "\n" not in message and str(path) in message and caught.value.key == "forces"
    assert 'varray name="forces"' in message


def _phono3py_reference(yaml: Path, **files):
    import phono3py
    return phono3py.load(str(yaml), produce_fc=False, log_level=0, **files)


def test_phono3py_fc3_set_matches_phono3py_reading():
    samples = read_dataset(ALN / "phono3py_disp.yaml", ["forces"])
    ph3 = _phono3py_reference(ALN / "phono3py_disp.yaml",
                              forces_fc3_filename=str(ALN / "FORCES_FC3.xz"))
    cells = [c for c in ph3.supercells_with_displacements if c is not None]
    forces = ph3.forces                                  # [n_disp, natom, 3] eV/Å
    assert len(samples) == len(cells) == len(forces) == 1254
    for k in (0, 5, 6, 700, 1253):
        assert samples[k].atoms.positions == pytest.approx(cells[k].positions, abs=1e-10)
        assert samples[k].forces == pytest.approx(forces[k], abs=1e-12)
    assert samples[0].energy is None and samples[0].stress is None
    assert set(samples[0].atoms.get_chemical_symbols()) == {"Al", "N"}
    # the FORCES file as the dataset path reads the yaml beside it
    assert len(read_dataset(ALN / "FORCES_FC3.xz", ["forces"])) == 1254


def test_phono3py_fc2_set_with_forces_fc2():
    yaml = ALN / "phono3py_disp_dimfc2.yaml"
    samples = read_dataset(yaml, ["forces"], forces=ALN / "FORCES_FC2")
    ph3 = _phono3py_reference(yaml, forces_fc2_filename=str(ALN / "FORCES_FC2"))
    cells = ph3.phonon_supercells_with_displacements
    assert len(samples) == len(cells) == 6 and len(samples[0].atoms) == 300
    for sample, cell, forces in zip(samples, cells, ph3.phonon_forces):
        assert sample.atoms.positions == pytest.approx(cell.positions, abs=1e-10)
        assert sample.forces == pytest.approx(forces, abs=1e-12)


def test_forces_file_of_the_wrong_length(tmp_path):
    shutil.copy(ALN / "phono3py_disp_dimfc2.yaml", tmp_path / "phono3py_disp.yaml")
    lines = (ALN / "FORCES_FC2").read_text().splitlines()
    (tmp_path / "FORCES_FC2").write_text("\n".join(lines[:-5]) + "\n")
    with pytest.raises(DatasetError) as caught:
        read_dataset(tmp_path / "phono3py_disp.yaml", ["forces"],
                     forces=tmp_path / "FORCES_FC2")
    message = str(caught.value)
    assert "\n" not in message and message.startswith(str(tmp_path / "FORCES_FC2"))
    assert caught.value.key == "forces" and "1795 force lines" in message
    with pytest.raises(DatasetError, match="FORCES file goes with a phono3py yaml"):
        read_dataset(write_vasprun(tmp_path / "vasprun.xml", _steps(1)), ["forces"],
                     forces=tmp_path / "FORCES_FC2")


def test_phono3py_params_yaml_with_forces(tmp_path):
    from phono3py import Phono3py
    from phonopy.structure.atoms import PhonopyAtoms

    unit = bulk("AlN", "wurtzite", a=3.11, c=4.98)
    ph3 = Phono3py(PhonopyAtoms(symbols=unit.get_chemical_symbols(), cell=unit.cell.array,
                                scaled_positions=unit.get_scaled_positions()),
                   supercell_matrix=[1, 1, 1], primitive_matrix=None, log_level=0)
    ph3.generate_displacements(distance=0.03)
    count = len(ph3.supercells_with_displacements)
    forces = np.random.default_rng(0).normal(size=(count, 4, 3))
    ph3.forces = forces
    ph3.save(str(tmp_path / "phono3py_params.yaml"))
    path = tmp_path / "phono3py_params.yaml"
    assert detect_format(path) == "phono3py"
    samples = read_dataset(path, ["forces"])
    cells = ph3.supercells_with_displacements
    assert len(samples) == count
    for sample, cell, force in zip(samples, cells, forces):
        assert sample.atoms.positions == pytest.approx(cell.positions, abs=1e-10)
        assert sample.forces == pytest.approx(force, abs=1e-12)
