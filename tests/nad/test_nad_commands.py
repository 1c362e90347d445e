"""`mts namd ...`: output, exit codes and one-line errors."""
from __future__ import annotations

import json

import numpy as np
import pytest

from nad.hopping import VibronicHamiltonian
from nad.pyxaid_io import write_hamiltonians
from workflows.cli import main


def test_namd_tully(capsys):
    assert main(["namd", "tully", "--model", "1", "--k", "20", "--ntraj", "300"]) == 0
    out = capsys.readouterr().out
    row = [line.split() for line in out.splitlines() if line.split()[:1] == ["20"]][0]
    r0, t0, r1, t1 = map(float, row[1:12:3])       # k, then "p ± error" four times
    assert abs(t1 - 0.492) < 0.1 and abs(r0 + t0 + r1 + t1 - 1) < 1e-9


def test_namd_hop_on_pyxaid_files(tmp_path, capsys):
    n = 50
    e = np.column_stack([np.zeros(n), np.full(n, 0.05)])
    d = np.zeros((n, 2, 2))
    d[:, 0, 1], d[:, 1, 0] = 0.01, -0.01
    write_hamiltonians(VibronicHamiltonian.from_nac(e, d, 1.0), tmp_path)
    code = main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "200", "--nreal", "20",
                 "--method", "fssh", "--cyclic", "--output", str(tmp_path / "pops.dat")])
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


def test_namd_trapping_writes_results_and_figures(tmp_path, capsys):
    """The whole chain on tiny cells (the physics of the default sizes is tests/nad/test_ml.py):
    exit code, results.json, the four figures, the printed summary."""
    out = tmp_path / "trapping"
    code = main(["namd", "trapping", "--output", str(out), "--sizes", "8", "12",
                 "--trajectories", "1", "1", "--frames", "40", "--large", "16",
                 "--large-frames", "30", "--vacancies", "1", "2", "--nsteps", "20000",
                 "--nreal", "4"])
    assert code == 0
    results = json.loads((out / "results.json").read_text())
    cases = results["cases"]
    assert [case["vacancies"] for case in cases] == [1, 2]
    assert [case["concentration"] for case in cases] == pytest.approx([1 / 256, 2 / 256])
    assert cases[0]["tau_ml_fs"] > 0 and cases[0]["tau_tb_fs"] > 0
    assert -np.inf < cases[0]["coupling_magnitude_r2"] <= 1.0
    # 20 000 steps of 1 fs for both (at least 20 000 each); times beyond 10x that are flagged
    assert [case["simulated_fs"] for case in cases] == pytest.approx([20_000.0, 20_000.0])
    flags = [(case[f"tau_{src}_fs"] <= 200_000, case[f"tau_{src}_resolved"])
             for case in cases for src in ("ml", "tb") if f"tau_{src}_fs" in case]
    assert all(expected == flag for expected, flag in flags)
    for name in ("populations.png", "trapping_vs_concentration.png", "parity_depth.png",
                 "parity_coupling.png"):
        assert (out / name).stat().st_size > 0
    printed = capsys.readouterr().out
    assert "tau_TB" in printed
    assert ("not resolved, raise --nsteps" in printed) == (not all(f for _, f in flags))


def test_trapping_study_failing_late_writes_nothing(tmp_path, monkeypatch):
    """A failure after the one-vacancy case (whose parity figures are ready by then) leaves no
    output folder at all, not figures without results.json."""
    import nad.pipeline

    real_trapping, calls = nad.pipeline.trapping, []

    def trapping_failing_third(*args, **kwargs):        # ML and TB for 1 vacancy, then ML for 2
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("surface hopping diverged")
        return real_trapping(*args, **kwargs)

    monkeypatch.setattr(nad.pipeline, "trapping", trapping_failing_third)
    out = tmp_path / "trapping"
    with pytest.raises(RuntimeError, match="surface hopping diverged"):
        nad.pipeline.trapping_study(out, sizes=(8, 12), trajectories=(1, 1), nframes=40,
                                    large=16, large_frames=30, vacancies=(1, 2),
                                    nsteps=20_000, nreal=4)
    assert len(calls) == 3
    assert not out.exists()
