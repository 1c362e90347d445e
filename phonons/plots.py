"""PNG plots: phonon dispersion, density of states and κ accumulation (matplotlib, Agg).

Frequencies THz, mean free paths plotted in µm, κ W m^-1 K^-1.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .force_constants import ForceConstants, check_symmetry
from .kappa import kappa_accumulation
from .modes import ModeSet

#: High-symmetry paths, reduced coordinates of the primitive reciprocal lattice, by the
#: centring letter of the conventional cell ("F": face-centred cubic primitive cell).
PATHS: dict[str, list[tuple[str, tuple[float, float, float]]]] = {
    "F": [("Γ", (0, 0, 0)), ("X", (0.5, 0, 0.5)), ("K", (0.375, 0.375, 0.75)),
          ("Γ", (0, 0, 0)), ("L", (0.5, 0.5, 0.5))],
}
#: Used for other lattices: Γ and zone-boundary points along the reciprocal axes.
GENERIC_PATH = [("Γ", (0, 0, 0)), ("A", (0.5, 0, 0)), ("B", (0.5, 0.5, 0)), ("Γ", (0, 0, 0)),
                ("C", (0.5, 0.5, 0.5))]


def pyplot():
    """matplotlib.pyplot with the non-interactive Agg backend (files only, no screen)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def plot_dispersion(fc: ForceConstants, path: str | Path,
                    qpath: Sequence[tuple[str, Sequence[float]]] | None = None,
                    n_points: int = 51) -> Path:
    """Harmonic dispersion along ``qpath`` (labels and reduced q-points; default from the
    lattice centring, see :data:`PATHS`) written as a PNG to ``path``."""
    plt = pyplot()
    if qpath is None:
        centring = check_symmetry(fc.unitcell, fc.symprec).international[0]
        qpath = PATHS.get(centring, GENERIC_PATH)
    points = np.array([q for _, q in qpath], dtype=np.float64)
    segments = [np.linspace(points[i], points[i + 1], n_points) for i in range(len(points) - 1)]
    ph = fc.to_phonopy()
    ph.run_band_structure(segments)
    distances, frequencies = ph.band_structure.distances, ph.band_structure.frequencies
    fig, ax = plt.subplots(figsize=(6, 4))
    for distance, frequency in zip(distances, frequencies):
        ax.plot(distance, frequency, color="C0", lw=1)
    ticks = [distances[0][0]] + [d[-1] for d in distances]
    ax.set_xticks(ticks, [label for label, _ in qpath])
    for x in ticks:
        ax.axvline(x, color="0.7", lw=0.5)
    ax.axhline(0, color="0.7", lw=0.5)
    ax.set_xlim(ticks[0], ticks[-1])
    ax.set_ylabel("frequency (THz)")
    return save_figure(fig, path)


def dos_figure(fc: ForceConstants, mesh: Sequence[int] = (21, 21, 21)):
    """The figure of :func:`plot_dos`; its title names the q-mesh the DOS was sampled on."""
    plt = pyplot()
    mesh = [int(n) for n in np.broadcast_to(mesh, (3,))]
    ph = fc.to_phonopy()
    ph.run_mesh(mesh)
    ph.run_total_dos()
    dos = ph.total_dos
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(dos.frequency_points, dos.dos, color="C0")
    ax.set_xlabel("frequency (THz)")
    ax.set_ylabel("DOS (states/THz)")
    ax.set_title(f"phonon DOS, tetrahedron method on a {'x'.join(map(str, mesh))} q-mesh")
    return fig


def plot_dos(fc: ForceConstants, path: str | Path,
             mesh: Sequence[int] = (21, 21, 21)) -> Path:
    """Total phonon DOS (states/THz per primitive cell, tetrahedron method on ``mesh``) as a
    PNG.  Give the q-mesh of the study so that the title states the mesh asked for."""
    return save_figure(dos_figure(fc, mesh), path)


#: Share of κ below which the shortest mean free paths are left off the accumulation axis.
MFP_AXIS_KAPPA_FRACTION = 1e-6
#: Axis label of κ over the bulk κ (mathtext: κ with the subscript "bulk").
KAPPA_RATIO_LABEL = r"$\kappa\,/\,\kappa_\mathrm{bulk}$"


def mfp_axis_range(mfp: np.ndarray, accumulated: np.ndarray,
                   fraction: float = MFP_AXIS_KAPPA_FRACTION) -> tuple[float, float]:
    """(shortest, longest) mean free path (units of ``mfp``) of the modes that carry κ:
    ``mfp`` ascending and ``accumulated`` its cumulative κ (:func:`kappa_accumulation`); the
    modes whose κ adds up to less than ``fraction`` of the total from the short end are left
    off (modes of zero group velocity have MFPs of 1e-50 m and carry none)."""
    mfp, accumulated = np.asarray(mfp), np.asarray(accumulated)
    carrying = (accumulated > fraction * accumulated[-1]) & (mfp > 0)
    if not carrying.any():
        raise ValueError("no mode carries κ: nothing to plot")
    return float(mfp[carrying][0]), float(mfp[-1])


def accumulation_figure(modes: ModeSet):
    """The figure of :func:`plot_accumulation`."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 4), sharey=True)
    mfp, acc = kappa_accumulation(modes, "mfp")
    shortest, longest = mfp_axis_range(mfp, acc)
    shown = mfp >= shortest
    left.plot(mfp[shown] * 1e6, acc[shown], color="C0")
    left.set_xscale("log")
    left.set_xlim(shortest * 1e6, longest * 1e6)
    left.set_xlabel("mean free path (µm)")
    left.set_ylabel("cumulative κ (W/mK)")
    freq, acc_f = kappa_accumulation(modes, "frequency")
    right.plot(freq, acc_f, color="C1")
    right.set_xlabel("frequency (THz)")
    fig.suptitle(f"{modes.temperature:g} K, q-mesh {'x'.join(str(n) for n in modes.mesh)}")
    return fig


def plot_accumulation(modes: ModeSet, path: str | Path) -> Path:
    """Cumulative κ (trace/3) versus mean free path (µm, log axis over the MFPs that carry κ:
    :func:`mfp_axis_range`) and versus frequency (THz) as a two-panel PNG."""
    return save_figure(accumulation_figure(modes), path)


def save_figure(fig, path: str | Path) -> Path:
    """Save ``fig`` as a PNG (120 dpi, tight layout) to ``path``, close it, return the path."""
    path = Path(path)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    pyplot().close(fig)
    return path
