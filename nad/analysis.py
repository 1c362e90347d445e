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
    return _dephasing_from_autocorrelation(autocorrelation(gap, max_lag), dt)


def _dephasing_from_autocorrelation(c: np.ndarray, dt: float) -> tuple[np.ndarray, np.ndarray]:
    """(times fs, exp(-g)) with g the double time integral of C(t)/ħ² (trapezoid rule)."""
    t = np.arange(c.size) * dt
    inner = np.concatenate([[0.0], np.cumsum(0.5 * (c[1:] + c[:-1]) * dt)])
    g = np.concatenate([[0.0], np.cumsum(0.5 * (inner[1:] + inner[:-1]) * dt)]) / HBAR ** 2
    return t, np.exp(-g)


def gaussian_time(times: np.ndarray, values: np.ndarray, floor: float = 0.05) -> float:
    """Gaussian time τ (fs) of exp(-t²/(2τ²)) fitted to a decay from t = 0 until it first falls
    below ``floor``.  Never raises on finite input.

    Convention: τ is the least-squares Gaussian over the points before the first one below
    ``floor``.  A function that levels off above ``floor`` (a gap with a static part, or a
    series too short to see the full decay) is fitted over all the points given, i.e. over the
    part that decays; one that does not decay at all (never below 1 - 1e-6), or fewer than two
    points, gives +inf (no dephasing: no decoherence).
    """
    t_all = np.asarray(times, float)
    values = np.asarray(values, float)
    below = np.nonzero(values < floor)[0]
    stop = below[0] if below.size else values.size
    t, y = t_all[:stop], values[:stop]
    if t.size < 2 or y.min() > 1.0 - 1e-6:
        return float("inf")
    # closed-form start: -ln y = t²/(2τ²), least squares through the origin
    usable = (y > 0.0) & (y < 1.0) & (t > 0.0)
    if not usable.any():
        return float("inf")
    slope = np.sum(t[usable] ** 2 * -np.log(y[usable])) / np.sum(t[usable] ** 4)
    guess = 1.0 / np.sqrt(2.0 * slope)
    try:
        with np.errstate(all="ignore"):
            (tau,), _ = curve_fit(lambda s, a: np.exp(-s ** 2 / (2 * a * a)), t, y, p0=[guess],
                                  bounds=(1e-6 * guess, 1e6 * guess))
    except (RuntimeError, ValueError):
        return float(guess)
    return float(abs(tau)) if np.isfinite(tau) else float(guess)


def _pooled_autocorrelation(series: list[np.ndarray], max_lag: int) -> np.ndarray:
    """C(k) averaged over every time origin of every series (one common mean removed)."""
    mean = np.concatenate(series).mean()
    total = np.zeros(max_lag + 1)
    pairs = np.zeros(max_lag + 1)
    for x in series:
        n = x.size
        lags = min(max_lag, n - 1)
        nfft = 1 << (2 * n - 1).bit_length()
        f = np.fft.rfft(x - mean, nfft)
        total[: lags + 1] += np.fft.irfft(f * np.conj(f), nfft)[: lags + 1]
        pairs[: lags + 1] += n - np.arange(lags + 1)
    keep = pairs > 0
    return total[keep] / pairs[keep]


def decoherence_times(energies: np.ndarray | list[np.ndarray], dt: float,
                      max_lag: int | None = None, floor: float = 0.05) -> np.ndarray:
    """Pure-dephasing times τ_ij (fs) of every pair of states from their gap fluctuations.

    energies: (nsteps, n) eV every ``dt`` fs, or a list of such arrays (independent
    trajectories of one system), whose gap autocorrelations are pooled over every time origin
    of every trajectory.  Convention: τ_ij is the :func:`gaussian_time` (exp(-t²/(2τ²)), down
    to ``floor``) of the second-order cumulant dephasing function of E_i - E_j computed from
    that pooled autocorrelation up to ``max_lag`` steps (default: half the longest series).
    Fit per-realisation times of short series and average them is what this avoids: they
    scatter widely (a short series barely samples the gap's slow fluctuations).  The diagonal
    (and pairs whose gap does not fluctuate) is +inf.
    """
    runs = [np.asarray(e, float) for e in (energies if isinstance(energies, list)
                                           else [energies])]
    n = runs[0].shape[1]
    longest = max(e.shape[0] for e in runs)
    lags = longest // 2 if max_lag is None else min(max_lag, longest - 1)
    tau = np.full((n, n), np.inf)
    for i in range(n):
        for j in range(i + 1, n):
            gaps = [e[:, i] - e[:, j] for e in runs]
            if np.std(np.concatenate(gaps)) < 1e-9:
                continue
            c = _pooled_autocorrelation(gaps, lags)
            t, d = _dephasing_from_autocorrelation(c, dt)
            tau[i, j] = tau[j, i] = gaussian_time(t, d, floor)
    return tau


@dataclass
class TimeConstantFit:
    """A fitted decay: ``tau`` (fs), its standard error, the model name and the fitted curve;
    ``resolved``: False when the run does not sample the decay (``tau`` is then no measurement,
    at best a rough scale: report :meth:`describe`); ``final``: the long-time value used."""

    tau: float
    tau_error: float
    model: str
    fitted: np.ndarray
    resolved: bool = True
    final: float = float("nan")
    reason: str = ""

    def describe(self, unit: str = "fs", scale: float = 1.0) -> str:
        """'1045 ± 80 fs', or 'not resolved (…)' for a decay the run did not sample."""
        if not self.resolved:
            return f"not resolved ({self.reason})"
        return f"{self.tau / scale:.4g} ± {self.tau_error / scale:.2g} {unit}"


#: a decay time is resolved when its relative standard error is at most this ...
RESOLVED_RELATIVE_ERROR = 0.3
#: ... and it is at most this many times the simulated time
RESOLVED_SPANS = 10.0


def decay_time(times: np.ndarray, blocks: np.ndarray, final: float | None = None,
               model: str = "exponential") -> TimeConstantFit:
    """Time constant (fs) of a population decay with its error over independent blocks.

    times: (nt,) fs; blocks: (nblocks, nt) the population averaged within each independent
    group of time origins (one row: no block error).  The mean curve is fitted to
    P(t) = final + (P(0) - final)·f(t/τ) (``model`` as :func:`fit_time_constant`; only
    ``"exponential"`` and ``"gaussian"`` with a free final value) with ``final`` the known
    long-time population or, when None, a free parameter in [0, 1] (never the last sample).
    The error is the standard error of the per-block fits (batch means), or the fit's own when
    there is one block.  The decay counts as resolved when the fit succeeds, its relative
    error is at most :data:`RESOLVED_RELATIVE_ERROR` and τ is at most :data:`RESOLVED_SPANS`
    times the simulated time (with ``final`` given; at most the simulated time when ``final``
    is fitted, since the curve must bend); otherwise ``resolved`` is False and
    ``reason`` says why.  Never raises on finite curves of matching shape.
    """
    t = np.asarray(times, float)
    b = np.atleast_2d(np.asarray(blocks, float))
    if b.shape[1] != t.size or t.ndim != 1:
        raise ValueError(f"blocks: shape {b.shape} does not match times {t.shape}")
    mean = b.mean(axis=0)
    span = float(t[-1] - t[0]) if t.size else 0.0
    nan = float("nan")

    def unresolved(reason: str, tau: float = nan, err: float = nan, fitted=None,
                   fin: float = nan) -> TimeConstantFit:
        return TimeConstantFit(tau, err, model, mean.copy() if fitted is None else fitted,
                               False, fin, reason)

    def one(curve: np.ndarray) -> tuple[float, float, float, np.ndarray] | None:
        try:
            with np.errstate(all="ignore"):
                return _fit_decay(t, curve, model, final)
        except (RuntimeError, ValueError):
            return None

    if t.size < 3 or span <= 0:
        return unresolved("too few samples")
    result = one(mean)
    if result is None:
        return unresolved(f"no decay within {span:.4g} fs")
    tau, err, fin, fitted = result
    if b.shape[0] > 1:
        taus = [r[0] for r in map(one, b) if r is not None]
        if len(taus) < b.shape[0]:
            return unresolved(f"no decay within {span:.4g} fs in some blocks", tau, err,
                              fitted, fin)
        err = float(np.std(taus, ddof=1) / np.sqrt(len(taus)))
    resolved, _, reason = _resolution(tau, err, span, final)
    return TimeConstantFit(tau, err, model, fitted, resolved, fin, reason)


def _fit_decay(t: np.ndarray, p: np.ndarray, model: str, final: float | None
               ) -> tuple[float, float, float, np.ndarray]:
    """(τ, its fit error, final, fitted curve); the final value fitted when None."""
    if final is not None:
        fit = fit_time_constant(t, p, model, final)
        return fit.tau, fit.tau_error, float(final), fit.fitted
    p0 = p[0]
    shape = _SHAPES.get(model)
    if shape is None:
        raise ValueError(f"model: unknown fit model {model!r} ({', '.join(_SHAPES)})")
    guess_final = float(np.clip(p[-max(1, p.size // 10):].mean(), 0.0, 1.0))
    amp = p0 - guess_final
    if abs(amp) < 1e-12:
        raise ValueError("population: no decay to fit")
    crossed = np.nonzero((p - guess_final) / amp < np.exp(-1.0))[0]
    guess_tau = max(t[crossed[0]] if crossed.size else t[-1], t[1] - t[0])

    def curve(s, tau, fin):
        return fin + (p0 - fin) * shape(s / tau)
    popt, pcov = curve_fit(curve, t, p, p0=[guess_tau, guess_final],
                           bounds=([1e-9, 0.0], [np.inf, 1.0]))
    return float(popt[0]), float(np.sqrt(pcov[0, 0])), float(popt[1]), curve(t, *popt)


_SHAPES = {
    "exponential": lambda u: np.exp(-u),
    "gaussian": lambda u: np.exp(-0.5 * u * u),
}


def fit_time_constant(times: np.ndarray, population: np.ndarray, model: str = "exponential",
                      final: float = 0.0) -> TimeConstantFit:
    """Fit P(t) = final + (P0 - final)·f(t/τ) to a population curve.

    model: ``"exponential"`` f = exp(-t/τ), ``"gaussian"`` f = exp(-(t/τ)²/2), or ``"mixed"``
    (weight a: a·exp(-t/τ) + (1-a)·exp(-(t/τ)²/2) with one τ).  times in fs; τ in fs; its
    error is the least-squares one (it ignores the correlation of the points in time: use
    :func:`decay_time` with blocks of time origins for an honest error).  ``resolved`` by the
    criteria of :func:`decay_time`.
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
    tau, err = float(popt[0]), float(np.sqrt(pcov[0, 0]))
    return TimeConstantFit(tau, err, model, fitted, *_resolution(tau, err, float(t[-1] - t[0]),
                                                                 final=float(final)))


def _resolution(tau: float, err: float, span: float, final: float | None
                ) -> tuple[bool, float, str]:
    """(resolved, final, reason) by the criteria of :func:`decay_time`."""
    fin = float("nan") if final is None else final
    if not (np.isfinite(tau) and np.isfinite(err)) or err > RESOLVED_RELATIVE_ERROR * tau:
        return False, fin, (f"the decay is not sampled within {span:.4g} fs (fit {tau:.3g} ± "
                            f"{err:.2g} fs)")
    if tau > RESOLVED_SPANS * span:
        return False, fin, f"longer than {RESOLVED_SPANS:g} x the simulated {span:.4g} fs"
    if final is None and tau > span:
        return False, fin, (f"longer than the simulated {span:.4g} fs, with the final "
                            "population unknown")
    return True, fin, ""
