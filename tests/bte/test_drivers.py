"""The two drivers' common contract: one Monitor protocol (monitor.iteration(step, time, err_T,
err_q)), the old callbacks still accepted, results whose types say what they hold (a steady
result with κ; a transient one without κ whose completion is computed), and the same answer
through a monitor as through a callback (the arithmetic does not depend on how progress is
reported)."""
from __future__ import annotations

import io

import numpy as np
import pytest
from bte_cases import MATERIALS, make_case

import bte
from bte import BoundaryKind as Kind
from bte.monitor import Monitor
from bte.progress import ProgressLine
from bte.result import RunFields
from bte.transient import TransientResult, solve_transient

V, TAU = 2677.0, 39.9e-12                 # Si_1.dat: group velocity m/s, relaxation time s


class Recorder:
    """A Monitor keeping every call."""

    def __init__(self):
        self.calls = []

    def iteration(self, step, time, err_t, err_q):
        self.calls.append((step, time, err_t, err_q))


GRAY = {"BandNumber": 1, "MaterialFile 1": str(MATERIALS / "DATABASE" / "Si" / "Si_1.dat")}


def film(tmp_path, **phonon):
    """A cross-plane film column, walls at 301 K and 300 K."""
    return bte.read_input_folder(make_case(
        tmp_path, "cross-plane/1e-7", "film", mesh=("rect", [0.0, 1.0], np.linspace(0, 1, 9)),
        bc=[(1, Kind.SPECULAR, 0), (2, Kind.THERMALIZING, 301), (3, Kind.THERMALIZING, 300),
            (4, Kind.SPECULAR, 0)],
        phonon={"Ntheta": 2, "Nphi": 2, **phonon}))


def grating(tmp_path):
    length = 2 * np.pi * V * TAU
    return bte.read_input_folder(make_case(tmp_path, "TTG/2pikn=1", "ttg", mesh=("1d", 20),
                                           geometry={"ScaleX": length},
                                           phonon={"Ntheta": 2, "Nphi": 2}))


def test_steady_monitor_and_callback_agree(tmp_path):
    problem = film(tmp_path)
    recorder, seen = Recorder(), []
    by_monitor = bte.solve(problem, max_iter=30, monitor=recorder)
    by_callback = bte.solve(problem, max_iter=30, callback=lambda *a: seen.append(a))
    assert isinstance(recorder, Monitor) and isinstance(ProgressLine(), Monitor)
    assert [(s, t) for s, t, *_ in recorder.calls] == [(s, None) for s, *_ in seen]
    assert [c[2:] for c in recorder.calls] == [c[1:] for c in seen]
    assert by_monitor.kappa_effective == by_callback.kappa_effective
    assert by_monitor.iterations == len(seen) and isinstance(by_monitor, bte.Result)
    with pytest.raises(ValueError, match="not both"):
        bte.solve(problem, max_iter=1, monitor=recorder, callback=print)


def test_transient_result_type_and_monitor(tmp_path):
    problem = grating(tmp_path)
    recorder, seen = Recorder(), []
    dt = 0.2 * TAU
    kw = dict(scheme="implicit", time_step=dt, total_time=10 * dt, early_stop=False)
    result = solve_transient(problem, monitor=recorder, **kw)
    solve_transient(problem, callback=lambda *a: seen.append(a), **kw)
    assert recorder.calls == seen
    assert [t for _, t, *_ in recorder.calls] == pytest.approx(dt * np.arange(1, 11))
    assert isinstance(result, TransientResult) and isinstance(result, RunFields)
    assert not isinstance(result, bte.Result)
    assert not hasattr(result, "kappa_effective")          # no steady κ to pretend to
    assert result.reached_end and not result.steady_state and result.converged



def test_transient_run_that_reaches_a_steady_state(tmp_path):
    """A gray film starting at 300 K between walls at 301 K and 300 K settles: the run stops
    early and says so, with the steady solver's field (to the stopping tolerance)."""
    problem = film(tmp_path, **GRAY)
    stopped = solve_transient(problem, scheme="implicit", time_step=TAU, total_time=1e4 * TAU,
                              residual_temp=1e-6, residual_flux=1e-5)
    assert stopped.steady_state and not stopped.reached_end and stopped.completed
    assert stopped.iterations < 10_000
    steady = bte.solve(problem, residual_temp=1e-10, residual_flux=1e-10, max_iter=500)
    np.testing.assert_allclose(stopped.temperature_lattice, steady.temperature_lattice,
                               atol=1e-3)


def test_progress_line_is_a_monitor():
    out = io.StringIO()
    line = ProgressLine(out, enabled=True)
    line.iteration(3, 2.5e-12, 1e-3, 1e-2)
    line.close()
    assert "step 3" in out.getvalue() and "2.5000e-12 s" in out.getvalue()
