"""Walls beyond GiftBTE: partially specular walls (BC type 6, BoundaryValue = specularity p)
and prescribed heat-flux walls (BC type 7, BoundaryValue = inward flux in W/m^2), checked
against the Fuchs-Sondheimer solution, energy conservation and Fourier's law."""
from __future__ import annotations

import numpy as np
import pytest
import reference as ref

import bte
from bte import BoundaryKind as Kind

SI1 = ref.MATERIALS_DIR / "DATABASE" / "Si" / "Si_1.dat"
LAMBDA_SI1 = 2677.0 * 39.9e-12                     # m, gray Si_1 mean free path (106.8 nm)
GRAY = {"BandNumber": 1, "MaterialFile 1": str(SI1), "MaterialDimension": 3}


def _film(factory, name, wall_kind, wall_value, ntheta, nphi, ny=60):
    """Gray Si_1 film of thickness Λ (1 x ny column), periodic in x with a 1 K jump, both walls
    of the given type."""
    return factory("in-plane/1e-7", name, mesh=("rect", [0.0, 1.0], np.linspace(0, 1, ny + 1)),
                   bc=[(1, -4, 1), (4, -1, 0), (2, wall_kind, wall_value),
                       (3, wall_kind, wall_value)],
                   geometry={"ScaleX": LAMBDA_SI1, "ScaleY": LAMBDA_SI1},
                   phonon={**GRAY, "Ntheta": ntheta, "Nphi": nphi})


def _solve(run, **kwargs):
    settings = dict(scheme="Synthetic", residual_temp=1e-8, residual_flux=1e-8, max_iter=500)
    result = bte.solve(bte.read_input_folder(run), **{**settings, **kwargs})
    assert result.converged
    return result


@pytest.mark.slow
@pytest.mark.parametrize("p", [0.0, 0.5])
def test_partially_specular_film_vs_fuchs_sondheimer(case_factory, p):
    """In-plane film, d = Λ: κ_film/κ_b within 1 % of the exact Fuchs-Sondheimer S(δ=1, p)
    (0.6839 at p = 0), computed by quadrature in the test."""
    res = _solve(_film(case_factory, f"fs{p}", Kind.PARTIALLY_SPECULAR, p, 16, 24))
    s = res.kappa_effective / bte.read_input_folder(res.problem.root).materials[0].kappa_bulk()
    assert s == pytest.approx(ref.fuchs_sondheimer(1.0, p), rel=1e-2), (s, p)


def test_partial_specularity_limits_match_wall_types(case_factory):
    """p = 1 is the specular wall (type 3) and p = 0 the diffuse wall (type 2), to round-off."""
    for p, kind in ((1.0, Kind.SPECULAR), (0.0, Kind.DIFFUSE)):
        partial = _solve(_film(case_factory, f"p{p}", Kind.PARTIALLY_SPECULAR, p, 4, 8, ny=20))
        plain = _solve(_film(case_factory, f"k{kind}", kind, 0, 4, 8, ny=20))
        assert partial.kappa_effective == pytest.approx(plain.kappa_effective, rel=1e-9)


def test_partial_specularity_must_be_a_fraction(case_factory):
    run = _film(case_factory, "bad", Kind.PARTIALLY_SPECULAR, 1.5, 4, 4, ny=4)
    with pytest.raises(bte.BTEInputError, match="specularity") as info:
        bte.read_input_folder(run)
    assert info.value.field == "BoundaryValue" and info.value.line is not None


def _flux_slab(factory, name, length, q, n=200):
    """Gray Si_1 slab along x: thermalizing wall at 300 K at x = 0, heat-flux wall with inward
    flux q (W/m^2) at x = length; specular sides."""
    return factory("cross-plane/1e-7", name, mesh=("rect", np.linspace(0, 1, n + 1), [0.0, 1.0]),
                   bc=[(1, Kind.THERMALIZING, 300.0), (4, Kind.HEAT_FLUX, q),
                       (2, Kind.SPECULAR, 0), (3, Kind.SPECULAR, 0)],
                   geometry={"ScaleX": length, "ScaleY": length},
                   phonon={**GRAY, "Ntheta": 8, "Nphi": 8})


@pytest.mark.parametrize("length", [0.1 * LAMBDA_SI1,
                                    pytest.param(10 * LAMBDA_SI1, marks=pytest.mark.slow)])
def test_heat_flux_wall_delivers_its_flux(case_factory, length):
    """Steady state: the heat flux is the prescribed one in every cell (flows from the flux wall
    at x = L towards the thermalizing wall: q_x = -q), ballistic or diffusive.  Cell-centred
    fluxes of the second-order scheme conserve energy to ~5e-4 next to the wall in the thick
    slab (the face fluxes do exactly)."""
    q = 1e9
    res = _solve(_flux_slab(case_factory, f"q{length:g}", length, q))
    np.testing.assert_allclose(res.heat_flux[:, 0], -q, rtol=1e-3)
    np.testing.assert_allclose(res.heat_flux[:, 1:], 0.0, atol=1e-9 * q)


@pytest.mark.slow
def test_heat_flux_wall_diffusive_limit_is_fourier(case_factory):
    """Slab of 100 Λ: the interior temperature gradient is q/κ_bulk (Fourier) within 1 %."""
    length, q = 100 * LAMBDA_SI1, 1e8
    res = _solve(_flux_slab(case_factory, "fourier", length, q))
    x = res.problem.geometry.centroid[:, 0]
    inner = (x > 0.2 * length) & (x < 0.8 * length)
    slope = np.polyfit(x[inner], res.temperature_lattice[inner], 1)[0]
    kappa = res.problem.materials[0].kappa_bulk()
    assert slope == pytest.approx(q / kappa, rel=1e-2)
