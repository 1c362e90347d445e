"""ASE calculators by name, the way a study file or ``mts phonons run`` names its potential.

    "tersoff" | "sw"        matscipy's Tersoff (PRB 39 5566) / Stillinger-Weber silicon
    "pretrained:NAME"       potentials.pretrained_calculator(NAME), a shipped model
    "MODULE:FUNCTION"       any function returning an ASE calculator
    a model file path       potentials.MLCalculator(path) (a saved EquivariantPotential)

:func:`check_calculator` tells a bad name without building anything (no torch import), so a
study can be refused before its first stage; :func:`make_calculator` builds the calculator.
"""
from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

from mtscore import InputError

NAMED = ("tersoff", "sw")
USAGE = "use tersoff, sw, pretrained:NAME, MODULE:FUNCTION or a model file"


class CalculatorError(InputError):
    """A calculator name that names nothing, or a ``MODULE:FUNCTION`` that cannot be imported
    or fails when called."""


def _model_file(spec: str, base: Path | None) -> Path | None:
    path = Path(spec)
    if not path.is_absolute() and base is not None:
        path = base / path
    return path if path.is_file() else None


def _shipped_model(name: str) -> bool:
    """Whether the potentials package ships a model ``name`` (its ``data/NAME_model.pt``),
    found without importing the package (and torch)."""
    spec = importlib.util.find_spec("potentials")
    folders = [] if spec is None else list(spec.submodule_search_locations or [])
    return any((Path(folder) / "data" / f"{name.lower()}_model.pt").is_file()
               for folder in folders)


def check_calculator(spec: str, base: str | Path | None = None) -> None:
    """Raise :class:`CalculatorError` when ``spec`` names no calculator: an unknown name, a
    shipped model that does not exist, a ``MODULE:FUNCTION`` whose module is not found.  Builds
    nothing."""
    if spec in NAMED or _model_file(spec, None if base is None else Path(base)) is not None:
        return
    if spec.startswith("pretrained:"):
        name = spec.split(":", 1)[1]
        if not _shipped_model(name):
            raise CalculatorError(f"no shipped model {name!r} ({spec})")
        return
    if ":" in spec:
        module, function = spec.split(":", 1)
        try:
            found = module and function and importlib.util.find_spec(module) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            raise CalculatorError(f"calculator {spec!r}: no module {module!r}")
        return
    raise CalculatorError(f"unknown calculator {spec!r}: {USAGE}")


def _named_calculator(spec: str):
    if spec in NAMED:
        from matscipy.calculators.manybody import Manybody
        from matscipy.calculators.manybody.explicit_forms import StillingerWeber, TersoffBrenner
        from matscipy.calculators.manybody.explicit_forms.stillinger_weber import (
            Stillinger_Weber_PRB_31_5262_Si,
        )
        from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
            Tersoff_PRB_39_5566_Si_C,
        )
        form = (TersoffBrenner(Tersoff_PRB_39_5566_Si_C) if spec == "tersoff"
                else StillingerWeber(Stillinger_Weber_PRB_31_5262_Si))
        return Manybody(**form)
    if spec.startswith("pretrained:"):
        potentials = importlib.import_module("potentials")
        return potentials.pretrained_calculator(spec.split(":", 1)[1])
    if ":" in spec:
        return _user_calculator(spec)
    raise CalculatorError(f"unknown calculator {spec!r}: {USAGE}")


def _user_calculator(spec: str):
    """The calculator a ``MODULE:FUNCTION`` returns; every failure one CalculatorError."""
    module, function = spec.split(":", 1)
    try:
        factory = getattr(importlib.import_module(module), function)
    except (ImportError, AttributeError) as exc:
        raise CalculatorError(f"calculator {spec!r}: {type(exc).__name__}: {exc}") from exc
    try:
        return factory()
    except Exception as exc:
        raise CalculatorError(f"calculator {spec!r} failed: {type(exc).__name__}: "
                              f"{exc}") from exc


def make_calculator(spec: str, base: str | Path | None = None):
    """The ASE calculator ``spec`` names (see the module docstring); a relative model path is
    looked up under ``base`` first.  Raises :class:`CalculatorError` (a ValueError) for a name
    that names nothing or a ``MODULE:FUNCTION`` that fails."""
    model = _model_file(spec, None if base is None else Path(base))
    if model is not None:
        import potentials
        return potentials.MLCalculator(str(model))
    return _named_calculator(spec)


def lazy_calculator(spec: str, base: str | Path | None = None,
                    factory: Callable[[], object] | None = None) -> Callable[[], object]:
    """A function returning the calculator named by ``spec`` (see :func:`make_calculator`), or
    made by ``factory`` when given, built on its first call and reused: stages that are cached
    never build it."""
    return functools.cache(factory or (lambda: make_calculator(spec, base)))


def calculator_fingerprint(spec: str, base: str | Path | None = None) -> str:
    """What identifies the potential for caching: the name, or for a model file the SHA-256 of
    its contents (a retrained model in the same file invalidates the cache)."""
    model = _model_file(spec, None if base is None else Path(base))
    if model is None:
        return spec
    return "file:" + hashlib.sha256(model.read_bytes()).hexdigest()
