"""ASE calculators by name, the way a study file names its potential.

    "tersoff" | "sw"        matscipy's Tersoff (PRB 39 5566) / Stillinger-Weber silicon
    "pretrained:NAME"       potentials.pretrained_calculator(NAME), the shipped model
    "MODULE:FUNCTION"       any function returning an ASE calculator
    a model file path       potentials.MLCalculator(path) (a saved EquivariantPotential)
"""
from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from pathlib import Path

from workflows.phonons_commands import make_calculator as _named_calculator


def _model_file(spec: str, base: Path | None) -> Path | None:
    path = Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    return path if path.is_file() else None


def make_calculator(spec: str, base: str | Path | None = None):
    """The ASE calculator ``spec`` names (see the module docstring); a relative model path is
    looked up under ``base`` first.  Raises ValueError for an unknown name."""
    model = _model_file(spec, None if base is None else Path(base))
    if model is not None:
        import potentials
        return potentials.MLCalculator(str(model))
    return _named_calculator(spec)


def lazy_calculator(spec: str, base: str | Path | None = None) -> Callable[[], object]:
    """A function returning the calculator named by ``spec`` (see :func:`make_calculator`),
    built on its first call and reused: stages that are cached never build it."""
    return functools.cache(lambda: make_calculator(spec, base))


def calculator_fingerprint(spec: str, base: str | Path | None = None) -> str:
    """What identifies the potential for caching: the name, or for a model file the SHA-256 of
    its contents (a retrained model in the same file invalidates the cache)."""
    model = _model_file(spec, None if base is None else Path(base))
    if model is None:
        return spec
    return "file:" + hashlib.sha256(model.read_bytes()).hexdigest()
