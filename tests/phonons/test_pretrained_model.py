"""The shipped ML silicon model (potentials package) against the DFT references of
REFERENCES §2: Γ/X/L within 0.15 THz, κ_RTA within 5 % at 11³ (108.98) and 19³ (124.41).
Skipped while ``potentials.pretrained_calculator`` is unavailable (package being written)."""
from __future__ import annotations

import numpy as np
import pytest

from phonons import bulk_kappa, compute_force_constants, harmonic_frequencies

from phonons_refdata import (DATA, FREQ_GAMMA_OPTICAL, FREQ_L, FREQ_X, KAPPA_RTA_11, Q_GAMMA, Q_L,
                      Q_X, distinct)

KAPPA_RTA_19 = 124.41

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ml_fc():
    potentials = pytest.importorskip("potentials")
    if not hasattr(potentials, "pretrained_calculator"):
        pytest.skip("potentials.pretrained_calculator is not available yet")
    try:
        calc = potentials.pretrained_calculator("si")
    except Exception as exc:                      # model file not shipped yet
        pytest.skip(f"pretrained silicon model unavailable: {exc}")
    from ase.io import read
    unitcell = read(DATA / "POSCAR-unitcell", format="vasp")
    return compute_force_constants(unitcell, calc, (2, 2, 2), displacement=0.03)


def test_ml_frequencies(ml_fc):
    gamma, x, l_point = harmonic_frequencies(ml_fc, [Q_GAMMA, Q_X, Q_L])
    assert gamma[-1] == pytest.approx(FREQ_GAMMA_OPTICAL, abs=0.15)
    assert distinct(x, 0.05) == pytest.approx(FREQ_X, abs=0.15)
    assert distinct(l_point, 0.05) == pytest.approx(FREQ_L, abs=0.15)


@pytest.mark.parametrize("mesh, reference", [(11, KAPPA_RTA_11), (19, KAPPA_RTA_19)])
def test_ml_kappa(ml_fc, mesh, reference):
    kappa = bulk_kappa(ml_fc, (mesh,) * 3, [300.0]).kappa_average[0]
    assert kappa == pytest.approx(reference, rel=0.05)
    assert np.isfinite(kappa)
