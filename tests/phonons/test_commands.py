"""`mts phonons run`: the whole chain from existing DFT data and from a structure + Tersoff."""
from __future__ import annotations

import json

import numpy as np
import pytest
from phonons_refdata import DATA, FREQ_GAMMA_OPTICAL

import phonons
from bte.materials import read_band_table
from workflows.cli import main


def test_run_from_dft_data(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["phonons", "run", "--phono3py-yaml", str(DATA / "phono3py_disp.yaml"),
                 "--forces-fc3", str(DATA / "FORCES_FC3"), "--mesh", "5", "5", "5",
                 "--bands", "8", "--output", str(out)])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {"phono3py_disp.yaml", "fc2.hdf5", "fc3.hdf5", "kappa.json", "phonons_8.dat",
            "modes.npz", "dispersion.png", "dos.png", "accumulation.png"} <= names
    summary = json.loads((out / "kappa.json").read_text())
    assert summary["mesh"] == [5, 5, 5]
    kappa_rta = np.trace(np.array(summary["kappa_W_mK"]["rta"][0])) / 3
    table = read_band_table(out / "phonons_8.dat", 8)
    assert table.kappa_bulk() == pytest.approx(kappa_rta, rel=5e-3)   # κ conserved
    assert "q-mesh 5x5x5" in capsys.readouterr().out


def test_run_from_structure_with_tersoff(tmp_path):
    from ase.build import bulk
    from ase.io import write
    write(tmp_path / "POSCAR", bulk("Si", "diamond", a=5.432, cubic=True), format="vasp")
    out = tmp_path / "out"
    code = main(["phonons", "run", "--structure", str(tmp_path / "POSCAR"), "--calculator",
                 "tersoff", "--mesh", "3", "3", "3", "--bands", "4", "--no-plots",
                 "--output", str(out)])
    assert code == 0
    assert len(list((out / "force_cache" / "fc3").glob("*.npz"))) == 111
    import phonons
    fc = phonons.load_force_constants(out / "phono3py_disp.yaml")
    gamma = phonons.harmonic_frequencies(fc, [[0, 0, 0]])[0]
    # Tersoff's Γ optical frequency is near the DFT/experimental 15-16 THz
    assert abs(gamma[-1] - FREQ_GAMMA_OPTICAL) < 2.0 and np.abs(gamma[:3]).max() < 1e-3


def test_bad_usage(tmp_path, capsys):
    assert main(["phonons", "run", "--structure", str(tmp_path / "nothing.vasp"),
                 "--calculator", "tersoff"]) == 2
    assert "error" in capsys.readouterr().err
    assert main(["phonons", "run", "--structure", str(tmp_path / "x"),
                 "--calculator", "nonsense"]) == 2


def test_run_polar_material_from_dft_data(tmp_path, capsys):
    """AlN: fc2 from the separate 5x5x3 set, Born charges from --born, the full tensor printed
    and in kappa.json, the band table along c keeping κ_zz."""
    from phonons_refdata import ALN
    out = tmp_path / "out"
    code = main(["phonons", "run", "--phono3py-yaml", str(ALN / "phono3py_disp.yaml"),
                 "--forces-fc3", str(ALN / "FORCES_FC3.xz"),
                 "--forces-fc2", str(ALN / "FORCES_FC2"),
                 "--phono3py-yaml-fc2", str(ALN / "phono3py_disp_dimfc2.yaml"),
                 "--born", str(ALN / "BORN"), "--mesh", "4", "4", "3", "--bands", "4",
                 "--direction", "0", "0", "1", "--no-plots", "--output", str(out)])
    assert code == 0
    summary = json.loads((out / "kappa.json").read_text())
    kappa = np.array(summary["kappa_W_mK"]["rta"][0])
    assert kappa.shape == (3, 3) and summary["non_analytic_correction"]
    assert kappa[0, 0] == pytest.approx(kappa[1, 1], rel=1e-6)            # hexagonal
    table = read_band_table(out / "phonons_4.dat", 4)
    assert table.kappa_bulk() == pytest.approx(kappa[2, 2], rel=5e-3)     # along c: κ_zz
    assert summary["band_table"]["direction"] == [0.0, 0.0, 1.0]
    printed = capsys.readouterr().out
    assert all(f" {c}" in printed for c in ("xx", "xy", "xz", "yx", "yz", "zx", "zy", "zz"))
    fc = phonons.load_force_constants(out / "phono3py_disp.yaml")        # Born charges kept
    assert fc.nac is not None and fc.fc2.shape == (4, 300, 3, 3)


def test_run_polar_material_without_born_charges(tmp_path, capsys):
    import shutil

    from phonons_refdata import ALN
    shutil.copy(ALN / "phono3py_disp.yaml", tmp_path)
    args = ["phonons", "run", "--phono3py-yaml", str(tmp_path / "phono3py_disp.yaml"),
            "--forces-fc3", str(ALN / "FORCES_FC3.xz"), "--mesh", "2", "2", "2", "--bands", "2",
            "--no-plots", "--output", str(tmp_path / "out")]
    assert main(args) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1
    assert str(tmp_path / "phono3py_disp.yaml") in error and "born" in error
    assert "--no-nac" in error
    assert main(args + ["--no-nac"]) == 0
    assert not json.loads((tmp_path / "out" / "kappa.json").read_text())[
        "non_analytic_correction"]


def test_run_polar_structure_without_born_charges(tmp_path, capsys):
    """--structure: a polar crystal without --born/--no-nac stops before any stage runs."""
    import shutil

    from phonons_refdata import ALN
    shutil.copy(ALN / "POSCAR-unitcell", tmp_path / "POSCAR")
    assert main(["phonons", "run", "--structure", str(tmp_path / "POSCAR"), "--calculator",
                 "tersoff", "--no-plots", "--output", str(tmp_path / "out")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and str(tmp_path / "POSCAR") in error
    assert "Al-N" in error and not (tmp_path / "out" / "stages").exists()


def test_run_polar_structure_with_born_file_beside_it(tmp_path, capsys):
    """--structure with a BORN file beside it: the force-constant stage carries the charges (the
    kappa.json says so), and a rerun finds that stage cached.  ASE's EMT knows Al and N."""
    import shutil

    from phonons_refdata import ALN
    shutil.copy(ALN / "POSCAR-unitcell", tmp_path / "POSCAR")
    shutil.copy(ALN / "BORN", tmp_path / "BORN")
    args = ["phonons", "run", "--structure", str(tmp_path / "POSCAR"), "--calculator",
            "ase.calculators.emt:EMT", "--dim", "1", "1", "1", "--mesh", "2", "2", "2",
            "--bands", "2", "--no-plots", "--output", str(tmp_path / "out")]
    assert main(args) == 0
    assert json.loads((tmp_path / "out" / "kappa.json").read_text())["non_analytic_correction"]
    stages = sorted(p.name for p in (tmp_path / "out" / "stages").iterdir())
    assert main(args) == 0
    assert sorted(p.name for p in (tmp_path / "out" / "stages").iterdir()) == stages
    assert len([s for s in stages if s.startswith("fc-")]) == 1
