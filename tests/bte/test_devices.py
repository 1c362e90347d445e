"""3D device: the FinFET example (COMSOL hexahedra, three regions, heated channel).  The peak
temperature rise is reported from the BTE and from Fourier's law on the same mesh."""
from __future__ import annotations

import pytest
import reference as ref

import bte

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
def test_finfet_bte_hot_spot_grows_as_the_device_shrinks():
    """The three shipped scales (100, 10, 1 nm) have the same Fourier rise (Q ∝ 1/L²).  Phonons
    leave the heated channel ballistically once the device is not much larger than their mean
    free paths, so the BTE hot spot is hotter than Fourier's at every scale, never cooler, and
    the more so the smaller the device (measured 4.26, 10.9 and 58.3 K at 100, 10 and 1 nm
    against 3.14 K from Fourier); every run converges (39, 23 and 44 iterations)."""
    rises = {}
    for scale in SCALES:
        res = bte.solve(bte.read_input_folder(FINFET / scale), scheme="Synthetic",
                        residual_temp=1e-5, max_iter=300)
        assert res.converged, scale
        rises[scale] = res.peak_temperature_rise()
    fourier = rises["1e-8"]["fourier"]
    bte_rise = [rises[scale]["bte"] for scale in SCALES]
    assert fourier < bte_rise[0] < bte_rise[1] < bte_rise[2], rises
    assert bte_rise[1] > 2.0 * fourier, rises
