"""``mts phonons ...``: structure → force constants → modes → κ → band table.

    mts phonons run (--structure FILE --calculator NAME | --phono3py-yaml FILE [--forces-fc3 F]
                    [--forces-fc2 F [--phono3py-yaml-fc2 FILE]]) [--born FILE | --no-nac]
                    [--dim N N N] [--displacement A] [--cutoff-pair A] [--random N]
                    [--mesh N N N] [--temperatures T ...] [--lbte] [--isotope]
                    [--boundary-mfp UM] [--bands N] [--binning {frequency,mfp,giftbte}]
                    [--direction X Y Z] [--output DIR] [--no-plots]

Calculators by name as in a study file (workflows.calculators).  With --structure the
structure and force constants are stages of the study runner (workflows.study) cached under
OUT/stages, so a rerun with the same settings computes nothing again; with Born charges
(--born, or a BORN file beside the structure) the force constants are computed directly (the
per-displacement force cache OUT/force_cache still makes a rerun resume), as the stage takes
none yet.  A polar material without Born charges is an error unless --no-nac.  The full κ
tensor (nine components, Cartesian axes of the crystal) is printed and written to kappa.json.
``phonons`` (and phonopy) are imported only inside the handler.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from mtscore import InputError, atomic_path
from workflows.calculators import check_calculator
from workflows.cli.common import EXIT_OK, command_group


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts phonons run``."""
    sub = command_group(
        subparsers, "phonons", help="force constants, phonon modes, bulk kappa and BTE band tables",
        description="Phonons through phonopy/phono3py from any ASE calculator.")

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
    run.add_argument("--forces-fc2", metavar="FILE",
                     help="phono3py FORCES_FC2 file of a separate (larger) fc2 supercell set")
    run.add_argument("--phono3py-yaml-fc2", metavar="FILE",
                     help="phono3py yaml holding that fc2 set's displacements (default: the fc2 "
                          "set of --phono3py-yaml)")
    nac = run.add_mutually_exclusive_group()
    nac.add_argument("--born", metavar="FILE",
                     help="phonopy BORN file: Born charges and dielectric tensor (non-analytic "
                          "correction); default: the yaml's nac_params or a BORN file beside the "
                          "yaml or structure")
    nac.add_argument("--no-nac", action="store_true",
                     help="run a polar material without the non-analytic correction on purpose")
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
    run.add_argument("--direction", type=float, nargs=3, metavar="X",
                     help="transport direction (Cartesian) of the band table, which then keeps "
                          "kappa along it; default: |v|, kappa = trace/3 (cubic crystals)")
    run.add_argument("--output", "-o", default="phonons_out", metavar="DIR",
                     help="output directory (default phonons_out); the force cache is kept in "
                          "DIR/force_cache so a rerun resumes")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.set_defaults(func=_cmd_run)


def _force_constants(args: argparse.Namespace, output: Path):
    """The force constants of the command: computed through the study runner (cached under
    OUT/stages, forces under OUT/force_cache so a rerun resumes; with the Born charges of
    --born or of a BORN file beside the structure) or loaded from phono3py files."""
    import phonons

    nac = False if args.no_nac else None
    for key in ("born", "forces_fc3", "forces_fc2", "phono3py_yaml_fc2"):
        value = getattr(args, key)
        if value is not None and not Path(value).is_file():
            raise InputError("no such file", value, key="--" + key.replace("_", "-"))
    if not args.structure:
        return phonons.load_force_constants(
            args.phono3py_yaml, args.forces_fc3, forces_fc2=args.forces_fc2,
            phono3py_yaml_fc2=args.phono3py_yaml_fc2, born=args.born, nac=nac)
    if not args.calculator:
        raise InputError("--structure needs --calculator")
    if not Path(args.structure).is_file():
        raise InputError("no such file", args.structure, key="--structure")
    if args.forces_fc2 or args.phono3py_yaml_fc2:
        raise InputError("--forces-fc2 and --phono3py-yaml-fc2 go with --phono3py-yaml",
                         key="--forces-fc2")
    check_calculator(args.calculator)
    born = args.born
    beside = Path(args.structure).with_name("BORN")
    if born is None and nac is None and beside.is_file():
        born = beside
    from workflows.stages import read_force_constants, read_structure_file
    from workflows.study import StudyRunner

    if born is None and nac is None:    # a polar crystal without charges: before any stage
        from phonons.nac import check_polar
        check_polar(read_structure_file(args.structure).get_chemical_symbols(),
                    file=args.structure, key="--born")
    runner = StudyRunner(output / "stages", args.calculator)
    structure = runner.structure(str(Path(args.structure).resolve()))
    stage = runner.force_constants(structure, args.dim, args.displacement,
                                   cutoff_pair=args.cutoff_pair, n_random=args.random,
                                   forces_dir=output / "force_cache", progress=True,
                                   born=born, nac=nac)
    return read_force_constants(stage)


def _cmd_run(args: argparse.Namespace) -> int:
    import warnings

    import numpy as np

    import phonons

    output = Path(args.output)
    fc = _force_constants(args, output)
    output.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", phonons.ImaginaryModeWarning)
        written = fc.write(output)
        options = dict(is_isotope=args.isotope, boundary_mfp=args.boundary_mfp,
                       progress=True)
        results = [phonons.bulk_kappa(fc, args.mesh, args.temperatures, **options)]
        if args.lbte:
            results.append(phonons.bulk_kappa(fc, args.mesh, args.temperatures, method="lbte",
                                              **options))
        modes = phonons.mode_properties(fc, args.mesh, args.temperatures[0], **options)
    for message in dict.fromkeys(str(w.message) for w in caught
                                 if issubclass(w.category, phonons.ImaginaryModeWarning)):
        print(f"warning: {message}", file=sys.stderr)

    table = output / f"phonons_{args.bands}.dat"
    material = phonons.write_band_table(modes, table, args.bands, args.binning,
                                        direction=args.direction)
    written += [table, phonons.write_mode_data(modes, output / "modes.npz")]
    summary = {
        "mesh": [int(n) for n in args.mesh],
        "temperatures_K": [float(t) for t in args.temperatures],
        "is_isotope": args.isotope, "boundary_mfp_um": args.boundary_mfp,
        "non_analytic_correction": fc.nac is not None,
        "kappa_W_mK": {r.method: r.kappa.tolist() for r in results},
        "band_table": {"file": table.name, "bands": args.bands, "binning": args.binning,
                       "direction": None if args.direction is None else list(args.direction),
                       "kappa_W_mK": float(material.kappa_bulk()),
                       "temperature_K": float(args.temperatures[0])},
    }
    with atomic_path(output / "kappa.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1))
    written.append(output / "kappa.json")
    if not args.no_plots:
        from phonons import plots
        written += [plots.plot_dispersion(fc, output / "dispersion.png"),
                    plots.plot_dos(fc, output / "dos.png", mesh=args.mesh),
                    plots.plot_accumulation(modes, output / "accumulation.png")]
    for result in results:
        print(result.summary())
    print(f"band table   {table} ({args.bands} bands by {args.binning}, "
          f"kappa {material.kappa_bulk():.6g} W/mK at {args.temperatures[0]:g} K, "
          f"modes kappa {np.sum(modes.mode_kappa()):.6g})")
    print(f"outputs      {output} ({len(written)} files)")
    return EXIT_OK
