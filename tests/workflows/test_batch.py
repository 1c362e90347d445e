"""Batch runs on Dask: every job completes when a worker is killed mid-run, a job with a bad
input fails alone with a clear message, a rerun computes nothing new."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

from workflows.batch import load_batch_config, run_batch


def batch_file(tmp_path: Path, materials: str) -> Path:
    path = tmp_path / "batch.toml"
    path.write_text(f"""
output = "{tmp_path / 'out'}"
[potential]
calculator = "tersoff"
[phonons]
mesh = [4, 4, 4]
n_bands = 4
[bte]
ntheta = 2
nphi = 2
n_cells = 8
[grid]
materials = {materials}
lattice_constant = 5.432
thickness_nm = [10, 100]
temperatures = [300, 400]
strains = [0.0, 0.01]
""")
    return path


@pytest.mark.slow
def test_batch_survives_killed_worker_and_reruns_nothing(tmp_path):
    from distributed import Client, LocalCluster
    from distributed.comm.core import CommClosedError

    config = load_batch_config(batch_file(tmp_path, '["builtin:si"]'))
    assert len(config.jobs) == 8
    killed: list[int] = []          # finished job files when the worker was killed
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        def kill_one():
            while not any((tmp_path / "out" / "stages").glob("structure-*/done.json")):
                time.sleep(0.2)
            victim = sorted(client.scheduler_info()["workers"])[0]
            try:
                client.run(os._exit, 1, workers=[victim])
            except CommClosedError:            # the worker died before it could answer
                pass
            killed.append(len(list((tmp_path / "out" / "jobs").glob("*.json"))))

        killer = threading.Thread(target=kill_one, daemon=True)
        killer.start()
        rows = run_batch(config, scheduler=cluster.scheduler_address, progress=False)
        killer.join(timeout=60)
    assert killed and killed[0] < 8, "no worker was killed during the run"
    assert [r.error for r in rows] == [""] * 8
    assert all(r.kappa_W_mK > 0 for r in rows)
    by = {(round(r.thickness_m * 1e9), r.temperature, r.strain): r.kappa_W_mK for r in rows}
    assert by[(10, 300.0, 0.0)] < by[(100, 300.0, 0.0)]
    again = run_batch(config, progress=False)
    assert all(r.cached for r in again)
    assert [r.kappa_W_mK for r in again] == [r.kappa_W_mK for r in rows]


def test_failing_job_reported_others_finish(tmp_path):
    config = load_batch_config(batch_file(tmp_path, '["builtin:si", "missing.xyz"]'))
    rows = run_batch(config, n_workers=2, progress=False)
    bad = [r for r in rows if r.error]
    assert len(rows) == 16 and len(bad) == 8
    assert all("no such structure file" in r.error and "missing.xyz" in r.error for r in bad)
    assert all(r.kappa_W_mK > 0 for r in rows if not r.error)
    assert (tmp_path / "out" / "results.csv").read_text().count("\n") == 17
