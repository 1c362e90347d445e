"""Compatibility name: the calculator factory now lives in :mod:`workflows.calculators` and the
``mts phonons`` command in :mod:`workflows.cli.phonons`."""
from workflows.calculators import make_calculator

__all__ = ["make_calculator"]
