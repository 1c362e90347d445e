"""``mts data convert IN OUT.extxyz``: DFT data as users have it (vasprun.xml, a glob or tarball
of them, a phono3py yaml with FORCES_FC3/FORCES_FC2 or its own forces, phonopy yaml, extxyz)
written to one extxyz file with ``REF_energy`` / ``REF_forces`` / ``REF_stress`` labels.

Training reads all these formats directly (``[[datasets]]`` of ``mts train``); the conversion is
for those who want a file.  Imports the potentials package only when it runs.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from mtscore import InputError
from workflows.cli.common import EXIT_OK, command_group


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    """Register ``mts data convert IN OUT``."""
    group = command_group(subparsers, "data", help="DFT datasets: convert to extxyz",
                          description="Datasets of labelled structures (potentials package).")
    parser = group.add_parser(
        "convert", help="convert a DFT dataset to one extxyz file",
        description="Read IN (vasprun.xml, a quoted glob of them or a .tar/.tar.gz of them; a "
                    "phono3py yaml with FORCES_FC3/FORCES_FC2 beside it or --forces, or with "
                    "its forces inside; a phonopy yaml; extxyz) and write OUT as extxyz with "
                    "REF_energy (eV), REF_forces (eV/Å) and REF_stress (eV/Å^3) labels.")
    parser.add_argument("input", metavar="IN", help="dataset file or quoted glob pattern")
    parser.add_argument("output", metavar="OUT", help="extxyz file to write")
    parser.add_argument("--format", default="auto",
                        choices=("auto", "extxyz", "phonopy", "phono3py", "vasprun"),
                        help="format of IN (default: detected from its name and header)")
    parser.add_argument("--forces", metavar="FILE", default=None,
                        help="FORCES_FC3 or FORCES_FC2 file of a phono3py yaml IN")
    parser.set_defaults(func=_cmd_convert)


def _cmd_convert(args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.suffix != ".extxyz":
        raise InputError("the output must be an .extxyz file", output)

    from potentials.datasets import read_dataset, write_extxyz

    samples = read_dataset(args.input, labels=(), file_format=args.format, forces=args.forces)
    write_extxyz(samples, output)
    labels = [name for name in ("energy", "forces", "stress")
              if any(getattr(s, name) is not None for s in samples)]
    print(f"{output}: {len(samples)} structures ({', '.join(labels) or 'no labels'})")
    return EXIT_OK
