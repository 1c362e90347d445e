"""PNG plots of a study: κ versus the thickness of films, wires and ribbons with the reference
data of REFERENCES §1.5, and a cell field (temperature, heat flux) of one BTE case
(matplotlib, Agg).  Thickness in nm on the axes, κ W m^-1 K^-1, temperature K, heat flux
W m^-2."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from phonons.plots import pyplot, save_figure
from workflows import references as ref


def plot_kappa_vs_thickness(rows: Sequence, kappa_bulk: float, path: str | Path) -> Path:
    """Two panels: κ and κ/κ_bulk of every film, wire and ribbon geometry in ``rows``
    (KappaRow objects) against thickness (a wire's height, its side when square; one curve per
    ribbon width), with the rows' references (``reference_W_mK``, ``reference_ratio``: the
    per-mode Fuchs–Sondheimer κ of in-plane films, dashed in the film's colour), almaBTE's
    cross-plane films and the in-plane film experiments overlaid, and the nanowire experiments
    (against diameter) when there are wires (the ratio panel divides the almaBTE values by
    their own bulk κ).  almaBTE's in-plane p = 0.5 films are not drawn: they are no reference
    (REFERENCES §1.5)."""
    plt = pyplot()
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    sized = [r for r in rows if r.thickness_m is not None and r.kappa_W_mK is not None]

    def curve(r) -> str:
        if r.kind != "ribbon":
            return r.geometry
        return f"{r.geometry} w={r.width_m * 1e9:g} nm"

    for k, name in enumerate(dict.fromkeys(curve(r) for r in sized)):
        sel = sorted((r for r in sized if curve(r) == name), key=lambda r: r.thickness_m)
        x = np.array([r.thickness_m for r in sel]) * 1e9
        y = np.array([r.kappa_W_mK for r in sel])
        left.plot(x, y, "o-", color=f"C{k}", label=f"{name} (this study)")
        right.plot(x, y / kappa_bulk, "o-", color=f"C{k}", label=f"{name} (this study)")
        if sel[0].kind == "in-plane" and not np.isnan(sel[0].reference_W_mK):
            label = f"{name}: per-mode FS, p={sel[0].specularity:g}"
            left.plot(x, [r.reference_W_mK for r in sel], "x--", color=f"C{k}", label=label)
            right.plot(x, [r.reference_ratio for r in sel], "x--", color=f"C{k}", label=label)
    x = np.array(list(ref.ALMABTE_CROSS_PLANE)) * 1e9
    y = np.array(list(ref.ALMABTE_CROSS_PLANE.values()))
    for ax, scale in ((left, 1.0), (right, ref.ALMABTE_BULK)):
        ax.plot(x, y / scale, "s", color="k", mfc="none", ms=8, ls="none",
                label="almaBTE cross-plane")
    for marker, (thickness, kappa, err, source) in zip("*Dv", ref.FILM_EXPERIMENTS):
        left.errorbar(thickness * 1e9, kappa, yerr=err, fmt=marker, ms=7, color="C3",
                      label=f"exp. in-plane film, {source}")
    if any(r.kind == "wire" for r in sized):
        diameter, kappa, source = zip(*ref.NANOWIRE_EXPERIMENTS)
        left.plot(np.array(diameter) * 1e9, kappa, "P", ms=8, color="k", ls="none",
                  label=f"exp. nanowire, {source[0]} (x = diameter)")
    left.axhline(kappa_bulk, color="0.6", ls=":", label="bulk (this study)")
    for ax, ylabel in ((left, r"$\kappa$ (W/mK)"),
                       (right, r"$\kappa\,/\,\kappa_{\mathrm{bulk}}$")):
        ax.set_xscale("log")
        ax.set_xlabel("thickness (nm)")
        ax.set_ylabel(ylabel)
    left.set_yscale("log")
    left.legend(fontsize=7)
    right.legend(fontsize=7)
    right.set_ylim(0, 1.05)
    fig.suptitle("silicon nanostructures, 300 K")
    return save_figure(fig, path)


#: fields of a BTE case that can be mapped: output file (rows x y z value ...) and label
CELL_FIELDS = {"temperature": ("TempLattice.dat", "lattice temperature (K)"),
               "heat_flux_x": ("HeatFlux.dat", "heat flux along x (W/m²)")}


def plot_cell_field(case_dir: str | Path, path: str | Path, title: str = "",
                    field: str = "temperature") -> Path:
    """A cell field of a BTE case (:data:`CELL_FIELDS`: the lattice temperature from
    ``TempLattice.dat``, or the heat flux along x from ``HeatFlux.dat``, whose rows start with
    the cell centroid x y z): a colour map over the cell centroids of a 2D mesh or of the
    section of a wire (Delaunay triangles longer than 3× the median edge, i.e. across holes,
    left out), or the field against position when the cells line up along one axis (a film
    column)."""
    plt = pyplot()
    name, label = CELL_FIELDS[field]
    data = np.loadtxt(Path(case_dir) / name, ndmin=2)
    xyz, values = data[:, :3], data[:, 3]
    spread = np.ptp(xyz, axis=0)
    fig, ax = plt.subplots(figsize=(5.5, 4.2))
    varying = np.nonzero(spread > 1e-9 * max(spread.max(), 1e-300))[0]
    if len(varying) <= 1:
        axis = int(varying[0]) if len(varying) else 0
        order = np.argsort(xyz[:, axis])
        ax.plot(xyz[order, axis] * 1e9, values[order], ".-")
        ax.set_xlabel(f"{'xyz'[axis]} (nm)")
        ax.set_ylabel(label)
    else:
        from matplotlib.tri import Triangulation

        a, b = varying[:2]
        tri = Triangulation(xyz[:, a] * 1e9, xyz[:, b] * 1e9)
        corners = np.stack([tri.x[tri.triangles], tri.y[tri.triangles]], axis=-1)
        edges = np.linalg.norm(corners - np.roll(corners, 1, axis=1), axis=-1).max(axis=1)
        tri.set_mask(edges > 3.0 * np.median(edges))      # no triangles across holes
        im = ax.tripcolor(tri, values, shading="gouraud", cmap="inferno")
        fig.colorbar(im, ax=ax, label=label)
        ax.set_xlabel(f"{'xyz'[a]} (nm)")
        ax.set_ylabel(f"{'xyz'[b]} (nm)")
        ax.set_aspect("equal")
    ax.set_title(title, fontsize=9)
    return save_figure(fig, path)
