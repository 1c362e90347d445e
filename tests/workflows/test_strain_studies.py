"""Strain studies: the bent ribbon's layered κ lies between the uniformly strained extremes;
the uniform-strain study reproduces the Tersoff ±1 % numbers of REFERENCES §2."""
from __future__ import annotations

import warnings

import pytest

from workflows.config import BTESettings, PhononSettings
from workflows.strain import bent_ribbon, strain_study

A0_TERSOFF = 5.4320


def tersoff():
    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms import TersoffBrenner
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C,
    )
    return Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))


@pytest.mark.slow
def test_bent_ribbon_between_strained_extremes(tmp_path):
    """Two layers at ±ε: the bent ribbon's κ lies between the κ of uniform ribbons at +ε and
    −ε, and the result names the measured suppression."""
    r = bent_ribbon("tersoff", tmp_path, thickness=20e-9, n_layers=2,
                    lattice_constant=A0_TERSOFF,
                    phonons=PhononSettings(mesh=(5, 5, 5), n_bands=6),
                    bte=BTESettings(ntheta=2, nphi=2, n_cells=10, grading=1.0))
    assert r.layer_strains == pytest.approx([-0.0056, 0.0056])
    low, high = sorted((r.kappa_tensile, r.kappa_compressive))
    assert low < r.kappa_bent < high
    assert r.measured_suppression == (0.34, 0.05)
    assert "no strain-gradient scattering" in r.summary()


@pytest.mark.slow
def test_uniform_strain_tersoff_reference():
    """Tersoff, 2x2x2, 0.03 Å, RTA 11³, 300 K, no isotopes (REFERENCES §2): +1 % isotropic
    linear strain −12.9 %, −1 % +10.4 % (±1 percentage point)."""
    from ase.build import bulk
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        res = strain_study(bulk("Si", "diamond", a=A0_TERSOFF, cubic=True), tersoff(),
                           "hydrostatic", [0.0, 0.01, -0.01])
    assert res.kappa_average[0] == pytest.approx(277.1, rel=0.01)
    assert res.relative_change[1] == pytest.approx(-0.129, abs=0.01)
    assert res.relative_change[2] == pytest.approx(0.104, abs=0.01)
