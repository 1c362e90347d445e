"""Numba kernels of the steady BTE solver: ordered upwind sweeps, moments, boundary updates.

Unknowns e[b, k, c]: deviational energy density of band b, direction k in cell c, J m^-3,
normalised so that equilibrium is C_b T (angular weights sum to 1).  Per (band, direction)
the first-order upwind operator is lower-triangular in the sweep order of the direction, so a
single ordered pass solves it; second order enters by deferred correction (the reconstruction
increments use the gradient of the previous iterate).  The Python orchestration is in
bte.solver.
"""
from __future__ import annotations

import numba as nb
import numpy as np

# boundary kinds understood by update_boundaries (GiftBTE BC types)
THERMALIZING, DIFFUSE, SPECULAR, INTERFACE, PERIODIC, KEEP = 1, 2, 3, 5, -1, 0


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


@nb.njit(parallel=True, cache=True)
def sweep(e, e_bnd, temperature, heat, cell_mat, vel, tau, cap, heat_ratio, dirs,
          face_off, face_nbr, face_an, face_center, centroid, order,
          g_off, g_nbr, g_w, second_order, limit, bf_cell, bf_normal, bf_center):
    """One source-iteration sweep of every (band, direction), in place.

    e (nb, nd, nc): intensities, overwritten with the new iterate; e_bnd (nb, nd, nbf): on
    entry the incoming boundary values (for directions entering the domain), on exit also the
    outgoing face values (directions leaving it).  temperature (nc,) K: the equilibrium
    temperature of the source term C_b T; heat (nc,) W m^-3.  Material tables (n_mat, nb):
    vel m/s, tau s, cap J m^-3 K^-1, heat_ratio.  face_an (nf, 3): A n / V of the owning cell
    (1/m).  order (nd, nc): sweep order per direction.
    """
    n_b, n_d, n_c = e.shape
    n_bf = len(bf_cell)
    for t in nb.prange(n_b * n_d):
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
            v = vel[m, b]
            tt = tau[m, b]
            diag = 1.0 / tt
            rhs = cap[m, b] * temperature[c] / tt + heat_ratio[m, b] * heat[c]
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
        for bf in range(n_bf):
            if _dot3(bf_normal, bf, sx, sy, sz) > 0.0:
                c = bf_cell[bf]
                val = ek[c]
                if second_order:
                    val += (grad[c, 0] * (bf_center[bf, 0] - centroid[c, 0])
                            + grad[c, 1] * (bf_center[bf, 1] - centroid[c, 1])
                            + grad[c, 2] * (bf_center[bf, 2] - centroid[c, 2]))
                ebk[bf] = val


@nb.njit(parallel=True, cache=True)
def moments(e, weights, dirs, cell_mat, vel, cap, lattice_ratio, t_lattice, t_energy,
            t_band, flux):
    """Angular moments per cell, accumulated in one pass over e (cells in parallel chunks).

    t_band (nb, nc) K = Σ_k w_k e / C_b; t_lattice = Σ_b r_b T_b; t_energy = Σ_b C_b T_b / ΣC;
    flux (nc, 3) W m^-2 = Σ_b Σ_k w_k v_b s_k e.
    """
    n_b, n_d, n_c = e.shape
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
                w = weights[k]
                sx = dirs[k, 0]
                sy = dirs[k, 1]
                sz = dirs[k, 2]
                for c in range(c0, c1):
                    val = w * e[b, k, c]
                    t_band[b, c] += val
                    vv = vel[cell_mat[c], b] * val
                    flux[c, 0] += vv * sx
                    flux[c, 1] += vv * sy
                    flux[c, 2] += vv * sz
        for c in range(c0, c1):
            m = cell_mat[c]
            csum = 0.0
            for b in range(n_b):
                energy = t_band[b, c]
                t_band[b, c] = energy / cap[m, b]
                t_lattice[c] += lattice_ratio[m, b] * t_band[b, c]
                t_energy[c] += energy
                csum += cap[m, b]
            t_energy[c] /= csum


@nb.njit(cache=True)
def _outgoing_mean(ebk, bf, weights, sn):
    """Flux-weighted mean of the outgoing values at boundary face bf (sn = s_k·n per k)."""
    num = 0.0
    den = 0.0
    for k in range(len(weights)):
        if sn[k] > 0.0:
            num += ebk[k, bf] * sn[k] * weights[k]
            den += sn[k] * weights[k]
    return num / den


@nb.njit(parallel=True, cache=True)
def update_boundaries(e_bnd, bf_kind, bf_partner, bf_value, bf_mat, bf_trans, reflect,
                      bf_sn, weights, vel, cap):
    """New incoming boundary values from the outgoing ones (after a sweep), per band.

    bf_kind: GiftBTE BC type per boundary face (1 thermalizing: fixed, set once; 2 diffuse;
    3 specular with reflect[bf, k] the mirrored direction; -1 periodic: partner's outgoing
    value plus C_b (ΔT_this − ΔT_partner) with bf_value the offsets; 5 interface: diffuse
    mismatch with per-band transmissivity bf_trans[bf, b] from this side's material,
    e_in = (1 − t_own) ē_own + t_other (v_other / v_own) ē_other (energy-conserving; equal to
    GiftBTE's form when t_own + t_other = 1); 0: keep).  bf_sn (nbf, nd) = s_k·n.
    """
    n_b, n_d, n_bf = e_bnd.shape
    for b in nb.prange(n_b):
        ebk = e_bnd[b]
        new = np.empty(n_bf)
        # diffuse and interface walls first need the outgoing means of every face
        for bf in range(n_bf):
            kind = bf_kind[bf]
            if kind == DIFFUSE or kind == INTERFACE:
                new[bf] = _outgoing_mean(ebk, bf, weights, bf_sn[bf])
        for bf in range(n_bf):
            kind = bf_kind[bf]
            if kind != DIFFUSE and kind != INTERFACE:
                continue
            val = new[bf]
            if kind == INTERFACE:
                p = bf_partner[bf]
                val = ((1.0 - bf_trans[bf, b]) * new[bf]
                       + bf_trans[p, b] * vel[bf_mat[p], b] / vel[bf_mat[bf], b] * new[p])
            sn = bf_sn[bf]
            for k in range(n_d):
                if sn[k] < 0.0:
                    ebk[k, bf] = val
        for bf in range(n_bf):
            kind = bf_kind[bf]
            sn = bf_sn[bf]
            if kind == SPECULAR:
                for k in range(n_d):
                    if sn[k] < 0.0:
                        ebk[k, bf] = ebk[reflect[bf, k], bf]
            elif kind == PERIODIC:
                p = bf_partner[bf]
                jump = cap[bf_mat[bf], b] * (bf_value[bf] - bf_value[p])
                for k in range(n_d):
                    if sn[k] < 0.0:
                        ebk[k, bf] = ebk[k, p] + jump
