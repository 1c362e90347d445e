"""``mts namd ...``: nonadiabatic molecular dynamics commands (the ``nad`` package).

    mts namd tully [--model {1,2,3}] [--k K ...] [--ntraj N] [--method {fssh,afssh,edc}]
                   [--decoherence C] [--dt AU] [--x0 BOHR] [--mass ME] [--seed S]
    mts namd hop DIR --dt FS --nsteps N [--method {dish,fssh}] [--initial I] [--origins N]
                 [--cyclic] [--temperature K] [--decoherence-scale S] [--nreal N]
                 [--nblocks N] [--seed S] [--prefix Ham_] [--units {Ry,eV}] [--output FILE]
    mts namd trapping [--output OUT] [--sizes N ...] [--trajectories N ...] [--frames N]
                      [--large N] [--large-frames N] [--vacancies N ...] [--no-tb]
                      [--nsteps N] [--nreal N] [--temperature K] [--seed S]

Every input (including the output folder) is checked before a run starts.  ``nad`` is
imported only inside the handlers.  Errors and exit codes: workflows.cli.errors.
"""
from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

from mtscore import InputError, atomic_path
from workflows.cli.common import EXIT_OK, command_group, positive_float, positive_int

if TYPE_CHECKING:
    import numpy as np

#: ``nad.hopping.DISH_CPA_SCALE``, repeated so that building the parser imports no ``nad``
#: (tests/nad/test_nad_commands.py checks that the two agree)
DISH_CPA_SCALE = 8.0
#: ``nad.analysis.RESOLVED_SPANS`` (checked likewise)
TRAPPING_RESOLVED_SPANS = 10.0


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts namd ...``."""
    sub = command_group(
        subparsers, "namd",
        help="nonadiabatic molecular dynamics (surface hopping, ML Hamiltonians)",
        description="Nonadiabatic MD in the classical path approximation: surface hopping on "
                    "PYXAID-style Hamiltonians, Tully's model systems, and the ML-descriptor "
                    "carrier-trapping chain.")
    _add_tully(sub)
    _add_hop(sub)
    _add_trapping(sub)


def _add_tully(sub: argparse._SubParsersAction) -> None:
    tully = sub.add_parser(
        "tully", help="surface hopping on Tully's 1D two-state models",
        description="FSSH with back-reaction on Tully's models (atomic units: hartree, bohr, "
                    "a.u. of time, electron masses); prints R0 T0 R1 T1 with binomial standard "
                    "errors and the fraction of unfinished trajectories per incoming momentum.")
    tully.add_argument("--model", type=int, choices=(1, 2, 3), default=1,
                       help="1: simple, 2: dual avoided crossing, 3: extended coupling with "
                            "reflection (default: %(default)s)")
    tully.add_argument("--k", type=positive_float, nargs="+", default=[10.0, 20.0, 30.0],
                       help="incoming momenta, a.u. (default: %(default)s)")
    tully.add_argument("--ntraj", type=positive_int, default=2000,
                       help="trajectories per momentum (default: %(default)s)")
    tully.add_argument("--method", choices=("fssh", "afssh", "edc"),
                       help="fssh: plain fewest switches (over-coherent: wrong reflected flux "
                            "on model 3); afssh: augmented FSSH (right on models 1-3); edc: "
                            "energy-based decoherence with constant --decoherence (repairs "
                            "model 3, spoils model 2 at high k) (default: fssh, or edc when "
                            "--decoherence is given)")
    tully.add_argument("--decoherence", type=float, metavar="C",
                       help="constant C of the energy-based decoherence (edc), hartree, >= 0; "
                            "tau = (hbar/dE)(1 + C/E_kin) (default: 0.1 with --method edc, "
                            "none otherwise)")
    tully.add_argument("--dt", type=float, metavar="AU",
                       help="nuclear time step, a.u. of time (default: 0.02 bohr of travel "
                            "per step, at most 2 a.u.)")
    tully.add_argument("--x0", type=float, default=-10.5, metavar="BOHR",
                       help="start (and |x0| end) of the trajectories, bohr, < 0 "
                            "(default: %(default)s)")
    tully.add_argument("--mass", type=float, default=2000.0, metavar="ME",
                       help="nuclear mass, electron masses (default: %(default)s)")
    tully.add_argument("--seed", type=int, default=1,
                       help="random seed (default: %(default)s)")
    tully.set_defaults(func=_cmd_tully)


def _add_hop(sub: argparse._SubParsersAction) -> None:
    hop = sub.add_parser(
        "hop", help="surface hopping on PYXAID-style Ham_<k>_re/_im files",
        description="CPA surface hopping (DISH or FSSH) on a directory of vibronic Hamiltonian "
                    "files (one file pair per NA-MD step); writes the populations and prints "
                    "the initial state's decay time with its error over blocks of time "
                    "origins, or 'not resolved' when the run does not sample the decay.")
    hop.add_argument("directory", metavar="DIR",
                     help="folder of <prefix><k>_re / <prefix><k>_im matrices")
    hop.add_argument("--dt", type=positive_float, required=True,
                     help="time step between the files, fs (required)")
    hop.add_argument("--nsteps", type=positive_int, required=True,
                     help="NA-MD steps from each time origin; each origin needs that many "
                          "files after it unless --cyclic (required)")
    hop.add_argument("--method", choices=("dish", "fssh"), default="dish",
                     help="dish: decoherence-induced surface hopping (Boltzmann populations "
                          "with --temperature); fssh: fewest switches (right rates, but WRONG "
                          "Boltzmann populations with --temperature: they run to the "
                          "infinite-temperature mixture) (default: %(default)s)")
    hop.add_argument("--initial", type=int,
                     help="initial state index, 0..nstates-1 (default: the highest)")
    hop.add_argument("--origins", type=positive_int, default=1, metavar="N",
                     help="time origins spread evenly over the files, the populations "
                          "averaged over them (default: %(default)s)")
    hop.add_argument("--cyclic", action="store_true",
                     help="reuse the trajectory cyclically (step k is file k mod nfiles) "
                          "when the run is longer than the files; only for a stationary "
                          "trajectory (default: off, a run beyond the files is an error)")
    hop.add_argument("--temperature", type=positive_float, metavar="K",
                     help="detailed balance at this temperature, K (default: off)")
    hop.add_argument("--decoherence-scale", type=float, metavar="S",
                     help="DISH decoherence intervals in pure-dephasing times, > 0; 1 = the "
                          "published DISH, which is too slow in the CPA (default: "
                          f"{DISH_CPA_SCALE:g}, validated)")
    hop.add_argument("--nreal", type=positive_int, default=100,
                     help="stochastic realisations per time origin (default: %(default)s)")
    hop.add_argument("--nblocks", type=positive_int, default=8,
                     help="independent blocks of time origins (of realisations when there "
                          "are fewer origins) for the error of the decay time "
                          "(default: %(default)s)")
    hop.add_argument("--seed", type=int, default=1, help="random seed (default: %(default)s)")
    hop.add_argument("--prefix", default="Ham_",
                     help="file name prefix (default: %(default)s)")
    hop.add_argument("--units", choices=("Ry", "eV"), default="Ry",
                     help="energy unit of the files: Ry as PYXAID writes them, or eV; eV "
                          "files read as Ry are 13.6x off (default: %(default)s)")
    hop.add_argument("--output", "-o", metavar="FILE",
                     help="populations table: time (fs) and P_i (default: "
                          "DIR/populations.dat)")
    hop.set_defaults(func=_cmd_hop)


def _add_trapping(sub: argparse._SubParsersAction) -> None:
    trap = sub.add_parser(
        "trapping", help="the ML-descriptor trapping chain (MD → TB → ML → NA-MD → trapping "
                         "time vs concentration)",
        description="Train the ML Hamiltonian on small tight-binding cells, predict a large "
                    "cell, run DISH, fit trapping times; writes results.json and PNG figures "
                    "to OUT.  Trapping times longer than "
                    f"{TRAPPING_RESOLVED_SPANS:g}x the simulated time are reported as not "
                    "resolved.")
    trap.add_argument("--output", "-o", default="namd-trapping", metavar="OUT",
                      help="output folder, created if missing (default: %(default)s)")
    trap.add_argument("--sizes", type=positive_int, nargs="+", default=[12, 24],
                      help="edge lengths (unit cells) of the training cells "
                           "(default: %(default)s)")
    trap.add_argument("--trajectories", type=positive_int, nargs="+", default=[3, 2],
                      help="MD trajectories per --sizes entry (default: %(default)s)")
    trap.add_argument("--frames", type=positive_int, default=300,
                      help="MD frames of 1 fs per training trajectory (default: %(default)s)")
    trap.add_argument("--large", type=positive_int, default=48,
                      help="edge length (unit cells) of the predicted cell "
                           "(default: %(default)s)")
    trap.add_argument("--large-frames", type=positive_int, default=200,
                      help="MD frames of 1 fs of the large cell (default: %(default)s)")
    trap.add_argument("--vacancies", type=positive_int, nargs="+", default=[1, 2, 4],
                      help="vacancy counts in the large cell (default: %(default)s)")
    trap.add_argument("--no-tb", action="store_true",
                      help="skip the direct-TB reference of the large cell (default: off)")
    trap.add_argument("--nsteps", type=positive_int, default=300_000,
                      help="NA-MD steps of 1 fs for one vacancy (nsteps/vacancies, at least "
                           "20000, for more) (default: %(default)s)")
    trap.add_argument("--nreal", type=positive_int, default=20,
                      help="realisations per time origin (default: %(default)s)")
    trap.add_argument("--temperature", type=positive_float, default=300.0,
                      help="MD and detailed-balance temperature, K (default: %(default)s)")
    trap.add_argument("--seed", type=int, default=0, help="random seed (default: %(default)s)")
    trap.set_defaults(func=_cmd_trapping)


def check_output_folder(folder: Path, key: str, create: bool = False) -> None:
    """Raise :class:`InputError` unless files can be written into ``folder``: it must be a
    writable directory or, with ``create``, creatable (its nearest existing ancestor a writable
    directory).  Called before a run, so that a bad folder does not fail after it."""
    existing = folder
    while not existing.exists() and create and existing.parent != existing:
        existing = existing.parent
    if not existing.exists():
        raise InputError("output folder does not exist", folder, key=key)
    if not existing.is_dir():
        raise InputError(f"{existing} is not a folder", folder, key=key)
    if not os.access(existing, os.W_OK | os.X_OK):
        raise InputError(f"cannot write into {existing}", folder, key=key)


def _as_option(exc: InputError) -> InputError:
    """A library's input error about argument ``name`` as one about option ``--name``."""
    if exc.key is None or exc.file is not None:
        return exc
    return type(exc)(exc.message, key="--" + exc.key.replace("_", "-"))


def _cmd_tully(args: argparse.Namespace) -> int:
    from nad.tully import run_tully, validate_tully

    try:
        for k in args.k:                  # every momentum checked before the first run
            method, _, c = validate_tully(args.model, k, args.ntraj, args.mass, args.x0,
                                          args.dt, args.decoherence, args.method, args.seed)
    except InputError as exc:
        raise _as_option(exc) from None
    print(f"Tully model {args.model}, {args.ntraj} trajectories, method {method}"
          + (f" (C = {c:g} hartree)" if method == "edc" else "")
          + f", mass {args.mass:g}, x0 = {args.x0:g} bohr, dt = "
          + ("automatic" if args.dt is None else f"{args.dt:g} a.u."))
    print(f"{'k':<8}" + "".join(f"  {name:<13}" for name in ("R0", "T0", "R1", "T1"))
          + "  unfinished")
    unfinished = False
    for k in args.k:
        r = run_tully(args.model, k, args.ntraj, mass=args.mass, x0=args.x0, dt=args.dt,
                      decoherence=args.decoherence, seed=args.seed, method=args.method)
        cells = "".join(f"  {p:5.3f} ± {e:5.3f}" for p, e in zip(r.as_tuple(), r.errors()))
        print(f"{k:<8g}{cells}  {r.unfinished / r.ntraj:10.3f}")
        unfinished |= r.unfinished > 0
    print("± binomial standard errors; unfinished: trajectories still in the interaction "
          "region at the step limit (R0 + T0 + R1 + T1 = 1 - unfinished)")
    if unfinished:
        warnings.warn("some trajectories did not leave the interaction region: the "
                      "probabilities do not sum to 1", stacklevel=1)
    return EXIT_OK


def time_origins(nfiles: int, nsteps: int, origins: int, cyclic: bool) -> np.ndarray:
    """``origins`` distinct start steps spread evenly over ``nfiles`` Hamiltonian steps, each
    followed by ``nsteps`` steps inside the files (all of them with ``cyclic``, a run may then
    wrap around).  Raises :class:`InputError` naming the option when they do not fit."""
    import numpy

    if cyclic:
        if origins > nfiles:
            raise InputError(f"{origins} time origins but only {nfiles} Hamiltonian steps",
                             key="--origins")
        return numpy.arange(origins, dtype=numpy.int64) * nfiles // origins
    last = nfiles - nsteps                # the latest origin with nsteps files after it
    if last < 0:
        raise InputError(f"{nsteps} steps need {nsteps} Hamiltonian steps but the files have "
                         f"{nfiles} (fewer --nsteps, or --cyclic to reuse a stationary "
                         "trajectory)", key="--nsteps")
    if origins > last + 1:
        raise InputError(f"only {last + 1} time origins leave room for {nsteps} steps within "
                         f"{nfiles} Hamiltonian steps", key="--origins")
    return numpy.arange(origins, dtype=numpy.int64) * last // max(origins - 1, 1)


def _cmd_hop(args: argparse.Namespace) -> int:
    import numpy as np

    from nad.hopping import run_surface_hopping
    from nad.pyxaid_io import read_hamiltonians

    directory = Path(args.directory)
    if not directory.is_dir():
        raise InputError("no such directory", directory)
    output = Path(args.output) if args.output else directory / "populations.dat"
    if output.is_dir():
        raise InputError("is a folder, not a file", output, key="--output")
    check_output_folder(output.parent, "--output")
    if args.decoherence_scale is not None and args.method != "dish":
        raise InputError("only DISH has decoherence intervals (--method dish)",
                         key="--decoherence-scale")
    scale = DISH_CPA_SCALE if args.decoherence_scale is None else args.decoherence_scale
    ham = read_hamiltonians(directory, args.dt, args.prefix, args.units)
    initial = ham.nstates - 1 if args.initial is None else args.initial
    if not 0 <= initial < ham.nstates:
        raise InputError(f"state {initial} outside 0..{ham.nstates - 1} ({ham.nstates} states "
                         f"in {directory})", key="--initial")
    starts = time_origins(ham.nsteps, args.nsteps, args.origins, args.cyclic)
    if args.method == "fssh" and args.temperature is not None:
        warnings.warn("FSSH with detailed balance does not give Boltzmann populations (they "
                      "run to the infinite-temperature mixture): use --method dish",
                      stacklevel=1)
    try:
        result = run_surface_hopping(ham, initial, args.nsteps, args.method, args.nreal,
                                     starts=starts, temperature=args.temperature,
                                     seed=args.seed, nblocks=args.nblocks,
                                     decoherence_scale=scale)
    except InputError as exc:
        raise _as_option(exc) from None
    header = "time_fs " + " ".join(f"P{i}" for i in range(ham.nstates))
    with atomic_path(output) as tmp:
        np.savetxt(tmp, np.column_stack([result.times, result.populations]), header=header,
                   fmt="%.6g")
    print(f"{ham.nstates} states, {ham.nsteps} Hamiltonian steps of {ham.dt:g} fs, "
          f"{args.method.upper()}" + (f" (intervals {scale:g} dephasing times)"
                                      if args.method == "dish" else "")
          + f", initial state {initial}, {starts.size} time origin(s) x {args.nreal} "
          f"realisations")
    fit = result.decay_time(initial)
    print(f"decay time   {fit.describe()}"
          + (f" (P{initial}: exponential to a fitted final population {fit.final:.3g}; "
             f"error over {result.blocks.shape[0]} blocks)" if fit.resolved else ""))
    print(f"populations  {output}")
    return EXIT_OK


def _cmd_trapping(args: argparse.Namespace) -> int:
    if len(args.sizes) != len(args.trajectories):
        raise InputError("give one count per --sizes entry", key="--trajectories")
    check_output_folder(Path(args.output), "--output", create=True)
    from nad.pipeline import RESOLVED_SPANS, describe_case_time, trapping_study

    results = trapping_study(args.output, tuple(args.sizes), tuple(args.trajectories),
                             args.frames, args.large, args.large_frames,
                             tuple(args.vacancies), not args.no_tb, args.nsteps, args.nreal,
                             temperature=args.temperature, seed=args.seed, progress=print)
    unresolved = False
    for case in results["cases"]:
        line = (f"c = {100 * case['concentration']:.4f} %  "
                f"tau_ML = {describe_case_time(case, 'ml')}")
        if "tau_tb_fs" in case:
            line += (f"  tau_TB = {describe_case_time(case, 'tb')}  depth RMSE = "
                     f"{1000 * case['depth_rmse_eV']:.1f} meV  |coupling| R2 = "
                     f"{case['coupling_magnitude_r2']:.3f}")
        unresolved |= not all(case[key] for key in case if key.endswith("_resolved"))
        print(line)
    if unresolved:
        print(f"not resolved, raise --nsteps: a trapping time longer than {RESOLVED_SPANS:g}x "
              "its simulated time is a fit far beyond the run, not a measurement")
    print(f"outputs      {args.output}")
    return EXIT_OK
