"""Discrete angular sets of GiftBTE (spec §2.2), their solid-angle cells, and the
specular-reflection map.

Directions are unit vectors s = (sinθ cosφ, sinθ sinφ, cosθ); weights are normalised so that
they sum to 1 (GiftBTE's w/Ω with Ω = 4π for bulk and 2π for 2D materials).  Order as in
GiftBTE: polar index outer (μ = cosθ from ≈ +1 down to ≈ −1), azimuth inner (φ from 0 to 2π).

Each direction owns a solid-angle cell, a μ–φ rectangle whose measure is its weight: the μ
edges are the cumulative μ weights, the φ edges the cumulative φ weights (for Gauss–Legendre
rules the nodes interlace with these partial sums, so every node lies inside its own cell; for
the uniform set they are the mid-point cells).  The cells are mirror symmetric in x, y and z,
like the directions.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp


@dataclass
class AngularSet:
    """directions (n_dir, 3) unit vectors; weights (n_dir,) summing to 1; dimension 3 or 2.

    Cell edges (see the module docstring): mu_edges (ntheta + 1,) ascending |μ| edges of a
    hemisphere's polar cells, from 0 to 1 (empty for 2D sets); phi_edges (nphi + 1,) ascending
    azimuth edges (rad) of the first quadrant's cells, from 0 to π/2.
    """

    directions: np.ndarray
    weights: np.ndarray
    dimension: int
    method: str
    mu_edges: np.ndarray
    phi_edges: np.ndarray

    @property
    def n_dir(self) -> int:
        return len(self.weights)


def _mirrored_gauss(n: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """n-point Gauss–Legendre rule on [a, b], ascending nodes."""
    x, w = np.polynomial.legendre.leggauss(n)
    return a + (x + 1) * (b - a) / 2, w * (b - a) / 2


def _edges(widths: np.ndarray, end: float) -> np.ndarray:
    """Cell edges [0, w0, w0 + w1, ..., end] of consecutive cells of the given widths (which
    sum to ``end``; the last edge is set to it exactly)."""
    edges = np.concatenate([[0.0], np.cumsum(widths)])
    edges[-1] = end
    return edges


def _azimuths(nphi: int, method: str) -> tuple[np.ndarray, np.ndarray]:
    """4·nphi azimuths over [0, 2π), the first quadrant mirrored into the other three."""
    if method == "gauss":
        p, w = _mirrored_gauss(nphi, 0.0, np.pi / 2)
    else:
        d = np.pi / 2 / nphi
        p, w = (np.arange(nphi) + 0.5) * d, np.full(nphi, d)
    phi = np.concatenate([p, np.pi - p[::-1], np.pi + p, 2 * np.pi - p[::-1]])
    wphi = np.concatenate([w, w[::-1], w, w[::-1]])
    return phi, wphi


def angular_set(material_dimension: int = 3, angle_method: int = 2, ntheta: int = 4,
                nphi: int = 4) -> AngularSet:
    """GiftBTE's direction set: angle_method 2 = Gauss–Legendre, 1 = uniform mid-point (CADOM).

    3D materials get 2·ntheta polar × 4·nphi azimuthal directions, 2D materials 4·nphi
    in-plane directions.
    """
    if angle_method not in (1, 2):
        raise ValueError(f"Angle_method must be 1 or 2, got {angle_method}")
    if ntheta < 1 or nphi < 1:
        raise ValueError("Ntheta and Nphi must be positive")
    method = "gauss" if angle_method == 2 else "uniform"
    phi, wphi = _azimuths(nphi, method)
    phi_edges = _edges(wphi[:nphi], np.pi / 2)
    if material_dimension == 2:
        dirs = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=1)
        return AngularSet(dirs, wphi / wphi.sum(), 2, method, np.zeros(0), phi_edges)
    if material_dimension != 3:
        raise ValueError(f"MaterialDimension must be 2 or 3, got {material_dimension}")
    if method == "gauss":
        mu_half, wmu_half = _mirrored_gauss(ntheta, -1.0, 0.0)
        mu = np.concatenate([-mu_half, mu_half[::-1]])      # +1 → −1
        wmu = np.concatenate([wmu_half, wmu_half[::-1]])
    else:
        dth = np.pi / (2 * ntheta)
        theta = (np.arange(2 * ntheta) + 0.5) * dth
        mu = np.cos(theta)
        wmu = 2 * np.sin(theta) * np.sin(dth / 2)            # ∫ sinθ dθ over the cell
    sin_t = np.sqrt(np.clip(1 - mu**2, 0, None))
    dirs = np.stack([np.outer(sin_t, np.cos(phi)).ravel(), np.outer(sin_t, np.sin(phi)).ravel(),
                     np.repeat(mu, len(phi))], axis=1)
    w = np.outer(wmu, wphi).ravel()
    # upper-hemisphere cells run from μ ≈ 1 down to 0: reversed, they ascend in |μ|
    mu_edges = _edges(wmu[:ntheta][::-1], 1.0)
    return AngularSet(dirs, w / w.sum(), 3, method, mu_edges, phi_edges)


def _split_sign(x: np.ndarray) -> np.ndarray:
    """(n, 2) half-space candidates per value: 0 for x > 0, 1 for x < 0, one of each for x = 0
    (a vector in a mirror plane is shared by the cells on both sides)."""
    return np.stack([np.where(x < 0, 1, 0), np.where(x > 0, 0, 1)], axis=1)


def _split_bin(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """(n, 2) cell candidates of x among ``edges``: the cell holding x, or the two cells that
    meet where x lies on an edge."""
    last = len(edges) - 2
    return np.stack([np.clip(np.searchsorted(edges, x, "left") - 1, 0, last),
                     np.clip(np.searchsorted(edges, x, "right") - 1, 0, last)], axis=1)


def direction_cells(angles: AngularSet, vectors: np.ndarray) -> sp.csr_matrix:
    """Which solid-angle cells of ``angles`` the directions of ``vectors`` (n, 3) fall in.

    Returns a sparse (n, n_dir) matrix of fractions, each row summing to 1: 1 in the cell that
    holds the vector's direction; a direction on cell edges is shared equally by the cells that
    meet there (a velocity in a mirror plane goes half to each side, so a mirror-symmetric or
    centrosymmetric set of vectors gives mirror-symmetric cell sums); a zero vector (for 2D
    sets: no in-plane component) is spread over all cells in proportion to their weights.
    2D sets use the x and y components only.
    """
    v = np.asarray(vectors, dtype=np.float64).reshape(-1, 3)
    n, nphi = len(v), len(angles.phi_edges) - 1
    planar = np.hypot(v[:, 0], v[:, 1])
    speed = planar if angles.dimension == 2 else np.linalg.norm(v, axis=1)
    moving = speed > 0
    # candidates per axis, each with fraction 1/2: signs of x and y, azimuth within the quadrant
    axes = [_split_sign(v[:, 0]), _split_sign(v[:, 1]),
            _split_bin(np.arctan2(np.abs(v[:, 1]), np.abs(v[:, 0])), angles.phi_edges)]
    if angles.dimension == 3:
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = np.abs(v[:, 2]) / speed
        axes += [_split_sign(v[:, 2]), _split_bin(np.where(moving, mu, 0.0), angles.mu_edges)]
    combos = np.stack(np.meshgrid(*[[0, 1]] * len(axes), indexing="ij"), -1).reshape(-1, len(axes))
    cells = []
    for pick in combos:
        neg_x, neg_y, j = (axes[a][:, pick[a]] for a in range(3))
        # quadrants in azimuth order: (+,+) j, (−,+) mirrored, (−,−) j, (+,−) mirrored
        quadrant = np.where(neg_y == 0, neg_x, 3 - neg_x)
        mirrored = (quadrant % 2) == 1
        cell = quadrant * nphi + np.where(mirrored, nphi - 1 - j, j)
        if angles.dimension == 3:
            nt = len(angles.mu_edges) - 1
            neg_z, i = axes[3][:, pick[3]], axes[4][:, pick[4]]
            cell = np.where(neg_z == 0, nt - 1 - i, nt + i) * (4 * nphi) + cell
        cells.append(cell)
    cells = np.stack(cells, axis=1)[moving]                  # (n_moving, n_combos)
    rows = np.repeat(np.flatnonzero(moving), cells.shape[1])
    fractions = np.full(rows.size, 1.0 / cells.shape[1])
    still = np.flatnonzero(~moving)
    rows = np.concatenate([rows, np.repeat(still, angles.n_dir)])
    cols = np.concatenate([cells.ravel(), np.tile(np.arange(angles.n_dir), len(still))])
    fractions = np.concatenate([fractions, np.tile(angles.weights, len(still))])
    return sp.csr_matrix((fractions, (rows, cols)), shape=(n, angles.n_dir))


def specular_map(directions: np.ndarray, normals: np.ndarray) -> np.ndarray:
    """For each wall normal (n_faces, 3) and direction k, the index of the discrete direction
    nearest to the mirror image s_k − 2(s_k·n)n (GiftBTE's nearest-direction reflection)."""
    out = np.empty((len(normals), len(directions)), dtype=np.int64)
    for start in range(0, len(normals), 256):
        n = normals[start:start + 256]
        sn = directions @ n.T                                          # (n_dir, f)
        mirror = directions[None, :, :] - 2 * sn.T[:, :, None] * n[:, None, :]
        out[start:start + 256] = np.argmax(mirror @ directions.T, axis=2)
    return out
