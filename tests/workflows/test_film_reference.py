"""The in-plane film reference of workflows.film_reference against analytic results: the gray
isotropic Fuchs–Sondheimer integral (REFERENCES §1.2, integrated here with scipy), the bulk
limits (d → ∞, p = 1), the thin-film law S ∝ d ln(1/d), and the solid-angle cells of the BTE's
direction set (bte.angles)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from bte.angles import angular_set
from workflows.film_reference import in_plane_film_kappa, polar_cell_edges


def fuchs_sondheimer(delta: float, p: float) -> float:
    """Gray isotropic in-plane film, κ/κ_b = 1 − (3(1−p)/(2δ)) ∫₁^∞ (t⁻³ − t⁻⁵)(1 − e^{−δt})
    / (1 − p e^{−δt}) dt, δ = d/Λ (REFERENCES §1.2)."""
    def integrand(t: float) -> float:
        return (t**-3 - t**-5) * -math.expm1(-delta * t) / (1 - p * math.exp(-delta * t))
    value, _ = integrate.quad(integrand, 1.0, math.inf, epsabs=0, epsrel=1e-12, limit=500)
    return 1.0 - 3.0 * (1.0 - p) / (2.0 * delta) * value


def cell_average(mu_low: float, mu_high: float, delta: float, p: float) -> float:
    """∫(1 − μ²) F(δ/μ, p) dμ / ∫(1 − μ²) dμ over a polar cell, with scipy and the per-mode
    factor F written out here."""
    def f(mu: float) -> float:
        x = delta / mu
        return 1 - (1 - p) * -math.expm1(-x) / (x * (1 - p * math.exp(-x)))
    num, _ = integrate.quad(lambda mu: (1 - mu**2) * f(mu), mu_low, mu_high, epsabs=0,
                            epsrel=1e-12, points=[min(max(delta, mu_low), mu_high)], limit=500)
    den, _ = integrate.quad(lambda mu: 1 - mu**2, mu_low, mu_high)
    return num / den


def gray_modes(ntheta: int, method: str, n_mu: int = 3, n_phi: int = 6):
    """An isotropic gray medium as modes (|v| = 1 m/s, τ = 1 s, so Λ = 1 m; C sums to 3): in
    every polar cell of the BTE's direction set n_mu Gauss points in μ, on both hemispheres, times
    n_phi azimuths, each with its quadrature weight as heat capacity, so that the modes of a cell
    carry exactly its share ∫ s_x² dΩ of the bulk κ_xx = 1 W/mK."""
    edges = angular_set(3, 2 if method == "gauss" else 1, ntheta, 4).mu_edges
    x, w = np.polynomial.legendre.leggauss(n_mu)
    mu = np.concatenate([(a + b) / 2 + (b - a) / 2 * x for a, b in zip(edges[:-1], edges[1:])])
    wmu = np.concatenate([(b - a) / 2 * w for a, b in zip(edges[:-1], edges[1:])])
    mu, wmu = np.concatenate([mu, -mu]), np.concatenate([wmu, wmu])
    phi = 2 * np.pi * (np.arange(n_phi) + 0.3) / n_phi
    m, f = np.meshgrid(mu, phi, indexing="ij")
    s = np.sqrt(1 - m**2)
    velocity = np.stack([s * np.cos(f), s * np.sin(f), m], axis=-1).reshape(-1, 3)
    cap = (np.outer(wmu, np.full(n_phi, 2 * np.pi / n_phi)) * 3 / (4 * np.pi)).ravel()
    return velocity, cap, np.ones(len(cap))


def test_test_integral_reproduces_published_value():
    """The test's own Fuchs–Sondheimer integral: δ = 1, p = 0 → 0.6839 (REFERENCES §1.2)."""
    assert fuchs_sondheimer(1.0, 0.0) == pytest.approx(0.6839, abs=5e-5)


def test_cells_are_the_bte_direction_sets():
    """The polar cells are those bte.angles gives its mode input (Gauss and uniform sets)."""
    for method, angle_method in (("gauss", 2), ("uniform", 1)):
        for ntheta in (1, 2, 4, 7):
            assert polar_cell_edges(ntheta, method) == pytest.approx(
                angular_set(3, angle_method, ntheta, 4).mu_edges, abs=1e-14)


@pytest.mark.parametrize("method", ["gauss", "uniform"])
@pytest.mark.parametrize("delta, p", [(1.0, 0.0), (0.1, 0.0), (0.03, 0.5), (3.0, 0.5),
                                      (0.01, 0.9), (30.0, 0.2)])
def test_gray_isotropic_medium_is_fuchs_sondheimer(method, delta, p):
    velocity, cap, tau = gray_modes(4, method)
    kappa = in_plane_film_kappa(delta, p, velocity, cap, tau, ntheta=4, angle_method=method)
    assert kappa == pytest.approx(fuchs_sondheimer(delta, p), rel=1e-8)


@pytest.fixture
def random_modes():
    rng = np.random.default_rng(7)
    n = 500
    velocity = rng.normal(size=(n, 3)) * 3000.0
    velocity[:40, 2] = 0.0                      # modes moving parallel to the walls
    return velocity, rng.uniform(0.0, 1e4, n), rng.uniform(1e-12, 1e-9, n)


def test_thick_film_and_specular_walls_give_bulk(random_modes):
    """d → ∞ (S = 1 − O(Λ/d)) and p = 1 give Σ C v_t² τ, the bulk κ along the transport axis."""
    velocity, cap, tau = random_modes
    for transport, normal in ((0, 2), (1, 0), (2, 1)):
        bulk = float(np.sum(cap * velocity[:, transport] ** 2 * tau))
        assert in_plane_film_kappa(1e-9, 1.0, velocity, cap, tau, transport=transport,
                                   normal=normal) == pytest.approx(bulk, rel=1e-14)
        assert in_plane_film_kappa(1.0, 0.0, velocity, cap, tau, transport=transport,
                                   normal=normal) == pytest.approx(bulk, rel=1e-5)
        assert in_plane_film_kappa(1e-8, 0.0, velocity, cap, tau, transport=transport,
                                   normal=normal) < 0.9 * bulk


@pytest.mark.parametrize("p", [0.0, 0.5])
def test_thin_film_limit(p):
    """For δ → 0, S = (3/4)(1 + p)/(1 − p) δ (ln(1/δ) + c): F(x) → x(1 + p)/(2(1 − p)) for small
    x = δ/μ, and (3/2)∫_δ^1 (1 − μ²) δ/μ dμ ≈ (3/2) δ ln(1/δ).  The slope of S/δ against ln(1/δ)
    cancels the constant c."""
    velocity, cap, tau = gray_modes(4, "gauss")
    small, smaller = 1e-5, 1e-7
    s1, s2 = (in_plane_film_kappa(d, p, velocity, cap, tau) for d in (small, smaller))
    slope = (s2 / smaller - s1 / small) / math.log(small / smaller)
    assert slope == pytest.approx(0.75 * (1 + p) / (1 - p), rel=1e-3)
    assert s1 == pytest.approx(fuchs_sondheimer(small, p), rel=1e-6)


def test_mode_parallel_to_walls_is_suppressed_like_its_cell():
    """A mode with v_z = 0 (bare-direction FS: F = 1, never suppressed) takes the suppression of
    the polar cell next to the film plane; one on a cell edge the mean of the two cells."""
    edges = polar_cell_edges(4)
    d, p = 1e-8, 0.5                             # Λ = 1e-6 m: δ = 0.01
    one = np.ones(1)
    flat = in_plane_film_kappa(d, p, [[1000.0, 0.0, 0.0]], one, 1e-9 * one)
    assert flat == pytest.approx(1e6 * 1e-9 * cell_average(0.0, edges[1], 0.01, p), rel=1e-8)
    assert flat < 0.5 * 1e-3
    # ntheta = 2: the polar edge at |μ| = 1/2, which this velocity meets exactly in floats
    # (|v| = 2000 m/s, Λ = 2 µm, δ = 0.005)
    velocity = np.array([[1.5, math.sqrt(0.75), 1.0]]) * 1000.0
    assert abs(velocity[0, 2]) / np.linalg.norm(velocity) == polar_cell_edges(2)[1] == 0.5
    on_edge = in_plane_film_kappa(d, p, velocity, one, 1e-9 * one, ntheta=2)
    expected = (cell_average(0.0, 0.5, 0.005, p) + cell_average(0.5, 1.0, 0.005, p)) / 2
    assert on_edge == pytest.approx(2.25 * 1e-3 * expected, rel=1e-8)


@pytest.mark.parametrize("args, message", [
    ((0.0, 0.5), "thickness"), ((math.inf, 0.5), "thickness"), ((1e-8, 1.5), "specularity"),
    ((1e-8, 0.5, {"transport": 2}), "axes")])
def test_bad_arguments_are_refused(random_modes, args, message):
    options = args[2] if len(args) > 2 else {}
    with pytest.raises(ValueError, match=message):
        in_plane_film_kappa(args[0], args[1], *random_modes, **options)
