"""Diagnostics through :mod:`logging`: every module logs to ``get_logger(__name__)``; the ``mts``
command decides what is shown (``--quiet``, ``--verbose``), a script configures ``logging`` as
it likes.  Progress bars are not diagnostics and stay on their own channel."""
from __future__ import annotations

import logging

ROOT = "mts"


def get_logger(name: str) -> logging.Logger:
    """The logger of module ``name`` under the suite's ``mts`` root logger."""
    return logging.getLogger(f"{ROOT}.{name}")


def configure_logging(verbose: bool = False, stream=None) -> None:
    """Show the suite's diagnostics on ``stream`` (stderr by default) as ``mts: <message>``:
    warnings and errors, and with ``verbose`` the informational ones too (what the ``mts``
    command does; a script configures :mod:`logging` as it likes instead)."""
    root = logging.getLogger(ROOT)
    for handler in list(root.handlers):
        if getattr(handler, "_mts_cli", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(stream)
    handler._mts_cli = True
    handler.setFormatter(logging.Formatter("mts: %(message)s"))
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    root.propagate = False
