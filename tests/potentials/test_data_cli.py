"""``mts data convert``: DFT data to extxyz, read back unchanged; bad input is one line and
exit code 2 (the CLI's error policy)."""
from __future__ import annotations

import numpy as np
import pytest
from test_dft_formats import ALN, _steps
from vasprun_files import write_vasprun

from potentials.datasets import FORMATS, read_dataset
from workflows.cli import main


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert x.atoms.get_chemical_symbols() == y.atoms.get_chemical_symbols()
        assert x.atoms.positions == pytest.approx(y.atoms.positions, abs=1e-8)
        for label in ("energy", "forces", "stress"):
            u, v = getattr(x, label), getattr(y, label)
            assert (u is None) == (v is None)
            if u is not None:
                assert np.asarray(u) == pytest.approx(np.asarray(v), abs=1e-8)


def test_convert_vasprun_glob_to_extxyz(tmp_path, capsys):
    for k in range(2):
        write_vasprun(tmp_path / f"run{k}" / "vasprun.xml", _steps(2, seed=k))
    out = tmp_path / "all.extxyz"
    assert main(["data", "convert", str(tmp_path / "run*" / "vasprun.xml"), str(out)]) == 0
    assert "4 structures (energy, forces, stress)" in capsys.readouterr().out
    _same(read_dataset(out, ["energy", "forces", "stress"]),
          read_dataset(tmp_path / "run*" / "vasprun.xml", ["energy", "forces", "stress"]))


def test_convert_phono3py_fc2_set(tmp_path):
    out = tmp_path / "fc2.extxyz"
    assert main(["data", "convert", str(ALN / "phono3py_disp_dimfc2.yaml"), str(out),
                 "--forces", str(ALN / "FORCES_FC2")]) == 0
    converted = read_dataset(out, ["forces"])
    assert len(converted) == 6 and converted[0].energy is None
    _same(converted, read_dataset(ALN / "phono3py_disp_dimfc2.yaml", ["forces"],
                                  forces=ALN / "FORCES_FC2"))


def test_convert_bad_input_is_one_line(tmp_path, capsys):
    atoms, energy, _, stress = _steps(1)[0]
    bad = write_vasprun(tmp_path / "vasprun.xml", [(atoms, energy, None, stress)])
    assert main(["data", "convert", str(bad), str(tmp_path / "out.extxyz")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and str(bad) in err and "forces" in err
    assert not (tmp_path / "out.extxyz").exists()
    assert main(["data", "convert", str(bad), str(tmp_path / "out.xyz")]) == 2
    assert "must be an .extxyz file" in capsys.readouterr().err


def test_cli_format_choices_are_the_readers():
    from workflows.cli.__init__ import build_parser

    parser = build_parser()
    action = next(a for a in parser._subparsers._group_actions[0].choices["data"]
                  ._subparsers._group_actions[0].choices["convert"]._actions
                  if a.dest == "format")
    assert tuple(action.choices) == FORMATS
