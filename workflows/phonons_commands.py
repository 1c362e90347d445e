"""``mts phonons ...``: structure → force constants → modes → κ → band table.

    mts phonons run (--structure FILE --calculator NAME | --phono3py-yaml FILE [--forces-fc3 F])
                    [--dim N N N] [--displacement A] [--cutoff-pair A] [--random N]
                    [--mesh N N N] [--temperatures T ...] [--lbte] [--isotope]
                    [--boundary-mfp UM] [--bands N] [--binning {frequency,mfp,giftbte}]
                    [--output DIR] [--no-plots]

Calculators by name: ``tersoff`` (matscipy, Tersoff PRB 39 5566 Si), ``sw`` (matscipy,
Stillinger-Weber Si), ``pretrained:NAME`` (``potentials.pretrained_calculator(NAME)``) or
``MODULE:FUNCTION`` (a function returning an ASE calculator).  ``phonons`` (and phonopy) are
imported only inside the handler.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from pathlib import Path

from workflows.command_common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, PROG
from workflows.command_common import report_error as _error


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts phonons run``."""
    parser = subparsers.add_parser(
        "phonons", help="force constants, phonon modes, bulk kappa and BTE band tables",
        description="Phonons through phonopy/phono3py from any ASE calculator.")
    sub = parser.add_subparsers(dest="phonons_command", metavar="COMMAND")
    parser.set_defaults(func=lambda args: (parser.print_help(sys.stderr), EXIT_USAGE)[1])

    run = sub.add_parser(
        "run", help="structure -> fc2/fc3 -> modes -> kappa -> band table",
        description="Compute (or load) symmetrised force constants, mode properties and bulk "
                    "kappa on a q-mesh; write phono3py_disp.yaml, fc2.hdf5, fc3.hdf5, "
                    "kappa.json, a GiftBTE band table, modes.npz and PNG plots.")
    source = run.add_mutually_exclusive_group(required=True)
    source.add_argument("--structure", metavar="FILE",
                        help="unit cell in any ASE-readable format (POSCAR, cif, extxyz, ...)")
    source.add_argument("--phono3py-yaml", metavar="FILE",
                        help="existing phono3py_disp.yaml (forces from --forces-fc3, the yaml, "
                             "or fc2.hdf5/fc3.hdf5 beside it)")
    run.add_argument("--forces-fc3", metavar="FILE", help="phono3py FORCES_FC3 file")
    run.add_argument("--calculator", metavar="NAME",
                     help="tersoff, sw, pretrained:NAME or MODULE:FUNCTION (with --structure)")
    run.add_argument("--dim", type=int, nargs=3, default=(2, 2, 2), metavar="N",
                     help="supercell (default 2 2 2)")
    run.add_argument("--displacement", type=float, default=0.03, metavar="A",
                     help="displacement distance, Angstrom (default 0.03)")
    run.add_argument("--cutoff-pair", type=float, metavar="A",
                     help="skip fc3 pairs farther apart than this, Angstrom")
    run.add_argument("--random", type=int, metavar="N",
                     help="N random-displacement supercells fitted with symfc")
    run.add_argument("--mesh", type=int, nargs=3, default=(11, 11, 11), metavar="N",
                     help="q-mesh (default 11 11 11)")
    run.add_argument("--temperatures", type=float, nargs="+", default=[300.0], metavar="T",
                     help="temperatures, K (default 300); modes and band table use the first")
    run.add_argument("--lbte", action="store_true", help="also solve the full LBTE")
    run.add_argument("--isotope", action="store_true", help="natural-isotope scattering")
    run.add_argument("--boundary-mfp", type=float, metavar="UM",
                     help="boundary scattering mean free path, micrometres")
    run.add_argument("--bands", type=int, default=20, metavar="N",
                     help="bands in the GiftBTE band table (default 20)")
    run.add_argument("--binning", choices=("frequency", "mfp", "giftbte"), default="frequency",
                     help="how modes are grouped into bands (default frequency)")
    run.add_argument("--output", "-o", default="phonons_out", metavar="DIR",
                     help="output directory (default phonons_out); the force cache is kept in "
                          "DIR/force_cache so a rerun resumes")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.set_defaults(func=_cmd_run)


def make_calculator(spec: str):
    """An ASE calculator from a name (see the module docstring)."""
    if spec in ("tersoff", "sw"):
        from matscipy.calculators.manybody import Manybody
        from matscipy.calculators.manybody.explicit_forms import StillingerWeber, TersoffBrenner
        from matscipy.calculators.manybody.explicit_forms.stillinger_weber import (
            Stillinger_Weber_PRB_31_5262_Si,
        )
        from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
            Tersoff_PRB_39_5566_Si_C,
        )
        form = (TersoffBrenner(Tersoff_PRB_39_5566_Si_C) if spec == "tersoff"
                else StillingerWeber(Stillinger_Weber_PRB_31_5262_Si))
        return Manybody(**form)
    if spec.startswith("pretrained:"):
        potentials = importlib.import_module("potentials")
        return potentials.pretrained_calculator(spec.split(":", 1)[1])
    if ":" in spec:
        module, function = spec.split(":", 1)
        return getattr(importlib.import_module(module), function)()
    raise ValueError(f"unknown calculator {spec!r}: use tersoff, sw, pretrained:NAME or "
                     "MODULE:FUNCTION")


def _cmd_run(args: argparse.Namespace) -> int:
    import warnings

    import numpy as np

    import phonons
    from bte import BTEInputError

    output = Path(args.output)
    try:
        if args.structure:
            if not args.calculator:
                return _error("--structure needs --calculator")
            from ase.io import read
            atoms = read(args.structure)
            calculator = make_calculator(args.calculator)
            output.mkdir(parents=True, exist_ok=True)
            fc = phonons.compute_force_constants(
                atoms, calculator, args.dim, displacement=args.displacement,
                cutoff_pair_distance=args.cutoff_pair, n_random=args.random,
                cache_dir=output / "force_cache", progress=True)
        else:
            fc = phonons.load_force_constants(args.phono3py_yaml, args.forces_fc3)
    except (OSError, ValueError, ImportError, AttributeError) as exc:
        return _error(exc)
    except phonons.ForceEvaluationError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_FAILED

    output.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", phonons.ImaginaryModeWarning)
        written = fc.write(output)
        options = dict(is_isotope=args.isotope, boundary_mfp=args.boundary_mfp)
        results = [phonons.bulk_kappa(fc, args.mesh, args.temperatures, **options)]
        if args.lbte:
            results.append(phonons.bulk_kappa(fc, args.mesh, args.temperatures, method="lbte",
                                              **options))
        modes = phonons.mode_properties(fc, args.mesh, args.temperatures[0], **options)
    for warning in caught:
        if issubclass(warning.category, phonons.ImaginaryModeWarning):
            print(f"warning: {warning.message}", file=sys.stderr)

    table = output / f"phonons_{args.bands}.dat"
    try:
        material = phonons.write_band_table(modes, table, args.bands, args.binning)
    except BTEInputError as exc:
        return _error(exc)
    written += [table, phonons.write_mode_data(modes, output / "modes.npz")]
    summary = {
        "mesh": [int(n) for n in args.mesh],
        "temperatures_K": [float(t) for t in args.temperatures],
        "is_isotope": args.isotope, "boundary_mfp_um": args.boundary_mfp,
        "kappa_W_mK": {r.method: r.kappa.tolist() for r in results},
        "band_table": {"file": table.name, "bands": args.bands, "binning": args.binning,
                       "kappa_W_mK": material.kappa_bulk(),
                       "temperature_K": float(args.temperatures[0])},
    }
    (output / "kappa.json").write_text(json.dumps(summary, indent=1))
    written.append(output / "kappa.json")
    if not args.no_plots:
        from phonons import plots
        written += [plots.plot_dispersion(fc, output / "dispersion.png"),
                    plots.plot_dos(fc, output / "dos.png"),
                    plots.plot_accumulation(modes, output / "accumulation.png")]
    for result in results:
        print(result.summary())
    print(f"band table   {table} ({args.bands} bands by {args.binning}, "
          f"kappa {material.kappa_bulk():.6g} W/mK at {args.temperatures[0]:g} K, "
          f"modes kappa {np.sum(modes.mode_kappa()):.6g})")
    print(f"outputs      {output} ({len(written)} files)")
    return EXIT_OK
