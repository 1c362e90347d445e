"""The ML-descriptor NA-MD chain: MD → TB on small cells → train → predict large → trapping time.

Units: time fs, energy eV, temperature K.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import numpy as np

from .analysis import KB, RESOLVED_SPANS, TimeConstantFit, decoherence_times, fit_time_constant
from .dataset import DefectCell, TrapData, simulate_cell, trap_data, trap_states
from .descriptors import make_descriptor
from .hopping import HoppingResult, VibronicHamiltonian, run_surface_hopping
from .md import Trajectory
from .ml import HamiltonianModel
from .trajectory import ElectronicTrajectory


@dataclass
class TrainingSet:
    """TB reference data of the small cells and the descriptor settings used for them."""

    data: list[TrapData]
    descriptor_kind: str
    sizes: list[int]


def training_set(sizes: tuple[int, ...] = (12, 24), trajectories: tuple[int, ...] = (3, 2),
                 nframes: int = 300, temperature: float = 300.0, descriptor: str = "soap",
                 seed: int = 0, progress=None) -> TrainingSet:
    """MD + direct TB + descriptors for ``trajectories[i]`` one-vacancy cells of each size.

    nframes frames of 1 fs per trajectory; progress: optional callable(str) for log lines.
    """
    desc = make_descriptor(descriptor)
    data = []
    for n, count in zip(sizes, trajectories):
        for t in range(count):
            s = seed + 100 * n + t
            cell, traj = simulate_cell(n, nframes, 1, temperature, seed=s)
            data.append(trap_data(cell, traj, desc, trap_states(cell, traj)))
            if progress:
                progress(f"trained data: {n}x{n} cell, trajectory {t + 1}/{count}")
    return TrainingSet(data, descriptor, list(sizes))


def ml_vibronic(model: HamiltonianModel, cell: DefectCell, trajectory: Trajectory,
                descriptor: str = "soap") -> VibronicHamiltonian:
    """ML vibronic Hamiltonian [traps..., CBM] of a (large) cell along its trajectory."""
    q = cell.descriptors(trajectory, make_descriptor(descriptor))
    return model.vibronic(q, trajectory.dt, cell.ncells)


def tb_vibronic(cell: DefectCell, states: ElectronicTrajectory) -> VibronicHamiltonian:
    """Direct-TB vibronic Hamiltonian [traps..., CBM] (midpoint energies, overlap NACs) of the
    states :func:`nad.dataset.trap_states` tracked along a trajectory of ``cell``."""
    nvac = len(cell.environments)
    return states.vibronic(labels=[f"trap{j}" for j in range(nvac)] + ["CBM"])


#: DISH intervals of the published method (one pure-dephasing time)
PUBLISHED_DISH_SCALE = 1.0


def trapping(ham: VibronicHamiltonian | list[VibronicHamiltonian], nsteps: int, nreal: int = 20,
             origins: int = 50, temperature: float = 300.0, method: str = "dish",
             seed: int = 1, decoherence_scale: float = PUBLISHED_DISH_SCALE
             ) -> tuple[HoppingResult, TimeConstantFit]:
    """Electron trapping from the CBM (the last state): surface hopping and an exponential fit.

    ham: one vibronic Hamiltonian or several (independent trajectories of equivalent cells,
    whose populations are averaged); nsteps NA-MD steps of ham.dt fs; ``origins`` time origins
    spread over each trajectory, nreal realisations each; detailed balance at ``temperature`` K;
    DISH decoherence times pooled over all the trajectories (:func:`decoherence_times`).
    decoherence_scale: DISH intervals in dephasing times; the default is the published DISH
    convention of the method being reproduced (Liu et al., PNAS 2024; PYXAID), whose absolute
    rates carry DISH's known deviation in the CPA (see :mod:`nad.hopping`: too slow for small
    gaps, and measured here about 3x faster for these deep traps than with
    :data:`nad.hopping.DISH_CPA_SCALE`); ML-vs-TB ratios and the 1/c scaling are what this
    chain validates.
    Returns (populations, fit of the CBM population to P_eq + (1 - P_eq)·exp(-t/τ), P_eq its
    Boltzmann share at the mean energies).
    """
    hams = ham if isinstance(ham, list) else [ham]
    # one set of decoherence times for all trajectories, pooled over their time origins
    tau = decoherence_times([h.energies for h in hams], hams[0].dt) if method == "dish" else None
    runs, finals = [], []
    for h in hams:
        starts = np.linspace(0, h.nsteps - 1, min(origins, h.nsteps)).astype(np.int64)
        runs.append(run_surface_hopping(h, h.nstates - 1, nsteps, method=method, nreal=nreal,
                                        starts=starts, temperature=temperature, seed=seed,
                                        decoherence=tau, decoherence_scale=decoherence_scale))
        mean = h.energies.mean(axis=0)
        finals.append(1.0 / np.exp(-(mean - mean[-1]) / (KB * temperature)).sum())
    result = runs[0]
    if len(runs) > 1:
        result = HoppingResult(result.times, np.mean([r.populations for r in runs], axis=0),
                               np.mean([r.coherent for r in runs], axis=0), result.method,
                               result.labels, np.concatenate([r.blocks for r in runs]))
    return result, fit_time_constant(result.times, result.populations[:, -1],
                                     final=float(np.mean(finals)))




def describe_case_time(case: dict, source: str) -> str:
    """The trapping time ``tau_<source>`` (``"ml"`` or ``"tb"``) of a :func:`trapping_study`
    case as '12.3 ± 0.4 ps', or 'not resolved (...)' without a number when the run does not
    resolve it (a fit far beyond the run is no measurement)."""
    span_ps = case["simulated_fs"] / 1000.0
    fit = TimeConstantFit(case[f"tau_{source}_fs"], case[f"tau_{source}_error_fs"],
                          "exponential", np.empty(0), bool(case[f"tau_{source}_resolved"]),
                          reason=f"longer than {RESOLVED_SPANS:g}x the simulated "
                                 f"{span_ps:.4g} ps")
    return fit.describe("ps", 1000.0)


def plotted_trapping_times(cases: list[dict], source: str) -> tuple[np.ndarray, np.ndarray]:
    """(τ in fs to draw, resolved) of ``tau_<source>`` of :func:`trapping_study` cases: the
    fitted τ where resolved, its lower bound ``RESOLVED_SPANS`` x the simulated time where not
    (the fit itself, possibly 10^13 ps, is no measurement)."""
    resolved = np.array([bool(c[f"tau_{source}_resolved"]) for c in cases])
    tau = np.array([c[f"tau_{source}_fs"] if ok else min(c[f"tau_{source}_fs"],
                                                         RESOLVED_SPANS * c["simulated_fs"])
                    for c, ok in zip(cases, resolved)], dtype=float)
    return tau, resolved


def trapping_study(output: str | Path, sizes: tuple[int, ...] = (12, 24),
                   trajectories: tuple[int, ...] = (3, 2), nframes: int = 300,
                   large: int = 48, large_frames: int = 200,
                   vacancies: tuple[int, ...] = (1, 2, 4), direct_tb: bool = True,
                   nsteps: int = 300_000, nreal: int = 20, origins: int = 100,
                   temperature: float = 300.0, max_train: int = 800, seed: int = 0,
                   progress=None) -> dict:
    """The whole chain, written to ``output``: results.json and PNG figures, all at the end and
    atomically (a run that fails leaves no partial output and previous files untouched).

    MD + direct TB on one-vacancy cells of ``sizes`` → train the ML Hamiltonian → MD of the
    ``large`` cell with each number of ``vacancies`` → ML vibronic Hamiltonians → DISH NA-MD
    (``nsteps`` of 1 fs for one vacancy, fewer for more) → trapping time vs concentration.
    With ``direct_tb`` the one-vacancy large cell is also solved by direct TB (ML accuracy and
    the ML-vs-TB trapping time).  Each trapping time comes with its fit's standard error and
    whether it is resolved (at most ``RESOLVED_SPANS`` times the simulated time; a longer one
    is a fit to a barely decaying population).  Times fs, energies eV.
    """
    from mtscore import write_files_atomically

    from . import plots
    from .ml import r_squared, rmse

    say = progress or (lambda text: None)
    train = training_set(sizes, trajectories, nframes, temperature, seed=seed, progress=say)
    model = HamiltonianModel(max_train=max_train).fit(train.data, seed=seed)
    say(f"trained: ln(ε0/eV) = {model.log_eps0}, depth shift b = {model.depth_shift} eV")
    results: dict = {"sizes": list(sizes), "large": large, "temperature": temperature,
                     "log_eps0": model.log_eps0, "depth_shift_eV": model.depth_shift, "cases": []}
    curves = {}
    figures: dict[str, Callable[[Path], object]] = {}   # file name -> plot(path), written last
    for nvac in vacancies:
        cell, traj = simulate_cell(large, large_frames, nvac, temperature, seed=seed + 7 * nvac)
        steps = max(nsteps // nvac, 20_000)
        ham = ml_vibronic(model, cell, traj, train.descriptor_kind)
        pops, fit = trapping(ham, steps, nreal, origins, temperature, seed=seed + 1)
        conc = nvac / cell.ncells
        span = steps * ham.dt
        case = {"vacancies": nvac, "concentration": conc, "simulated_fs": span,
                "tau_ml_fs": fit.tau, "tau_ml_error_fs": fit.tau_error,
                "tau_ml_resolved": fit.tau <= RESOLVED_SPANS * span,
                "mean_depth_ml_eV": float(-ham.energies[:, :-1].mean())}
        curves[f"ML, c = {100 * conc:.3f} %"] = (pops.times, pops.populations[:, -1],
                                                  fit.fitted)
        if direct_tb and nvac == 1:
            states = trap_states(cell, traj)
            pops_tb, fit_tb = trapping(tb_vibronic(cell, states), steps, nreal, origins,
                                       temperature, seed=seed + 1)
            ref = trap_data(cell, traj, make_descriptor(train.descriptor_kind), states)
            depth = model.predict_depth(ref.q, cell.ncells)
            coupling = model.predict_coupling(ref.q, ref.dt, cell.ncells)
            case.update(tau_tb_fs=fit_tb.tau, tau_tb_error_fs=fit_tb.tau_error,
                        tau_tb_resolved=fit_tb.tau <= RESOLVED_SPANS * span,
                        depth_rmse_eV=rmse(depth, ref.depth),
                        coupling_magnitude_r2=r_squared(np.abs(coupling), np.abs(ref.coupling)))
            curves[f"TB, c = {100 * conc:.3f} %"] = (pops_tb.times, pops_tb.populations[:, -1],
                                                      fit_tb.fitted)
            figures["parity_depth.png"] = partial(
                plots.plot_parity, ref.depth.ravel(), depth.ravel(), label="E_CBM - E_trap (eV)")
            figures["parity_coupling.png"] = partial(
                plots.plot_parity, np.abs(ref.coupling).ravel(), np.abs(coupling).ravel(),
                label="|<trap|dH/dt|CBM>| (eV/fs)")
        results["cases"].append(case)
        say(f"{large}x{large}, {nvac} vacancies: trapping time {describe_case_time(case, 'ml')}"
            " (ML)" + (f", {describe_case_time(case, 'tb')} (direct TB)"
                       if "tau_tb_fs" in case else ""))
    conc = np.array([c["concentration"] for c in results["cases"]])
    tau, resolved = plotted_trapping_times(results["cases"], "ml")
    tb_ref = [(c["concentration"], c["tau_tb_fs"]) for c in results["cases"]
              if "tau_tb_fs" in c and c["tau_tb_resolved"]]     # a reference is a measurement
    figures["populations.png"] = partial(plots.plot_populations, curves)
    figures["trapping_vs_concentration.png"] = partial(
        plots.plot_trapping_vs_concentration, conc, tau, resolved=resolved,
        reference=tuple(np.array(v) for v in zip(*tb_ref)) if tb_ref else None)
    write_files_atomically(output, [
        ("results.json", lambda path: path.write_text(json.dumps(results, indent=2))),
        *figures.items()])
    return results
