"""The ``mts`` command line: thin commands (each parses its arguments, calls the library and
formats the result) and one error policy for all of them (:mod:`workflows.cli.errors`).

    mts [--traceback] [--version] COMMAND ...
    mts bte run DIR ...        phonon BTE on a GiftBTE folder          (workflows/cli/bte.py)
    mts phonons run ...        force constants, modes, bulk κ, band tables  (cli/phonons.py)
    mts train CONFIG           train an equivariant potential          (cli/train.py)
    mts data convert IN OUT    DFT data (vasprun, phono3py, ...) to extxyz  (cli/data.py)
    mts namd ...               nonadiabatic MD                         (cli/namd.py)
    mts pipeline STUDY.toml, mts batch BATCH.toml                      (cli/study.py)

Each group module registers its commands with ``add_commands(subparsers)`` (all listed in
:data:`COMMAND_GROUPS`) and imports its package only inside its handlers, so ``mts bte`` never
imports torch or phonopy.  Commands raise; :func:`main` turns any exception into one line and
an exit code (0 ok, 1 failed run, 2 bad input, 130 interrupted; see workflows/cli/errors.py).
Python warnings are printed once each as ``warning: <message>``.
"""
from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Callable, Sequence

from mtscore import configure_logging
from workflows.cli import bte, data, namd, phonons, study, train
from workflows.cli.common import EXIT_USAGE, PROG
from workflows.cli.errors import report

#: One registration function per command group.
COMMAND_GROUPS: list[Callable[[argparse._SubParsersAction], None]] = [
    bte.add_commands,
    phonons.add_commands,
    train.add_commands,
    data.add_commands,
    namd.add_commands,
    study.add_commands,
]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(PROG)
    except PackageNotFoundError:
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    """The top-level ``mts`` parser with every command group of :data:`COMMAND_GROUPS`."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Multiscale heat and carrier transport suite.")
    parser.add_argument("--version", action="version", version=f"{PROG} {_version()}")
    parser.add_argument("--traceback", action="store_true",
                        help="on an error, print the Python traceback before the one-line "
                             "message (for developers)")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="also show informational diagnostics (stale temporaries removed, "
                             "stages reused, ...)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    parser.set_defaults(parser=parser)
    for add_group in COMMAND_GROUPS:
        add_group(subparsers)
    return parser


def _print_warning_once(seen: set[str]) -> Callable[..., None]:
    """A ``warnings.showwarning`` printing each message once as ``warning: <message>``."""
    def show(message, category, filename, lineno, file=None, line=None) -> None:
        text = " ".join(str(message).split())
        if text not in seen:
            seen.add(text)
            print(f"warning: {text}", file=sys.stderr)
    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``mts`` command with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help/--version (0) or a usage error (2): argparse printed
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else EXIT_USAGE)
    if not hasattr(args, "func"):               # a group without its command: its help
        args.parser.print_help(sys.stderr)
        return EXIT_USAGE
    configure_logging(args.verbose)
    with warnings.catch_warnings():
        warnings.showwarning = _print_warning_once(set())
        try:
            return int(args.func(args))
        except (Exception, KeyboardInterrupt) as exc:
            return report(exc, show_traceback=args.traceback)
