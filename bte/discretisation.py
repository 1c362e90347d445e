"""The discretised problem both solvers iterate on: every array the numba kernels read, built once
per problem (:func:`discretise`), and the set-up shared by the steady and transient drivers
(initial state, convergence measures).

Pair tables (n_mat, nb, nd) from bte.materials.PairTable: speed m/s, tau s, cap J m^-3 K^-1 per
unit angular weight, heat_ratio, lattice m^3 K J^-1; band_capacity (n_mat, nb).  Geometry arrays
as in bte.problem.Geometry; face_an (n_faces, 3) 1/m.  Boundary faces: bf_kind (a
bte.problem.BoundaryKind number per face, KEEP where the kernels do nothing), bf_value (K for
thermalizing walls and periodic offsets, p for partially specular walls, the emission ΔT (K) of
heat-flux walls), bf_flux W m^-2, bf_trans (nbf, nb), reflect (nbf, nd) the mirrored direction,
bf_sn (nbf, nd) = s_k·n.
"""
from __future__ import annotations

import os
from typing import NamedTuple

import numpy as np

from .angles import AngularSet, angular_set, specular_map
from .geometry import least_squares_gradient, sweep_orders
from .materials import pair_table
from .problem import BoundaryKind, BTEInputError, Geometry, Problem

__all__ = ["Discretisation", "available_memory", "check_memory", "discretise",
           "face_area_normals", "initial_state", "memory_estimate", "n_directions",
           "pair_tables", "per_pair", "problem_angles", "residuals"]

#: the boundary kinds the kernels update; any other (legacy 0 and 4) keeps its incoming values
UPDATED_KINDS = (BoundaryKind.THERMALIZING, BoundaryKind.DIFFUSE, BoundaryKind.SPECULAR,
                 BoundaryKind.INTERFACE, BoundaryKind.PERIODIC,
                 BoundaryKind.PARTIALLY_SPECULAR, BoundaryKind.HEAT_FLUX)


class Discretisation(NamedTuple):
    """The arrays of one problem that the kernels (bte.kernels) take by name (see the module
    docstring for units)."""

    dirs: np.ndarray            # (nd, 3) unit directions
    weights: np.ndarray         # (nd,) angular weights summing to 1
    cell_mat: np.ndarray        # (nc,) material per cell
    speed: np.ndarray
    tau: np.ndarray
    cap: np.ndarray
    heat_ratio: np.ndarray
    lattice: np.ndarray
    band_capacity: np.ndarray
    face_off: np.ndarray
    face_nbr: np.ndarray
    face_an: np.ndarray
    face_center: np.ndarray
    centroid: np.ndarray
    order: np.ndarray           # (nd, nc) sweep order per direction
    n_cycle_cells: np.ndarray   # (nd,) cells whose upwind cycles the ordering broke
    g_off: np.ndarray           # least-squares gradient stencils (CSR over cells)
    g_nbr: np.ndarray
    g_w: np.ndarray
    bf_cell: np.ndarray
    bf_normal: np.ndarray
    bf_center: np.ndarray
    bf_partner: np.ndarray
    bf_kind: np.ndarray
    bf_value: np.ndarray
    bf_flux: np.ndarray
    bf_mat: np.ndarray
    bf_trans: np.ndarray
    bf_sn: np.ndarray
    reflect: np.ndarray

    @property
    def shape(self) -> tuple[int, int, int]:
        """(n_bands, n_directions, n_cells) of the unknowns e."""
        return self.cap.shape[1], len(self.weights), len(self.cell_mat)


def problem_angles(problem: Problem) -> AngularSet:
    """The direction set of ``problem`` (MaterialDimension, Angle_method, Ntheta, Nphi)."""
    return angular_set(problem.material_dimension, problem.angle_method, problem.ntheta,
                       problem.nphi)


def face_area_normals(g: Geometry) -> np.ndarray:
    """(n_faces, 3) 1/m: each cell face's outward unit normal times its area over the volume of
    the cell that owns it (the upwind divergence coefficients)."""
    owner = np.repeat(np.arange(g.n_cells), np.diff(g.face_offsets))
    return g.face_normal * (g.face_area / g.volume[owner])[:, None]


def pair_tables(problem: Problem, angles: AngularSet) -> dict[str, np.ndarray]:
    """Every material's bte.materials.PairTable on ``angles``, stacked over materials:
    speed, tau, cap, heat, lattice (n_mat, nb, nd) and band_capacity (n_mat, nb)."""
    tables = [pair_table(m, angles) for m in problem.materials]
    n_bands = {t.cap.shape[0] for t in tables}
    if len(n_bands) > 1:
        raise BTEInputError(f"the materials have different band counts {sorted(n_bands)}",
                            None, None, "BandNumber")
    return {name: np.ascontiguousarray(np.stack([getattr(t, name) for t in tables]),
                                       dtype=np.float64)
            for name in ("speed", "tau", "cap", "heat", "lattice", "band_capacity")}


def discretise(problem: Problem) -> Discretisation:
    """The kernel arrays of ``problem``: pair tables on its direction set, sweep orders,
    gradient stencils and the per-face boundary data."""
    g = problem.geometry
    angles = problem_angles(problem)
    cell_mat = np.ascontiguousarray(problem.cell_material, dtype=np.int64)
    t = pair_tables(problem, angles)
    order, n_cycle = sweep_orders(g, angles.directions)
    g_off, g_nbr, g_w = least_squares_gradient(problem.mesh, g, cell_mat)

    nbf = g.n_bfaces
    bf_kind = np.zeros(nbf, dtype=np.int64)
    bf_value = np.zeros(nbf)
    bf_trans = np.zeros((nbf, problem.n_bands))
    bf_mat = cell_mat[g.bface_cell]
    for index, bc in problem.boundary_conditions.items():
        sel = g.bface_index == index
        if not sel.any():
            continue
        bf_kind[sel] = bc.kind
        bf_value[sel] = bc.value
        if bc.kind == BoundaryKind.INTERFACE:
            for f in np.flatnonzero(sel):
                bf_trans[f] = bc.transmissivity[int(bf_mat[f])]
    bf_kind[~np.isin(bf_kind, UPDATED_KINDS)] = BoundaryKind.KEEP
    bf_sn = np.ascontiguousarray(g.bface_normal @ angles.directions.T)
    reflect = np.zeros((nbf, angles.n_dir), dtype=np.int64)
    spec = np.isin(bf_kind, [BoundaryKind.SPECULAR, BoundaryKind.PARTIALLY_SPECULAR])
    if spec.any():
        reflect[spec] = specular_map(angles.directions, g.bface_normal[spec])
    # heat-flux walls: the prescribed inward flux q (W m^-2) is carried by a diffuse emission
    # cap ΔT on top of the diffuse reflection, ΔT = q / Σ_bk w_k v_bk cap_bk |s_k·n|_in
    flux_walls = bf_kind == BoundaryKind.HEAT_FLUX
    bf_flux = np.where(flux_walls, bf_value, 0.0)
    if flux_walls.any():
        inward = np.where(bf_sn[flux_walls] < 0, -bf_sn[flux_walls], 0.0) * angles.weights
        cv = (t["cap"] * t["speed"]).sum(1)[bf_mat[flux_walls]]             # (f, nd)
        bf_value[flux_walls] /= (cv * inward).sum(1)
    return Discretisation(
        dirs=angles.directions, weights=angles.weights, cell_mat=cell_mat, speed=t["speed"],
        tau=t["tau"], cap=t["cap"], heat_ratio=t["heat"], lattice=t["lattice"],
        band_capacity=t["band_capacity"], face_off=g.face_offsets, face_nbr=g.face_neighbor,
        face_an=np.ascontiguousarray(face_area_normals(g)), face_center=g.face_center,
        centroid=g.centroid, order=order, n_cycle_cells=n_cycle, g_off=g_off, g_nbr=g_nbr,
        g_w=g_w, bf_cell=g.bface_cell, bf_normal=g.bface_normal, bf_center=g.bface_center,
        bf_partner=g.bface_partner, bf_kind=bf_kind, bf_value=bf_value, bf_flux=bf_flux,
        bf_mat=bf_mat, bf_trans=bf_trans, bf_sn=bf_sn, reflect=reflect)


def per_pair(cap: np.ndarray, material: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(nb, nd, n) array cap[material[i], b, k] · values[i], built band by band (no temporary
    of the full size)."""
    out = np.empty((cap.shape[1], cap.shape[2], len(material)))
    for b in range(cap.shape[1]):
        np.multiply(cap[:, b, :].T[:, material], values, out=out[b])
    return out


def initial_state(d: Discretisation, volume: np.ndarray, temp: np.ndarray):
    """(d', level, temp − level, e, e_bnd) of a run starting from ``temp`` (K per cell), with
    ``volume`` the cell volumes.

    The linear BTE is invariant under a uniform temperature shift: runs iterate on deviations
    from the mean starting temperature, so a 1 K drive at 300 K is not resolved against a
    300 K level (the synthetic correction amplifies that round-off by ~(L/Λ)² in thick cells);
    d' is ``d`` with the thermalizing walls' values shifted with it.  e is at equilibrium
    with temp; the boundary values are the walls' temperatures, the partner cell's plus the
    offset on periodic faces, and the adjacent cell's elsewhere.
    """
    level = float(np.average(temp, weights=volume))
    temp = temp - level
    walls = d.bf_kind == BoundaryKind.THERMALIZING
    d = d._replace(bf_value=np.where(walls, d.bf_value - level, d.bf_value))
    e = per_pair(d.cap, d.cell_mat, temp)
    t_face = np.where(walls, d.bf_value, temp[d.bf_cell])
    per = d.bf_kind == BoundaryKind.PERIODIC
    partner = d.bf_partner[per]
    t_face[per] = temp[d.bf_cell[partner]] + d.bf_value[per] - d.bf_value[partner]
    return d, level, temp, e, per_pair(d.cap, d.bf_mat, t_face)


def residuals(t_new, t_old, q_new, q_old, level) -> tuple[float, float]:
    """Convergence measures (err_T, err_q): mean change of T and of |q| per cell per iteration.

    t_new, t_old are deviations from ``level`` (K).  err_q is GiftBTE's (normalised by
    max|q|).  err_T is normalised by the temperature range of the field, not by max|T| in
    absolute kelvin as GiftBTE does (which makes a run at 300–301 K 300 times looser than the
    same run at 0–1 K); a uniform field falls back to the absolute max|T|."""
    n = len(t_new)
    absolute = np.abs(t_new + level).max()
    scale = np.ptp(t_new) if np.ptp(t_new) > 1e-12 * absolute else absolute
    err_t = np.abs(t_new - t_old).sum() / (n * max(scale, 1e-300))
    qn, qo = np.linalg.norm(q_new, axis=1), np.linalg.norm(q_old, axis=1)
    err_q = np.abs(qn - qo).sum() / (n * max(qn.max(), 1e-300))
    return float(err_t), float(err_q)


def n_directions(problem: Problem) -> int:
    """The number of discrete directions of ``problem`` (bte.angles.angular_set: 4·Nphi for a 2D
    material, 2·Ntheta·4·Nphi for a 3D one), computed without building them."""
    if problem.material_dimension == 2:
        return 4 * int(problem.nphi)
    return 8 * int(problem.ntheta) * int(problem.nphi)


def memory_estimate(problem: Problem, transient: bool = False) -> int:
    """Bytes a run of ``problem`` needs for its largest arrays (8-byte numbers): the intensities
    e (bands × directions × cells) and e_bnd (bands × directions × boundary faces), the pair
    tables (5 × materials × bands × directions), the sweep orders (directions × cells) and the
    per-face direction tables (s·n, mirrored direction: 2 × boundary faces × directions); a
    transient run keeps one more copy of e and e_bnd (the previous step)."""
    nb, nd = int(problem.n_bands), n_directions(problem)
    nc, nbf = int(problem.geometry.n_cells), int(problem.geometry.n_bfaces)
    intensity = nb * nd * (nc + nbf)
    words = (2 if transient else 1) * intensity + 5 * len(problem.materials) * nb * nd \
        + nd * nc + 2 * nbf * nd
    return 8 * words


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation: /proc/meminfo's MemAvailable, else the
    free physical pages (os.sysconf); None when neither is known."""
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def _gib(n_bytes: float) -> str:
    return f"{n_bytes / 2**30:.3g} GiB"


def check_memory(problem: Problem, transient: bool = False, force: bool = False) -> int:
    """The memory estimate of a run (bytes, :func:`memory_estimate`); raises BTEInputError
    (key Ntheta) when it exceeds the available memory, unless ``force``."""
    need = memory_estimate(problem, transient)
    have = available_memory()
    if not force and have is not None and need > have:
        raise BTEInputError(
            f"the run needs about {_gib(need)} ({problem.n_bands} bands x "
            f"{n_directions(problem)} directions x {problem.geometry.n_cells} cells) but only "
            f"{_gib(have)} is available; reduce Ntheta/Nphi or the mesh, or force the run "
            "(--force-memory, solve(force_memory=True))", None, None, "Ntheta")
    return need
