"""Strained cells (analytic geometry, relaxed forces) and κ(ε) of Tersoff silicon against the
REFERENCES §2 table (natural-isotope column: +1 % → −12.4 %, −1 % → +9.8 %)."""
from __future__ import annotations

import numpy as np
import pytest
from phonons_refdata import tersoff

from phonons import strain_cell, strain_sweep, strain_tensor


def test_strain_tensors():
    np.testing.assert_allclose(strain_tensor("hydrostatic", 0.01), 0.01 * np.eye(3))
    np.testing.assert_allclose(strain_tensor("uniaxial", 0.02, (0, 0, 1)),
                               np.diag([0, 0, 0.02]))
    np.testing.assert_allclose(strain_tensor("biaxial", -0.01, (0, 0, 1)),
                               np.diag([-0.01, -0.01, 0]))
    n = np.ones(3) / np.sqrt(3)
    np.testing.assert_allclose(strain_tensor("uniaxial", 0.01, (1, 1, 1)) @ n, 0.01 * n)
    with pytest.raises(ValueError, match="unknown strain kind"):
        strain_tensor("shear", 0.01)


def test_strain_cell_geometry_and_relaxation(silicon_tersoff):
    calc = tersoff()
    hydro = strain_cell(silicon_tersoff, 0.01, calc)
    assert hydro.get_volume() == pytest.approx(silicon_tersoff.get_volume() * 1.01**3,
                                               rel=1e-12)
    # [111] uniaxial strain: the two fcc sublattices shift along [111] (Kleinman relaxation)
    eps = strain_tensor("uniaxial", 0.01, (1, 1, 1))
    strained = strain_cell(silicon_tersoff, eps, calc, fmax=1e-5)
    np.testing.assert_allclose(np.array(strained.cell),
                               np.array(silicon_tersoff.cell) @ (np.eye(3) + eps).T,
                               atol=1e-12)
    affine = silicon_tersoff.positions @ (np.eye(3) + eps).T
    shift = strained.positions - affine
    assert np.abs(shift).max() > 1e-3                   # internal coordinates moved
    check = strained.copy()
    check.calc = tersoff()
    assert np.abs(check.get_forces()).max() < 1e-5      # relaxed (fresh calculator)
    assert strained.calc is None
    with pytest.raises(ValueError, match="symmetric"):
        strain_cell(silicon_tersoff, [[0, 0.01, 0], [0, 0, 0], [0, 0, 0]], calc)


@pytest.mark.slow
def test_tersoff_uniform_strain_changes_kappa(silicon_tersoff, tmp_path):
    """REFERENCES §2 (Tersoff, 2x2x2, 0.03 Å, RTA 11³, 300 K, natural isotopes): 236.6 W/mK
    at a0, −12.4 % at +1 % and +9.8 % at −1 % isotropic linear strain, within 1.5 points."""
    sweep = strain_sweep(silicon_tersoff, tersoff(), [0.0, 0.01, -0.01], (2, 2, 2),
                         mesh=(11, 11, 11), temperatures=[300.0], is_isotope=True,
                         cache_dir=tmp_path)
    assert sweep.kappa_average[0, 0] == pytest.approx(236.6, rel=0.01)
    change = sweep.relative_change(0)[:, 0] * 100
    assert change[1] == pytest.approx(-12.4, abs=1.5)
    assert change[2] == pytest.approx(9.8, abs=1.5)
    assert len(list((tmp_path / "strain-001" / "fc3").glob("*.npz"))) == 111
