"""In-plane film thermal conductivity from per-mode phonon data: the exact per-mode
Fuchs–Sondheimer suppression integrated over solid-angle cells (REFERENCES §1.2 and §1.5).

A mode m (group velocity v_m m/s, relaxation time τ_m s) in a film of thickness d between walls
of specularity p keeps the fraction

    F(δ, p) = 1 − (1 − p)(1 − e^{−δ}) / (δ (1 − p e^{−δ})),   δ = d / (τ |v_z|),

of its bulk contribution along the film (z the wall normal).  Taken along the bare q-grid
velocity, a mode with v_z = 0 would never be suppressed (almaBTE's in-plane films do this: its
own 1 nm film keeps 27 % of bulk κ).  Here each mode stands for the solid-angle cell of a
(θ, φ) direction set that holds its velocity, as the BTE's mode input does
(``bte.materials.mode_material`` / ``bte.angles.direction_cells``): μ–φ rectangles, μ = cos θ
about the wall normal, whose |μ| edges are the cumulative polar weights of GiftBTE's direction
set (Gauss–Legendre or uniform), a velocity on an edge shared equally by the cells that meet
there.  Over its cell the mode keeps |v_m| and τ_m and its suppression is F averaged over the
cell's directions s with the measure sin θ dθ dφ = dμ dφ, weighted by the square of the
direction's projection on the transport axis (the flux it carries times the drive it feels):

    S_m = ∫_cell s_t² F(d / (|v_m| τ_m |μ|), p) dΩ / ∫_cell s_t² dΩ,
    κ_film = Σ_m C_m v_{m,t}² τ_m S_m.

With s_t² = (1 − μ²) cos²(φ − φ_t) the φ integrals cancel: S_m is a one-dimensional integral
over the cell's |μ| range, done here by composite Gauss–Legendre quadrature with subintervals
graded geometrically around μ = d/Λ_m (where F turns from ≈ 1 to ≈ δ/2).  d → ∞ and p = 1 give
the bulk κ_tt of the modes exactly; a gray isotropic medium gives the Fuchs–Sondheimer integral.

numpy only.  Units: m, m/s, s, J m^-3 K^-1 (a mode's heat capacity per crystal volume, q-point
weight included), κ W m^-1 K^-1.
"""
from __future__ import annotations

import numpy as np

ANGLE_METHODS = ("gauss", "uniform")
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(8)          # per subinterval, on [-1, 1]
_GRADING = 2.0 ** np.arange(-6, 44)        # subinterval breaks at Λ-scaled |μ| = d/Λ · 2^k
_UNIFORM = np.linspace(0.0, 1.0, 9)        # and at eighths of each cell
_CHUNK = 2048                              # modes per vectorised block


def fuchs_sondheimer_factor(delta: np.ndarray | float, specularity: float) -> np.ndarray:
    """F(δ, p) = 1 − (1 − p)(1 − e^{−δ}) / (δ (1 − p e^{−δ})): the fraction of its bulk
    in-plane conductivity that a mode moving at a fixed direction keeps in a film, δ = d/Λ_z
    (film thickness over the mean free path across it, dimensionless, > 0), p the wall
    specularity in [0, 1]."""
    x = np.asarray(delta, dtype=np.float64)
    decay = np.exp(-x)
    return 1.0 - (1.0 - specularity) * -np.expm1(-x) / (x * (1.0 - specularity * decay))


def polar_cell_edges(ntheta: int, method: str = "gauss") -> np.ndarray:
    """Ascending |μ| edges (ntheta + 1,), from 0 to 1, of a hemisphere's polar cells in
    GiftBTE's direction set with ``ntheta`` polar directions per hemisphere: the cumulative
    polar weights, for "gauss" (Angle_method 2, Gauss–Legendre in μ) or "uniform"
    (Angle_method 1, mid-point cells in θ, edges at cos(kπ/(2 ntheta)))."""
    if method not in ANGLE_METHODS:
        raise ValueError(f"unknown angle method {method!r}; use one of {ANGLE_METHODS}")
    if ntheta < 1:
        raise ValueError(f"ntheta must be a positive integer, got {ntheta}")
    if method == "gauss":
        _, w = np.polynomial.legendre.leggauss(ntheta)
        edges = np.concatenate([[0.0], np.cumsum(w / 2.0)])
    else:
        edges = np.cos(np.pi / 2 * (1.0 - np.arange(ntheta + 1) / ntheta))
        edges[0] = 0.0
    edges[-1] = 1.0
    return edges


def cell_suppression(mu_low: np.ndarray, mu_high: np.ndarray, thickness_over_mfp: np.ndarray,
                     specularity: float) -> np.ndarray:
    """S = ∫ (1 − μ²) F(δ/μ, p) dμ / ∫ (1 − μ²) dμ over [mu_low, mu_high] ⊂ [0, 1] per entry:
    the Fuchs–Sondheimer factor of a mode with mean free path Λ (δ = d/Λ, ``thickness_over_mfp``)
    averaged over a polar cell of directions, weighted by sin²θ (arrays of equal shape)."""
    lo, hi, delta = np.broadcast_arrays(*(np.asarray(a, dtype=np.float64).ravel()
                                          for a in (mu_low, mu_high, thickness_over_mfp)))
    out = np.empty(lo.shape)
    for start in range(0, len(lo), _CHUNK):
        part = slice(start, start + _CHUNK)
        a, b, dl = lo[part, None], hi[part, None], delta[part, None]
        breaks = np.sort(np.concatenate([a + (b - a) * _UNIFORM,
                                         np.clip(dl * _GRADING, a, b)], axis=1), axis=1)
        left, width = breaks[:, :-1], np.diff(breaks, axis=1)
        mu = left[..., None] + width[..., None] * (_NODES + 1.0) / 2.0
        weight = width[..., None] * _WEIGHTS / 2.0 * (1.0 - mu**2)
        with np.errstate(divide="ignore", over="ignore"):
            f = fuchs_sondheimer_factor(dl[..., None] / mu, specularity)
        numerator = np.sum(weight * f, axis=(1, 2))
        denominator = (b - a - (b**3 - a**3) / 3.0)[:, 0]
        out[part] = numerator / denominator
    return out


def in_plane_film_kappa(thickness: float, specularity: float, velocity: np.ndarray,
                        heat_capacity: np.ndarray, tau: np.ndarray, *, transport: int = 0,
                        normal: int = 2, ntheta: int = 4, angle_method: str = "gauss") -> float:
    """κ_tt (W m^-1 K^-1) along the ``transport`` axis of a film of ``thickness`` m whose walls
    (specularity p in [0, 1]) are normal to the ``normal`` axis, from per-mode data: velocity
    (n, 3) m/s Cartesian, heat_capacity (n,) J m^-3 K^-1 (weights included: Σ C v_t² τ is the
    bulk κ_tt), tau (n,) s.  Each mode is spread over its polar cell of the direction set with
    ``ntheta`` polar directions per hemisphere about the wall normal (see the module
    docstring); modes with τ = 0 or no velocity along the transport axis carry nothing."""
    if not (thickness > 0 and np.isfinite(thickness)):
        raise ValueError(f"film thickness must be a positive finite length in m, got "
                         f"{thickness!r}")
    if not 0.0 <= specularity <= 1.0:
        raise ValueError(f"specularity must lie in [0, 1], got {specularity!r}")
    if transport == normal or {transport, normal} - {0, 1, 2}:
        raise ValueError(f"transport axis {transport} and wall normal {normal} must be two "
                         "different axes among 0, 1, 2")
    vel = np.asarray(velocity, dtype=np.float64).reshape(-1, 3)
    cap = np.asarray(heat_capacity, dtype=np.float64).ravel()
    tau = np.asarray(tau, dtype=np.float64).ravel()
    if not len(vel) == len(cap) == len(tau):
        raise ValueError(f"velocity, heat_capacity and tau differ in length ({len(vel)}, "
                         f"{len(cap)}, {len(tau)} modes)")
    bulk = cap * vel[:, transport] ** 2 * tau
    if not np.all(np.isfinite(bulk)) or np.any(bulk < 0):
        raise ValueError("every mode needs finite velocity, heat capacity >= 0 and tau >= 0")
    if specularity == 1.0:
        return float(bulk.sum())
    carry = bulk > 0
    vel, bulk, tau = vel[carry], bulk[carry], tau[carry]
    speed = np.linalg.norm(vel, axis=1)
    mu = np.abs(vel[:, normal]) / speed
    edges = polar_cell_edges(ntheta, angle_method)
    last = ntheta - 1
    delta = thickness / (speed * tau)
    cell = np.clip(np.searchsorted(edges, mu, "left") - 1, 0, last)
    share = cell_suppression(edges[cell], edges[cell + 1], delta, specularity)
    upper = np.clip(np.searchsorted(edges, mu, "right") - 1, 0, last)
    edge = upper != cell                   # a velocity on an edge: half to each cell
    share[edge] = (share[edge] + cell_suppression(edges[upper[edge]], edges[upper[edge] + 1],
                                                  delta[edge], specularity)) / 2.0
    return float(np.sum(bulk * share))
