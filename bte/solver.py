"""Steady non-gray phonon BTE: source iteration by ordered sweeps, optional synthetic
(diffusion) acceleration, first or second order (deferred correction), GiftBTE boundary types.

Orchestration only; the numba kernels live in bte.kernels.  Units: m, s, K, J m^-3 K^-1,
W m^-2, W m^-1 K^-1.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from .checkpoint import Checkpointer
from .diffusion import DiffusionOperator, build_diffusion
from .discretisation import Discretisation, check_memory, discretise, per_pair, residuals
from .monitor import Monitor, monitor_of
from .problem import BoundaryKind, Problem, SolverDivergedError
from .result import Result
from .transport import Transport

#: the steady solver's old callback(iteration, err_T, err_q); see bte.monitor
Callback = Callable[[int, float, float], None]


def _kappa_effective(problem: Problem, heat_flux: np.ndarray):
    """κ_eff along the driving direction, from the volume-integrated heat flux (GiftBTE's
    example scripts, spec §2.7): κ = (Σ q·d̂ V / (A L)) · L / ΔT, with d̂ and L the direction
    and distance from the hot to the cold boundary and A the real cross-section: the area of the
    hot boundary projected on d̂ (Σ a |n·d̂|), so a circular wire is divided by its disc, not its
    bounding square, and a porous film by its whole inlet (pores included).  Where the hot and
    cold boundaries' projected areas differ (by over 1 %) the bounding box volume V_box stands
    for A L, as in GiftBTE's scripts.  The drive is a periodic pair with a temperature offset,
    else thermalizing walls at two temperatures.  Returns (kappa or None, direction or None,
    description)."""
    g = problem.geometry
    bcs = problem.boundary_conditions

    def centre(indices):
        sel = np.isin(g.bface_index, list(indices))
        a = g.bface_area[sel]
        return (a[:, None] * g.bface_center[sel]).sum(0) / a.sum()

    def projected(indices, direction):
        sel = np.isin(g.bface_index, list(indices))
        return float((g.bface_area[sel] * np.abs(g.bface_normal[sel] @ direction)).sum())

    present = set(np.unique(g.bface_index).tolist())
    pairs = [(i, bc.partner, bc.value - bcs[bc.partner].value) for i, bc in sorted(bcs.items())
             if bc.kind == BoundaryKind.PERIODIC and bc.partner in bcs and i in present
             and bc.value > bcs[bc.partner].value]
    walls = {i: bc.value for i, bc in bcs.items()
             if bc.kind == BoundaryKind.THERMALIZING and i in present}
    if pairs:
        hot, cold, dt = pairs[0]
        hot_ids, cold_ids = [hot], [cold]
        d = centre([cold]) - centre([hot])
        how = f"periodic boundaries {hot} -> {cold} with a {dt:g} K offset"
    elif len(set(walls.values())) >= 2:
        t_hot, t_cold = max(walls.values()), min(walls.values())
        hot_ids = [i for i, t in walls.items() if t == t_hot]
        cold_ids = [i for i, t in walls.items() if t == t_cold]
        d = centre(cold_ids) - centre(hot_ids)
        dt = t_hot - t_cold
        how = f"thermalizing walls at {t_hot:g} K and {t_cold:g} K"
    else:
        return None, None, ("no driving temperature difference (no periodic offset, no two wall "
                            "temperatures)")
    length = float(np.linalg.norm(d))
    d = d / length
    dim = problem.geometry_dimension
    area_hot, area_cold = projected(hot_ids, d), projected(cold_ids, d)
    if dim > 1 and area_hot > 0 and abs(area_hot - area_cold) <= 0.01 * max(area_hot, area_cold):
        volume, what = area_hot * length, "A * L), A the hot boundary's area normal to d"
    else:
        volume = float(np.prod(np.ptp(problem.mesh.points[:, :dim], axis=0)))
        what = "V_box)"
    q_along = float((heat_flux @ d * g.volume).sum()) / volume
    return q_along * length / dt, d, how + f": kappa = (sum q.d V / ({what}) * L / dT"


@dataclass
class _Options:
    """Steady settings: CONTROL's, overridden by solve's keyword arguments."""

    max_iter: int
    tol_t: float
    tol_q: float
    synthetic: bool
    order: str

    @classmethod
    def of(cls, problem: Problem, max_iter, residual_temp, residual_flux, scheme,
           order) -> _Options:
        ctl = problem.control
        scheme = (ctl.iterative_scheme if scheme is None else scheme).strip()
        return cls(max_iter=ctl.max_num_iter if max_iter is None else max_iter,
                   tol_t=ctl.residual_temp if residual_temp is None else residual_temp,
                   tol_q=ctl.residual_flux if residual_flux is None else residual_flux,
                   synthetic=scheme.lower().startswith("synthetic"),
                   order=(ctl.order if order is None else order).strip())


def _diffusion(problem: Problem, d: Discretisation,
               heat: np.ndarray) -> tuple[DiffusionOperator, np.ndarray | None]:
    """The diffusion operator of the synthetic correction and the start field (bulk κ of each
    material's pair table, Marshak wall and interface conductances), and Fourier's law on the
    same mesh (K per cell, for the hot-spot comparison; None without a heat source)."""
    g = problem.geometry
    dim, w = problem.material_dimension, d.weights
    kappa_cell = (((d.cap * d.speed**2 * d.tau) @ w).sum(1) / dim)[d.cell_mat]
    band_cv = (d.cap * d.speed) @ w                                    # (n_mat, nb) Σ_k w C v
    cv = band_cv[d.bf_mat]                                             # (nbf, nb)
    wall_h = cv.sum(1) * (0.5 if dim == 3 else 2 / np.pi)
    iface_g = (cv * d.bf_trans).sum(1) * (0.25 if dim == 3 else 1 / np.pi)
    linked = d.bf_kind == BoundaryKind.INTERFACE
    iface_g[linked] = 0.5 * (iface_g[linked] + iface_g[g.bface_partner[linked]])
    upwind_h = band_cv.sum(1)[d.cell_mat] * (0.25 if dim == 3 else 1 / np.pi)
    diff = build_diffusion(g, kappa_cell, upwind_h, d.bf_kind, d.bf_value, wall_h, iface_g,
                           d.bf_flux)
    fourier = None
    if heat.any():
        fourier = build_diffusion(g, kappa_cell, np.zeros(g.n_cells), d.bf_kind, d.bf_value,
                                  np.full(g.n_bfaces, np.inf), iface_g, d.bf_flux)
        fourier = fourier.solve(heat, boundary=True)
    return diff, fourier


def _start_temperature(problem: Problem, diff: DiffusionOperator, heat: np.ndarray) -> np.ndarray:
    """InitialTemperatureFile's field, else the diffusion solution (level Tref if the domain
    is closed), K per cell."""
    if problem.initial_temperature is not None:
        return np.array(problem.initial_temperature, dtype=np.float64)
    temp = diff.solve(heat, boundary=True)
    if diff.singular:
        temp += problem.control.t_ref - np.average(temp, weights=problem.geometry.volume)
    return temp


class _Synthetic:
    """The synthetic (diffusion) correction δT of each iteration, off for Sequential runs."""

    def __init__(self, problem: Problem, run: Transport, diff: DiffusionOperator, enabled: bool):
        g, d = problem.geometry, run.d
        self.diff, self.enabled, self.volume = diff, enabled, g.volume
        self.g_cell = ((d.cap / d.tau) @ d.weights).sum(1)[d.cell_mat]  # Σ_bk w C/τ per cell
        self.t_level = np.average(run.temp, weights=g.volume)
        # cap of the lagged inflows (incoming, not thermalizing), (nb, nd, nbf): δT adds
        # cap δT there; the cell whose correction a face's inflow carries is the partner's
        # across a periodic pair (where the inflow comes from), else its own
        self.inflow_cap = per_pair(d.cap, d.bf_mat, np.ones(g.n_bfaces))
        self.inflow_cap *= ((d.bf_sn < 0) & (d.bf_kind != BoundaryKind.THERMALIZING)[:, None]).T
        self.inflow_cell = np.where(d.bf_kind == BoundaryKind.PERIODIC,
                                    g.bface_cell[np.maximum(g.bface_partner, 0)], g.bface_cell)

    def correct(self, run: Transport, temp: np.ndarray) -> np.ndarray:
        """The emission temperature of the next sweep (K, deviation); the reflected/periodic
        inflows in run.e_bnd carry the correction too, else the walls undo it."""
        t_lat = run.t_lat
        delta = (self.diff.solve(self.g_cell * (t_lat - temp), boundary=False)
                 if self.enabled else 0 * t_lat)
        if self.diff.singular:   # closed domain: the level is fixed by energy conservation
            delta += self.t_level - np.average(t_lat + delta, weights=self.volume)
        run.e_bnd += self.inflow_cap * delta[self.inflow_cell]
        return t_lat + delta


def _check_divergence(it: int, err_t: float, err_q: float, spread: float, runaway: float,
                      history: list[tuple[float, float]], rising: int) -> int:
    """Raise SolverDivergedError on NaN/inf, a runaway temperature spread (K) or residuals
    that both rose for 10 iterations; returns the updated count of such rises."""
    hint = "try Order=1 or 2limit"
    if not (np.isfinite(err_t) and np.isfinite(err_q)):
        raise SolverDivergedError(f"the iteration diverged at iteration {it} (NaN/inf); {hint}")
    if spread > runaway:
        raise SolverDivergedError(f"the temperature spread grew to {spread:.3g} K at iteration "
                                  f"{it}; {hint}")
    both_rose = len(history) > 1 and err_t > history[-2][0] and err_q > history[-2][1]
    rising = rising + 1 if both_rose else 0
    if rising >= 10 and it > 20:
        raise SolverDivergedError(f"both residuals rose for 10 iterations (iteration {it}); "
                                  f"{hint}")
    return rising


def solve(problem: Problem, *, max_iter: int | None = None, residual_temp: float | None = None,
          residual_flux: float | None = None, scheme: str | None = None,
          order: str | None = None, callback: Callback | None = None,
          monitor: Monitor | None = None, checkpoint: str | Path | None = None,
          checkpoint_every: int = 10, force_memory: bool = False) -> Result:
    """Solve the steady BTE of `problem`.

    Settings default to the CONTROL file (MaxNumIter, ResidualTemp, ResidualFlux,
    IterativeScheme 'Sequential' | 'Synthetic', Order '1' | '2' | '2limit'); keyword
    arguments override them.  ``monitor.iteration(iteration, None, err_T, err_q)`` (or the
    older callback(iteration, err_T, err_q)) is called after every iteration.  Stops when both
    GiftBTE convergence measures are below their thresholds, at max_iter, or raises
    SolverDivergedError when the iteration diverges.  With ``checkpoint`` (a file path) the
    iteration state is saved there every ``checkpoint_every`` iterations and a run finds and
    resumes it (max_iter counts from the first iteration of the first run); the caller removes
    the file once the result is safe.  The memory the run needs is estimated first
    (bte.discretisation.check_memory): a run that would not fit in the available memory raises
    BTEInputError with the estimate, unless ``force_memory``.
    """
    start = time.perf_counter()
    opt = _Options.of(problem, max_iter, residual_temp, residual_flux, scheme, order)
    memory = check_memory(problem, transient=False, force=force_memory)
    report = monitor_of(monitor, callback, transient=False)
    g, d = problem.geometry, discretise(problem)
    heat = np.ascontiguousarray(problem.heat_source, dtype=np.float64)
    diff, fourier = _diffusion(problem, d, heat)
    run = Transport(d, g.volume, _start_temperature(problem, diff, heat), opt.order)
    synthetic = _Synthetic(problem, run, diff, opt.synthetic)
    # a field whose spread grows far beyond that of the start is running away, even where the
    # range-normalised err_T stays O(0.1) (growth at a steady ratio)
    runaway = 1e6 * max(np.ptp(run.temp), np.abs(run.d.bf_value).max(initial=0.0),
                        1e-12 * abs(synthetic.t_level))
    temp, t_prev, q_prev = run.temp, run.temp.copy(), np.zeros((g.n_cells, 3))
    history: list[tuple[float, float]] = []
    rising, it, first, converged = 0, 0, 1, False
    nb, nd, nc = d.shape
    saver = Checkpointer(checkpoint, checkpoint_every, nc, nb, nd, int(opt.synthetic),
                         opt.order, d.speed, d.tau, d.cap, d.lattice, d.heat_ratio, d.bf_kind,
                         run.d.bf_value, d.bf_trans, heat, g.volume, rank=run.part.rank,
                         size=run.part.size, started=start)
    state = saver.resume()
    if state is not None:
        run.e[...], run.e_bnd[...], temp = state["e"], state["e_bnd"], state["temp"]
        t_prev, q_prev = state["t_prev"], state["q_prev"]
        history = [tuple(map(float, row)) for row in state["history"]]
        rising, first = int(state["rising"]), int(state["iteration"]) + 1
        it, opt.max_iter = first - 1, max(opt.max_iter, first)   # resumed: one iteration at least
    for it in range(first, opt.max_iter + 1):
        run.sweep(temp, heat)
        temp = synthetic.correct(run, temp)
        err_t, err_q = residuals(run.t_lat, t_prev, run.flux, q_prev, run.level)
        history.append((err_t, err_q))
        report.iteration(it, None, err_t, err_q)
        if err_t <= opt.tol_t and err_q <= opt.tol_q and np.ptp(run.t_lat) <= runaway:
            converged = True
            break
        rising = _check_divergence(it, err_t, err_q, np.ptp(run.t_lat), runaway, history,
                                   rising)
        t_prev, q_prev = run.t_lat.copy(), run.flux.copy()
        if saver.due(it):
            saver.save(e=run.e, e_bnd=run.e_bnd, temp=temp, t_prev=t_prev, q_prev=q_prev,
                       history=np.array(history).reshape(-1, 2), rising=np.array(rising),
                       iteration=np.array(it))
    kappa, direction, how = _kappa_effective(problem, run.flux)
    settings = dict(scheme="Synthetic" if opt.synthetic else "Sequential", order=opt.order,
                    mpi_ranks=run.part.size, n_directions=nd, n_bands=nb, n_cells=nc,
                    angle_method=problem.angle_method, ntheta=problem.ntheta,
                    nphi=problem.nphi, residual_temp=opt.tol_t, residual_flux=opt.tol_q,
                    max_iter=opt.max_iter, cycle_broken_cells=int(d.n_cycle_cells.sum()),
                    memory_estimate_bytes=memory)
    return Result(problem=problem, **run.fields(), kappa_effective=kappa, kappa_method=how,
                  kappa_direction=direction, iterations=it, converged=converged,
                  residual_history=history, wall_time=saver.wall_time(),
                  settings=settings, temperature_fourier=fourier)
