"""A periodic box with a temperature offset and specular side walls is bulk material: the BTE
must return the analytic bulk conductivity of the band table for its discrete angular set,
κ = Σ_b C_b v_b² τ_b Σ_k w_k s_kx² (= Σ C v² τ / 3 for 3D Gauss sets, / 2 for 2D materials),
whatever the scheme, order or mesh.  Reference computed here from the band file with numpy."""
from __future__ import annotations

import numpy as np
import pytest
from bte_cases import EXAMPLES, MATERIALS

import bte
from bte import BoundaryKind as Kind
from bte.angles import angular_set

SI15 = np.loadtxt(MATERIALS / "DATABASE" / "Si" / "Si_15.dat")
# periodic pair 1 <-> 4 (BC type -n: partner n) with a 1 K jump, specular sides
PERIODIC_X = [(1, -4, 1), (4, -1, 0), (2, Kind.SPECULAR, 0), (3, Kind.SPECULAR, 0)]


def _bulk_case(case_factory, name, *, n=(4, 3), **phonon):
    xs, ys = (np.linspace(0, 1, k + 1) for k in n)
    return case_factory(EXAMPLES / "in-plane" / "1e-7", name, mesh=("rect", xs, ys),
                        bc=PERIODIC_X, phonon=phonon)


def _exact(dimension, angle_method, ntheta, nphi):
    a = angular_set(dimension, angle_method, ntheta, nphi)
    v, tau, c = SI15[:, 0], SI15[:, 1], SI15[:, 2]
    return float((c * v**2 * tau).sum() * (a.weights * a.directions[:, 0] ** 2).sum())


@pytest.mark.parametrize("dimension,angle_method,scheme,order", [
    (3, 2, "Synthetic", "2"), (3, 1, "Synthetic", "1"), (2, 2, "Synthetic", "2"),
    pytest.param(2, 1, "Sequential", "2", marks=pytest.mark.slow)])
def test_periodic_box_is_bulk(case_factory, dimension, angle_method, scheme, order):
    run = _bulk_case(case_factory, f"bulk{dimension}{angle_method}{scheme}{order}",
                     MaterialDimension=dimension, Angle_method=angle_method, Ntheta=3, Nphi=3)
    problem = bte.read_input_folder(run)
    res = bte.solve(problem, scheme=scheme, order=order, residual_temp=1e-10,
                    residual_flux=1e-9, max_iter=3000)
    exact = _exact(dimension, angle_method, 3, 3)
    assert res.converged
    assert res.kappa_effective == pytest.approx(exact, rel=1e-6)
    if angle_method == 2:   # Gauss sets integrate s_x^2 exactly
        kb = float((SI15[:, 2] * SI15[:, 0] ** 2 * SI15[:, 1]).sum() / dimension)
        assert res.kappa_effective == pytest.approx(kb, rel=1e-6)
    # linear temperature along x with a 1 K drop over the period, uniform flux
    assert np.ptp(res.heat_flux[:, 0]) < 1e-4 * abs(res.heat_flux[:, 0]).max()


def test_specular_box_sequential_and_synthetic_agree(case_factory):
    """Same fixed point for both schemes on a non-trivial problem (cross-plane 10 nm film)."""
    xs, ys = np.linspace(0, 1, 3), np.linspace(0, 1, 21)
    run = case_factory(EXAMPLES / "cross-plane" / "1e-8", "agree", mesh=("rect", xs, ys))
    problem = bte.read_input_folder(run)
    kw = dict(residual_temp=1e-12, residual_flux=1e-11, max_iter=5000)
    k_seq = bte.solve(problem, scheme="Sequential", **kw).kappa_effective
    k_syn = bte.solve(problem, scheme="Synthetic", **kw).kappa_effective
    assert k_syn == pytest.approx(k_seq, rel=1e-7)
