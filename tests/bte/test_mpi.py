"""MPI scale-out: `mpirun -n N mts bte run` with 1, 2 and 3 ranks gives the serial result to
1e-10, steady and transient (ranks need not divide the number of directions)."""
from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bte_cases import mpirun_bte

import bte

MPIRUN = shutil.which("mpirun")
# mpi4py is looked up, not imported: imported here, it would let ASE initialise MPI in the
# test process (see bte_cases.mpirun)
pytestmark = [pytest.mark.skipif(MPIRUN is None, reason="no mpirun on this machine"),
              pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None,
                                 reason="mpi4py is not installed"),
              pytest.mark.slow]


FIFTEEN_ITERATIONS = ("--max-iter", "15", "--residual-temp", "1e-30", "--residual-flux", "1e-30")


def test_ranks_reproduce_the_serial_run(case_factory, tmp_path):
    """cross-plane/1e-7 (15 bands x 32 directions = 480 pairs, Synthetic) on a 3 x 20 mesh,
    15 iterations: fields from 1, 2 and 3 ranks equal the serial solve."""
    run = case_factory("cross-plane/1e-7", "mpi",
                       mesh=("rect", np.linspace(0, 1, 4), np.linspace(0, 1, 21)))
    problem = bte.read_input_folder(run)
    serial = bte.solve(problem, max_iter=15, residual_temp=1e-30, residual_flux=1e-30)
    for n in (1, 2, 3):
        done = mpirun_bte(n, run, tmp_path / f"n{n}", *FIFTEEN_ITERATIONS)
        assert done.returncode == 1, done.stderr        # stopped at --max-iter, as asked
        t = np.loadtxt(tmp_path / f"n{n}" / "TempLattice.dat")[:, -1]
        q = np.loadtxt(tmp_path / f"n{n}" / "HeatFlux.dat")[:, -3:]
        np.testing.assert_allclose(t, serial.temperature_lattice, rtol=0, atol=1e-10)
        np.testing.assert_allclose(q, serial.heat_flux, rtol=1e-10,
                                   atol=1e-10 * np.abs(serial.heat_flux).max())


def test_ranks_reproduce_the_serial_transient_run(case_factory, tmp_path):
    """TTG 2πKn = 1 (gray, the shipped angular set) on 40 cells, 60 explicit steps: TTG.dat
    from 2 and 3 ranks equals the serial run."""
    run = case_factory("TTG/2pikn=1", "ttg", mesh=("1d", 40))
    problem = bte.read_input_folder(run)
    dt = float(problem.control.time_step)
    serial = bte.solve(problem, total_time=60 * dt, early_stop=False)
    for n in (2, 3):
        out = tmp_path / f"n{n}"
        done = mpirun_bte(n, run, out, "--total-time", repr(60 * dt))
        assert done.returncode == 0, done.stderr
        ttg = np.loadtxt(out / "TTG.dat")
        np.testing.assert_allclose(ttg[:, 1], serial.probe_temperature, rtol=0, atol=1e-10)


def test_mpirun_works_from_a_process_that_initialised_mpi():
    """A process that has initialised MPI (here directly; in a test run, ASE's ``world`` once
    mpi4py is imported) can still start mpirun: the ranks run and report the world size."""
    script = ("import sys; sys.path.insert(0, sys.argv[1]); from mpi4py import MPI; "
              "from bte_cases import mpirun; "
              "done = mpirun(2, sys.executable, '-c', "
              "'from mpi4py import MPI; print(MPI.COMM_WORLD.Get_size())'); "
              "print(done.returncode, done.stdout.replace(chr(10), ''))")
    child = subprocess.run([sys.executable, "-c", script, str(Path(__file__).parent)],
                           capture_output=True, text=True, timeout=300)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "0 22"             # each of the 2 ranks printed "2"
