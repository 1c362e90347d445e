"""`mts namd ...`: output, exit codes and one-line errors."""
from __future__ import annotations

import numpy as np

from nad.hopping import VibronicHamiltonian
from nad.pyxaid_io import write_hamiltonians
from workflows.cli import main


def test_namd_tully(capsys):
    assert main(["namd", "tully", "--model", "1", "--k", "20", "--ntraj", "300"]) == 0
    out = capsys.readouterr().out
    row = [line for line in out.splitlines() if line.strip().startswith("20.0")][0]
    r0, t0, r1, t1 = map(float, row.split()[1:])
    assert abs(t1 - 0.492) < 0.1 and abs(r0 + t0 + r1 + t1 - 1) < 1e-9


def test_namd_hop_on_pyxaid_files(tmp_path, capsys):
    n = 50
    e = np.column_stack([np.zeros(n), np.full(n, 0.05)])
    d = np.zeros((n, 2, 2))
    d[:, 0, 1], d[:, 1, 0] = 0.01, -0.01
    write_hamiltonians(VibronicHamiltonian.from_nac(e, d, 1.0), tmp_path)
    code = main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "200", "--nreal", "20",
                 "--method", "fssh", "--output", str(tmp_path / "pops.dat")])
    assert code == 0
    table = np.loadtxt(tmp_path / "pops.dat")
    assert table.shape == (201, 3) and np.allclose(table[:, 1:].sum(axis=1), 1.0)
    assert "populations" in capsys.readouterr().out


def test_namd_hop_bad_input_is_one_line(tmp_path, capsys):
    np.savetxt(tmp_path / "Ham_0_re", np.eye(2))
    np.savetxt(tmp_path / "Ham_0_im", np.array([[0.0, 0.1], [0.1, 0.0]]))   # not Hermitian
    assert main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "10"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mts: error:") and "Ham_0_im" in err and "\n" not in err
    assert main(["namd", "hop", str(tmp_path / "missing"), "--dt", "1", "--nsteps", "10"]) == 2
    assert main(["namd", "trapping", "--sizes", "12", "24", "--trajectories", "1"]) == 2
