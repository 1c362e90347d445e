"""Transient phonon BTE: GiftBTE's explicit scheme and a backward-Euler (implicit) option.

    ∂e/∂t + v_b s_k·∇e = (C_b T − e)/τ_b + h_b Q(x) f(t)

Explicit (GiftBTE): forward Euler with upwind face values of the old level, second order by
least-squares reconstruction (Order=2, unlimited; 2limit and 1 also work).  Stable only for
Δt below the positivity limit 1/max(1/τ_b + v_b Σ_out (s·n)A/V) (checked before running, an
error above it) and, at second order, weakly unstable for pure advection (the growth of
round-off over the run is estimated and a warning given when it is large).
Implicit: backward Euler, each step solved by the ordered sweeps of the steady solver with the
extra absorption 1/Δt and source e^n/Δt, the emission C_b T iterated within the step until the
lattice temperature changes by less than ``inner_tol`` of its range; stable at any Δt.

Departures from GiftBTE (HEAD), on purpose:
* the heat source of GEOMETRY (REGION, COORDINATE or UniformHeat) is applied in every transient
  run, with f(t) = 1 outside TDTR mode (GiftBTE ignores it there);
* the initial temperature is the InitialTemperatureFile mapped to cells (GiftBTE HEAD ignores the
  file and starts from cos(2πx/Lx)), else Tref everywhere;
* the TDTR envelope is integrated over each step (pulses of PulseTime s every
  1/RepetitionFrequency µs, times 1 + sin(2π f_mod t) at the step midpoint, f_mod in MHz), so a
  pulse shorter than Δt deposits its energy exactly.

TDTR probe (TDTR.dat): the lattice temperature of the cells on the heated surface (the
boundary faces at the minimum of the last coordinate, z in 3D), averaged with the weights
A_f exp(−2 r²/R²) over faces with r < R, R = 2·RadiusProbe, r the distance from the axis
through the origin (GiftBTE's definition, spec §3).
Units: m, s, K, W m^-3, J m^-3 K^-1, W m^-2.
"""
from __future__ import annotations

import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .checkpoint import Checkpointer
from .discretisation import (
    Discretisation,
    check_memory,
    discretise,
    face_area_normals,
    pair_tables,
    problem_angles,
    residuals,
)
from .monitor import Monitor, monitor_of
from .problem import BoundaryKind, BTEInputError, Problem, SolverDivergedError
from .result import RunFields
from .transport import Transport

#: callback(step, t [s], err_T, err_q) after every time step
TransientCallback = Callable[[int, float, float, float], None]

#: a second-order explicit run warns when round-off may grow by more than this over the run
GROWTH_WARNING = 1e6
#: a run of more time steps than this is refused unless forced (force_steps=True)
MAX_STEPS = 1_000_000
#: a field whose spread grows this many times beyond the initial one has run away (diverged)
RUNAWAY = 1e6


@dataclass
class Snapshot:
    """Fields at one saved time level (enough for bte.outputs.write_vtu): K, W m^-2."""

    problem: Problem
    step: int
    time: float
    temperature_lattice: np.ndarray
    temperature_energy: np.ndarray
    heat_flux: np.ndarray
    temperature_band: np.ndarray      # (0, n_cells): per-band fields are not kept per step


@dataclass
class TransientResult(RunFields):
    """A transient run: the final fields (RunFields; iterations = time steps done) and the time
    series.  It has no effective conductivity.

    times (n+1,) s, from 0; probe_temperature (n+1,) K: lattice temperature of the cell nearest
    the origin (TTG.dat); grating_amplitude (n+1,) K or None: the signed amplitude of the
    fundamental Fourier mode of the initial field, for 1D periodic meshes (TTG);
    tdtr_signal (n+1,) K or None: the probe average in TDTR mode; snapshots every save_every
    steps (and the first and last level); stability: the explicit-scheme numbers;
    reached_end: the run got to TotalTime; steady_state: it stopped before, the per-step
    changes err_T and err_q having fallen below their thresholds (early_stop); warnings: the
    run's own warnings (e.g. round-off growth of the explicit scheme), also in kappa.json.
    """

    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    probe_temperature: np.ndarray = field(default_factory=lambda: np.zeros(0))
    grating_amplitude: np.ndarray | None = None
    tdtr_signal: np.ndarray | None = None
    snapshots: list[Snapshot] = field(default_factory=list)
    stability: dict = field(default_factory=dict)
    reached_end: bool = False
    steady_state: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def completed(self) -> bool:
        """The run did what it was asked: reached TotalTime or a steady state."""
        return self.reached_end or self.steady_state

    @property
    def converged(self) -> bool:
        """The name steady results give completion (what ``mts bte run`` checks): completed."""
        return self.completed


def explicit_stability(problem: Problem, time_step: float, n_steps: int,
                       order: str = "2") -> dict:
    """Stability numbers of the forward-Euler scheme on ``problem`` at Δt = time_step (s).

    dt_limit (s): the positivity limit 1/max_{c,b,k}(1/τ_bk + v_bk Σ_out (s_k·n)A/V); beyond it
    the scheme is unstable at any order.  cfl: v Δt Σ_out (s·n)A/V (max).  growth: at second
    order, the estimated amplification of round-off over n_steps from the von Neumann factor
    max_θ |1 − Δt/τ_bk − c_bk (1 − e^{−iθ})(1 + i sin θ / 2)| of the 1D reconstruction
    (1.0 at first order, where Δt ≤ dt_limit is sufficient)."""
    out, tau = _outflow_rates(problem)
    dt_limit = 1.0 / float((out + 1.0 / tau).max())
    cfl = time_step * float(out.max())
    growth = 1.0
    if order.startswith("2"):
        theta = np.linspace(0.0, np.pi, 721)
        symbol = (1 - np.exp(-1j * theta)) * (1 + 0.5j * np.sin(theta))
        c_pair = time_step * out.max(axis=0).ravel()         # (nb·nd,) over materials
        tau_pair = tau.max(axis=0).ravel()
        factor = np.abs(1 - time_step / tau_pair[:, None] - c_pair[:, None] * symbol).max()
        growth = float(np.exp(min(n_steps * np.log(max(factor, 1e-300)), 700.0)))
    return dict(dt_limit=dt_limit, cfl=cfl, dt_over_tau=time_step / float(tau.min()),
                growth=growth)


def _outflow_rates(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(out, tau), (n_mat, nb, nd) each: the largest outflow rate v_bk Σ_out (s_k·n)A/V (1/s)
    over the cells of each material, and the relaxation times (s) of the pair tables."""
    g = problem.geometry
    angles = problem_angles(problem)
    owner = np.repeat(np.arange(g.n_cells), np.diff(g.face_offsets))
    per_face = np.clip(face_area_normals(g) @ angles.directions.T, 0.0, None)   # (nf, nd)
    rate_out = np.zeros((g.n_cells, angles.n_dir))
    np.add.at(rate_out, owner, per_face)
    tables = pair_tables(problem, angles)
    cell_mat = np.asarray(problem.cell_material)
    rate = np.stack([rate_out[cell_mat == m].max(axis=0, initial=0.0)
                     for m in range(len(problem.materials))])             # (n_mat, nd)
    return tables["speed"] * rate[:, None, :], tables["tau"]


def tdtr_envelope(t0: float, dt: float, pulse_time: float, repetition_mhz: float,
                  modulation_mhz: float) -> float:
    """Mean of the TDTR heating envelope over [t0, t0 + dt] (s): the fraction of the step inside
    the pulses [k/f_rep, k/f_rep + pulse_time] times 1 + sin(2π f_mod (t0 + dt/2)); frequencies
    in MHz, repetition 0 = a single pulse at t = 0."""
    t1 = t0 + dt
    if repetition_mhz > 0:
        period = 1e-6 / repetition_mhz
        ks = range(int(np.floor(t0 / period)), int(np.floor(t1 / period)) + 1)
    else:
        period, ks = 0.0, range(0, 1)
    on = sum(max(0.0, min(t1, k * period + pulse_time) - max(t0, k * period)) for k in ks)
    return on / dt * (1.0 + np.sin(2e6 * np.pi * modulation_mhz * (t0 + 0.5 * dt)))


def _tdtr_probe(problem: Problem) -> tuple[np.ndarray, np.ndarray]:
    """(cells, weights) of the TDTR probe average (see the module docstring)."""
    g = problem.geometry
    dim = problem.geometry_dimension
    axis = dim - 1
    z = g.bface_center[:, axis]
    extent = float(np.ptp(problem.mesh.points[:, :dim], axis=0).max())
    surface = np.abs(z - z.min()) <= 1e-9 * extent
    radius = 2.0 * problem.control.radius_probe
    r2 = (g.bface_center[:, :axis] ** 2).sum(1)
    inside = surface & (r2 < radius**2)
    if not inside.any():
        raise BTEInputError(f"no heated-surface face within 2*RadiusProbe = {radius:g} m of the "
                            "origin", None, None, "RadiusProbe")
    weight = g.bface_area[inside] * np.exp(-2.0 * r2[inside] / radius**2)
    return g.bface_cell[inside], weight / weight.sum()


def _grating_mode(problem: Problem, t0: np.ndarray) -> np.ndarray | None:
    """Weights w (nc,) with amplitude = w·T: projection on the fundamental Fourier mode of the
    initial deviation t0 (1D periodic meshes only; None otherwise)."""
    periodic = any(bc.kind == BoundaryKind.PERIODIC for bc in problem.boundary_conditions.values())
    if problem.geometry_dimension != 1 or not periodic:
        return None
    g = problem.geometry
    x = g.centroid[:, 0]
    length = float(np.ptp(problem.mesh.points[:, 0]))
    mode = g.volume * np.exp(-2j * np.pi * (x - problem.mesh.points[:, 0].min()) / length)
    a0 = complex(mode @ t0)
    if abs(a0) == 0.0:
        return None
    return 2.0 * np.real(mode * np.conj(a0) / abs(a0)) / g.volume.sum()


def _positive(value, keyword: str) -> float:
    if value is None:
        raise BTEInputError("missing: a transient run needs TimeStep and TotalTime (s)",
                            None, None, keyword)
    if not value > 0:
        raise BTEInputError(f"must be > 0, got {value!r}", None, None, keyword)
    return float(value)


@dataclass
class _Options:
    """Transient settings: CONTROL's, overridden by solve_transient's keyword arguments."""

    scheme: str
    dt: float
    t_end: float
    n_steps: int
    order: str
    tol_t: float
    tol_q: float

    @classmethod
    def of(cls, problem: Problem, scheme, time_step, total_time, order, residual_temp,
           residual_flux) -> _Options:
        ctl = problem.control
        dt = _positive(ctl.time_step if time_step is None else time_step, "TimeStep")
        t_end = _positive(ctl.total_time if total_time is None else total_time, "TotalTime")
        scheme = scheme.strip().lower()
        if scheme not in ("explicit", "implicit"):
            raise ValueError(f"scheme must be 'explicit' or 'implicit', got {scheme!r}")
        return cls(scheme=scheme, dt=dt, t_end=t_end, n_steps=max(1, int(round(t_end / dt))),
                   order=(ctl.order if order is None else order).strip(),
                   tol_t=ctl.residual_temp if residual_temp is None else residual_temp,
                   tol_q=ctl.residual_flux if residual_flux is None else residual_flux)


def step_plan(problem: Problem, time_step: float | None = None,
              total_time: float | None = None) -> dict:
    """The time stepping of a run of ``problem`` before it starts: time_step, total_time (s, the
    arguments or CONTROL's), n_steps = round(total_time / time_step) and work, the number of
    (band, direction, cell) updates of one sweep per step over the run (an implicit step costs
    several sweeps)."""
    ctl = problem.control
    dt = _positive(ctl.time_step if time_step is None else time_step, "TimeStep")
    t_end = _positive(ctl.total_time if total_time is None else total_time, "TotalTime")
    n_steps = max(1, round(t_end / dt))
    from .discretisation import n_directions
    work = float(n_steps) * problem.n_bands * n_directions(problem) * problem.geometry.n_cells
    return dict(time_step=dt, total_time=t_end, n_steps=n_steps, work=work)


def check_steps(plan: dict, force: bool = False) -> None:
    """Refuse (BTEInputError, key TotalTime) a run of more than MAX_STEPS time steps unless
    ``force``, with the estimate."""
    if plan["n_steps"] > MAX_STEPS and not force:
        raise BTEInputError(
            f"{plan['total_time']:g} s / TimeStep {plan['time_step']:g} s = "
            f"{plan['n_steps']:.3g} time steps (~{plan['work']:.2g} band-direction-cell "
            f"updates), more than {MAX_STEPS:g}; shorten TotalTime, lengthen TimeStep or force "
            "the run (--force-steps, solve(force_steps=True))", None, None, "TotalTime")


def _stability(problem: Problem, opt: _Options, notes: list[str]) -> dict:
    """explicit_stability of the run; an explicit run above the limit is refused, one whose
    round-off may grow by more than GROWTH_WARNING warned about (the warning is also appended
    to ``notes``)."""
    stability = explicit_stability(problem, opt.dt, opt.n_steps, opt.order)
    if opt.scheme != "explicit":
        return stability
    if opt.dt > stability["dt_limit"]:
        raise BTEInputError(
            f"{opt.dt:g} s is above the explicit stability limit {stability['dt_limit']:.4g} s "
            f"(CFL {stability['cfl']:.3g}, dt/tau_min {stability['dt_over_tau']:.3g}); "
            "use a smaller TimeStep or the implicit scheme", None, None, "TimeStep")
    if stability["growth"] > GROWTH_WARNING:
        message = (f"explicit second-order scheme: round-off may grow by "
                   f"~{stability['growth']:.1e} over {opt.n_steps} steps (CFL "
                   f"{stability['cfl']:.3g}); reduce TimeStep or use the implicit scheme")
        notes.append(message)
        warnings.warn(message, RuntimeWarning, stacklevel=3)
    return stability


class _Series:
    """The time series of a run (TTG probe, grating amplitude, TDTR signal, snapshots), from
    the initial level (K, deviations from ``level`` until result())."""

    def __init__(self, problem: Problem, run: Transport, save_every: int):
        g = problem.geometry
        self.problem, self.save_every, self.level = problem, save_every, run.level
        self.probe_cell = int(np.argmin(np.linalg.norm(g.centroid, axis=1)))
        self.grating = _grating_mode(problem, run.t_lat)
        self.tdtr = _tdtr_probe(problem) if problem.control.is_tdtr else None
        self.times, self.probe = [0.0], [run.t_lat[self.probe_cell]]
        self.amp: list[float] = []
        self.signal: list[float] = []
        self.snapshots: list[Snapshot] = []
        self.record(run, 0, 0.0, False)

    def record(self, run: Transport, step: int, now: float, last: bool) -> None:
        """Add time level ``step`` at ``now`` s (the probe at t = 0 is set by __init__)."""
        t_lat = run.t_lat
        if step:
            self.times.append(now)
            self.probe.append(t_lat[self.probe_cell])
        if self.grating is not None:
            self.amp.append(float(self.grating @ t_lat))
        if self.tdtr is not None:
            self.signal.append(float(self.tdtr[1] @ t_lat[self.tdtr[0]]))
        if self.save_every and (step % self.save_every == 0 or last):
            self.snapshots.append(Snapshot(self.problem, step, now, t_lat + self.level,
                                           run.t_en + self.level, run.flux.copy(),
                                           np.empty((0, len(t_lat)))))

    def state(self) -> dict[str, np.ndarray]:
        """The series as arrays, for a checkpoint."""
        snaps, nc = self.snapshots, len(self.problem.geometry.volume)
        return dict(times=np.asarray(self.times), probe=np.asarray(self.probe),
                    amp=np.asarray(self.amp), signal=np.asarray(self.signal),
                    snap_step=np.array([x.step for x in snaps], dtype=np.int64),
                    snap_time=np.array([x.time for x in snaps]),
                    snap_t_lat=np.array([x.temperature_lattice for x in snaps]).reshape(-1, nc),
                    snap_t_en=np.array([x.temperature_energy for x in snaps]).reshape(-1, nc),
                    snap_flux=np.array([x.heat_flux for x in snaps]).reshape(-1, nc, 3))

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """The series saved by state()."""
        nc = len(self.problem.geometry.volume)
        self.times, self.probe = list(state["times"]), list(state["probe"])
        self.amp, self.signal = list(state["amp"]), list(state["signal"])
        self.snapshots = [Snapshot(self.problem, int(k), float(tk), tl, te, q, np.empty((0, nc)))
                          for k, tk, tl, te, q in zip(state["snap_step"], state["snap_time"],
                                                       state["snap_t_lat"], state["snap_t_en"],
                                                       state["snap_flux"])]

    def result_fields(self) -> dict:
        """The TransientResult fields of the series (absolute temperatures, K)."""
        return dict(times=np.asarray(self.times),
                    probe_temperature=np.asarray(self.probe) + self.level,
                    grating_amplitude=None if self.grating is None else np.asarray(self.amp),
                    tdtr_signal=None if self.tdtr is None else np.asarray(self.signal)
                    + self.level, snapshots=self.snapshots)


def _implicit_step(run: Transport, temp: np.ndarray, heat: np.ndarray, dt: float,
                   inner_tol: float, max_inner: int, step: int) -> int:
    """One backward-Euler step of ``dt`` s from the current level, the emission iterated until
    the lattice temperature changes by less than inner_tol of its range; returns the sweeps
    done.  Raises SolverDivergedError after max_inner sweeps."""
    e_old = run.e.copy()
    for inner in range(1, max_inner + 1):
        run.sweep(temp, heat, 1.0 / dt, e_old)
        change = np.abs(run.t_lat - temp).max()
        temp = run.t_lat.copy()
        if change <= inner_tol * max(np.ptp(run.t_lat), 1e-300):
            return inner
    raise SolverDivergedError(f"implicit step {step}: the emission iteration did not "
                              f"converge in {max_inner} sweeps")


def _heat_factor(problem: Problem, step: int, dt: float) -> float:
    """The heat source's factor during step ``step`` (the TDTR envelope, else 1)."""
    ctl = problem.control
    if not ctl.is_tdtr:
        return 1.0
    return tdtr_envelope((step - 1) * dt, dt, ctl.pulse_time, ctl.repetition_frequency,
                         ctl.modulation_frequency)


def _checkpointer(path, every: int, opt: _Options, d: Discretisation, run: Transport,
                  heat: np.ndarray, temp: np.ndarray, volume: np.ndarray,
                  started: float) -> Checkpointer:
    nb, nd, nc = d.shape
    return Checkpointer(path, every, nc, nb, nd, opt.scheme, opt.order, opt.dt, opt.n_steps,
                        d.speed, d.tau, d.cap, d.bf_kind, run.d.bf_value, heat, temp, volume,
                        rank=run.part.rank, size=run.part.size, started=started)


def solve_transient(problem: Problem, *, scheme: str = "explicit",
                    time_step: float | None = None, total_time: float | None = None,
                    order: str | None = None, save_every: int = 0,
                    residual_temp: float | None = None, residual_flux: float | None = None,
                    early_stop: bool = True, inner_tol: float = 1e-10, max_inner: int = 1000,
                    callback: TransientCallback | None = None, monitor: Monitor | None = None,
                    checkpoint: str | Path | None = None,
                    checkpoint_every: int = 100, force_memory: bool = False,
                    force_steps: bool = False) -> TransientResult:
    """Run the transient BTE of ``problem`` from t = 0 to TotalTime in steps of TimeStep (s).

    scheme: "explicit" (GiftBTE's forward Euler; raises BTEInputError above the stability
    limit) or "implicit" (backward Euler, emission iterated to ``inner_tol`` relative change
    of T per step, at most ``max_inner`` sweeps).  time_step, total_time, order, residual_temp,
    residual_flux override CONTROL.  The run stops early when the per-step changes err_T and
    err_q (as in the steady solver) both fall below their thresholds, unless early_stop is
    False.  save_every > 0 keeps a Snapshot every that many steps (plus the first and the
    last), which bte.write_outputs turns into a .vtu series with a .pvd index.
    ``monitor.iteration(step, t, err_T, err_q)`` (or the older callback(step, t, err_T,
    err_q)) after every step.  With ``checkpoint`` (a file path) the state (fields, time
    series, snapshots) is saved there every ``checkpoint_every`` steps and a run finds and
    resumes it.  Under mpirun the (band, direction) pairs are split over the ranks as in the
    steady solver (bte.parallel), one reduction per step or inner sweep.  The memory the run
    needs is estimated first (bte.discretisation.check_memory): a run that would not fit
    raises BTEInputError with the estimate, unless ``force_memory``; so does a run of more
    than MAX_STEPS time steps (:func:`step_plan`), unless ``force_steps``.  A run whose field
    grows without bound (its spread RUNAWAY times the initial one, or NaN) raises
    SolverDivergedError: it never ends as completed.
    """
    start = time.perf_counter()
    opt = _Options.of(problem, scheme, time_step, total_time, order, residual_temp,
                      residual_flux)
    check_steps(step_plan(problem, opt.dt, opt.t_end), force=force_steps)
    memory = check_memory(problem, transient=True, force=force_memory)
    notes: list[str] = []
    stability = _stability(problem, opt, notes)
    report = monitor_of(monitor, callback, transient=True)
    g, d = problem.geometry, discretise(problem)
    temp0 = (np.array(problem.initial_temperature, dtype=np.float64)
             if problem.initial_temperature is not None
             else np.full(g.n_cells, problem.control.t_ref))
    run = Transport(d, g.volume, temp0, opt.order)
    heat = np.ascontiguousarray(problem.heat_source, dtype=np.float64)
    run.explicit_step(run.temp, 0 * heat, 0.0)   # boundary values of the initial level
    temp = run.t_lat.copy()
    series = _Series(problem, run, save_every)
    # the linear BTE's field is bounded by its initial range, the walls and the heat input
    heat_rise = float(np.abs(heat).max(initial=0.0)) * opt.t_end / max(
        float(np.asarray(d.band_capacity).sum(axis=1).min()), 1e-300)
    runaway = RUNAWAY * max(np.ptp(run.temp), np.abs(run.d.bf_value).max(initial=0.0),
                            heat_rise, 1e-3)
    history: list[tuple[float, float]] = []
    q_prev, inner_total, step, first, stop = run.flux.copy(), 0, 0, 1, False
    saver = _checkpointer(checkpoint, checkpoint_every, opt, d, run, heat, temp, g.volume,
                          start)
    state = saver.resume()
    if state is not None:
        run.e[...], run.e_bnd[...], temp, q_prev = (state["e"], state["e_bnd"], state["temp"],
                                                    state["q_prev"])
        for name in ("t_lat", "t_en", "t_band", "flux"):
            getattr(run, name)[...] = state[name]
        series.restore(state)
        history = [tuple(map(float, row)) for row in state["history"]]
        inner_total, first = int(state["inner_total"]), int(state["step"]) + 1
        step = first - 1
    for step in range(first, opt.n_steps + 1):
        heat_now, t_prev = heat * _heat_factor(problem, step, opt.dt), temp.copy()
        if opt.scheme == "explicit":
            run.explicit_step(temp, heat_now, opt.dt)
        else:
            inner_total += _implicit_step(run, temp, heat_now, opt.dt, inner_tol, max_inner,
                                          step)
        temp, now = run.t_lat.copy(), step * opt.dt
        err_t, err_q = residuals(run.t_lat, t_prev, run.flux, q_prev, run.level)
        history.append((err_t, err_q))
        q_prev = run.flux.copy()
        if not np.all(np.isfinite(run.t_lat)) or np.ptp(run.t_lat) > runaway:
            raise SolverDivergedError(f"the transient run diverged at step {step} (t = {now:g} "
                                      "s); reduce TimeStep or use the implicit scheme")
        stop = early_stop and err_t <= opt.tol_t and err_q <= opt.tol_q
        series.record(run, step, now, step == opt.n_steps or stop)
        report.iteration(step, now, err_t, err_q)
        if stop:
            break
        if saver.due(step):
            saver.save(e=run.e, e_bnd=run.e_bnd, temp=temp, q_prev=q_prev, t_lat=run.t_lat,
                       t_en=run.t_en, t_band=run.t_band, flux=run.flux, **series.state(),
                       history=np.array(history).reshape(-1, 2),
                       inner_total=np.array(inner_total), step=np.array(step))
    settings = dict(state="Transient", scheme=opt.scheme, order=opt.order, time_step=opt.dt,
                    total_time=opt.t_end, steps=step, n_steps=opt.n_steps,
                    save_every=save_every, n_directions=d.shape[1], n_bands=d.shape[0],
                    n_cells=g.n_cells, is_tdtr=problem.control.is_tdtr,
                    inner_sweeps=inner_total, residual_temp=opt.tol_t,
                    residual_flux=opt.tol_q, early_stop=early_stop,
                    memory_estimate_bytes=memory)
    return TransientResult(problem=problem, **run.fields(), iterations=step,
                           residual_history=history, wall_time=saver.wall_time(),
                           settings=settings,
                           **series.result_fields(), stability=stability,
                           reached_end=step == opt.n_steps, steady_state=stop,
                           warnings=notes)


__all__ = ["MAX_STEPS", "Snapshot", "TransientResult", "check_steps", "explicit_stability",
           "solve_transient", "step_plan", "tdtr_envelope"]
