"""Macroscopic (Fourier) diffusion operator on the BTE mesh.

Used twice by the steady solver: the Fourier pre-solve that gives the starting temperature,
and the synthetic acceleration, where a correction δT solves −∇·(κ∇δT) = r with r the energy
residual of the last transport sweep (diffusion synthetic acceleration; the macroscopic
equation of Hu, Shen & Bao's synthetic scheme in correction form).  Two-point fluxes across
faces with a scalar κ (trace/dimension of the material's tensor: for anisotropic materials the
operator is a preconditioner and a Fourier estimate, not exact); thermalizing walls enter as a
Robin condition with the Marshak wall conductance h = Σ_b C_b v_b / 2 (3D) or 2 Σ_b C_b v_b / π
(2D materials; C_b v_b = Σ_k w_k C v over the band's pairs), i.e. with the BTE's temperature
jump; across interior and periodic faces the conductance of the first-order upwind sweep is
added (keeps the correction stable in optically thick cells); periodic pairs are connected
with their temperature offsets; interfaces add the resistance 1/G with
G = Σ_b C_b v_b t_b / 4 (3D) or / π (2D); heat-flux walls add their flux to the pre-solve;
other walls are adiabatic.
Units: κ W m^-1 K^-1, lengths m, T K, r W m^-3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from .kernels import INTERFACE, PERIODIC, THERMALIZING


@dataclass
class DiffusionOperator:
    """The factorised operator and the boundary data of its right-hand sides."""

    lu: object
    volume: np.ndarray
    wall_rhs: np.ndarray       # per cell (W): Σ g·T_w (thermalizing) + Σ A·q (heat-flux faces)
    jump_rhs: np.ndarray       # per cell (W): Σ g·(ΔT_this − ΔT_partner) over periodic faces
    singular: bool

    def solve(self, source: np.ndarray, boundary: bool) -> np.ndarray:
        """Solve −∇·(κ∇T) = source (W m^-3 per cell); with boundary=True the walls' and the
        periodic jumps' temperatures enter (pre-solve), else all boundary data are zero
        (correction equation)."""
        rhs = source * self.volume
        if boundary:
            rhs = rhs + self.wall_rhs + self.jump_rhs
        if self.singular:
            rhs = rhs - self.volume * (rhs.sum() / self.volume.sum())
        return self.lu.solve(rhs)


def build_diffusion(geometry, kappa_cell: np.ndarray, upwind_h: np.ndarray,
                    bf_kind: np.ndarray, bf_value: np.ndarray, bf_wall_h: np.ndarray,
                    bf_interface_g: np.ndarray, bf_flux: np.ndarray) -> DiffusionOperator:
    """Assemble and LU-factorise the two-point-flux diffusion matrix.

    kappa_cell (nc,) W/mK; upwind_h (nc,) W m^-2 K^-1 the one-way ballistic conductance Σ_b C_b
    v_b/4 (3D) or /π (2D) added across interior and periodic faces; bf_kind, bf_value per
    boundary face (BC type, wall temperature or periodic offset, K); bf_wall_h (nbf,) W m^-2
    K^-1 Marshak conductance of thermalizing walls; bf_interface_g (nbf,) W m^-2 K^-1 interface
    conductance; bf_flux (nbf,) W m^-2 prescribed inward heat flux of heat-flux walls (Neumann
    data of the pre-solve).
    """
    g = geometry
    nc = g.n_cells
    owner = np.repeat(np.arange(nc), np.diff(g.face_offsets))
    nbr = g.face_neighbor
    normal = g.face_normal
    # interior faces, once each (owner < neighbour)
    inner = (nbr >= 0) & (nbr > owner)
    i, j = owner[inner], nbr[inner]
    xf = g.face_center[inner]
    n = normal[inner]
    di = np.abs(np.einsum("ij,ij->i", xf - g.centroid[i], n))
    dj = np.abs(np.einsum("ij,ij->i", g.centroid[j] - xf, n))
    # two-point flux plus the upwind sweeps' own numerical conductance: in cells thicker than
    # a mean free path the first-order sweep diffuses with ≈ Σ C v/4 · Δx, and a correction
    # computed with κ alone would overshoot and diverge (Δx ≳ 2Λ)
    coef = g.face_area[inner] * (1.0 / (di / kappa_cell[i] + dj / kappa_cell[j])
                                 + 0.5 * (upwind_h[i] + upwind_h[j]))
    rows = [i, j, i, j]
    cols = [i, j, j, i]
    vals = [coef, coef, -coef, -coef]

    bc = np.arange(g.n_bfaces)
    cell = g.bface_cell
    dist = np.abs(np.einsum("ij,ij->i", g.bface_center - g.centroid[cell], g.bface_normal))
    half = dist / kappa_cell[cell]
    wall_rhs = np.zeros(nc)
    jump_rhs = np.zeros(nc)
    wall = bf_kind == THERMALIZING
    gw = g.bface_area[wall] * (1.0 / (half[wall] + 1.0 / bf_wall_h[wall]) + upwind_h[cell[wall]])
    rows.append(cell[wall])
    cols.append(cell[wall])
    vals.append(gw)
    np.add.at(wall_rhs, cell[wall], gw * bf_value[wall])
    np.add.at(wall_rhs, cell, g.bface_area * bf_flux)
    linked = (bf_kind == PERIODIC) | (bf_kind == INTERFACE)
    p = g.bface_partner[bc[linked]]
    res = half[linked] + half[p]
    res = res + np.where(bf_kind[linked] == INTERFACE, 1.0 / np.maximum(bf_interface_g[linked],
                                                                         1e-300), 0.0)
    ci, cj = cell[linked], cell[p]
    per = bf_kind[linked] == PERIODIC
    # a periodic face is an interior face of the unrolled mesh: same upwind conductance
    gl = g.bface_area[linked] * (1.0 / res + np.where(per, 0.5 * (upwind_h[ci] + upwind_h[cj]),
                                                        0.0))
    rows += [ci, ci]
    cols += [ci, cj]
    vals += [gl, -gl]
    np.add.at(jump_rhs, ci[per], gl[per] * (bf_value[linked][per] - bf_value[p][per]))

    mat = sp.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                        shape=(nc, nc)).tocsc()
    singular = not wall.any()
    if singular:   # only adiabatic/periodic walls: fix the free constant with a tiny shift
        mat = mat + sp.identity(nc, format="csc") * (1e-10 * abs(mat.diagonal()).mean())
    return DiffusionOperator(spla.splu(mat), g.volume.copy(), wall_rhs, jump_rhs, singular)
