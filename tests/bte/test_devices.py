"""3D device: the FinFET example (COMSOL hexahedra, three regions, heated channel).  The peak
temperature rise is reported from the BTE and from Fourier's law on the same mesh."""
from __future__ import annotations

import pytest

import bte
import reference as ref

FINFET = ref.EXAMPLES_DIR / "FinFET"
SCALES = ("1e-7", "1e-8", "1e-9")


@pytest.mark.slow
def test_finfet_fourier_rise_is_scale_invariant():
    """The shipped heat files scale Q as 1/L² (1e15, 1e17, 1e19 W/m³ at 100, 10, 1 nm), so
    Fourier's rise Q L²/κ is the same at the three scales (to round-off)."""
    rises = []
    for scale in SCALES:
        res = bte.solve(bte.read_input_folder(FINFET / scale), max_iter=1)
        rises.append(res.peak_temperature_rise()["fourier"])
    assert rises[0] > 0
    assert rises[1] == pytest.approx(rises[0], rel=1e-9)
    assert rises[2] == pytest.approx(rises[0], rel=1e-9)


@pytest.mark.slow
def test_finfet_10nm_bte_hot_spot_exceeds_fourier():
    """At the 10 nm scale phonons leave the heated channel ballistically: the BTE hot spot is
    hotter than Fourier's (measured 10.9 K vs 3.14 K), never cooler, and the run converges."""
    res = bte.solve(bte.read_input_folder(FINFET / "1e-8"), scheme="Synthetic",
                    residual_temp=1e-5, max_iter=200)
    assert res.converged
    rise = res.peak_temperature_rise()
    assert rise["bte"] > 2.0 * rise["fourier"] > 0, rise
