"""The `mts` command line.

    mts bte run DIR [--output OUT] [--quiet] [--binning {giftbte,frequency,mfp}]
                    [--max-iter N] [--residual-temp X] [--residual-flux X]
                    [--checkpoint-every N]
                    [--transient-scheme {explicit,implicit}] [--save-every N]
                    [--total-time S] [--time-step S]
    mts phonons ...   force constants, modes, bulk κ, band tables (workflows/phonons_commands.py)
    mts train CONFIG  train an equivariant potential (workflows/potentials_commands.py)
    mts namd ...      nonadiabatic MD (workflows/nad_commands.py)
    mts pipeline STUDY.toml, mts batch BATCH.toml   (workflows/study_commands.py)

The ``bte`` group is registered here; every other group by the ``add_commands(subparsers)`` of
its module, all listed in :data:`COMMAND_GROUPS`.  A group imports its package only inside its
handlers, so ``mts bte`` never imports torch or phonopy.

Exit codes: 0 success; 1 the run finished without converging (outputs still written), the
solver diverged (SolverDivergedError; no outputs) or the outputs could not be written;
2 bad usage or bad input (one ``mts: error: ...`` line on stderr, no traceback); 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable, Sequence

from workflows import nad_commands, phonons_commands, potentials_commands, study_commands
from workflows.command_common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    PROG,
    positive_float,
    positive_int,
)
from workflows.command_common import report_error as _error

# --------------------------------------------------------------------------------------------
# mts bte ...
# --------------------------------------------------------------------------------------------

def _add_bte_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts bte ...`` (phonon Boltzmann transport, GiftBTE-compatible folders)."""
    bte_parser = subparsers.add_parser(
        "bte", help="phonon BTE solver (GiftBTE-compatible input folders)",
        description="Phonon Boltzmann transport equation solver reading GiftBTE input folders.")
    bte_sub = bte_parser.add_subparsers(dest="bte_command", metavar="COMMAND")
    bte_parser.set_defaults(func=lambda args: _print_help(bte_parser))

    run = bte_sub.add_parser(
        "run", help="solve a GiftBTE run directory and write the outputs",
        description="Read DIR/input/{CONTROL,GEOMETRY,PHONON}, solve the steady BTE, write "
                    "TempLattice.dat, Temperature.dat, Tempband.dat, HeatFlux.dat, kappa.json "
                    "and result.vtu.")
    run.add_argument("directory", metavar="DIR", help="GiftBTE run directory (holds input/)")
    run.add_argument("--output", "-o", metavar="OUT",
                     help="directory for the output files (default: DIR)")
    run.add_argument("--quiet", "-q", action="store_true",
                     help="no live progress line (warnings and the summary are still printed)")
    run.add_argument("--binning", choices=("giftbte", "frequency", "mfp"),
                     help="how modes are grouped into bands when PHONON gives mode data")
    run.add_argument("--max-iter", type=positive_int, metavar="N",
                     help="maximum outer iterations (overrides CONTROL MaxNumIter)")
    run.add_argument("--residual-temp", type=positive_float, metavar="X",
                     help="temperature convergence threshold (overrides CONTROL ResidualTemp)")
    run.add_argument("--residual-flux", type=positive_float, metavar="X",
                     help="heat-flux convergence threshold (overrides CONTROL ResidualFlux)")
    run.add_argument("--checkpoint-every", type=positive_int, metavar="N",
                     help="save the state to OUT/checkpoint.npz every N iterations (time steps "
                          "in transient runs); a run that finds one resumes from it (removed "
                          "when the outputs are written)")
    run.add_argument("--transient-scheme", choices=("explicit", "implicit"), default=None,
                     help="State=Transient: forward Euler as GiftBTE (default) or backward Euler")
    run.add_argument("--save-every", type=positive_int, metavar="N",
                     help="State=Transient: write a result_<step>.vtu every N steps (+ .pvd)")
    run.add_argument("--total-time", type=positive_float, metavar="S",
                     help="State=Transient: override TotalTime (s)")
    run.add_argument("--time-step", type=positive_float, metavar="S",
                     help="State=Transient: override TimeStep (s)")
    run.set_defaults(func=_cmd_bte_run)


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


def _transient_kwargs(args: argparse.Namespace, steady: dict) -> dict:
    """solve() keywords of a State=Transient run from the command-line flags."""
    kwargs = {k: v for k, v in steady.items() if k != "max_iter"}
    for option, key in (("transient_scheme", "scheme"), ("save_every", "save_every"),
                        ("total_time", "total_time"), ("time_step", "time_step")):
        value = getattr(args, option)
        if value is not None:
            kwargs[key] = value
    return kwargs


def _cmd_bte_run(args: argparse.Namespace) -> int:
    """mts bte run: read, solve, write, summarise.  Returns the exit code."""
    import bte
    from bte.progress import ProgressLine

    directory = Path(args.directory)
    if not directory.exists():
        return _error(f"{directory}: no such directory")
    if not directory.is_dir():
        return _error(f"{directory}: not a directory")
    output = Path(args.output) if args.output else directory

    read_kwargs = {}
    if args.binning is not None:
        read_kwargs["binning"] = args.binning
    try:
        problem = bte.read_input_folder(directory, **read_kwargs)
    except bte.BTEInputError as exc:
        return _error(str(exc))
    except OSError as exc:  # an unreadable file the reader did not wrap
        return _error(f"{exc.filename or directory}: {exc.strerror or exc}")

    from bte.parallel import rank
    try:
        root = rank() == 0      # under mpirun only rank 0 reports and writes
    except RuntimeError as exc:  # started by mpirun without mpi4py
        return _error(exc)
    for warning in (getattr(problem, "warnings", None) or []) if root else []:
        print(f"warning: {warning}", file=sys.stderr)

    solve_kwargs = {}
    for option, key in (("max_iter", "max_iter"), ("residual_temp", "residual_temp"),
                        ("residual_flux", "residual_flux")):
        value = getattr(args, option)
        if value is not None:
            solve_kwargs[key] = value

    progress = ProgressLine(enabled=not args.quiet and root)
    transient = problem.control.state == "Transient"
    if transient:
        solve_kwargs = _transient_kwargs(args, solve_kwargs)

        def callback(step, t, err_t, err_q):
            progress.update(step, err_t, err_q, extra=f"step {step}  t {t:.4e} s")
    else:
        callback = progress.update
    checkpoint = None
    if args.checkpoint_every:
        output.mkdir(parents=True, exist_ok=True)
        checkpoint = output / "checkpoint.npz"
        solve_kwargs.update(checkpoint=checkpoint, checkpoint_every=args.checkpoint_every)
    try:
        result = bte.solve(problem, callback=callback, **solve_kwargs)
    except bte.BTEInputError as exc:
        progress.close()
        return _error(str(exc))
    except KeyboardInterrupt:
        progress.close()
        print(f"{PROG}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except bte.SolverDivergedError as exc:
        progress.close()
        print(f"{PROG}: error: solver failed: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        progress.close()  # ends the live line before any traceback or summary

    if not root:
        return EXIT_OK if result.converged else EXIT_FAILED
    try:
        written = bte.write_outputs(result, output)
    except OSError as exc:
        print(f"{PROG}: error: cannot write outputs to {output}: {exc.strerror or exc}",
              file=sys.stderr)
        return EXIT_FAILED
    if checkpoint is not None:    # the outputs are safe: drop the checkpoint (every rank's)
        for path in output.glob("checkpoint*.npz"):
            path.unlink(missing_ok=True)

    if transient:
        print(f"time steps   {result.iterations} to t = {result.times[-1]:.6g} s "
              f"({result.settings['scheme']})")
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


# --------------------------------------------------------------------------------------------
# parser and entry point
# --------------------------------------------------------------------------------------------

#: One registration function per command group (each group module imports only argparse at
#: load time; its package is imported inside its handlers).
COMMAND_GROUPS: list[Callable[[argparse._SubParsersAction], None]] = [
    _add_bte_commands,
    phonons_commands.add_commands,
    potentials_commands.add_commands,
    nad_commands.add_commands,
    study_commands.add_commands,
]


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE


def build_parser() -> argparse.ArgumentParser:
    """The top-level ``mts`` parser with every command group of :data:`COMMAND_GROUPS`."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Multiscale heat and carrier transport suite.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(func=lambda args: _print_help(parser))
    for add_group in COMMAND_GROUPS:
        add_group(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mts`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error (2): argparse already printed
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
