"""PNG plots of a study: κ versus film thickness with the reference data of REFERENCES §1.5,
and the lattice temperature of one BTE case (matplotlib, Agg).  Thickness in nm on the axes,
κ W m^-1 K^-1, temperature K."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from phonons.plots import pyplot, save_figure
from workflows import references as ref


def plot_kappa_vs_thickness(rows: Sequence, kappa_bulk: float, path: str | Path) -> Path:
    """Two panels: κ(L) and κ(L)/κ_bulk of every film geometry in ``rows`` (KappaRow objects)
    against thickness, with almaBTE's cross-plane and in-plane p = 0.5 films and the film
    experiments overlaid (the ratio panel divides the almaBTE values by their own bulk κ)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    films = [r for r in rows if r.thickness_m is not None and r.kappa_W_mK is not None]
    for k, name in enumerate(dict.fromkeys(r.geometry for r in films)):
        sel = sorted((r for r in films if r.geometry == name), key=lambda r: r.thickness_m)
        x = np.array([r.thickness_m for r in sel]) * 1e9
        y = np.array([r.kappa_W_mK for r in sel])
        left.plot(x, y, "o-", color=f"C{k}", label=f"{name} (this study)")
        right.plot(x, y / kappa_bulk, "o-", color=f"C{k}", label=f"{name} (this study)")
    for data, marker, label in ((ref.ALMABTE_CROSS_PLANE, "s", "almaBTE cross-plane"),
                                (ref.ALMABTE_IN_PLANE_P05, "^", "almaBTE in-plane p=0.5")):
        x = np.array(list(data)) * 1e9
        y = np.array(list(data.values()))
        left.plot(x, y, marker, color="k", mfc="none", ms=8, ls="none", label=label)
        right.plot(x, y / ref.ALMABTE_BULK, marker, color="k", mfc="none", ms=8, ls="none",
                   label=label)
    for thickness, kappa, err, source in ref.FILM_EXPERIMENTS:
        left.errorbar(thickness * 1e9, kappa, yerr=err, fmt="*", ms=9, color="C3",
                      label=f"exp. {source}")
    left.axhline(kappa_bulk, color="0.6", ls=":", label="bulk (this study)")
    for ax, ylabel in ((left, "κ (W/mK)"), (right, "κ / κ_bulk")):
        ax.set_xscale("log")
        ax.set_xlabel("film thickness (nm)")
        ax.set_ylabel(ylabel)
    left.set_yscale("log")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    right.set_ylim(0, 1.05)
    fig.suptitle("silicon films, 300 K")
    return save_figure(fig, path)


def plot_temperature(case_dir: str | Path, path: str | Path, title: str = "") -> Path:
    """Lattice temperature of a BTE case from its ``TempLattice.dat`` (x y z T per cell): a
    colour map over the cell centroids of a 2D mesh (Delaunay triangles longer than 3× the
    median edge, i.e. across holes, left out), or T against position when the cells line up
    along one axis (a film column)."""
    plt = pyplot()
    data = np.loadtxt(Path(case_dir) / "TempLattice.dat", ndmin=2)
    xyz, temperature = data[:, :3], data[:, 3]
    spread = np.ptp(xyz, axis=0)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    varying = np.nonzero(spread > 1e-9 * max(spread.max(), 1e-300))[0]
    if len(varying) <= 1:
        axis = int(varying[0]) if len(varying) else 0
        order = np.argsort(xyz[:, axis])
        ax.plot(xyz[order, axis] * 1e9, temperature[order], ".-")
        ax.set_xlabel(f"{'xyz'[axis]} (nm)")
        ax.set_ylabel("lattice temperature (K)")
    else:
        from matplotlib.tri import Triangulation

        a, b = varying[:2]
        tri = Triangulation(xyz[:, a] * 1e9, xyz[:, b] * 1e9)
        corners = np.stack([tri.x[tri.triangles], tri.y[tri.triangles]], axis=-1)
        edges = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=-1).max(axis=1)
        tri.set_mask(edges > 3.0 * np.median(edges))      # no triangles across holes
        im = ax.tripcolor(tri, temperature, shading="gouraud", cmap="inferno")
        fig.colorbar(im, ax=ax, label="lattice temperature (K)")
        ax.set_xlabel(f"{'xyz'[a]} (nm)")
        ax.set_ylabel(f"{'xyz'[b]} (nm)")
        ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)
