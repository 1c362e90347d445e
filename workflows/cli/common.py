"""What every ``mts`` command shares: the program name, the exit codes and the positive-number
argument types.  Errors are raised, never printed here: :mod:`workflows.cli.errors` turns them
into one line and an exit code."""
from __future__ import annotations

import argparse

PROG = "mts"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class RunFailed(RuntimeError):
    """A command's run failed (e.g. its outputs could not be written): exit code 1."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C with a hint for the user (e.g. how to resume); printed after ``interrupted``."""


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    return _positive(text, int, "an integer")


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    return _positive(text, float, "a number")


def _positive(text: str, kind: type, name: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not {name}: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number: {text!r}")
    return value


def command_group(subparsers: argparse._SubParsersAction, name: str, help: str,
                  description: str) -> argparse._SubParsersAction:
    """Register the group ``mts NAME COMMAND ...`` (``mts NAME`` alone prints its help);
    return the subparsers its commands are added to."""
    parser = subparsers.add_parser(name, help=help, description=description)
    parser.set_defaults(parser=parser)
    return parser.add_subparsers(dest=f"{name}_command", metavar="COMMAND")
