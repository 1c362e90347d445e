"""Physics acceptance tests of the steady BTE solver against independent references.

Every reference is computed here from first principles (tests/bte/reference.py: exact integral
equations of the RTA BTE, continuous or with the solver's discrete angular set) or read from the
reference files shipped with the GiftBTE examples -- never from solver output.

Angular sets: GiftBTE's polar axis is z, so for the x/y slabs and films of these examples the
direction cosines along the wall normal are products sin(theta) cos(phi) (reference.py,
``giftbte_slab_angles``); the angular error of a set is computed exactly by the semi-discrete
references, which separates it from the spatial error.

Convergence: the tests converge tighter than the shipped CONTROL files (ResidualFlux 1e-2 is too
loose for 1 %); GiftBTE normalises err_T by max|T| in absolute kelvin (~300 K here).
"""
from __future__ import annotations

import functools
import math

import numpy as np
import pytest
import reference as ref

import bte
from bte import BoundaryKind as Kind

SI1 = ref.MATERIALS_DIR / "DATABASE" / "Si" / "Si_1.dat"
SI15 = ref.MATERIALS_DIR / "DATABASE" / "Si" / "Si_15.dat"
ALAMODE = ref.MATERIALS_DIR / "ALAMODE" / "Si" / "tau300K_pure.dat"

TIGHT = dict(residual_temp=1e-11, residual_flux=1e-6, max_iter=3000)


# ------------------------------------------------------------------------------------------------
# helpers
# ------------------------------------------------------------------------------------------------

def solve(run_dir, **kwargs):
    problem = bte.read_input_folder(run_dir)
    result = bte.solve(problem, **kwargs)
    assert result.converged, f"{run_dir}: not converged in {result.iterations} iterations"
    assert np.all(np.isfinite(result.temperature_lattice))
    return result


def profile(result, axis: int, field=None):
    """Average a cell field over cells with the same coordinate along ``axis`` (structured
    meshes): returns (coordinates sorted, averages).  field defaults to the lattice temperature."""
    c = result.problem.geometry.centroid[:, axis]
    v = result.temperature_lattice if field is None else field
    vol = result.problem.geometry.volume
    span = np.ptp(c) if np.ptp(c) > 0 else 1.0
    order = np.argsort(c, kind="stable")
    new_group = np.concatenate([[0], np.diff(c[order]) > 1e-6 * span]).astype(np.int64)
    inv = np.empty(len(c), dtype=np.int64)
    inv[order] = np.cumsum(new_group)
    num = np.bincount(inv, weights=v * vol)
    den = np.bincount(inv, weights=vol)
    pos = np.bincount(inv, weights=c * vol) / den
    return pos, num / den


def kappa_from_flux(result, axis: int, length: float, dT: float) -> float:
    """Volume-averaged flux along ``axis`` times the length over the temperature difference
    (spec §2.7), for meshes that fill their bounding box."""
    g = result.problem.geometry
    return float(np.sum(result.heat_flux[:, axis] * g.volume) / np.sum(g.volume) * length / dT)


@functools.lru_cache(maxsize=None)
def exact_cross_plane(L: float, ntheta: int = 0, nphi: int = 0):
    """Exact cross-plane solution for Si_15 (continuous angles, or GiftBTE's set along y), with
    the lattice ratios recomputed from C and tau (the solver rescales the file's rounded column,
    which sums to 1 - 7.3e-8, to sum to 1: energy conservation)."""
    bands = ref.load_band_table(SI15)
    if ntheta:
        mu, w = ref.giftbte_slab_angles(ntheta, nphi, axis=1)
        return ref.cross_plane_kappa_nongray(bands, L, mu=mu, w=w, ratio=1.3, n_mid=50)
    return ref.cross_plane_kappa_nongray(bands, L, ratio=1.3, n_mid=50)


LAMBDA_SI1 = 2677.0 * 39.9e-12                     # m, gray Si_1 MFP (106.8 nm)


def kappa_bulk(path) -> float:
    return ref.bulk_kappa(ref.load_band_table(path))


# ------------------------------------------------------------------------------------------------
# gray slab between thermalizing walls (exact Heaslet-Warming)
# ------------------------------------------------------------------------------------------------

#: a slab between thermalizing walls at 301 K (x = 0) and 300 K (x = L)
WALLS_1D = [(1, Kind.THERMALIZING, 301), (2, Kind.THERMALIZING, 300)]
GRAY_N = 201                                       # odd: one cell centred on L/2
GRAY_ANGLES = (8, 4)                               # angular error <= 0.04 % (exact, see below)


def gray_slab_case(factory, name, L, mesh, bc, dim_scale=None):
    geometry = {"ScaleX": L, "ScaleY": L if dim_scale is None else dim_scale,
                "ScaleZ": L if dim_scale is None else dim_scale}
    return factory("heat-generation/1e-6", name, mesh=mesh, bc=bc, heat=0, geometry=geometry,
                   phonon={"Ntheta": GRAY_ANGLES[0], "Nphi": GRAY_ANGLES[1]},
                   control={"Order": 2, "IterativeScheme": "Synthetic"})


@pytest.mark.parametrize("tau_L", [0.1, 1.0, 10.0])
def test_gray_slab_kappa_vs_exact(case_factory, tau_L):
    """kappa_eff within 0.5 % of (3 tau_L / 4) Psi(tau_L) kappa_bulk (exact, continuous angles);
    T(L/2) is the mean wall temperature; T(x) within 1 % of dT of the exact profile."""
    L = tau_L * LAMBDA_SI1
    run = gray_slab_case(case_factory, f"gray_{tau_L}", L, ("1d", GRAY_N),
                         WALLS_1D)
    res = solve(run, **TIGHT)
    exact = ref.gray_slab_psi(tau_L)
    k_exact = kappa_bulk(SI1) * exact.kappa_ratio
    # the angular error of the set, exactly (informative; included in the 0.5 %)
    mu, w = ref.giftbte_slab_angles(*GRAY_ANGLES, axis=0)
    k_angles = kappa_bulk(SI1) * 0.75 * tau_L * ref.gray_slab_psi_discrete(tau_L, mu, w).psi
    msg = (f"tau_L={tau_L}: kappa {res.kappa_effective:.5f} vs exact {k_exact:.5f} "
           f"(exact with the {GRAY_ANGLES} angles: {k_angles:.5f})")
    assert res.kappa_effective == pytest.approx(k_exact, rel=5e-3), msg
    assert kappa_from_flux(res, 0, L, 1.0) == pytest.approx(res.kappa_effective, rel=1e-6)
    x = res.problem.geometry.centroid[:, 0]
    T = res.temperature_lattice
    centre = np.argmin(np.abs(x - 0.5 * L))
    assert abs(x[centre] - 0.5 * L) < 1e-6 * L
    assert T[centre] == pytest.approx(300.5, abs=2e-4)
    T_exact = 300.0 + np.interp(x / LAMBDA_SI1, exact.tau, exact.phi)
    assert np.max(np.abs(T - T_exact)) < 0.01, msg


def test_slab_same_in_1d_2d_3d(case_factory):
    """The tau_L = 1 slab as a MeshType=1D file, a COMSOL 1D mesh, N x 1 quads and N x 1 x 1
    hexes (side walls specular): the same kappa within 0.5 % (and each within 0.5 % of exact)."""
    tau_L, n = 1.0, 60
    L = tau_L * LAMBDA_SI1
    xs = np.linspace(0.0, 1.0, n + 1)
    layouts = {
        "1d": (("1d", n), WALLS_1D),
        "comsol1d": (("comsol1d", xs), WALLS_1D),
        "2d": (("rect", xs, [0.0, 1.0]),
               [(1, Kind.THERMALIZING, 301), (2, Kind.SPECULAR, 0), (3, Kind.SPECULAR, 0),
                (4, Kind.THERMALIZING, 300)]),
        "3d": (("box", xs, [0.0, 1.0], [0.0, 1.0]),
               [(1, Kind.THERMALIZING, 301), *[(i, Kind.SPECULAR, 0) for i in range(2, 6)],
                (6, Kind.THERMALIZING, 300)]),
    }
    exact = kappa_bulk(SI1) * ref.gray_slab_psi(tau_L).kappa_ratio
    kappa = {}
    for layout, (mesh, bc) in layouts.items():
        run = gray_slab_case(case_factory, f"slab_{layout}", L, mesh, bc, dim_scale=0.2 * L)
        res = solve(run, **TIGHT)
        assert res.problem.geometry.n_cells == n
        kappa[layout] = res.kappa_effective
        assert kappa_from_flux(res, 0, L, 1.0) == pytest.approx(res.kappa_effective, rel=1e-6)
    for layout, k in kappa.items():
        assert k == pytest.approx(exact, rel=5e-3), (layout, kappa, exact)
        assert k == pytest.approx(kappa["1d"], rel=5e-3), (layout, kappa)


# ------------------------------------------------------------------------------------------------
# cross-plane Si film, 15 bands, 4x4 angles (TC.dat)
# ------------------------------------------------------------------------------------------------

CROSS = {1e-8: "1e-8", 1e-7: "1e-7", 1e-6: "1e-6"}


def _cross_plane_reference(L):
    """kappa reference: TC.dat, except 10 nm where TC.dat has a one-digit typo (8.2524 for
    8.3524; test_reference.py proves it) -- there the exact value computed here is used."""
    exact = exact_cross_plane(L).kappa
    tc = ref.cross_plane_tc()[L]
    return (exact if L == 1e-8 else tc), tc, exact


@pytest.mark.parametrize("L", [1e-8, 1e-7, 1e-6])
def test_cross_plane_coarse(case_factory, L):
    """Shipped case (Si_15, 4x4, walls 301/300 K on y = 0 / y = L, specular sides) on a 1 x 100
    column instead of the 100 x 100 square: kappa within 1 % of the reference, within 1 % of the
    exact semi-discrete 4x4 value (spatial error alone), T(y) within 10 mK of the exact 4x4
    profile (walls 301/300 K)."""
    run = case_factory(f"cross-plane/{CROSS[L]}", f"cp_{CROSS[L]}",
                       mesh=("rect", [0.0, 1.0], np.linspace(0.0, 1.0, 101)))
    res = solve(run, residual_temp=1e-12, residual_flux=1e-9, max_iter=3000)
    k = res.kappa_effective
    k_ref, tc, exact = _cross_plane_reference(L)
    k44 = exact_cross_plane(L, 4, 4).kappa
    msg = (f"L={L:g}: kappa {k:.4f}; reference {k_ref:.4f} (TC.dat {tc}, exact {exact:.4f}, "
           f"exact with 4x4 angles {k44:.4f})")
    assert k == pytest.approx(k_ref, rel=1e-2), msg
    assert k == pytest.approx(k44, rel=1e-2), msg
    assert kappa_from_flux(res, 1, L, 1.0) == pytest.approx(k, rel=1e-6)
    y, T = profile(res, 1)
    # temperature profile vs the exact solution with the same 4x4 angles (spatial error only;
    # T<L>.dat are continuous-angle); the exact profile runs from 1 to 0, the walls at 301/300 K
    T44 = 300.0 + exact_cross_plane(L, 4, 4).T_at(y)
    assert np.max(np.abs(T - T44)) < 0.01, (msg, np.max(np.abs(T - T44)))


@pytest.mark.slow
def test_cross_plane_shipped_mesh_100nm():
    """cross-plane/1e-7 exactly as shipped (100 x 100 COMSOL mesh, 4x4, Synthetic, Order 2),
    converged tighter: kappa within 1 % of TC.dat's 42.2277 W/mK."""
    res = solve(ref.EXAMPLES_DIR / "cross-plane" / "1e-7", residual_temp=1e-10,
                residual_flux=1e-5, max_iter=3000)
    tc = ref.cross_plane_tc()[1e-7]
    assert res.kappa_effective == pytest.approx(tc, rel=1e-2), res.kappa_effective
    assert kappa_from_flux(res, 1, 1e-7, 1.0) == pytest.approx(res.kappa_effective, rel=1e-6)


# ------------------------------------------------------------------------------------------------
# in-plane Si film, 100 nm, diffuse walls (H1e-7.dat)
# ------------------------------------------------------------------------------------------------

# No wall fixes the temperature level of the periodic film: the flux converges in ~50 iterations
# while the level drifts back slowly after the synthetic step has moved it (err_T 0.38 at
# iteration 2), so err_T is held at the shipped 1e-6 and the flux criterion is tightened.
IN_PLANE = dict(residual_temp=1e-6, residual_flux=1e-6, max_iter=3000)


def _in_plane_case(factory, name, ntheta, nphi, ny=100):
    return factory("in-plane/1e-7", name, mesh=("rect", [0.0, 1.0], np.linspace(0, 1, ny + 1)),
                   phonon={"Ntheta": ntheta, "Nphi": nphi})


def test_in_plane_coarse_vs_analytic(case_factory):
    """in-plane/1e-7 on a 1 x 100 column (periodic in x with a 1 K jump, diffuse walls), 8x8
    angles (as the shipped in-plane/1e-7 PHONON): kappa_in within 1 % of 69.36 W/mK and q_x(y)
    within 2 % of H1e-7.dat.  (A 4x4 set alone would be 1.06 % low in kappa_in -- exact, see
    test_reference.test_in_plane_discrete_directions; 4x4 is checked against its own exact
    semi-discrete reference below.)"""
    L = 1e-7
    res = solve(_in_plane_case(case_factory, "ip88", 8, 8), **IN_PLANE)
    k = res.kappa_effective
    assert k == pytest.approx(69.36, rel=1e-2), k
    assert kappa_from_flux(res, 0, L, 1.0) == pytest.approx(k, rel=1e-6)
    y, qx = profile(res, 1, field=res.heat_flux[:, 0])
    bands = ref.load_band_table(SI15)
    exact_cells = ref.in_plane_flux_profile(bands, L, y)
    assert np.max(np.abs(qx / exact_cells - 1)) < 2e-2, np.max(np.abs(qx / exact_cells - 1))
    d = ref.in_plane_reference()
    inner = (d[:, 0] * L >= y[0]) & (d[:, 0] * L <= y[-1])
    q_here = np.interp(d[inner, 0] * L, y, qx)
    assert np.max(np.abs(q_here / d[inner, 1] - 1)) < 2e-2


def test_in_plane_coarse_4x4_vs_semidiscrete(case_factory):
    """Shipped 4x4 angles on the 1 x 100 column vs the exact solution with the same 4x4 set:
    kappa within 1 %, q_x(y) within 2 % (spatial error only)."""
    L = 1e-7
    res = solve(_in_plane_case(case_factory, "ip44", 4, 4), **IN_PLANE)
    y, qx = profile(res, 1, field=res.heat_flux[:, 0])
    dirs, w = ref.giftbte_directions(4, 4)
    bands = ref.load_band_table(SI15)
    q44 = ref.in_plane_flux_profile_directions(bands, L, y, dirs, w)
    k44 = float(np.mean(ref.in_plane_flux_profile_directions(
        bands, L, (np.arange(2000) + 0.5) / 2000 * L, dirs, w)) * L)
    assert res.kappa_effective == pytest.approx(k44, rel=1e-2), (res.kappa_effective, k44)
    assert np.max(np.abs(qx / q44 - 1)) < 2e-2


@pytest.mark.slow
def test_in_plane_shipped_mesh():
    """in-plane/1e-7 as shipped (100 x 100 COMSOL mesh; its PHONON asks for 8x8 angles -- not
    4x4 as the spec says, which is also why the docs quote 46 GB for it against 13 GB for the
    4x4 cross-plane case): kappa_in within 1 % of 69.36 W/mK and q_x(y) within 2 % of H1e-7.dat;
    and within 1 % / 2 % of the exact solution with the same angular set (spatial error)."""
    L = 1e-7
    res = solve(ref.EXAMPLES_DIR / "in-plane" / "1e-7", **IN_PLANE)
    k = res.kappa_effective
    nt, nph = res.problem.ntheta, res.problem.nphi
    assert k == pytest.approx(69.36, rel=1e-2), (k, nt, nph)
    assert kappa_from_flux(res, 0, L, 1.0) == pytest.approx(k, rel=1e-6)
    y, qx = profile(res, 1, field=res.heat_flux[:, 0])
    d = ref.in_plane_reference()
    inner = (d[:, 0] * L >= y[0]) & (d[:, 0] * L <= y[-1])
    q_here = np.interp(d[inner, 0] * L, y, qx)
    assert np.max(np.abs(q_here / d[inner, 1] - 1)) < 2e-2
    bands = ref.load_band_table(SI15)
    assert np.max(np.abs(qx / ref.in_plane_flux_profile(bands, L, y) - 1)) < 2e-2
    dirs, w = ref.giftbte_directions(nt, nph)
    q_set = ref.in_plane_flux_profile_directions(bands, L, y, dirs, w)
    k_set = float(np.mean(ref.in_plane_flux_profile_directions(
        bands, L, (np.arange(2000) + 0.5) / 2000 * L, dirs, w)) * L)
    assert k == pytest.approx(k_set, rel=1e-2), (k, k_set)
    assert np.max(np.abs(qx / q_set - 1)) < 2e-2


# ------------------------------------------------------------------------------------------------
# heat generation, gray Si, Kn = 0.1 (Cao et al. 2016, 01.dat)
# ------------------------------------------------------------------------------------------------

def test_heat_generation_kn01():
    """heat-generation/1e-6 as shipped (100 x 100, 4x4, walls at 0 K so T is the rise,
    Q = 1e15 W/m^3): T* = 8 kappa T/(Q L^2) with kappa = 150 within 3 % of 01.dat (measured
    against the reference's peak: the digitised points themselves scatter up to 4.7 % pointwise
    from the exact solution near the walls), and within 1 % pointwise of the exact solution with
    the same 4x4 angles."""
    L, Q = 1e-6, 1e15
    res = solve(ref.EXAMPLES_DIR / "heat-generation" / "1e-6", residual_temp=1e-9,
                residual_flux=1e-6, max_iter=3000)
    y, T = profile(res, 1)
    tstar = 8 * 150.0 * T / (Q * L * L)
    d = ref.heat_generation_reference()
    t_here = np.interp(d[:, 0] * L, y, tstar)
    assert np.max(np.abs(t_here - d[:, 1])) < 0.03 * d[:, 1].max(), np.round(t_here, 4)
    bands = ref.load_band_table(SI1)
    mu, w = ref.giftbte_slab_angles(4, 4, axis=1)
    exact = ref.slab_solution(L, bands, T1=0.0, T2=0.0, Q=Q, mu=mu, w=w)
    t_exact = 8 * 150.0 * exact.T_at(y) / (Q * L * L)
    assert np.max(np.abs(tstar / t_exact - 1)) < 1e-2
    # the problem is one-dimensional: no x variation
    assert np.ptp(res.temperature_lattice) == pytest.approx(np.ptp(T), rel=1e-3)


# ------------------------------------------------------------------------------------------------
# Ge/Si interface, 134 bands, 50 nm (Ran et al. 2019)
# ------------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_interface_50nm():
    """interface/50nm as shipped (800 quads, Ge y < 25 nm, Si above, hot wall 1 K at y = 0,
    cold 0 K at y = 50 nm, DMM interface): T(y) within 2 % of the total temperature drop of
    Tempcell_ref_50.dat at its 20 points (positions in m along the heat path; the solver's cell
    values are interpolated within each material, no point lies between the two cells that
    straddle the interface)."""
    res = solve(ref.EXAMPLES_DIR / "interface" / "50nm", residual_temp=1e-10,
                residual_flux=1e-5, max_iter=3000)
    y, T = profile(res, 1)
    d = ref.interface_reference()
    yi = 25e-9
    T_here = np.empty(len(d))
    for k, (pos, _) in enumerate(d):
        side = (y < yi) if pos < yi else (y > yi)
        T_here[k] = np.interp(pos, y[side], T[side])
    drop = d[:, 1].max() - d[:, 1].min()
    err = np.abs(T_here - d[:, 1])
    assert np.max(err) < 0.02 * drop, (np.round(T_here, 4), np.round(d[:, 1], 4))


# ------------------------------------------------------------------------------------------------
# nanoporous Si (Gmsh, ALAMODE 12 bands)
# ------------------------------------------------------------------------------------------------

NANO_SETTINGS = dict(scheme="Synthetic", residual_temp=1e-6, residual_flux=1e-4, max_iter=150)


@functools.lru_cache(maxsize=None)
def _nanoporous(size: str):
    """The shipped case with Synthetic acceleration (the shipped Sequential source iteration
    needs hundreds of iterations at 5 and 50 um).  At 50 um the second-order deferred
    correction converges at about 0.93 per iteration (the diffusion correction carries the
    first-order sweep's numerical conductance, which the second-order fixed point lacks), so
    err_T = 1e-6 (kappa converged to ~1e-6 relative) is the practical threshold here."""
    return solve(ref.EXAMPLES_DIR / "nanoporous" / size, **NANO_SETTINGS)


@pytest.mark.slow
def test_nanoporous_three_sizes():
    """nanoporous/{50,500,5000}: kappa_eff reported, finite, positive, below the bulk kappa of
    the ALAMODE table (143.3 W/mK) and increasing with the cell size."""
    bulk = ref.alamode_bulk_kappa(ALAMODE)
    assert bulk == pytest.approx(143.29, abs=0.01)
    kappas = []
    for size in ("50", "500", "5000"):
        res = _nanoporous(size)
        k = res.kappa_effective
        assert k is not None and math.isfinite(k), (size, k)
        assert 0.0 < k < bulk, (size, k)
        kappas.append(k)
    assert kappas[0] < kappas[1] < kappas[2], kappas


@pytest.mark.slow
def test_nanoporous_angular_convergence(case_factory):
    """nanoporous/50 (0.5 um cell): kappa with the shipped 8x8 angles within 2 % of a finer set,
    8 x 16.  Measured: only Nphi matters here (16x8 equals 8x8 and 8x16 equals 16x16 to 3e-5),
    and the azimuthal convergence is not monotone: Nphi = 8 / 12 / 16 give 66.34 / 67.73 / 67.60
    W/mK, i.e. 8x8 is 1.9 % below the finest set (2.05 % below 12x12)."""
    k8 = _nanoporous("50").kappa_effective
    run = case_factory("nanoporous/50", "np50_8x16", phonon={"Ntheta": 8, "Nphi": 16})
    k16 = solve(run, **NANO_SETTINGS).kappa_effective
    assert k8 == pytest.approx(k16, rel=2e-2), (k8, k16)


@pytest.mark.slow
def test_nanoporous_synthetic_converges_in_the_diffusive_periodic_case():
    """nanoporous/5000 (50 um, cells much thicker than most mean free paths, periodic drive,
    no thermalizing wall), first order: the synthetic scheme must converge quickly.  It used
    to diverge: the correction of a periodic face's lagged inflow was taken from the face's
    own cell instead of the partner cell the inflow comes from, and periodic faces lacked the
    sweep's upwind conductance in the diffusion operator."""
    res = solve(ref.EXAMPLES_DIR / "nanoporous" / "5000", scheme="Synthetic", order="1",
                residual_temp=1e-8, residual_flux=1e-6, max_iter=40)   # solve() asserts convergence
    # physically sensible: below the ALAMODE bulk value, above the 5 um cell's kappa
    bulk = ref.alamode_bulk_kappa(ALAMODE)
    assert _nanoporous("500").kappa_effective < res.kappa_effective < bulk
