"""The error policy of every ``mts`` command, in one place: which exception gives which exit
code and which one line on stderr.

    0    the command did its work
    1    a run failed: a stage, a solver or a force evaluation failed, a file could not be
         written (the command's outputs are not left half-written)
    2    bad input: every mtscore.InputError (study files, GiftBTE folders, datasets,
         calculator names, ...), a missing input file, a value a library refused
    130  interrupted (Ctrl-C)

Commands raise; :func:`report` prints ``mts: error: <one line>`` (``mts: interrupted`` for
Ctrl-C) and returns the code.  ``mts --traceback ...`` prints the traceback first.  Package
exceptions are matched by package and class name along the MRO, so this module imports no
package.
"""
from __future__ import annotations

import re
import sys
import traceback
from collections.abc import Callable

from mtscore import InputError
from workflows.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE, PROG, RunFailed


def _os_error(exc: BaseException) -> str:
    filename = getattr(exc, "filename", None)
    return f"{filename}: " * bool(filename) + str(getattr(exc, "strerror", None) or exc)


def _text(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__


def _unexpected(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc} (mts --traceback ... shows where)"


#: (exception class or "module.Class" along the MRO, exit code, message) in order of priority
POLICY: tuple[tuple[type[BaseException] | str, int, Callable[[BaseException], str]], ...] = (
    (InputError, EXIT_USAGE, _text),
    ("bte.problem.SolverDivergedError", EXIT_FAILED, lambda e: f"solver failed: {e}"),
    ("phonons.force_constants.ForceEvaluationError", EXIT_FAILED, _text),
    ("workflows.stages.StageError", EXIT_FAILED, _text),
    (RunFailed, EXIT_FAILED, _text),
    (FileNotFoundError, EXIT_USAGE, _os_error),
    (NotADirectoryError, EXIT_USAGE, _os_error),
    (IsADirectoryError, EXIT_USAGE, _os_error),
    (OSError, EXIT_FAILED, _os_error),
    (ValueError, EXIT_USAGE, _text),          # an argument value a library refused
    (ImportError, EXIT_USAGE, lambda e: f"cannot import {e.name or ''}: {e}"),
    (Exception, EXIT_FAILED, _unexpected),
)

_NUMPY_SCALAR = re.compile(r"np\.(?:float|int|uint|complex|bool)\w*\(([^()]*)\)")


def _matches(exc: BaseException, kind: type[BaseException] | str) -> bool:
    """isinstance, or for "package.module.Class" a class of that name from that package
    along the MRO (the class may move between the package's modules)."""
    if isinstance(kind, type):
        return isinstance(exc, kind)
    package, name = kind.split(".")[0], kind.rsplit(".", 1)[1]
    return any(c.__qualname__ == name and c.__module__.split(".")[0] == package
               for c in type(exc).__mro__)


def one_line(message: str) -> str:
    """``message`` on one line, numpy scalar reprs (``np.float64(1.5)``) shown as numbers."""
    return " ".join(_NUMPY_SCALAR.sub(r"\1", message).split())


def classify(exc: BaseException) -> tuple[int, str]:
    """The exit code and the one-line message of ``exc`` (an Exception or KeyboardInterrupt)."""
    if isinstance(exc, KeyboardInterrupt):
        hint = one_line(str(exc))
        return EXIT_INTERRUPTED, "interrupted" + (f" ({hint})" if hint else "")
    for kind, code, message in POLICY:
        if _matches(exc, kind):
            return code, f"error: {one_line(message(exc))}"
    raise TypeError(f"no policy for {type(exc).__name__}")


def report(exc: BaseException, show_traceback: bool = False) -> int:
    """Print ``exc`` as one line on stderr (after its traceback with ``show_traceback``);
    return its exit code."""
    if show_traceback:
        traceback.print_exception(exc)
    code, message = classify(exc)
    print(f"{PROG}: {message}", file=sys.stderr)
    return code
