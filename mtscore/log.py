"""Diagnostics through :mod:`logging`: every module logs to ``get_logger(__name__)``; the ``mts``
command decides what is shown (``--quiet``, ``--verbose``), a script configures ``logging`` as
it likes.  Progress bars are not diagnostics and stay on their own channel."""
from __future__ import annotations

import logging

ROOT = "mts"


def get_logger(name: str) -> logging.Logger:
    """The logger of module ``name`` under the suite's ``mts`` root logger."""
    return logging.getLogger(f"{ROOT}.{name}")
