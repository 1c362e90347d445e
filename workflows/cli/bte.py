"""``mts bte run DIR``: solve a GiftBTE run directory (steady or State=Transient).

    mts bte run DIR [--output OUT] [--quiet] [--binning {giftbte,frequency,mfp}]
                    [--max-iter N] [--residual-temp X] [--residual-flux X]
                    [--checkpoint-every N] [--force-memory] [--force-steps]
                    [--transient-scheme {explicit,implicit}] [--save-every N]
                    [--total-time S] [--time-step S]

Exit codes: 0 converged, 1 not converged (outputs still written) or the solver diverged (no
outputs), 2 bad input.  The output directory (default ``./<DIR name>-out`` in the current
directory, never inside DIR) is checked to be writable, and the run's memory estimated, before the
solve starts.  Only ``bte`` is imported, never torch or phonopy.
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings
from pathlib import Path

from mtscore import InputError, temporary_name
from workflows.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    PROG,
    RunFailed,
    command_group,
    positive_float,
    positive_int,
)

#: (flag, type, metavar, solve() keyword, help) of the options that override CONTROL settings
_STEADY_OPTIONS = (
    ("--max-iter", positive_int, "N", "max_iter",
     "maximum outer iterations (overrides CONTROL MaxNumIter)"),
    ("--residual-temp", positive_float, "X", "residual_temp",
     "temperature convergence threshold (overrides CONTROL ResidualTemp)"),
    ("--residual-flux", positive_float, "X", "residual_flux",
     "heat-flux convergence threshold (overrides CONTROL ResidualFlux)"))
_TRANSIENT_OPTIONS = (
    ("--save-every", positive_int, "N", "save_every",
     "write a result_<step>.vtu every N steps (+ .pvd)"),
    ("--total-time", positive_float, "S", "total_time", "override TotalTime (s)"),
    ("--time-step", positive_float, "S", "time_step", "override TimeStep (s)"))


def _given(args: argparse.Namespace, options) -> dict:
    """solve() keywords of the ``options`` given on the command line."""
    values = {key: getattr(args, flag[2:].replace("-", "_")) for flag, _, _, key, _ in options}
    return {key: value for key, value in values.items() if value is not None}


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts bte run`` (phonon Boltzmann transport, GiftBTE-compatible folders)."""
    bte_sub = command_group(
        subparsers, "bte", help="phonon BTE solver (GiftBTE-compatible input folders)",
        description="Phonon Boltzmann transport equation solver reading GiftBTE input folders.")

    run = bte_sub.add_parser(
        "run", help="solve a GiftBTE run directory and write the outputs",
        description="Read DIR/input/{CONTROL,GEOMETRY,PHONON} and solve the BTE.  A steady run "
                    "writes TempLattice.dat, Temperature.dat, Tempband.dat, HeatFlux.dat, "
                    "kappa.json and result.vtu; a transient run (State=Transient in CONTROL, "
                    "options --transient-scheme, --total-time, --time-step, --save-every) "
                    "writes the time series and result_<step>.vtu snapshots.")
    run.add_argument("directory", metavar="DIR", help="GiftBTE run directory (holds input/)")
    run.add_argument("--output", "-o", metavar="OUT",
                     help="directory for the output files (default: ./<name of DIR>-out in "
                          "the current directory; never inside DIR)")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="no live progress line (warnings and the summary are still printed)")
    run.add_argument("--binning", choices=("giftbte", "frequency", "mfp"),
                     help="how modes are grouped into bands when PHONON gives mode data")
    for flag, kind, metavar, _, text in _STEADY_OPTIONS:
        run.add_argument(flag, type=kind, metavar=metavar, help=text)
    run.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                     help="save the state to OUT/checkpoint.npz every N iterations (time steps "
                          "in transient runs); a run that finds one resumes from it (removed "
                          "when the outputs are written)")
    run.add_argument("--force-memory", action="store_true",
                     help="run even when the estimated memory exceeds what the machine has "
                          "available")
    run.add_argument("--force-steps", action="store_true",
                     help="State=Transient: run even more than 1e6 time steps "
                          "(TotalTime / TimeStep)")
    run.add_argument("--transient-scheme", choices=("explicit", "implicit"), default=None,
                     help="State=Transient: forward Euler as GiftBTE (default) or backward Euler")
    for flag, kind, metavar, _, text in _TRANSIENT_OPTIONS:
        run.add_argument(flag, type=kind, metavar=metavar, help=f"State=Transient: {text}")
    run.set_defaults(func=_cmd_run)


def _num(value) -> str:
    try:
        return f"{float(value):.3g}"
    except (TypeError, ValueError):
        return str(value)


def _format_kappa(result) -> str:
    """One-line description of κ_eff (W m^-1 K^-1) and how it was computed."""
    method = f" ({result.kappa_method})" if getattr(result, "kappa_method", "") else ""
    if result.kappa_effective is None:
        return f"n/a{method}"
    text = f"{result.kappa_effective:.6g} W/mK"
    direction = getattr(result, "kappa_direction", None)
    if direction is not None:
        try:
            text += " along [" + ", ".join(f"{float(c):.3g}" for c in direction) + "]"
        except TypeError:
            pass
    return text + method


def _read(directory: Path, binning: str | None):
    """The problem of ``directory``; its reader warnings are printed once, by the caller, from
    ``problem.warnings`` (the reader also emits them as Python warnings: silenced here)."""
    import bte

    if not directory.exists():
        raise InputError("no such directory", directory)
    if not directory.is_dir():
        raise InputError("not a directory", directory)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return bte.read_input_folder(directory, **({} if binning is None else
                                                   {"binning": binning}))


def default_output(directory: Path) -> Path:
    """Where a run of ``directory`` writes without --output: ``<name>-out`` in the current
    directory (``bte-out`` for a directory without a name), or beside DIR when the current
    directory lies inside DIR, so that a shipped example folder is never written into."""
    directory = directory.resolve()
    name = f"{directory.name or 'bte'}-out"
    here = Path.cwd().resolve()
    if here == directory or directory in here.parents:
        return directory.parent / name
    return here / name


def check_output(output: Path) -> None:
    """Create ``output`` and check that a file can be written in it, before any work is done:
    an InputError for a path that is an existing file, RunFailed when it cannot be created or
    written (read-only, full disk)."""
    if output.exists() and not output.is_dir():
        raise InputError("the output path is an existing file, not a directory", output)
    try:
        output.mkdir(parents=True, exist_ok=True)
        probe = temporary_name(output / "write-check")
        with open(probe, "wb") as handle:
            handle.write(b"0" * 4096)
            handle.flush()
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as exc:
        raise RunFailed(f"cannot write outputs to {output}: {exc.strerror or exc}") from None


class _Progress:
    """The run's Monitor: shows every iteration or time step on a ProgressLine and records the
    first one reported (> 1 when a checkpoint resumed)."""

    def __init__(self, line) -> None:
        self.line = line
        self.first: int | None = None

    def iteration(self, step: int, time: float | None, err_t: float, err_q: float) -> None:
        if self.first is None:
            self.first = step
        self.line.iteration(step, time, err_t, err_q)


def _start_line(problem, output: Path, solve_kwargs: dict, args: argparse.Namespace,
                transient: bool) -> str:
    """The one line printed before the solve: what is solved, the memory estimate (bytes of the
    largest arrays, bte.discretisation.check_memory, which refuses a run that does not fit
    unless --force-memory), a transient run's step count (bte.transient.step_plan, refused
    beyond bte.transient.MAX_STEPS unless --force-steps) and where the outputs go."""
    from bte.discretisation import check_memory, n_directions

    need = check_memory(problem, transient=transient, force=args.force_memory)
    kind = "transient" if transient else "steady"
    steps = ""
    if transient:
        from bte.transient import check_steps, step_plan
        plan = step_plan(problem, solve_kwargs.get("time_step"), solve_kwargs.get("total_time"))
        check_steps(plan, force=args.force_steps)
        steps = (f", {plan['n_steps']} time steps of {plan['time_step']:.3g} s "
                 f"(~{plan['work']:.2g} band-direction-cell updates)")
    return (f"starting     {kind} run: {problem.n_bands} bands x {n_directions(problem)} "
            f"directions x {problem.geometry.n_cells} cells{steps}, memory about "
            f"{need / 2**20:.3g} MiB; outputs to {output}")


def _cmd_run(args: argparse.Namespace) -> int:
    """mts bte run: read, check the output, solve, write, summarise.  Returns the exit code."""
    import bte
    from bte.parallel import rank
    from bte.progress import ProgressLine

    directory = Path(args.directory)
    problem = _read(directory, args.binning)
    output = Path(args.output) if args.output else default_output(directory)
    try:
        root = rank() == 0      # under mpirun only rank 0 reports and writes
    except RuntimeError as exc:  # started by mpirun without mpi4py
        raise InputError(str(exc)) from None
    for warning in (getattr(problem, "warnings", None) or []) if root else []:
        print(f"warning: {warning}", file=sys.stderr)

    solve_kwargs = _given(args, _STEADY_OPTIONS)
    transient = problem.control.state == "Transient"
    if transient:
        solve_kwargs = {k: v for k, v in solve_kwargs.items() if k != "max_iter"}
        solve_kwargs.update(_given(args, _TRANSIENT_OPTIONS))
        if args.transient_scheme is not None:
            solve_kwargs["scheme"] = args.transient_scheme
    start = _start_line(problem, output, solve_kwargs, args, transient)
    if root:
        check_output(output)
    if args.force_memory:
        solve_kwargs["force_memory"] = True
    if args.force_steps and transient:
        solve_kwargs["force_steps"] = True
    if root and not args.quiet:
        print(start, file=sys.stderr)
    checkpoint = None
    if args.checkpoint_every:
        output.mkdir(parents=True, exist_ok=True)
        checkpoint = output / "checkpoint.npz"
        solve_kwargs.update(checkpoint=checkpoint, checkpoint_every=args.checkpoint_every)
    progress = ProgressLine(enabled=not args.quiet and root)
    monitor = _Progress(progress)
    try:
        result = bte.solve(problem, monitor=monitor, **solve_kwargs)
    finally:
        progress.close()  # ends the live line before any message or summary

    if not root:
        return EXIT_OK if result.converged else EXIT_FAILED
    try:
        written = bte.write_outputs(result, output)
    except OSError as exc:
        raise RunFailed(f"cannot write outputs to {output}: {exc.strerror or exc}") from exc
    if checkpoint is not None:    # the outputs are safe: drop the checkpoint (every rank's)
        for path in output.glob("checkpoint*.npz"):
            path.unlink(missing_ok=True)

    step = "time step" if transient else "iteration"
    if monitor.first is not None and monitor.first > 1:
        print(f"resumed      from the checkpoint after {step} {monitor.first - 1}")
    if transient:
        print(f"time steps   {result.iterations} to t = {result.times[-1]:.6g} s "
              f"({result.settings['scheme']})")
        amplitude = getattr(result, "grating_amplitude", None)
        if amplitude is not None and len(amplitude):
            print(f"grating      amplitude {float(amplitude[0]):.6g} K -> "
                  f"{float(amplitude[-1]):.6g} K (TTGAmplitude.dat)")
        print(f"wall time    {_num(result.wall_time)} s")
        print(f"outputs      {output} ({len(written)} files)")
        return EXIT_OK
    status = "converged" if result.converged else "NOT converged"
    print(f"iterations   {result.iterations} ({status})")
    print(f"kappa_eff    {_format_kappa(result)}")
    rise = result.peak_temperature_rise()
    if rise is not None:
        print(f"peak rise    {rise['bte']:.6g} K (Fourier on the same mesh: "
              f"{rise['fourier']:.6g} K)")
    print(f"wall time    {_num(result.wall_time)} s")
    print(f"outputs      {output} ({len(written)} files)")
    if not result.converged:
        last = ""
        if result.residual_history:
            err_t, err_q = result.residual_history[-1]
            last = f" (last err_T {_num(err_t)}, err_q {_num(err_q)})"
        print(f"{PROG}: not converged after {result.iterations} iterations{last}; "
              f"outputs hold the last iterate", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK
