"""Independent reference solutions for the phonon BTE acceptance tests.

Nothing here imports ``bte``: every number comes from first principles (integral equations of the
linearised RTA BTE solved by Nystrom quadrature with exact kernel integrals) or from the reference
files shipped with the GiftBTE examples.

Conventions (SI units unless stated):

* A band table is an array with one row per band and columns v [m/s], tau [s], C [J m^-3 K^-1]
  as in GiftBTE's DATABASE files (the lattice ratio (C/tau)/sum(C/tau) and the heat ratio
  C/sum(C) are always recomputed exactly; the shipped columns are rounded).  Lambda = v tau.
* "Continuous angles" means the exact 3D angular integral (4 pi sphere).  A discrete angular set is
  given by the direction cosines ``mu`` > 0 along the slab normal and weights ``w`` with
  ``sum(w) == 1`` over that hemisphere (a half-range average: for a Gauss rule on [0, 1] these are
  the plain Gauss weights).  ``giftbte_slab_angles`` turns GiftBTE's (Ntheta, Nphi) set into that.

Slab problem (cross-plane): material between two thermalizing (black) walls at x = 0 (T1) and
x = L (T2), optional uniform volumetric heat source Q [W/m^3].  For RTA with the energy-conserving
lattice temperature T = sum_b (C_b/tau_b) T_b / sum_b (C_b/tau_b), each band temperature is

    T_b(x) = sum_k c_k [T1 e^{-x/m_bk} + T2 e^{-(L-x)/m_bk}]
             + int_0^L (T(x') + tau_b h_b Q / C_b) K_b(|x - x'|) dx'

with K_b(d) = sum_k c_k e^{-d/m_bk}/m_bk, m_bk = Lambda_b mu_k, c_k = w_k/2 (discrete angles) or
K_b(d) = E1(d/Lambda_b)/(2 Lambda_b) and E2 wall terms (continuous angles).  Substituting T_b into
T gives one Fredholm equation of the second kind for T(x) (bands couple only through T), solved
by collocation: T is a C2 cubic spline on a grid graded geometrically towards both walls, and each
spline piece is integrated *exactly* against the kernel (product integration: closed forms with
E_n and incomplete gamma functions at and near the log singularity of E1, Gauss-Legendre only
where the kernel is smooth on the piece).  The heat flux follows from the same integrals at the
walls.  Accuracy: ~1e-6 relative for the gray slab, ~1e-5 for Si_15 (checked by grid refinement,
by flux equality at both walls, and against an independent analytic discrete-ordinates solution).

Fuchs-Sondheimer and the in-plane profile are closed forms in E_n (reference files agree to 1e-8).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from scipy import integrate
from scipy.interpolate import CubicSpline
from scipy.special import expn, gammainc
from scipy.special import gamma as gamma_fn

__all__ = [
    "GIFTBTE_DIR", "EXAMPLES_DIR", "MATERIALS_DIR",
    "load_band_table", "bulk_kappa", "giftbte_directions", "giftbte_slab_angles",
    "GraySlab", "SlabSolution", "slab_solution",
    "gray_slab_psi", "gray_slab_psi_discrete", "gray_slab_psi_asymptote", "gray_slab_psi_dom_eigen",
    "cross_plane_kappa_nongray", "fuchs_sondheimer", "in_plane_flux_profile",
    "in_plane_kappa", "read_two_columns", "heat_generation_reference",
    "interface_reference", "alamode_bulk_kappa",
]

REPO = Path(__file__).resolve().parents[2]
GIFTBTE_DIR = REPO / "examples" / "giftbte"
EXAMPLES_DIR = GIFTBTE_DIR / "examples"
MATERIALS_DIR = GIFTBTE_DIR / "materials"


# ------------------------------------------------------------------------------------------------
# material data and angular sets
# ------------------------------------------------------------------------------------------------

def load_band_table(path, ratios: str = "exact") -> np.ndarray:
    """A GiftBTE DATABASE band table: (n_bands, 5) v, tau, C, lattice ratio, heat ratio.

    ratios="exact" (default) recomputes the two ratio columns from C and tau; "given" keeps the
    file's (rounded) columns, i.e. exactly what a GiftBTE-compatible solver is fed."""
    rows = [list(map(float, line.split()))
            for line in Path(path).read_text().splitlines() if line.strip()]
    return _complete_bands(np.array(rows, dtype=float), ratios)


def _complete_bands(bands, ratios: str = "exact") -> np.ndarray:
    """(n, 5) table; ratios "exact" recomputes the ratio columns, "given" keeps them when present.

    The shipped ratio columns are rounded (Si_15: the lattice ratios sum to 1 - 7.3e-8).  With
    such ratios energy is not conserved: every collision loses that fraction of the *absolute*
    temperature, and with walls at 301/300 K the loss is amplified by the 300 K level -- the
    exact 1 um cross-plane profile then sags by 10.6 mK at the centre and the wall fluxes differ
    by 6 % (walls at 1/0 K: 0.02 mK).  The exact physics needs exact ratios."""
    b = np.atleast_2d(np.asarray(bands, dtype=float))
    if b.shape[1] < 3:
        raise ValueError("a band table needs at least the columns v, tau, C")
    if ratios not in ("exact", "given"):
        raise ValueError(f"ratios must be 'exact' or 'given', got {ratios!r}")
    v, tau, c = b[:, 0], b[:, 1], b[:, 2]
    lat = (c / tau) / np.sum(c / tau)
    heat = c / np.sum(c)
    if ratios == "given":
        if b.shape[1] > 3:
            lat = b[:, 3]
        if b.shape[1] > 4:
            heat = b[:, 4]
    return np.column_stack([v, tau, c, lat, heat])


def bulk_kappa(bands) -> float:
    """sum_b C_b v_b^2 tau_b / 3, W/mK."""
    b = _complete_bands(bands)
    return float(np.sum(b[:, 2] * b[:, 0] ** 2 * b[:, 1]) / 3.0)


def alamode_bulk_kappa(path) -> float:
    """Bulk kappa of an ALAMODE ``tau<T>K.dat`` file as GiftBTE forms it: sum over modes of
    (kxx + kyy + kzz) * multiplicity / 3 (binning into bands keeps each mode's C v^2 tau)."""
    d = np.loadtxt(path, comments="#")
    return float(np.sum((d[:, 7] + d[:, 11] + d[:, 15]) * d[:, 6]) / 3.0)


def giftbte_directions(ntheta: int, nphi: int):
    """GiftBTE's Gauss DOM set for a 3D material (Angle_method = 2), written from the spec:
    mu = cos(theta) along z from an Ntheta-point Gauss rule on [-1, 0] mirrored, phi from an
    Nphi-point Gauss rule on [0, pi/2] mirrored into the four quadrants.  Returns unit directions
    (8 Ntheta Nphi, 3) and weights summing to 4 pi (order not GiftBTE's, irrelevant here)."""
    xm, wm = np.polynomial.legendre.leggauss(ntheta)
    mu_half, w_half = 0.5 * (xm + 1.0), 0.5 * wm            # Gauss on [0, 1]
    mu = np.concatenate([mu_half, -mu_half])
    wmu = np.concatenate([w_half, w_half])
    xp, wp = np.polynomial.legendre.leggauss(nphi)
    ph = 0.25 * np.pi * (xp + 1.0)
    wph = 0.25 * np.pi * wp
    phi = np.concatenate([ph, np.pi - ph, np.pi + ph, 2 * np.pi - ph])
    wphi = np.tile(wph, 4)
    M, P = np.meshgrid(mu, phi, indexing="ij")
    WM, WP = np.meshgrid(wmu, wphi, indexing="ij")
    st = np.sqrt(1.0 - M ** 2)
    dirs = np.column_stack([(st * np.cos(P)).ravel(), (st * np.sin(P)).ravel(), M.ravel()])
    return dirs, (WM * WP).ravel()


def giftbte_slab_angles(ntheta: int, nphi: int, axis: int = 0):
    """The (mu, w) set that GiftBTE's (Ntheta, Nphi) quadrature presents to a slab whose normal is
    coordinate ``axis`` (0 = x for 1D meshes, 1 = y for the cross-plane examples).  Note that
    GiftBTE's polar axis is z, so for x or y slabs mu = sin(theta) cos(phi) (or sin), a product
    set, not a Gauss rule in mu.  Returns mu > 0 and weights summing to 1."""
    dirs, w = giftbte_directions(ntheta, nphi)
    s = dirs[:, axis]
    pos = s > 1e-14
    mu, ww = s[pos], w[pos] / (2.0 * np.pi)                  # 2 w/(4 pi): half-range average
    # merge equal cosines (quadrant copies) to keep the kernel sums short
    key = np.round(mu, 13)
    uniq, inv = np.unique(key, return_inverse=True)
    wsum = np.bincount(inv, weights=ww)
    musum = np.bincount(inv, weights=mu) / np.bincount(inv)
    if np.any(np.abs(s) <= 1e-14):
        raise ValueError("directions parallel to the walls are not supported")
    return musum, wsum


# ------------------------------------------------------------------------------------------------
# kernel moments.  T(x) is a C2 cubic spline on the nodes (a piecewise-linear interpolant would
# give the short-MFP bands a spurious diffusivity ~ Lambda h / 4 from the slope kinks, which
# converges only to first order on grids much coarser than the smallest MFP); each spline piece
# is integrated exactly against the kernel:  M_k(target, panel) = int_0^h u^k K(a + u) du, with
# a the distance from the target to the panel's near end and u measured from that end.
# ------------------------------------------------------------------------------------------------

_GX, _GW = np.polynomial.legendre.leggauss(12)


def _en_moments(n: int, alpha, eta, kmax: int = 3) -> np.ndarray:
    """m_k = int_0^eta s^k E_n(alpha + s) ds, k = 0..kmax, for n = 1 or 2 (shape (..., kmax+1)).

    alpha == 0 (panel touching the target): closed forms with the regularised lower incomplete
    gamma function (stable for any eta); alpha > 0 and eta < 0.5: 12-point Gauss-Legendre (the
    log singularity of E1 is at least ~one panel away); otherwise the integration-by-parts
    recurrence m_k^(n) = [k == 0] E_{n+1}(alpha) - eta^k E_{n+1}(alpha + eta) + k m_{k-1}^(n+1)."""
    alpha = np.asarray(alpha, dtype=float)
    eta = np.broadcast_to(np.asarray(eta, dtype=float), alpha.shape)
    out = np.zeros(alpha.shape + (kmax + 1,))
    adj = alpha <= 0.0
    small = (~adj) & (eta < 0.5)
    big = (~adj) & (~small)
    if adj.any():
        z = eta[adj]
        with np.errstate(over="ignore", invalid="ignore"):
            e1 = expn(1, z)
        ks = np.arange(kmax + 2)
        m1 = np.empty((z.size, kmax + 2))
        for k in ks:
            zk = np.where(z > 0, z ** (k + 1) * e1, 0.0)
            zk = np.nan_to_num(zk)
            m1[:, k] = (zk + gamma_fn(k + 1) * gammainc(k + 1, z)) / (k + 1)
        if n == 1:
            out[adj] = m1[:, :kmax + 1]
        elif n == 2:
            for k in range(kmax + 1):
                out[adj, k] = gamma_fn(k + 1) * gammainc(k + 1, z) - m1[:, k + 1]
        else:
            raise ValueError(n)
    if small.any():
        al, et = alpha[small], eta[small]
        s = 0.5 * et[:, None] * (1.0 + _GX[None, :])
        f = expn(n, al[:, None] + s) * (0.5 * et[:, None] * _GW[None, :])
        for k in range(kmax + 1):
            out[small, k] = np.sum(f * s ** k, axis=1)
    if big.any():
        out[big] = _en_recurrence(n, alpha[big], eta[big], kmax)
    return out


def _en_recurrence(n, alpha, eta, kmax):
    beta = alpha + eta
    res = np.zeros(alpha.shape + (kmax + 1,))
    en1_b = expn(n + 1, beta)
    res[..., 0] = expn(n + 1, alpha) - en1_b
    if kmax > 0:
        lower = _en_recurrence(n + 1, alpha, eta, kmax - 1)
        for k in range(1, kmax + 1):
            res[..., k] = -eta ** k * en1_b + k * lower[..., k - 1]
    return res


class _Kernel:
    """Kernels of one band.  Source kernel K(d) (the angular average of the attenuated emission
    reaching a point from distance d, per unit length) and flux kernel G(d) (one more power of
    mu).  Continuous angles: K = E1(d/L)/(2L), G = E2(d/L)/(2L) (L = Lambda).  Discrete:
    K = sum c e^{-d/m}/m, G = sum c mu e^{-d/m}/m with c = w/2 and m = Lambda mu."""

    def __init__(self, mfp: float, mu=None, w=None):
        self.mfp = float(mfp)
        self.continuous = mu is None
        if not self.continuous:
            self.mu = np.asarray(mu, dtype=float)
            self.c = 0.5 * np.asarray(w, dtype=float)
            self.m = self.mfp * self.mu

    def moments(self, a, h, flux: bool = False, kmax: int = 3) -> np.ndarray:
        """int_0^h u^k Kernel(a + u) du for arrays a (targets x panels) and h (panels)."""
        a = np.asarray(a, dtype=float)
        h = np.broadcast_to(np.asarray(h, dtype=float), a.shape)
        if self.continuous:
            lam = self.mfp
            m = _en_moments(2 if flux else 1, a / lam, h / lam, kmax)
            scale = 0.5 * lam ** np.arange(kmax + 1)          # Lambda^k / 2
            return m * scale
        out = np.zeros(a.shape + (kmax + 1,))
        for c, mu, m in zip(self.c, self.mu, self.m):
            cc = c * (mu if flux else 1.0)
            z = h / m
            base = np.exp(-a / m)
            for k in range(kmax + 1):
                out[..., k] += cc * base * m ** k * gamma_fn(k + 1) * gammainc(k + 1, z)
        return out

    def tail(self, x, flux: bool = False):
        """int_x^inf Kernel: the wall emission seen at distance x (E2/2, or E3/2 for the flux)."""
        x = np.asarray(x, dtype=float)
        if self.continuous:
            return 0.5 * expn(3 if flux else 2, x / self.mfp)
        out = np.zeros_like(x)
        for c, mu, m in zip(self.c, self.mu, self.m):
            out += c * (mu if flux else 1.0) * np.exp(-x / m)
        return out


def _spline_basis(nodes: np.ndarray) -> np.ndarray:
    """coef[k, p, j]: coefficient of u^k (u = x - nodes[p]) on panel p of the not-a-knot cubic
    spline interpolating the j-th unit vector."""
    sp = CubicSpline(nodes, np.eye(len(nodes)), bc_type="not-a-knot")
    return np.ascontiguousarray(sp.c[::-1])                   # (4, P, N), powers 0..3


def _operator(nodes, targets, coef, kernel: "_Kernel", flux: bool = False) -> np.ndarray:
    """W[i, j] = int_0^L Kernel(|targets_i - x'|) S_j(x') dx' with S_j the spline basis."""
    t = np.asarray(targets, dtype=float)[:, None]
    left, right = nodes[:-1][None, :], nodes[1:][None, :]
    h = (right - left)[0]
    on_right = left >= t
    a = np.maximum(np.where(on_right, left - t, t - right), 0.0)
    M = kernel.moments(a, np.broadcast_to(h, a.shape), flux=flux)   # in u from the NEAR end
    # convert moments about the near end into moments about the panel's left end (u' = x - left)
    # panels on the left of the target: x - left = h - u
    W = np.zeros((t.shape[0], len(nodes)))
    Mr = np.where(on_right[..., None], M, 0.0)
    Ml = np.where(on_right[..., None], 0.0, M)
    hh = h[None, :]
    # moments of (h - u)^k from moments of u^k
    Ml_conv = np.stack([
        Ml[..., 0],
        hh * Ml[..., 0] - Ml[..., 1],
        hh ** 2 * Ml[..., 0] - 2 * hh * Ml[..., 1] + Ml[..., 2],
        hh ** 3 * Ml[..., 0] - 3 * hh ** 2 * Ml[..., 1] + 3 * hh * Ml[..., 2] - Ml[..., 3],
    ], axis=-1)
    Mt = Mr + Ml_conv
    if len(nodes) <= 600:
        # plain loops (no threaded BLAS: on a busy 2-core machine OpenBLAS threads spin and make
        # these small products ~50x slower)
        W += np.einsum("tpk,kpn->tn", Mt, coef, optimize=False)
    else:
        for k in range(4):
            W += np.ascontiguousarray(Mt[..., k]) @ coef[k]
    return W


def _graded_grid(L: float, hmin: float, ratio: float, n_mid: int) -> np.ndarray:
    """Nodes on [0, L], symmetric, geometric spacing from hmin at both walls up to L/n_mid."""
    hmax = L / n_mid
    half = [0.0]
    h = min(hmin, hmax)
    while half[-1] + h < 0.5 * L:
        half.append(half[-1] + h)
        h = min(h * ratio, hmax)
    half = np.array(half)
    # stretch the last cells so the half grid ends exactly at L/2
    rem = 0.5 * L - half[-1]
    if rem < 0.5 * (half[-1] - half[-2] if len(half) > 1 else rem):
        half = half[:-1]
    half = np.append(half, 0.5 * L)
    return np.concatenate([half, L - half[-2::-1]])


@dataclass
class SlabSolution:
    """Exact (to quadrature accuracy) slab solution.

    x: nodes (m); T: lattice temperature at the nodes (K); q: heat flux along the normal (W/m^2),
    from the wall formula averaged over both walls; q_walls: (q at x=0, q at x=L); kappa:
    q L / (T1 - T2) (NaN for T1 == T2); bands: the band table used."""

    x: np.ndarray
    T: np.ndarray
    q: float
    q_walls: tuple[float, float]
    kappa: float
    L: float
    bands: np.ndarray

    def T_at(self, x) -> np.ndarray:
        """T at arbitrary points of [0, L]: the cubic spline the solution is made of."""
        return CubicSpline(self.x, self.T, bc_type="not-a-knot")(np.asarray(x, dtype=float))


def slab_solution(L: float, bands, *, T1: float = 1.0, T2: float = 0.0, Q: float = 0.0,
                  mu=None, w=None, ratio: float = 1.2, n_mid: int = 100,
                  hmin: float | None = None, ratios: str = "exact") -> SlabSolution:
    """Exact steady RTA solution of a (non-gray) slab between two thermalizing walls.

    L: thickness (m); bands: band table (see module doc); T1, T2: wall temperatures (K);
    Q: uniform volumetric heat (W/m^3) shared among bands by the heat ratio; mu, w: discrete
    angular set (half-range, sum w = 1) or None for continuous 3D angles.  Grid: geometric
    spacing ``ratio`` from hmin (default 2e-4 min(Lambda_min, L)) at both walls to L/n_mid.
    ratios: "exact" (default: recompute the lattice/heat ratios from C and tau) or "given"
    (use the table's columns as they are, e.g. to mirror a solver fed the rounded file).
    """
    b = _complete_bands(bands, ratios)
    v, tau, C, lat, heat = b.T
    mfp = v * tau
    if hmin is None:
        hmin = 2e-4 * min(mfp.min(), L)
    x = _graded_grid(L, hmin, ratio, n_mid)
    n = len(x)
    coef = _spline_basis(x)
    kernels = [_Kernel(l, mu, w) for l in mfp]
    A = np.eye(n)
    rhs = np.zeros(n)
    for r, k, tb, hb, cb in zip(lat, kernels, tau, heat, C):
        A -= r * _operator(x, x, coef, k)
        rhs += r * (T1 * k.tail(x) + T2 * k.tail(L - x))
        if Q:
            ones_int = (k.tail(0.0) - k.tail(x)) + (k.tail(0.0) - k.tail(L - x))
            rhs += r * ones_int * tb * hb * Q / cb
    T = np.linalg.solve(A, rhs)
    # heat flux at both walls: q = sum_b C_b v_b [emitted - absorbed parts]
    q0 = qL = 0.0
    ends = np.array([0.0, L])
    for k, vb, tb, hb, cb in zip(kernels, v, tau, heat, C):
        Gw = _operator(x, ends, coef, k, flux=True)        # int G(|end - x'|) S_j(x') dx'
        s = T + (tb * hb * Q / cb if Q else 0.0)
        emitted = float(k.tail(0.0, flux=True))
        far = float(k.tail(L, flux=True))
        q0 += cb * vb * (T1 * emitted - Gw[0] @ s - T2 * far)
        qL += cb * vb * (T1 * far + Gw[1] @ s - T2 * emitted)
    q = 0.5 * (q0 + qL)
    kappa = q * L / (T1 - T2) if T1 != T2 else float("nan")
    return SlabSolution(x=x, T=T, q=float(q), q_walls=(float(q0), float(qL)), kappa=float(kappa),
                        L=float(L), bands=b)


# ------------------------------------------------------------------------------------------------
# gray slab (Heaslet-Warming)
# ------------------------------------------------------------------------------------------------

class GraySlab(NamedTuple):
    """psi = q / (C v dT / 4); tau: optical coordinate nodes x/Lambda; phi = (T - T2)/(T1 - T2)."""

    psi: float
    tau: np.ndarray
    phi: np.ndarray

    @property
    def kappa_ratio(self) -> float:
        """kappa_eff / kappa_bulk = (3 tau_L / 4) psi."""
        return 0.75 * float(self.tau[-1]) * self.psi


_GRAY = np.array([[1.0, 1.0, 1.0, 1.0, 1.0]])       # v = tau = C = 1: Lambda = 1, x = optical


def gray_slab_psi(tau_L: float, n: int = 150, ratio: float = 1.15) -> GraySlab:
    """Exact nondimensional heat flux of a gray slab between black walls, 3D angles.

    Radiative-equilibrium (Heaslet-Warming) integral equation
    phi(t) = E2(t)/2 + 1/2 int_0^tL phi(t') E1(|t - t'|) dt', Psi = 1 - 2 int_0^tL phi E2 dt',
    solved by spline collocation with exact E-function integrals (product integration) on a
    wall-graded grid with about ``n`` cells in the core.  Values: Psi = 0.91570 (0.1), 0.55341
    (1; REFERENCES.md quotes 0.5532), 0.39006 (2), 0.11674 (10)."""
    sol = slab_solution(float(tau_L), _GRAY, T1=1.0, T2=0.0, ratio=ratio, n_mid=n)
    return GraySlab(psi=4.0 * sol.q, tau=sol.x, phi=sol.T)


def gray_slab_psi_discrete(tau_L: float, mu, w, n: int = 150, ratio: float = 1.15) -> GraySlab:
    """Gray slab for a discrete angular set (direction cosines mu > 0 along the normal, weights
    w summing to 1 over the hemisphere): the exact solution of the discrete-ordinates equations
    continuous in space.  Psi is still q / (C v dT / 4)."""
    mu = np.asarray(mu, dtype=float)
    w = np.asarray(w, dtype=float)
    if np.any(mu <= 0) or abs(w.sum() - 1.0) > 1e-10:
        raise ValueError("need mu > 0 and weights summing to 1")
    sol = slab_solution(float(tau_L), _GRAY, T1=1.0, T2=0.0, mu=mu, w=w, ratio=ratio, n_mid=n)
    return GraySlab(psi=4.0 * sol.q, tau=sol.x, phi=sol.T)


def gray_slab_psi_dom_eigen(tau_L: float, mu, w) -> float:
    """Psi of the gray slab for a discrete angular set by a *different* method: the analytic
    solution of the discrete-ordinates ODE system  +-mu_j dI/dt = phi - I  (eigenvectors of the
    2n x 2n system plus the linear diffusion mode I = a + b (t -+ mu_j)), with the exponential
    modes scaled at the wall they decay from.  Only the linear mode carries flux, so
    Psi = 4 q/(v C dT) = -4 b sum_j c_j mu_j^2 over both hemispheres (c = w/2).
    Used to cross-check the Nystrom solutions."""
    mu = np.asarray(mu, dtype=float)
    w = np.asarray(w, dtype=float)
    m = np.concatenate([mu, -mu])
    c = 0.5 * np.concatenate([w, w])                     # phi = sum_j c_j I_j, sum c = 1
    N = len(m)
    M = (np.outer(np.ones(N), c) - np.eye(N)) / m[:, None]
    lam, V = np.linalg.eig(M)
    keep = np.argsort(np.abs(lam))[2:]                   # drop the double zero eigenvalue
    lam, V = lam[keep].real, V[:, keep].real

    def modes(t):
        cols = [np.ones(N), t - m]
        for l, vec in zip(lam, V.T):
            cols.append(vec * (np.exp(l * (t - tau_L)) if l > 0 else np.exp(l * t)))
        return np.array(cols).T

    A0, AL = modes(0.0), modes(float(tau_L))
    pos, neg = m > 0, m < 0
    A = np.vstack([A0[pos], AL[neg]])
    rhs = np.concatenate([np.ones(pos.sum()), np.zeros(neg.sum())])
    coef = np.linalg.solve(A, rhs)
    b = coef[1]
    # q / (v C dT) = sum_j c_j m_j I_j; only the linear mode contributes: sum c m (-b m)
    return float(4.0 * np.sum(c * m * (-b * m)))


def gray_slab_psi_asymptote(tau_L: float) -> float:
    """Large-tau_L (diffusion + jump) asymptote 4 / [3 (tau_L + 1.4209)]."""
    return 4.0 / (3.0 * (tau_L + 1.4209))


def cross_plane_kappa_nongray(bands, L: float, *, mu=None, w=None, T1: float = 1.0,
                              T2: float = 0.0, **grid) -> SlabSolution:
    """Exact cross-plane solution for a non-gray band table: the bands are coupled through the
    common (C/tau-weighted) lattice temperature, so this is the full RTA problem, not a sum of
    independent gray slabs.  Returns the SlabSolution (``.kappa`` = q L / dT).  ``grid`` passes
    ratio, n_mid, hmin and ratios ("exact" or "given") on to ``slab_solution``."""
    return slab_solution(L, bands, T1=T1, T2=T2, mu=mu, w=w, **grid)


# ------------------------------------------------------------------------------------------------
# in-plane film (Fuchs-Sondheimer)
# ------------------------------------------------------------------------------------------------

def fuchs_sondheimer(delta: float, p: float = 0.0) -> float:
    """S(delta) = kappa_film / kappa_bulk for a gray film of thickness d = delta Lambda with
    specularity p:
    1 - 3(1-p)/(2 delta) int_1^inf (t^-3 - t^-5)(1 - e^{-delta t})/(1 - p e^{-delta t}) dt.
    The integral is evaluated in u = 1/t on [0, 1] (smooth integrand)."""
    delta = float(delta)

    def f(u):
        if u == 0.0:
            return 0.0
        e = np.exp(-delta / u)
        return (u - u ** 3) * (1.0 - e) / (1.0 - p * e)

    val, _ = integrate.quad(f, 0.0, 1.0, epsabs=1e-14, epsrel=1e-13, limit=200)
    return 1.0 - 1.5 * (1.0 - p) / delta * val


def fuchs_sondheimer_closed(delta: float) -> float:
    """p = 0 closed form 1 - 3/(8 delta) + 3/(2 delta) [E3(delta) - E5(delta)]."""
    return 1.0 - 3.0 / (8.0 * delta) + 1.5 / delta * (expn(3, delta) - expn(5, delta))


def in_plane_flux_profile(bands, L: float, y, *, grad: float | None = None, dT: float = 1.0,
                          Lx: float | None = None) -> np.ndarray:
    """Exact in-plane heat flux q_x(y) (W/m^2) of a film 0 <= y <= L with diffuse walls and a
    uniform temperature gradient along x, continuous 3D angles (bands decouple: the lattice
    temperature is the imposed linear profile and the deviation is odd in s_x).

    Per band: g = C G v tau s_x (1 - exp(-d/(Lambda |s_y|))), d = distance to the wall the phonon
    came from; with mu = |s_y| and <s_x^2> over phi,
      q_b(y) / (kappa_b G) = 1 - (3/4) [E2(y/La) - E4(y/La) + E2((L-y)/La) - E4((L-y)/La)]
    (La = Lambda_b), G = grad or dT/Lx (default Lx = L: in GiftBTE's in-plane examples the
    period equals the film thickness), kappa_b = C v^2 tau / 3.  For a discrete direction set
    see ``in_plane_flux_profile_directions``.
    """
    b = _complete_bands(bands)
    v, tau, C = b[:, 0], b[:, 1], b[:, 2]
    if grad is None:
        grad = dT / (L if Lx is None else Lx)
    y = np.asarray(y, dtype=float)
    q = np.zeros_like(y)
    for vb, tb, cb in zip(v, tau, C):
        lam = vb * tb
        kb = cb * vb * vb * tb / 3.0
        a1, a2 = y / lam, (L - y) / lam
        q += kb * grad * (1.0 - 0.75 * (expn(2, a1) - expn(4, a1) + expn(2, a2) - expn(4, a2)))
    return q


def in_plane_flux_profile_directions(bands, L: float, y, dirs, weights, *, dT: float = 1.0,
                                     Lx: float | None = None, wall_axis: int = 1,
                                     flow_axis: int = 0) -> np.ndarray:
    """Same as ``in_plane_flux_profile`` for a discrete direction set (unit vectors ``dirs``,
    weights summing to 4 pi):
    q_x = sum_b C v^2 tau G sum_k (w_k/4 pi) s_x^2 (1 - e^{-d/(Lambda|s_y|)})."""
    b = _complete_bands(bands)
    G = dT / (L if Lx is None else Lx)
    y = np.asarray(y, dtype=float)[:, None]
    sx, sy = dirs[:, flow_axis][None, :], dirs[:, wall_axis][None, :]
    ww = (weights / (4 * np.pi))[None, :]
    d = np.where(sy > 0, y, L - y)
    q = np.zeros(y.shape[0])
    with np.errstate(divide="ignore", over="ignore"):
        for vb, tb, cb in b[:, :3]:
            lam = vb * tb
            att = np.where(np.abs(sy) > 0, np.exp(-d / (lam * np.abs(sy) + 1e-300)), 0.0)
            q += cb * vb * vb * tb * G * np.sum(ww * sx * sx * (1.0 - att), axis=1)
    return q


def in_plane_kappa(bands, L: float, Lx: float | None = None) -> float:
    """Mean of the exact in-plane profile times Lx / dT = sum_b kappa_b S(L/Lambda_b) (p = 0)."""
    b = _complete_bands(bands)
    mfp = b[:, 0] * b[:, 1]
    kb = b[:, 2] * b[:, 0] ** 2 * b[:, 1] / 3.0
    return float(sum(k * fuchs_sondheimer_closed(L / l) for k, l in zip(kb, mfp)))


# ------------------------------------------------------------------------------------------------
# shipped reference files
# ------------------------------------------------------------------------------------------------

def read_two_columns(path) -> np.ndarray:
    """Whitespace table -> float array (handles a missing final newline and CRLF)."""
    rows = [list(map(float, line.split())) for line in
            Path(path).read_text().replace("\r", "").splitlines() if line.strip()]
    return np.array(rows, dtype=float)


def cross_plane_tc() -> dict[float, float]:
    """analytic_201806/TC.dat: thickness (m) -> kappa (W/mK)."""
    d = read_two_columns(EXAMPLES_DIR / "cross-plane" / "analytic_201806" / "TC.dat")
    return {float(L): float(k) for L, k in d}


def cross_plane_profile(tag: str) -> np.ndarray:
    """analytic_201806/T<tag>.dat: columns y/L, T - 300 K (walls 301 K at y = 0, 300 K at y = L)."""
    return read_two_columns(EXAMPLES_DIR / "cross-plane" / "analytic_201806" / f"T{tag}.dat")


def in_plane_reference() -> np.ndarray:
    """in-plane/H1e-7.dat: columns y/L, q_x (W/m^2) for L = 100 nm, dT = 1 K over Lx = L."""
    return read_two_columns(EXAMPLES_DIR / "in-plane" / "H1e-7.dat")


def heat_generation_reference() -> np.ndarray:
    """heat-generation/01.dat (Cao et al. 2016, digitised): y/L, T* = 8 kappa T / (Q L^2),
    kappa = 150."""
    return read_two_columns(EXAMPLES_DIR / "heat-generation" / "01.dat")


def interface_reference() -> np.ndarray:
    """interface/Tempcell_ref_50.dat (Ran et al. 2019): position along the heat path in metres
    (cell centres of a uniform 20-cell grid over the 50 nm Ge + Si stack, interface at 25 nm),
    two unused zero columns, T in K (hot wall 1 K at 0, cold wall 0 K at 50 nm).
    Returns (position m, T K)."""
    d = read_two_columns(EXAMPLES_DIR / "interface" / "Tempcell_ref_50.dat")
    return d[:, [0, 3]]
