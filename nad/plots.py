"""Figures of the NA-MD results (matplotlib with the Agg backend, PNG files)."""
from __future__ import annotations

from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_populations(curves: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray | None]],
                     path: str | Path, ylabel: str = "CBM population") -> Path:
    """Population curves {label: (times fs, population, fitted curve or None)} → PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    for label, (t, p, fitted) in curves.items():
        line, = ax.plot(t / 1000.0, p, label=label)
        if fitted is not None:
            ax.plot(t / 1000.0, fitted, "--", color=line.get_color(), lw=1)
    ax.set_xlabel("time (ps)")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def one_over_c_guide(concentration: np.ndarray, tau: np.ndarray, resolved: np.ndarray
                     ) -> np.ndarray | None:
    """τ ∝ 1/c through the first resolved point (τ in any unit), None when none is resolved."""
    c, t, ok = (np.asarray(a) for a in (concentration, tau, resolved))
    if not ok.any():
        return None
    first = int(np.argmax(ok))
    return t[first] * c[first] / c


def plot_trapping_vs_concentration(concentration: np.ndarray, tau: np.ndarray, path: str | Path,
                                   reference: tuple[np.ndarray, np.ndarray] | None = None,
                                   resolved: np.ndarray | None = None) -> Path:
    """Trapping time (fs in, ps drawn) vs vacancy concentration (log–log) with a 1/c guide → PNG.

    ``resolved`` (bool per point, default all): points the run did not resolve are drawn as
    open upward triangles at the ``tau`` given for them, which should be a lower bound (see
    :func:`nad.pipeline.plotted_trapping_times`), labelled as such, not as measurements; the
    1/c guide goes through the first resolved point (none without one)."""
    plt = _pyplot()
    c, t = np.asarray(concentration, float), np.asarray(tau, float) / 1000.0
    ok = np.ones(c.size, bool) if resolved is None else np.asarray(resolved, bool)
    fig, ax = plt.subplots(figsize=(5, 3.6))
    ax.loglog(c[ok] * 100, t[ok], "o-", label="ML NA-MD (DISH)")
    if not ok.all():
        ax.loglog(c[~ok] * 100, t[~ok], "^", mfc="none", color="gray",
                  label="not resolved (longer than drawn)")
    if reference is not None:
        ax.loglog(np.asarray(reference[0]) * 100, np.asarray(reference[1]) / 1000.0, "s",
                  label="direct TB")
    guide = one_over_c_guide(c, t, ok)
    if guide is not None:
        ax.loglog(c * 100, guide, ":", color="gray", label="∝ 1/c")
    ax.set_xlabel("S vacancy concentration (%)")
    ax.set_ylabel("trapping time (ps)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_parity(reference: np.ndarray, predicted: np.ndarray, path: str | Path, label: str
                ) -> Path:
    """Predicted vs reference scatter with the identity line → PNG."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(3.8, 3.6))
    ax.plot(reference, predicted, ".", ms=3)
    lo = min(np.min(reference), np.min(predicted))
    hi = max(np.max(reference), np.max(predicted))
    ax.plot([lo, hi], [lo, hi], "k-", lw=0.8)
    ax.set_xlabel(f"TB {label}")
    ax.set_ylabel(f"ML {label}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
