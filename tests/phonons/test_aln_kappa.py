"""Wurtzite AlN from the DFT forces (no potential), non-analytic correction on: κ_RTA tensor and
LO–TO splitting against phono3py/phonopy run directly through their own API on the same data
and settings (3x3x2 fc3 and fc2, phono3py's finite-difference solver, BORN, 300 K, 15x15x8),
and band tables for a transport direction keeping the tensor component.  One module fixture
runs each code once."""
from __future__ import annotations

import numpy as np
import pytest
from phonons_refdata import ALN, ALN_KAPPA_RTA_NAC, ALN_MESH

import phonons

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def aln_fc():
    return phonons.load_force_constants(ALN / "phono3py_disp.yaml", ALN / "FORCES_FC3.xz")


@pytest.fixture(scope="module")
def aln_modes(aln_fc):
    return phonons.mode_properties(aln_fc, ALN_MESH, 300.0)


@pytest.fixture(scope="module")
def reference_fc():
    """phono3py itself: load with BORN, produce (and symmetrise) fc2/fc3."""
    import phono3py
    return phono3py.load(ALN / "phono3py_disp.yaml", forces_fc3_filename=ALN / "FORCES_FC3.xz",
                         born_filename=ALN / "BORN", produce_fc=True, symmetrize_fc=True,
                         log_level=0)


@pytest.fixture(scope="module")
def reference(reference_fc):
    """phono3py's own RTA run at 300 K on the mesh."""
    ph3 = reference_fc
    ph3.mesh_numbers = list(ALN_MESH)
    ph3.init_phph_interaction()
    ph3.run_thermal_conductivity(temperatures=[300.0], log_level=0)
    return ph3


def _voigt(kappa: np.ndarray) -> np.ndarray:
    """(3, 3) -> phono3py's order xx, yy, zz, yz, xz, xy."""
    return np.array([kappa[0, 0], kappa[1, 1], kappa[2, 2], kappa[1, 2], kappa[0, 2],
                     kappa[0, 1]])


def test_kappa_tensor_equals_phono3py(aln_modes, reference):
    """κ_RTA of our mode set (Σ w C v_a v_b τ over the point group; bulk_kappa runs the same
    phono3py calculation) against phono3py's own κ, for xx and zz."""
    ref = np.asarray(reference.thermal_conductivity.kappa)[0, 0]          # (6,) W/mK
    kappa = aln_modes.kappa()
    voigt = _voigt(kappa)
    assert voigt[0] == pytest.approx(ref[0], rel=5e-3)                       # xx
    assert voigt[2] == pytest.approx(ref[2], rel=5e-3)                       # zz
    np.testing.assert_allclose(voigt[3:], 0.0, atol=1e-6 * ref[0])          # hexagonal
    np.testing.assert_allclose(kappa, kappa.T, atol=1e-9 * ref[0])
    assert kappa[0, 0] == pytest.approx(kappa[1, 1], rel=1e-6)
    assert kappa[0, 0] != pytest.approx(kappa[2, 2], rel=0.02)
    # and the published values of the same settings (README), which phono3py 4.10 reproduces
    assert kappa[0, 0] == pytest.approx(ALN_KAPPA_RTA_NAC[0], rel=0.01)
    assert kappa[2, 2] == pytest.approx(ALN_KAPPA_RTA_NAC[1], rel=0.01)


def test_lo_to_splitting_equals_phonopy(aln_fc, reference_fc):
    """Approach Γ along a and along c: our frequencies at |q| = 1e-4 Å⁻¹·2π equal phonopy's
    LO/TO limit at Γ with that q-direction (its own NAC code path), from phono3py's own fc2; the
    LO lies above the TO and differs between the two directions."""
    from phonopy import Phonopy
    ph = Phonopy(reference_fc.unitcell, supercell_matrix=reference_fc.supercell_matrix,
                 primitive_matrix=reference_fc.primitive_matrix)
    ph.force_constants = reference_fc.fc2
    ph.nac_params = reference_fc.nac_params
    lattice = np.array(ph.primitive.cell)                               # rows a1, a2, a3, Å
    top = {}
    for name, cartesian in (("a", lattice[0]), ("c", lattice[2])):
        direction = lattice @ cartesian / np.linalg.norm(cartesian)  # reduced q ∝ L·d
        q = 1e-4 * direction / np.linalg.norm(direction)
        ours = phonons.harmonic_frequencies(aln_fc, [q])[0]
        ph.run_qpoints([[0.0, 0.0, 0.0]], nac_q_direction=direction)
        limit = ph.qpoints.frequencies[0]
        np.testing.assert_allclose(ours[3:], limit[3:], atol=2e-3)       # optical, THz
        # acoustic: ω = v q ≈ 0.003 THz at this q, plus ±0.04 THz from the fc2 sum rule of
        # the 3x3x2 supercell (the same without NAC)
        assert np.abs(ours[:3]).max() < 0.05
        ph.run_qpoints([[0.0, 0.0, 0.0]])                                 # Γ, no direction: TO
        transverse = ph.qpoints.frequencies[0]
        assert ours[-1] - transverse[-1] > 1.0                              # LO above TO, THz
        top[name] = ours[-1]
    assert abs(top["a"] - top["c"]) > 0.2                                   # E1(LO) vs A1(LO)


@pytest.mark.parametrize("axis", [0, 2])
def test_band_table_for_a_transport_direction_keeps_the_tensor_component(tmp_path, aln_modes,
                                                                         reference, axis):
    ref = np.asarray(reference.thermal_conductivity.kappa)[0, 0][axis]
    direction = np.eye(3)[axis]
    table = phonons.write_band_table(aln_modes, tmp_path / "AlN.dat", 20, direction=direction)
    assert table.kappa_bulk() == pytest.approx(aln_modes.kappa()[axis, axis], rel=1e-9)
    assert table.kappa_bulk() == pytest.approx(ref, rel=5e-3)
    isotropic = phonons.write_band_table(aln_modes, tmp_path / "iso.dat", 20)   # trace/3
    assert isotropic.kappa_bulk() == pytest.approx(np.trace(aln_modes.kappa()) / 3, rel=1e-9)
