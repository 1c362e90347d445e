"""Energy-gap statistics, dephasing functions and time-constant fits.

Units: time fs, energy eV, rates 1/fs.  ħ = :data:`HBAR` eV·fs, k_B = :data:`KB` eV/K.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import curve_fit

HBAR = 0.6582119569  # eV fs
KB = 8.617333262e-5  # eV / K


def autocorrelation(signal: np.ndarray, max_lag: int | None = None) -> np.ndarray:
    """Unnormalised autocorrelation C(k) = <δx(t) δx(t + k)> of a 1D series (its mean removed)."""
    x = np.asarray(signal, dtype=float)
    x = x - x.mean()
    n = x.size
    max_lag = n // 2 if max_lag is None else min(max_lag, n - 1)
    nfft = 1 << (2 * n - 1).bit_length()
    f = np.fft.rfft(x, nfft)
    acf = np.fft.irfft(f * np.conj(f), nfft)[: max_lag + 1]
    return acf / (n - np.arange(max_lag + 1))


def dephasing_function(gap: np.ndarray, dt: float, max_lag: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Second-order cumulant dephasing function D(t) = exp(-g(t)) of an energy gap series.

    gap: gap E_i - E_j (eV) sampled every ``dt`` fs.  g(t) = ħ⁻² ∫₀ᵗ dt' ∫₀ᵗ' C(t'') dt''.
    Returns (times in fs, D).
    """
    c = autocorrelation(gap, max_lag)
    t = np.arange(c.size) * dt
    inner = np.concatenate([[0.0], np.cumsum(0.5 * (c[1:] + c[:-1]) * dt)])
    g = np.concatenate([[0.0], np.cumsum(0.5 * (inner[1:] + inner[:-1]) * dt)]) / HBAR ** 2
    return t, np.exp(-g)


def gaussian_time(times: np.ndarray, values: np.ndarray, floor: float = 0.05) -> float:
    """Time τ (fs) of the Gaussian exp(-t²/(2τ²)) fitted to a decay until it falls below ``floor``."""
    values = np.asarray(values, float)
    below = np.nonzero(values < floor)[0]
    stop = below[0] if below.size else values.size
    t, y = np.asarray(times, float)[:stop], values[:stop]
    (tau,), _ = curve_fit(lambda s, a: np.exp(-s ** 2 / (2 * a * a)), t, y,
                          p0=[max(t[-1] / 2, 1e-3)])
    return float(abs(tau))


def decoherence_times(energies: np.ndarray, dt: float) -> np.ndarray:
    """Pure-dephasing times τ_ij (fs) of every pair of states from their gap fluctuations.

    energies: (nsteps, n) eV every ``dt`` fs.  τ_ij is the Gaussian time of the dephasing function
    of E_i - E_j; the diagonal (and pairs whose gap does not fluctuate) is +inf.
    """
    e = np.asarray(energies, float)
    n = e.shape[1]
    tau = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(i + 1, n):
            gap = e[:, i] - e[:, j]
            if np.std(gap) < 1e-9:
                continue
            t, d = dephasing_function(gap, dt)
            tau[i, j] = tau[j, i] = gaussian_time(t, d)
    return tau


@dataclass
class TimeConstantFit:
    """A fitted decay: ``tau`` (fs), its standard error, the model name and the fitted curve."""

    tau: float
    tau_error: float
    model: str
    fitted: np.ndarray


def fit_time_constant(times: np.ndarray, population: np.ndarray, model: str = "exponential",
                      final: float = 0.0) -> TimeConstantFit:
    """Fit P(t) = final + (P0 - final)·f(t/τ) to a population curve.

    model: ``"exponential"`` f = exp(-t/τ), ``"gaussian"`` f = exp(-(t/τ)²/2), or ``"mixed"``
    (weight a: a·exp(-t/τ) + (1-a)·exp(-(t/τ)²/2) with one τ).  times in fs; τ in fs.
    """
    t = np.asarray(times, float)
    p = np.asarray(population, float)
    if t.shape != p.shape or t.ndim != 1:
        raise ValueError(f"population: shape {p.shape} does not match times {t.shape}")
    p0 = p[0]
    amp = p0 - final
    if abs(amp) < 1e-12:
        raise ValueError("population: no decay to fit (P(0) equals the final value)")
    # first guess from where the curve passes 1/e of its decay
    crossed = np.nonzero((p - final) / amp < np.exp(-1.0))[0]
    guess = t[crossed[0]] if crossed.size else t[-1] * amp / max(amp - (p[-1] - final), 1e-12)
    shapes = {
        "exponential": lambda s, tau: final + amp * np.exp(-s / tau),
        "gaussian": lambda s, tau: final + amp * np.exp(-0.5 * (s / tau) ** 2),
    }
    if model in shapes:
        popt, pcov = curve_fit(shapes[model], t, p, p0=[guess], bounds=(1e-9, np.inf))
        fitted = shapes[model](t, *popt)
    elif model == "mixed":
        def mixed(s, tau, a):
            return final + amp * (a * np.exp(-s / tau) + (1 - a) * np.exp(-0.5 * (s / tau) ** 2))
        popt, pcov = curve_fit(mixed, t, p, p0=[guess, 0.5], bounds=([1e-9, 0.0], [np.inf, 1.0]))
        fitted = mixed(t, *popt)
    else:
        raise ValueError(f"model: unknown fit model {model!r} (exponential, gaussian, mixed)")
    return TimeConstantFit(float(popt[0]), float(np.sqrt(pcov[0, 0])), model, fitted)
