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


# ------------------------------------------------------------------------------------------
# robust dephasing times: a levelled-off function, pooled short series
# ------------------------------------------------------------------------------------------

def test_gaussian_time_of_a_levelled_off_function_does_not_raise():
    """D levels off at 0.4 (a static gap component): fitted over the decaying part."""
    t = np.arange(0, 200, 0.5)
    tau = gaussian_time(t, 0.4 + 0.6 * np.exp(-t ** 2 / (2 * 17.0 ** 2)))
    assert np.isfinite(tau) and 10.0 < tau < 200.0


@pytest.mark.parametrize("values", [np.ones(400), np.ones(1), np.full(400, 0.7),
                                    np.r_[1.0, np.full(399, 0.999)]])
def test_gaussian_time_of_degenerate_functions(values):
    tau = gaussian_time(np.arange(values.size) * 0.5, values)
    assert tau > 0  # +inf for no decay, a positive number otherwise; never an exception
    if values.min() == 1.0:
        assert tau == np.inf


def _ou(n: int, rng: np.random.Generator, sigma: float, tau_c: float, dt: float) -> np.ndarray:
    a = np.exp(-dt / tau_c)
    x = np.empty(n)
    x[0] = rng.normal() * sigma
    kicks = rng.normal(size=n) * sigma * np.sqrt(1 - a * a)
    for i in range(1, n):
        x[i] = a * x[i - 1] + kicks[i]
    return x


def test_pooled_decoherence_time_of_short_series():
    """60 series of 500 fs each: pooled over time origins and series, the Gaussian time of
    the exact OU dephasing function within 5 %; single short series scatter far more."""
    from nad.analysis import decoherence_times
    sigma, tau_c, dt = 0.05, 20.0, 0.5
    rng = np.random.default_rng(11)
    runs = [np.column_stack([np.zeros(1000), _ou(1000, rng, sigma, tau_c, dt)])
            for _ in range(60)]
    t = np.arange(0, 200, dt)
    exact = gaussian_time(t, np.exp(-(sigma * tau_c / HBAR) ** 2
                                    * (t / tau_c - 1 + np.exp(-t / tau_c))))
    pooled = decoherence_times(runs, dt, max_lag=400)[0, 1]
    assert pooled == pytest.approx(exact, rel=0.05)
    single = np.array([decoherence_times(r, dt)[0, 1] for r in runs])
    assert np.all(np.isfinite(single))
    assert np.std(single) > 2 * abs(pooled - exact)


# ------------------------------------------------------------------------------------------
# decay times over blocks of time origins
# ------------------------------------------------------------------------------------------

def test_decay_time_recovers_a_noisy_exponential_with_its_error():
    from nad.analysis import decay_time
    rng = np.random.default_rng(4)
    t = np.arange(0, 3000.0, 5.0)
    truth = 0.3 + 0.7 * np.exp(-t / 800.0)
    blocks = truth + rng.normal(scale=0.01, size=(8, t.size))
    for final in (0.3, None):
        fit = decay_time(t, blocks, final=final)
        assert fit.resolved, fit.reason
        assert abs(fit.tau - 800.0) < 4 * fit.tau_error
        assert fit.tau_error < 0.1 * fit.tau
        assert "±" in fit.describe()


def test_decay_not_sampled_is_not_resolved():
    """A run 100x shorter than the decay: no number is presented as measured."""
    from nad.analysis import decay_time
    rng = np.random.default_rng(5)
    t = np.arange(0, 50.0, 0.5)
    blocks = 0.5 + 0.5 * np.exp(-t / 5000.0) + rng.normal(scale=0.01, size=(8, t.size))
    fit = decay_time(t, blocks)
    assert not fit.resolved
    assert fit.describe().startswith("not resolved")
    flat = decay_time(t, np.ones((8, t.size)))
    assert not flat.resolved
    assert not decay_time(t, np.ones((1, t.size)), final=0.5).resolved


def test_decoherence_times_of_many_short_series_never_raise():
    """2000 independent 100 fs gap series (short: many dephasing functions level off or
    wiggle): every one gives a positive time or +inf, none raises."""
    from nad.analysis import decoherence_times
    rng = np.random.default_rng(8)
    taus = np.array([decoherence_times(np.column_stack([np.zeros(200),
                                                        _ou(200, rng, 0.05, 20.0, 0.5)]),
                                       0.5)[0, 1] for _ in range(2000)])
    assert np.all(taus > 0) and not np.isnan(taus).any()
