"""Issue 23, items 15 and 16: a transient run says before it starts how many time steps it will
take and refuses absurd counts unless forced; a TTG run writes its grating amplitude where a user
finds it (TTGAmplitude.dat, kappa.json); a run whose field runs away ends as an error, never as
completed; the explicit-scheme stability numbers and warnings are recorded in kappa.json."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from bte_cases import REPO, copy_case
from test_transient import MFP, TAU, cfl_step, ttg_case

import bte
from bte import transient
from bte.transient import MAX_STEPS, step_plan


def test_shipped_ttg_step_count_refused_with_the_estimate(tmp_path):
    """A shipped TTG folder (TotalTime 3e-5 s) at TimeStep 1e-12 s is 3e7 steps: refused in
    seconds, with the count, unless --force-steps."""
    run = copy_case("TTG/2pikn=1", tmp_path / "ttg")
    problem = bte.read_input_folder(run)
    plan = step_plan(problem, time_step=1e-12)
    assert plan["n_steps"] == 30_000_000 > MAX_STEPS
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", "bte", "run", str(run), "-q",
                           "--time-step", "1e-12", "-o", str(tmp_path / "out")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert lines[0].startswith("mts: error: TotalTime: 3e-05 s / TimeStep 1e-12 s = 3e+07 time "
                               "steps"), lines[0]
    assert "--force-steps" in lines[0]
    assert not (tmp_path / "out" / "kappa.json").exists()
    with pytest.raises(bte.BTEInputError, match="force_steps"):
        bte.solve(problem, time_step=1e-12)


def test_ttg_outputs_hold_the_grating_amplitude(tmp_path, monkeypatch, capsys):
    from workflows.cli import main
    run = ttg_case(tmp_path, "cli", 1.0, n_cells=20)
    dt = cfl_step(2 * np.pi * MFP, 20, 0.2)
    out = tmp_path / "out"
    assert main(["bte", "run", str(run), "-o", str(out), "--total-time", str(20 * dt),
                 "--time-step", str(dt), "--transient-scheme", "implicit"]) == 0
    cap = capsys.readouterr()
    assert "20 time steps of" in cap.err                # the start-up line
    assert "grating      amplitude" in cap.out
    t, amp = np.loadtxt(out / "TTGAmplitude.dat").T
    ttg_t = np.loadtxt(out / "TTG.dat")[:, 0]
    np.testing.assert_array_equal(t, ttg_t)
    assert 0 < amp[-1] < amp[0]                          # a decaying grating
    record = json.loads((out / "kappa.json").read_text())
    assert record["grating_amplitude_file"] == "TTGAmplitude.dat"
    assert record["grating_amplitude_initial_K"] == amp[0]
    assert record["grating_amplitude_final_K"] == amp[-1]
    assert record["stability"]["dt_limit"] > 0


def test_a_runaway_run_is_an_error_not_completed(tmp_path, monkeypatch):
    """The divergence guard: a field whose spread exceeds RUNAWAY times its bound raises
    SolverDivergedError (here the bound is made tiny so a sound run trips it)."""
    problem = bte.read_input_folder(ttg_case(tmp_path, "run", 1.0, n_cells=20))
    monkeypatch.setattr(transient, "RUNAWAY", 1e-9)
    with pytest.raises(bte.SolverDivergedError, match="diverged at step 1"):
        bte.solve(problem, time_step=TAU / 20, total_time=TAU, scheme="implicit")


def test_growth_warning_recorded_in_the_result(tmp_path, monkeypatch):
    """A round-off growth warning of the explicit scheme is kept in result.warnings (and so in
    kappa.json), not only printed; a stable run has none."""
    problem = bte.read_input_folder(ttg_case(tmp_path, "run", 1.0, n_cells=20))
    dt = cfl_step(2 * np.pi * MFP, 20, 0.2)
    quiet = bte.solve(problem, time_step=dt, total_time=4 * dt)
    assert quiet.warnings == []
    monkeypatch.setattr(transient, "GROWTH_WARNING", 0.0)
    with pytest.warns(RuntimeWarning, match="round-off may grow"):
        loud = bte.solve(problem, time_step=dt, total_time=4 * dt)
    assert len(loud.warnings) == 1 and "round-off may grow" in loud.warnings[0]
    bte.write_outputs(loud, tmp_path / "out")
    record = json.loads((tmp_path / "out" / "kappa.json").read_text())
    assert loud.warnings[0] in record["warnings"]
