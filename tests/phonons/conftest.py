"""Shared fixtures of the phonons tests: the DFT silicon data in tests/data/phonons, force
constants built from them, a matscipy Tersoff calculator, and the BTE case builders of
tests/bte/conftest.py (loaded from that file under another module name, not copied)."""
from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "phonons"

# REFERENCES.md §2, VASP PBEsol silicon, phono3py 4.8, 300 K
KAPPA_RTA_11 = 108.98
KAPPA_RTA_ISOTOPE_11 = 102.27
KAPPA_LBTE_11 = 113.10
FREQ_GAMMA_OPTICAL = 15.27
FREQ_X = (4.04, 12.16, 13.74)
FREQ_L = (3.10, 11.07, 12.30, 14.58)
Q_GAMMA, Q_X, Q_L = (0, 0, 0), (0.5, 0.0, 0.5), (0.5, 0.5, 0.5)
TERSOFF_A0 = 5.4320


def _load_bte_helpers():
    spec = importlib.util.spec_from_file_location("bte_test_helpers",
                                                  REPO / "tests" / "bte" / "conftest.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bte_helpers = _load_bte_helpers()


def distinct(frequencies, tol: float = 0.01) -> list[float]:
    """Distinct values (THz) of sorted frequencies, degenerate ones merged."""
    out: list[float] = []
    for f in np.sort(frequencies):
        if not out or f - out[-1] > tol:
            out.append(float(f))
    return out


def tersoff():
    """matscipy's Tersoff silicon (Tersoff_PRB_39_5566_Si_C)."""
    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms import TersoffBrenner
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C)
    return Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))


@pytest.fixture(autouse=True)
def _quiet_matscipy():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        yield


@pytest.fixture(scope="session")
def dft_fc():
    from phonons import load_force_constants
    return load_force_constants(DATA / "phono3py_disp.yaml", DATA / "FORCES_FC3")


@pytest.fixture(scope="session")
def dft_modes(dft_fc):
    """RTA modes of the DFT force constants, 11x11x11, 300 K, no isotopes."""
    from phonons import mode_properties
    return mode_properties(dft_fc, (11, 11, 11), 300.0)


@pytest.fixture(scope="session")
def silicon_tersoff():
    from ase.build import bulk
    return bulk("Si", "diamond", a=TERSOFF_A0, cubic=True)


@pytest.fixture(scope="session")
def tersoff_fc(silicon_tersoff):
    from phonons import compute_force_constants
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        return compute_force_constants(silicon_tersoff, tersoff(), (2, 2, 2), displacement=0.03)
