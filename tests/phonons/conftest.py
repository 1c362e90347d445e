"""Fixtures of the phonons tests: force constants and modes from the DFT silicon data, and
Tersoff silicon (reference values and helpers in phonons_refdata.py)."""
from __future__ import annotations

import warnings

import pytest
from phonons_refdata import DATA, TERSOFF_A0, tersoff


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
