"""Discrete angular sets of GiftBTE (spec §2.2) and the specular-reflection map.

Directions are unit vectors s = (sinθ cosφ, sinθ sinφ, cosθ); weights are normalised so that
they sum to 1 (GiftBTE's w/Ω with Ω = 4π for bulk and 2π for 2D materials).  Order as in
GiftBTE: polar index outer (μ = cosθ from ≈ +1 down to ≈ −1), azimuth inner (φ from 0 to 2π).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class AngularSet:
    """directions (n_dir, 3) unit vectors; weights (n_dir,) summing to 1; dimension 3 or 2."""

    directions: np.ndarray
    weights: np.ndarray
    dimension: int
    method: str

    @property
    def n_dir(self) -> int:
        return len(self.weights)


def _mirrored_gauss(n: int, a: float, b: float) -> tuple[np.ndarray, np.ndarray]:
    """n-point Gauss–Legendre rule on [a, b], ascending nodes."""
    x, w = np.polynomial.legendre.leggauss(n)
    return a + (x + 1) * (b - a) / 2, w * (b - a) / 2


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
    if material_dimension == 2:
        dirs = np.stack([np.cos(phi), np.sin(phi), np.zeros_like(phi)], axis=1)
        return AngularSet(dirs, wphi / wphi.sum(), 2, method)
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
    return AngularSet(dirs, w / w.sum(), 3, method)


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
