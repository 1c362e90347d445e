"""Checkpoint and restart of steady runs: a run stopped part-way (or killed) and resumed from
its checkpoint gives the uninterrupted answer."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import bte

SETTINGS = dict(scheme="Sequential", residual_temp=1e-30, residual_flux=1e-30)


@pytest.fixture
def column(case_factory):
    """cross-plane/1e-7 on a 1 x 40 column: source iteration needs many iterations there."""
    return case_factory("cross-plane/1e-7", "column",
                        mesh=("rect", [0.0, 1.0], np.linspace(0.0, 1.0, 41)))


def test_resumed_run_equals_uninterrupted(column, tmp_path):
    problem = bte.read_input_folder(column)
    whole = bte.solve(problem, max_iter=12, **SETTINGS)
    path = tmp_path / "state.npz"
    first = bte.solve(problem, max_iter=8, checkpoint=path, checkpoint_every=4, **SETTINGS)
    assert first.iterations == 8 and path.exists()
    seen = []
    resumed = bte.solve(problem, max_iter=12, checkpoint=path, checkpoint_every=4,
                        callback=lambda it, et, eq: seen.append(it), **SETTINGS)
    assert seen == [9, 10, 11, 12]                      # started after the checkpoint
    assert resumed.iterations == 12
    np.testing.assert_allclose(resumed.temperature_lattice, whole.temperature_lattice,
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(resumed.heat_flux, whole.heat_flux, rtol=1e-12, atol=1e-6)
    np.testing.assert_allclose(np.array(resumed.residual_history),
                               np.array(whole.residual_history), rtol=1e-9)


def test_checkpoint_of_another_problem_is_refused(column, tmp_path):
    problem = bte.read_input_folder(column)
    path = tmp_path / "state.npz"
    bte.solve(problem, max_iter=2, checkpoint=path, checkpoint_every=1, **SETTINGS)
    with pytest.raises(bte.BTEInputError, match="another problem") as info:
        bte.solve(problem, max_iter=4, checkpoint=path, scheme="Synthetic")
    assert info.value.field == "checkpoint"


@pytest.mark.slow
def test_killed_mts_run_resumes(column, tmp_path):
    """`mts bte run --checkpoint-every 2` killed with SIGKILL after its first checkpoint; the
    same command run again resumes and writes the uninterrupted result."""
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "workflows.cli", "bte", "run", str(column), "-o", str(out),
           "-q", "--max-iter", "60", "--residual-temp", "1e-30", "--residual-flux", "1e-30",
           "--checkpoint-every", "2"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    while not (out / "checkpoint.npz").exists() and proc.poll() is None:
        assert time.monotonic() < deadline, "no checkpoint written"
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (out / "checkpoint.npz").exists() and not (out / "TempLattice.dat").exists()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr        # ran to --max-iter (thresholds unreachable)
    assert not (out / "checkpoint.npz").exists()
    problem = bte.read_input_folder(column)
    whole = bte.solve(problem, max_iter=60, scheme=problem.control.iterative_scheme,
                      residual_temp=1e-30, residual_flux=1e-30)
    t = np.loadtxt(out / "TempLattice.dat")
    np.testing.assert_allclose(t[:, -1], whole.temperature_lattice, rtol=0, atol=1e-10)


def test_resumed_run_reports_the_whole_wall_time(column, tmp_path):
    """Issue 23 item 12: a resumed run's wall time counts the run before the checkpoint too (the
    checkpoint holds it), not only the resumed part."""
    problem = bte.read_input_folder(column)
    path = tmp_path / "state.npz"
    first = bte.solve(problem, max_iter=8, checkpoint=path, checkpoint_every=8, **SETTINGS)
    with np.load(path) as saved:
        before = float(saved["wall_s"])
    assert 0 < before <= first.wall_time
    resumed = bte.solve(problem, max_iter=9, checkpoint=path, checkpoint_every=100, **SETTINGS)
    alone = bte.solve(problem, max_iter=1, **SETTINGS).wall_time      # about one iteration
    assert resumed.wall_time >= before
    assert resumed.wall_time - before < 10 * alone + 1.0
