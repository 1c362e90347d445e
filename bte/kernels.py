"""Numba kernels of the BTE solvers: ordered upwind sweeps (steady, and backward-Euler time
steps), forward-Euler time steps, moments, boundary updates.

Unknowns e[b, k, c]: deviational energy density of band b, direction k in cell c, J m^-3,
per unit angular weight (the weights sum to 1): equilibrium is cap[m, b, k] T and the band's
energy Σ_k w_k e.  Material data come per (band, direction) pair, (n_mat, nb, nd) arrays
(bte.materials.PairTable): speed (m/s; the pair's velocity is speed·s_k), tau (s), cap
(J m^-3 K^-1 per unit weight), heat_ratio (per unit weight), lattice (m^3 K J^-1); isotropic
bands are the case of values equal over k.  Per (band, direction)
the first-order upwind operator is lower-triangular in the sweep order of the direction, so a
single ordered pass solves it; second order enters by deferred correction (the reconstruction
increments use the gradient of the previous iterate).  The Python orchestration is in
bte.solver (steady) and bte.transient.
"""
from __future__ import annotations

import numba as nb
import numpy as np

from .problem import BoundaryKind

# boundary kinds understood by update_boundaries (bte.problem.BoundaryKind), as plain ints for
# the compiled code; any other kind keeps its incoming values (KEEP)
THERMALIZING = int(BoundaryKind.THERMALIZING)
DIFFUSE = int(BoundaryKind.DIFFUSE)
SPECULAR = int(BoundaryKind.SPECULAR)
INTERFACE = int(BoundaryKind.INTERFACE)
PERIODIC = int(BoundaryKind.PERIODIC)
KEEP = int(BoundaryKind.KEEP)
PARTIAL = int(BoundaryKind.PARTIALLY_SPECULAR)
HEAT_FLUX = int(BoundaryKind.HEAT_FLUX)


@nb.njit(cache=True, inline="always")
def _dot3(a, i, x, y, z):
    return a[i, 0] * x + a[i, 1] * y + a[i, 2] * z


@nb.njit(cache=True)
def _gradient(ek, g_off, g_nbr, g_w, grad):
    """Least-squares cell gradients grad[c] = Σ_j w_cj (e_j − e_c)."""
    for c in range(len(g_off) - 1):
        gx = gy = gz = 0.0
        ec = ek[c]
        for p in range(g_off[c], g_off[c + 1]):
            d = ek[g_nbr[p]] - ec
            gx += g_w[p, 0] * d
            gy += g_w[p, 1] * d
            gz += g_w[p, 2] * d
        grad[c, 0] = gx
        grad[c, 1] = gy
        grad[c, 2] = gz


@nb.njit(cache=True)
def _limit(ek, ebk, grad, face_off, face_nbr, face_center, centroid):
    """Scale each gradient by GiftBTE's smooth limiter φ = (y²+2y)/(y²+y+2) where a
    reconstructed face value would leave the range of the face neighbours."""
    for c in range(len(face_off) - 1):
        ec = ek[c]
        lo = ec
        hi = ec
        for f in range(face_off[c], face_off[c + 1]):
            j = face_nbr[f]
            v = ek[j] if j >= 0 else ebk[-j - 1]
            lo = min(lo, v)
            hi = max(hi, v)
        phi = 1.0
        for f in range(face_off[c], face_off[c + 1]):
            d = (grad[c, 0] * (face_center[f, 0] - centroid[c, 0])
                 + grad[c, 1] * (face_center[f, 1] - centroid[c, 1])
                 + grad[c, 2] * (face_center[f, 2] - centroid[c, 2]))
            if d > 0.0 and ec + d > hi:
                y = (hi - ec) / d
            elif d < 0.0 and ec + d < lo:
                y = (lo - ec) / d
            else:
                continue
            phi = min(phi, (y * y + 2 * y) / (y * y + y + 2))
        grad[c, 0] *= phi
        grad[c, 1] *= phi
        grad[c, 2] *= phi


@nb.njit(cache=True)
def _store_outgoing(ek, ebk, grad, second_order, sx, sy, sz, bf_cell, bf_normal, bf_center,
                    centroid):
    """Outgoing boundary values of direction (sx, sy, sz): the cell value of ek, reconstructed
    to the face centre with grad when second_order, stored in ebk at every boundary face the
    direction leaves through."""
    for bf in range(len(bf_cell)):
        if _dot3(bf_normal, bf, sx, sy, sz) > 0.0:
            c = bf_cell[bf]
            val = ek[c]
            if second_order:
                val += (grad[c, 0] * (bf_center[bf, 0] - centroid[c, 0])
                        + grad[c, 1] * (bf_center[bf, 1] - centroid[c, 1])
                        + grad[c, 2] * (bf_center[bf, 2] - centroid[c, 2]))
            ebk[bf] = val


@nb.njit(parallel=True, cache=True)
def sweep(e, e_bnd, temperature, heat, d, second_order, limit, inv_dt=0.0, e_old=None,
          active=None):
    """One source-iteration sweep of every (band, direction), in place.

    e (nb, nd, nc): intensities, overwritten with the new iterate; e_bnd (nb, nd, nbf): on
    entry the incoming boundary values (for directions entering the domain), on exit also the
    outgoing face values (directions leaving it).  temperature (nc,) K: the equilibrium
    temperature of the source term C_b T; heat (nc,) W m^-3.  d: the problem's
    bte.discretisation.Discretisation (pair tables, geometry, sweep orders, gradient
    stencils).  second_order, limit: reconstruction and limiter.  Backward-Euler time step:
    inv_dt = 1/Δt (1/s) adds the absorption inv_dt and the source inv_dt·e_old (e_old the
    intensities at the previous time level, same shape as e); steady sweeps omit both.
    active (nb·nd,) bool: sweep only the pairs t = b·nd + k marked (this MPI rank's share of
    the pairs that hold modes); None sweeps all.
    """
    n_b, n_d, n_c = e.shape
    cell_mat, speed, tau, cap, heat_ratio, dirs = (d.cell_mat, d.speed, d.tau, d.cap,
                                                   d.heat_ratio, d.dirs)
    face_off, face_nbr, face_an, face_center, centroid, order = (
        d.face_off, d.face_nbr, d.face_an, d.face_center, d.centroid, d.order)
    g_off, g_nbr, g_w, bf_cell, bf_normal, bf_center = (d.g_off, d.g_nbr, d.g_w, d.bf_cell,
                                                        d.bf_normal, d.bf_center)
    for t in nb.prange(n_b * n_d):
        if active is not None and not active[t]:
            continue
        b = t // n_d
        k = t % n_d
        sx = dirs[k, 0]
        sy = dirs[k, 1]
        sz = dirs[k, 2]
        ek = e[b, k]
        ebk = e_bnd[b, k]
        grad = np.zeros((n_c if second_order else 0, 3))
        if second_order:
            _gradient(ek, g_off, g_nbr, g_w, grad)
            if limit:
                _limit(ek, ebk, grad, face_off, face_nbr, face_center, centroid)
        for ii in range(n_c):
            c = order[k, ii]
            m = cell_mat[c]
            v = speed[m, b, k]
            tt = tau[m, b, k]
            diag = 1.0 / tt + inv_dt
            rhs = cap[m, b, k] * temperature[c] / tt + heat_ratio[m, b, k] * heat[c]
            if e_old is not None:
                rhs += inv_dt * e_old[b, k, c]
            for f in range(face_off[c], face_off[c + 1]):
                sn = v * _dot3(face_an, f, sx, sy, sz)
                if sn > 0.0:
                    diag += sn
                    if second_order:
                        rhs -= sn * (grad[c, 0] * (face_center[f, 0] - centroid[c, 0])
                                     + grad[c, 1] * (face_center[f, 1] - centroid[c, 1])
                                     + grad[c, 2] * (face_center[f, 2] - centroid[c, 2]))
                elif sn < 0.0:
                    j = face_nbr[f]
                    if j >= 0:
                        up = ek[j]
                        if second_order:
                            up += (grad[j, 0] * (face_center[f, 0] - centroid[j, 0])
                                   + grad[j, 1] * (face_center[f, 1] - centroid[j, 1])
                                   + grad[j, 2] * (face_center[f, 2] - centroid[j, 2]))
                    else:
                        up = ebk[-j - 1]
                    rhs -= sn * up
            ek[c] = rhs / diag
        _store_outgoing(ek, ebk, grad, second_order, sx, sy, sz, bf_cell, bf_normal,
                        bf_center, centroid)


@nb.njit(parallel=True, cache=True)
def explicit_step(e, e_bnd, temperature, heat, dt, d, second_order, limit, active=None):
    """One forward-Euler time step of every (band, direction), in place (GiftBTE's transient
    scheme): e += dt [(cap T − e)/τ + h Q − Σ_f v (s·n) A/V e_f] per pair, with upwind face values
    e_f of the old level (reconstructed with the least-squares gradient when second_order).

    Arguments as in :func:`sweep`; temperature (nc,) K the lattice temperature of the old level,
    heat (nc,) W m^-3 the source during the step, dt s.  On exit e_bnd holds the outgoing face
    values of the new level (incoming ones are left to update_boundaries); dt = 0 only refreshes
    them.  active: as in :func:`sweep`.
    """
    n_b, n_d, n_c = e.shape
    cell_mat, speed, tau, cap, heat_ratio, dirs = (d.cell_mat, d.speed, d.tau, d.cap,
                                                   d.heat_ratio, d.dirs)
    face_off, face_nbr, face_an, face_center, centroid = (d.face_off, d.face_nbr, d.face_an,
                                                          d.face_center, d.centroid)
    g_off, g_nbr, g_w, bf_cell, bf_normal, bf_center = (d.g_off, d.g_nbr, d.g_w, d.bf_cell,
                                                        d.bf_normal, d.bf_center)
    for t in nb.prange(n_b * n_d):
        if active is not None and not active[t]:
            continue
        b = t // n_d
        k = t % n_d
        sx = dirs[k, 0]
        sy = dirs[k, 1]
        sz = dirs[k, 2]
        ek = e[b, k]
        ebk = e_bnd[b, k]
        old = ek.copy()
        grad = np.zeros((n_c if second_order else 0, 3))
        if second_order:
            _gradient(old, g_off, g_nbr, g_w, grad)
            if limit:
                _limit(old, ebk, grad, face_off, face_nbr, face_center, centroid)
        for c in range(n_c):
            m = cell_mat[c]
            v = speed[m, b, k]
            div = 0.0
            for f in range(face_off[c], face_off[c + 1]):
                sn = v * _dot3(face_an, f, sx, sy, sz)
                if sn > 0.0:
                    up = old[c]
                    src = c
                elif sn < 0.0:
                    j = face_nbr[f]
                    if j < 0:
                        div += sn * ebk[-j - 1]
                        continue
                    up = old[j]
                    src = j
                else:
                    continue
                if second_order:
                    up += (grad[src, 0] * (face_center[f, 0] - centroid[src, 0])
                           + grad[src, 1] * (face_center[f, 1] - centroid[src, 1])
                           + grad[src, 2] * (face_center[f, 2] - centroid[src, 2]))
                div += sn * up
            ek[c] = old[c] + dt * ((cap[m, b, k] * temperature[c] - old[c]) / tau[m, b, k]
                                   + heat_ratio[m, b, k] * heat[c] - div)
        if second_order:
            _gradient(ek, g_off, g_nbr, g_w, grad)
            if limit:
                _limit(ek, ebk, grad, face_off, face_nbr, face_center, centroid)
        _store_outgoing(ek, ebk, grad, second_order, sx, sy, sz, bf_cell, bf_normal,
                        bf_center, centroid)


@nb.njit(parallel=True, cache=True)
def moments(e, d, t_lattice, t_energy, t_band, flux, active=None):
    """Angular moments per cell, accumulated in one pass over e (cells in parallel chunks).

    t_band (nb, nc) K = Σ_k w_k e / C_b with C_b = band_capacity (n_mat, nb);
    t_lattice = Σ_bk w_k lattice e (energy-conserving, lattice (n_mat, nb, nd));
    t_energy = Σ_b C_b T_b / ΣC; flux (nc, 3) W m^-2 = Σ_b Σ_k w_k speed s_k e.  With active
    (nb·nd,) bool only the marked pairs contribute: the moments are linear in e, so the partial
    moments of the MPI ranks add up to the full ones.  d: the Discretisation (weights,
    dirs, cell_mat, speed, band_capacity, lattice).
    """
    n_b, n_d, n_c = e.shape
    weights, dirs, cell_mat, speed, band_capacity, lattice = (
        d.weights, d.dirs, d.cell_mat, d.speed, d.band_capacity, d.lattice)
    chunk = 512
    for ch in nb.prange((n_c + chunk - 1) // chunk):
        c0 = ch * chunk
        c1 = min(n_c, c0 + chunk)
        for c in range(c0, c1):
            flux[c, 0] = 0.0
            flux[c, 1] = 0.0
            flux[c, 2] = 0.0
            t_lattice[c] = 0.0
            t_energy[c] = 0.0
        for b in range(n_b):
            for c in range(c0, c1):
                t_band[b, c] = 0.0
            for k in range(n_d):
                if active is not None and not active[b * n_d + k]:
                    continue
                w = weights[k]
                sx = dirs[k, 0]
                sy = dirs[k, 1]
                sz = dirs[k, 2]
                for c in range(c0, c1):
                    m = cell_mat[c]
                    val = w * e[b, k, c]
                    t_band[b, c] += val
                    t_lattice[c] += lattice[m, b, k] * val
                    vv = speed[m, b, k] * val
                    flux[c, 0] += vv * sx
                    flux[c, 1] += vv * sy
                    flux[c, 2] += vv * sz
        for c in range(c0, c1):
            m = cell_mat[c]
            csum = 0.0
            for b in range(n_b):
                energy = t_band[b, c]
                t_band[b, c] = energy / band_capacity[m, b]
                t_energy[c] += energy
                csum += band_capacity[m, b]
            t_energy[c] /= csum


@nb.njit(cache=True)
def _wall_fluxes(ebk, bf, weights, sn, speed, cap):
    """(F, G) of one band at boundary face bf: the outgoing energy flux F = Σ_out w v (s·n) e
    and the conductance G = Σ_in w v cap |s·n| of the incoming pairs (sn = s_k·n per k; speed,
    cap the face material's (nd,) rows of the band).  Incoming values cap_k F/G return the
    outgoing flux as an equilibrium distribution at T = F/G (diffuse re-emission)."""
    out = 0.0
    inc = 0.0
    for k in range(len(weights)):
        if sn[k] > 0.0:
            out += ebk[k, bf] * sn[k] * weights[k] * speed[k]
        elif sn[k] < 0.0:
            inc -= sn[k] * weights[k] * speed[k] * cap[k]
    return out, inc


@nb.njit(parallel=True, cache=True)
def update_boundaries(e_bnd, d):
    """New incoming boundary values from the outgoing ones (after a sweep), per band.

    Per band and face, F and G are the outgoing flux and the incoming conductance
    (_wall_fluxes); a wall re-emitting at temperature T sends cap_k T into each incoming pair
    k.  bf_kind: BC type per boundary face (1 thermalizing: fixed, set once; 2 diffuse:
    T = F/G; 3 specular with reflect[bf, k] the mirrored direction: the mirrored pair's value
    times cap_k / cap_mirror, i.e. its temperature (F/G if the mirrored pair holds no modes);
    -1 periodic: partner's outgoing value plus cap_k (ΔT_this − ΔT_partner) with bf_value the
    offsets; 5 interface: diffuse mismatch with per-band transmissivity bf_trans[bf, b] from
    this side's material, T = ((1 − t_own) F_own + t_other F_other) / G_own (energy-conserving;
    GiftBTE's form when t_own + t_other = 1); 6 partially specular with specularity
    p = bf_value: p × specular + (1 − p) × diffuse; 7 heat-flux wall: F/G + ΔT with ΔT =
    bf_value (K) chosen by the caller so that the net inward flux is the prescribed one; 0:
    keep).  bf_sn (nbf, nd) = s_k·n; speed, cap (n_mat, nb, nd) pair tables; all of them
    fields of the Discretisation d.
    """
    n_b, n_d, n_bf = e_bnd.shape
    bf_kind, bf_partner, bf_value, bf_mat, bf_trans, reflect = (
        d.bf_kind, d.bf_partner, d.bf_value, d.bf_mat, d.bf_trans, d.reflect)
    bf_sn, weights, speed, cap = d.bf_sn, d.weights, d.speed, d.cap
    for b in nb.prange(n_b):
        ebk = e_bnd[b]
        out = np.zeros(n_bf)
        inc = np.zeros(n_bf)
        # diffuse re-emission and interfaces first need the fluxes of every face
        for bf in range(n_bf):
            kind = bf_kind[bf]
            if kind == DIFFUSE or kind == INTERFACE or kind == PARTIAL or kind == HEAT_FLUX:
                m = bf_mat[bf]
                out[bf], inc[bf] = _wall_fluxes(ebk, bf, weights, bf_sn[bf], speed[m, b],
                                                cap[m, b])
        for bf in range(n_bf):
            kind = bf_kind[bf]
            sn = bf_sn[bf]
            m = bf_mat[bf]
            capk = cap[m, b]
            if kind == DIFFUSE or kind == INTERFACE or kind == HEAT_FLUX:
                flux = out[bf]
                if kind == INTERFACE:
                    p = bf_partner[bf]
                    flux = (1.0 - bf_trans[bf, b]) * out[bf] + bf_trans[p, b] * out[p]
                t = flux / inc[bf] if inc[bf] > 0.0 else 0.0
                if kind == HEAT_FLUX:
                    t += bf_value[bf]
                for k in range(n_d):
                    if sn[k] < 0.0:
                        ebk[k, bf] = capk[k] * t
            elif kind == SPECULAR or kind == PARTIAL:
                spec = 1.0 if kind == SPECULAR else bf_value[bf]
                known = kind == PARTIAL         # a specular wall needs F/G only for empty pairs
                for k in range(n_d):
                    if sn[k] < 0.0:
                        r = reflect[bf, k]
                        if capk[r] == 0.0 and not known:
                            out[bf], inc[bf] = _wall_fluxes(ebk, bf, weights, sn, speed[m, b],
                                                            capk)
                            known = True
                        diffuse = capk[k] * out[bf] / inc[bf] if inc[bf] > 0.0 else 0.0
                        mirror = capk[k] / capk[r] * ebk[r, bf] if capk[r] > 0.0 else diffuse
                        ebk[k, bf] = spec * mirror + (1.0 - spec) * diffuse
            elif kind == PERIODIC:
                p = bf_partner[bf]
                jump = bf_value[bf] - bf_value[p]
                for k in range(n_d):
                    if sn[k] < 0.0:
                        ebk[k, bf] = ebk[k, p] + capk[k] * jump
