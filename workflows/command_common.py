"""What every ``mts`` command group shares: exit codes, the one-line error report and the
positive-number argument types.

Exit codes: 0 success; 1 a run finished without converging or a stage/job failed; 2 bad usage
or bad input (one ``mts: error: ...`` line on stderr, no traceback); 130 interrupted.
"""
from __future__ import annotations

import argparse
import sys

PROG = "mts"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def report_error(message: object) -> int:
    """Print ``mts: error: <message>`` as one line on stderr; return the bad-input exit code."""
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_USAGE


def positive_int(text: str) -> int:
    """argparse type: an integer > 0."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive finite number: {text!r}")
    return value
