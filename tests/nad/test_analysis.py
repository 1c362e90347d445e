"""Dephasing functions and time-constant fits against analytic forms."""
from __future__ import annotations

import numpy as np
import pytest

from nad.analysis import HBAR, dephasing_function, fit_time_constant, gaussian_time


def test_dephasing_of_a_harmonic_gap_matches_the_cumulant_formula():
    """Gap δ(t) = A cos(ωt): C(t) = A²/2 cos(ωt), g(t) = A²(1 - cos ωt)/(2ħ²ω²)."""
    dt, a, omega = 0.5, 0.05, 2 * np.pi / 40.0
    t = np.arange(200_000) * dt
    times, d = dephasing_function(a * np.cos(omega * t), dt, max_lag=200)
    g = a ** 2 * (1 - np.cos(omega * times)) / (2 * HBAR ** 2 * omega ** 2)
    assert np.allclose(d, np.exp(-g), atol=2e-3)


def test_gaussian_time_of_a_gaussian():
    t = np.linspace(0, 100, 1001)
    assert gaussian_time(t, np.exp(-t ** 2 / (2 * 17.0 ** 2))) == pytest.approx(17.0, rel=1e-6)


@pytest.mark.parametrize("model, shape", [
    ("exponential", lambda s, tau: np.exp(-s / tau)),
    ("gaussian", lambda s, tau: np.exp(-0.5 * (s / tau) ** 2)),
])
def test_fit_recovers_time_constant(model, shape):
    t = np.linspace(0, 500, 501)
    p = 0.2 + 0.8 * shape(t, 120.0)
    fit = fit_time_constant(t, p, model=model, final=0.2)
    assert fit.tau == pytest.approx(120.0, rel=1e-6)


def test_fit_rejects_bad_input():
    with pytest.raises(ValueError, match="population"):
        fit_time_constant(np.arange(5.0), np.ones(4))
    with pytest.raises(ValueError, match="model"):
        fit_time_constant(np.arange(5.0), np.linspace(1, 0.5, 5), model="cubic")


def test_decoherence_time_of_an_ornstein_uhlenbeck_gap():
    """Numerical dephasing of an OU gap vs the exact g(t) = (στc/ħ)²(t/τc - 1 + e^{-t/τc})."""
    from nad.analysis import decoherence_times
    sigma, tau_c, dt, n = 0.05, 20.0, 0.5, 400_000
    rng = np.random.default_rng(3)
    a = np.exp(-dt / tau_c)
    kicks = rng.normal(size=n) * sigma * np.sqrt(1 - a * a)
    x = np.empty(n)
    x[0] = 0.0
    for i in range(1, n):
        x[i] = a * x[i - 1] + kicks[i]
    tau = decoherence_times(np.column_stack([np.zeros(n), x]), dt)[0, 1]
    t = np.arange(0, 200, dt)
    exact = np.exp(-(sigma * tau_c / HBAR) ** 2 * (t / tau_c - 1 + np.exp(-t / tau_c)))
    assert tau == pytest.approx(gaussian_time(t, exact), rel=0.05)
