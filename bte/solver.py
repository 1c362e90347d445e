"""Steady non-gray phonon BTE: source iteration by ordered sweeps, optional synthetic
(diffusion) acceleration, first or second order (deferred correction), GiftBTE boundary types.

Orchestration only; the numba kernels live in bte.kernels.  Units: m, s, K, J m^-3 K^-1,
W m^-2, W m^-1 K^-1.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from . import kernels
from .checkpoint import fingerprint, load_state, save_state
from .diffusion import build_diffusion
from .discretisation import discretise, initial_state, per_pair, residuals
from .parallel import Partition
from .problem import BoundaryKind, Problem, SolverDivergedError
from .result import Result

Callback = Callable[[int, float, float], None]


def _kappa_effective(problem: Problem, heat_flux: np.ndarray):
    """κ_eff along the driving direction, from the volume-integrated heat flux (GiftBTE's
    example scripts, spec §2.7): κ = (Σ q·d̂ V / V_box) · L / ΔT, with V_box the bounding
    box of the mesh, d̂ and L the direction and distance from the hot to the cold boundary.
    The drive is a periodic pair with a temperature offset, else thermalizing walls at two
    temperatures.  Returns (kappa or None, direction or None, description)."""
    g = problem.geometry
    bcs = problem.boundary_conditions

    def centre(indices):
        sel = np.isin(g.bface_index, list(indices))
        a = g.bface_area[sel]
        return (a[:, None] * g.bface_center[sel]).sum(0) / a.sum()

    present = set(np.unique(g.bface_index).tolist())
    pairs = [(i, bc.partner, bc.value - bcs[bc.partner].value) for i, bc in sorted(bcs.items())
             if bc.kind == BoundaryKind.PERIODIC and bc.partner in bcs and i in present
             and bc.value > bcs[bc.partner].value]
    walls = {i: bc.value for i, bc in bcs.items()
             if bc.kind == BoundaryKind.THERMALIZING and i in present}
    if pairs:
        hot, cold, dt = pairs[0]
        d = centre([cold]) - centre([hot])
        how = f"periodic boundaries {hot} -> {cold} with a {dt:g} K offset"
    elif len(set(walls.values())) >= 2:
        t_hot, t_cold = max(walls.values()), min(walls.values())
        d = (centre([i for i, t in walls.items() if t == t_cold])
             - centre([i for i, t in walls.items() if t == t_hot]))
        dt = t_hot - t_cold
        how = f"thermalizing walls at {t_hot:g} K and {t_cold:g} K"
    else:
        return None, None, ("no driving temperature difference (no periodic offset, no two wall "
                            "temperatures)")
    length = float(np.linalg.norm(d))
    d = d / length
    dim = problem.geometry_dimension
    v_box = float(np.prod(np.ptp(problem.mesh.points[:, :dim], axis=0)))
    q_along = float((heat_flux @ d * g.volume).sum()) / v_box
    return q_along * length / dt, d, how + ": kappa = (sum q.d V / V_box) * L / dT"


def solve(problem: Problem, *, max_iter: int | None = None, residual_temp: float | None = None,
          residual_flux: float | None = None, scheme: str | None = None,
          order: str | None = None, callback: Callback | None = None,
          checkpoint: str | Path | None = None, checkpoint_every: int = 10) -> Result:
    """Solve the steady BTE of `problem`.

    Settings default to the CONTROL file (MaxNumIter, ResidualTemp, ResidualFlux,
    IterativeScheme 'Sequential' | 'Synthetic', Order '1' | '2' | '2limit'); keyword
    arguments override them.  callback(iteration, err_T, err_q) is called after every
    iteration.  Stops when both GiftBTE convergence measures are below their thresholds, at
    max_iter, or raises SolverDivergedError when the iteration diverges.  With ``checkpoint``
    (a file path) the iteration state is saved there every ``checkpoint_every`` iterations
    and a run finds and resumes it (max_iter counts from the first iteration of the first
    run); the caller removes the file once the result is safe.
    """
    start = time.perf_counter()
    ctl = problem.control
    max_iter = ctl.max_num_iter if max_iter is None else max_iter
    tol_t = ctl.residual_temp if residual_temp is None else residual_temp
    tol_q = ctl.residual_flux if residual_flux is None else residual_flux
    scheme = (ctl.iterative_scheme if scheme is None else scheme).strip()
    order = (ctl.order if order is None else order).strip()
    synthetic = scheme.lower().startswith("synthetic")
    second = order.startswith("2")
    limit = order == "2limit"

    s = discretise(problem)
    g = problem.geometry
    nb_, nd, nc = s.shape
    dim = problem.material_dimension
    w = s.weights
    # scalar bulk κ (trace/dim) of each material's pair table, for the diffusion operator
    kappa_mat = ((s.cap * s.speed**2 * s.tau) @ w).sum(1) / dim
    # Marshak conductance of thermalizing walls and interface conductance, per boundary face
    band_cv = (s.cap * s.speed) @ w                                    # (n_mat, nb) Σ_k w C v
    cv = band_cv[s.bf_mat]                                             # (nbf, nb)
    wall_h = cv.sum(1) * (0.5 if dim == 3 else 2 / np.pi)
    iface_g = (cv * s.bf_trans).sum(1) * (0.25 if dim == 3 else 1 / np.pi)
    linked = s.bf_kind == BoundaryKind.INTERFACE
    iface_g[linked] = 0.5 * (iface_g[linked] + iface_g[g.bface_partner[linked]])
    upwind_h = band_cv.sum(1)[s.cell_mat] * (0.25 if dim == 3 else 1 / np.pi)
    diff = build_diffusion(g, kappa_mat[s.cell_mat], upwind_h, s.bf_kind, s.bf_value, wall_h,
                           iface_g, s.bf_flux)
    heat = np.ascontiguousarray(problem.heat_source, dtype=np.float64)

    if problem.initial_temperature is not None:
        temp = np.array(problem.initial_temperature, dtype=np.float64)
    else:
        temp = diff.solve(heat, boundary=True)
        if diff.singular:
            temp += ctl.t_ref - np.average(temp, weights=g.volume)
    fourier = None
    if heat.any():   # Fourier's law on the same mesh, for the hot-spot comparison
        fourier = build_diffusion(g, kappa_mat[s.cell_mat], np.zeros(nc), s.bf_kind, s.bf_value,
                                  np.full(g.n_bfaces, np.inf), iface_g, s.bf_flux)
        fourier = fourier.solve(heat, boundary=True)
    s, level, temp, e, e_bnd = initial_state(s, g.volume, temp)

    t_lat = np.empty(nc)
    t_en = np.empty(nc)
    t_band = np.empty((nb_, nc))
    flux = np.empty((nc, 3))
    g_cell = ((s.cap / s.tau) @ w).sum(1)[s.cell_mat]                  # Σ_bk w C/τ per cell
    t_prev = temp.copy()
    t_level = np.average(temp, weights=g.volume)
    # a field whose spread grows far beyond that of the Fourier start is running away, even
    # where the range-normalised err_T stays O(0.1) (growth at a steady ratio)
    runaway = 1e6 * max(np.ptp(temp), np.abs(s.bf_value).max(initial=0.0), 1e-12 * abs(t_level))
    q_prev = np.zeros((nc, 3))
    history: list[tuple[float, float]] = []
    converged = False
    rising = 0
    it = 0
    # cap of the lagged inflows (incoming, not thermalizing), (nb, nd, nbf): the synthetic
    # correction δT adds cap δT there
    inflow_cap = per_pair(s.cap, s.bf_mat, np.ones(g.n_bfaces))
    inflow_cap *= ((s.bf_sn < 0) & (s.bf_kind != BoundaryKind.THERMALIZING)[:, None]).T
    # the cell whose correction the lagged inflow of a boundary face carries: the partner's
    # cell across a periodic pair (that is where the inflow comes from), else its own
    inflow_cell = np.where(s.bf_kind == BoundaryKind.PERIODIC,
                           g.bface_cell[np.maximum(g.bface_partner, 0)], g.bface_cell)
    part = Partition.for_pairs(nb_, nd, (s.cap > 0).any(0))
    outgoing = np.ascontiguousarray(s.bf_sn.T > 0.0)                  # (nd, nbf)
    if checkpoint is not None and part.size > 1:    # each rank keeps its own share of e
        checkpoint = Path(checkpoint).with_suffix(f".rank{part.comm.Get_rank()}.npz")
    key = ""
    first = 1
    if checkpoint is not None:
        key = fingerprint(nc, nb_, nd, int(synthetic), order, s.speed, s.tau, s.cap,
                          s.lattice, s.heat_ratio, s.bf_kind, s.bf_value, s.bf_trans, heat,
                          g.volume)
        state = load_state(checkpoint, key)
        if state is not None:
            e[...], e_bnd[...], temp = state["e"], state["e_bnd"], state["temp"]
            t_prev, q_prev = state["t_prev"], state["q_prev"]
            history = [tuple(map(float, row)) for row in state["history"]]
            rising, first = int(state["rising"]), int(state["iteration"]) + 1
            it = first - 1
            max_iter = max(max_iter, first)    # a resumed run does at least one iteration
    for it in range(first, max_iter + 1):
        kernels.sweep(e, e_bnd, temp, heat, s, second, limit, 0.0, None, part.active)
        kernels.moments(e, s, t_lat, t_en, t_band, flux, part.active)
        part.reduce(outgoing, e_bnd, t_lat, t_en, t_band, flux)      # MPI: the one reduction
        kernels.update_boundaries(e_bnd, s)
        delta = diff.solve(g_cell * (t_lat - temp), boundary=False) if synthetic else 0 * t_lat
        if diff.singular:   # closed domain: the level is fixed by energy conservation
            delta += t_level - np.average(t_lat + delta, weights=g.volume)
        temp = t_lat + delta
        # the reflected/periodic inflow carries the correction too, else the walls undo it
        e_bnd += inflow_cap * delta[inflow_cell]
        err_t, err_q = residuals(t_lat, t_prev, flux, q_prev, level)
        history.append((err_t, err_q))
        if callback is not None:
            callback(it, err_t, err_q)
        if not (np.isfinite(err_t) and np.isfinite(err_q)):
            raise SolverDivergedError(f"the iteration diverged at iteration {it} (NaN/inf); "
                               "try Order=1 or 2limit")
        if np.ptp(t_lat) > runaway:
            raise SolverDivergedError(f"the temperature spread grew to {np.ptp(t_lat):.3g} K at "
                                      f"iteration {it}; try Order=1 or 2limit")
        if err_t <= tol_t and err_q <= tol_q:
            converged = True
            break
        both_rose = len(history) > 1 and err_t > history[-2][0] and err_q > history[-2][1]
        rising = rising + 1 if both_rose else 0
        if rising >= 10 and it > 20:
            raise SolverDivergedError(f"both residuals rose for 10 iterations (iteration {it}); "
                               "try Order=1 or 2limit")
        t_prev = t_lat.copy()
        q_prev = flux.copy()
        if checkpoint is not None and it % checkpoint_every == 0:
            save_state(checkpoint, key, e=e, e_bnd=e_bnd, temp=temp, t_prev=t_prev,
                       q_prev=q_prev, history=np.array(history).reshape(-1, 2),
                       rising=np.array(rising), iteration=np.array(it))

    kappa, direction, how = _kappa_effective(problem, flux)
    settings = dict(scheme="Synthetic" if synthetic else "Sequential", order=order,
                    mpi_ranks=part.size,
                    n_directions=nd, n_bands=nb_, n_cells=nc, angle_method=problem.angle_method,
                    ntheta=problem.ntheta, nphi=problem.nphi,
                    residual_temp=tol_t, residual_flux=tol_q, max_iter=max_iter,
                    cycle_broken_cells=int(s.n_cycle_cells.sum()))
    return Result(problem=problem, temperature_lattice=t_lat + level,
                  temperature_energy=t_en + level, temperature_band=t_band + level,
                  heat_flux=flux, kappa_effective=kappa, kappa_method=how,
                  kappa_direction=direction, iterations=it, converged=converged,
                  residual_history=history,
                  wall_time=time.perf_counter() - start, settings=settings,
                  temperature_fourier=fourier)
