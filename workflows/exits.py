"""Exit codes and the one-line error report shared by every ``mts`` command group.

Exit codes: 0 success; 1 a run finished without converging or a stage/job failed; 2 bad usage
or bad input (one ``mts: error: ...`` line on stderr, no traceback); 130 interrupted.
"""
from __future__ import annotations

import sys

PROG = "mts"
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def report_error(message: object) -> int:
    """Print ``mts: error: <message>`` as one line on stderr; return the bad-input exit code."""
    print(f"{PROG}: error: {' '.join(str(message).split())}", file=sys.stderr)
    return EXIT_USAGE
