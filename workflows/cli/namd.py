"""``mts namd ...``: nonadiabatic molecular dynamics commands (the ``nad`` package).

    mts namd tully [--model {1,2,3}] [--k K ...] [--ntraj N] [--decoherence C] [--seed S]
    mts namd hop DIR --dt FS --nsteps N [--method {dish,fssh}] [--initial I]
                 [--temperature K] [--nreal N] [--prefix Ham_] [--units {Ry,eV}] [--output FILE]
    mts namd trapping [--output OUT] [--sizes N ...] [--trajectories N ...] [--frames N]
                      [--large N] [--large-frames N] [--vacancies N ...] [--no-tb]
                      [--nsteps N] [--nreal N] [--temperature K] [--seed S]

``nad`` is imported only inside the handlers.  Errors and exit codes: workflows.cli.errors.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mtscore import InputError, atomic_path
from workflows.cli.common import EXIT_OK, command_group, positive_float, positive_int


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts namd ...``."""
    sub = command_group(
        subparsers, "namd",
        help="nonadiabatic molecular dynamics (surface hopping, ML Hamiltonians)",
        description="Nonadiabatic MD in the classical path approximation: surface hopping on "
                    "PYXAID-style Hamiltonians, Tully's model systems, and the ML-descriptor "
                    "carrier-trapping chain.")

    tully = sub.add_parser("tully", help="FSSH on Tully's 1D two-state models",
                           description="Full FSSH with back-reaction on Tully's models; prints "
                                       "R0 T0 R1 T1 per incoming momentum (atomic units).")
    tully.add_argument("--model", type=int, choices=(1, 2, 3), default=1)
    tully.add_argument("--k", type=positive_float, nargs="+", default=[10.0, 20.0, 30.0],
                       help="incoming momenta (a.u.)")
    tully.add_argument("--ntraj", type=positive_int, default=2000)
    tully.add_argument("--decoherence", type=float, metavar="C",
                       help="energy-based decoherence constant (hartree), e.g. 0.1")
    tully.add_argument("--seed", type=int, default=1)
    tully.set_defaults(func=_cmd_tully)

    hop = sub.add_parser("hop", help="surface hopping on PYXAID-style Ham_<k>_re/_im files",
                         description="CPA surface hopping (DISH or FSSH) on a directory of "
                                     "vibronic Hamiltonian files; prints an exponential fit of "
                                     "the initial state's decay and writes the populations.")
    hop.add_argument("directory", metavar="DIR")
    hop.add_argument("--dt", type=positive_float, required=True, help="time step (fs)")
    hop.add_argument("--nsteps", type=positive_int, required=True, help="NA-MD steps")
    hop.add_argument("--method", choices=("dish", "fssh"), default="dish")
    hop.add_argument("--initial", type=int, default=-1,
                     help="initial state index (default: the highest)")
    hop.add_argument("--temperature", type=positive_float, metavar="K",
                     help="detailed balance at this temperature (default: off)")
    hop.add_argument("--nreal", type=positive_int, default=100)
    hop.add_argument("--prefix", default="Ham_")
    hop.add_argument("--units", choices=("Ry", "eV"), default="Ry")
    hop.add_argument("--output", "-o", metavar="FILE",
                     help="populations table (default: DIR/populations.dat)")
    hop.set_defaults(func=_cmd_hop)

    trap = sub.add_parser("trapping", help="the ML-descriptor trapping chain (MD → TB → ML → "
                                           "NA-MD → trapping time vs concentration)",
                          description="Train the ML Hamiltonian on small tight-binding cells, "
                                      "predict a large cell, run DISH, fit trapping times; "
                                      "writes results.json and PNG figures to OUT.")
    trap.add_argument("--output", "-o", default="namd-trapping", metavar="OUT")
    trap.add_argument("--sizes", type=positive_int, nargs="+", default=[12, 24])
    trap.add_argument("--trajectories", type=positive_int, nargs="+", default=[3, 2])
    trap.add_argument("--frames", type=positive_int, default=300)
    trap.add_argument("--large", type=positive_int, default=48)
    trap.add_argument("--large-frames", type=positive_int, default=200)
    trap.add_argument("--vacancies", type=positive_int, nargs="+", default=[1, 2, 4])
    trap.add_argument("--no-tb", action="store_true",
                      help="skip the direct-TB reference of the large cell")
    trap.add_argument("--nsteps", type=positive_int, default=300_000)
    trap.add_argument("--nreal", type=positive_int, default=20)
    trap.add_argument("--temperature", type=positive_float, default=300.0)
    trap.add_argument("--seed", type=int, default=0)
    trap.set_defaults(func=_cmd_trapping)


def _cmd_tully(args: argparse.Namespace) -> int:
    from nad.tully import run_tully

    print(f"Tully model {args.model}, {args.ntraj} trajectories"
          + ("" if args.decoherence is None else f", decoherence C = {args.decoherence}"))
    print(f"{'k':>6} {'R0':>7} {'T0':>7} {'R1':>7} {'T1':>7}")
    for k in args.k:
        r = run_tully(args.model, k, args.ntraj, decoherence=args.decoherence, seed=args.seed)
        print(f"{k:6.1f} " + " ".join(f"{p:7.3f}" for p in r.as_tuple()))
    return EXIT_OK


def _cmd_hop(args: argparse.Namespace) -> int:
    import numpy as np

    from nad.analysis import fit_time_constant
    from nad.hopping import run_surface_hopping
    from nad.pyxaid_io import read_hamiltonians

    directory = Path(args.directory)
    if not directory.is_dir():
        raise InputError("no such directory", directory)
    ham = read_hamiltonians(directory, args.dt, args.prefix, args.units)
    initial = args.initial % ham.nstates if args.initial < 0 else args.initial
    result = run_surface_hopping(ham, initial, args.nsteps, args.method, args.nreal,
                                 temperature=args.temperature)
    output = Path(args.output) if args.output else directory / "populations.dat"
    header = "time_fs " + " ".join(f"P{i}" for i in range(ham.nstates))
    with atomic_path(output) as tmp:
        np.savetxt(tmp, np.column_stack([result.times, result.populations]), header=header,
                   fmt="%.6g")
    print(f"{ham.nstates} states, {ham.nsteps} Hamiltonian steps of {ham.dt} fs, "
          f"{args.method.upper()}, initial state {initial}")
    try:
        fit = fit_time_constant(result.times, result.populations[:, initial],
                                final=float(result.populations[-1, initial]))
        print(f"decay time   {fit.tau:.4g} fs (exponential fit of P{initial})")
    except (ValueError, RuntimeError):
        print("decay time   n/a (no decay to fit)")
    print(f"populations  {output}")
    return EXIT_OK


def _tau(case: dict, source: str) -> str:
    """'12.3 ± 0.4 ps', starred when the run does not resolve it."""
    star = "" if case[f"tau_{source}_resolved"] else "*"
    return (f"{case[f'tau_{source}_fs'] / 1000:.1f} ± "
            f"{case[f'tau_{source}_error_fs'] / 1000:.1f} ps{star}")


def _cmd_trapping(args: argparse.Namespace) -> int:
    from nad.pipeline import RESOLVED_SPANS, trapping_study

    if len(args.sizes) != len(args.trajectories):
        raise InputError("give one count per --sizes entry", key="--trajectories")
    results = trapping_study(args.output, tuple(args.sizes), tuple(args.trajectories),
                             args.frames, args.large, args.large_frames,
                             tuple(args.vacancies), not args.no_tb, args.nsteps, args.nreal,
                             temperature=args.temperature, seed=args.seed, progress=print)
    unresolved = False
    for case in results["cases"]:
        line = f"c = {100 * case['concentration']:.4f} %  tau_ML = {_tau(case, 'ml')}"
        if "tau_tb_fs" in case:
            line += (f"  tau_TB = {_tau(case, 'tb')}  depth RMSE = "
                     f"{1000 * case['depth_rmse_eV']:.1f} meV  |coupling| R2 = "
                     f"{case['coupling_magnitude_r2']:.3f}")
        unresolved |= not all(case[key] for key in case if key.endswith("_resolved"))
        print(line)
    if unresolved:
        print(f"* longer than {RESOLVED_SPANS:g}x its simulated time: not resolved, "
              "raise --nsteps")
    print(f"outputs      {args.output}")
    return EXIT_OK
