"""ModeSet from the DFT force constants against phono3py's published numbers (REFERENCES §2)
and its own per-mode output file, and against analytic formulas."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
from phonons_refdata import DATA, KAPPA_RTA_11, KAPPA_RTA_ISOTOPE_11

from phonons import ImaginaryModeWarning, mode_properties

KB = 1.380649e-23
HBAR = 1.054571817e-34


def test_modeset_kappa_is_dft_reference(dft_modes):
    kappa = dft_modes.kappa()
    assert np.diag(kappa) == pytest.approx([KAPPA_RTA_11] * 3, rel=1e-3)
    assert np.abs(kappa - np.diag(np.diag(kappa))).max() < 1e-8 * KAPPA_RTA_11
    assert dft_modes.mode_kappa().sum() == pytest.approx(KAPPA_RTA_11, rel=1e-3)
    assert dft_modes.weights.sum() == 11**3
    assert list(dft_modes.mesh) == [11, 11, 11]


def test_modeset_per_mode_against_phono3py_file(dft_modes):
    """Frequencies and group velocities per irreducible mode as in phono3py's own 11³ file;
    heat capacity from the analytic Einstein formula k_B x² eˣ/(eˣ-1)² / (N V)."""
    with h5py.File(DATA / "kappa-m111111_si_pbesol.hdf5") as f:
        np.testing.assert_allclose(dft_modes.qpoints, f["qpoint"][:], atol=1e-12)
        np.testing.assert_array_equal(dft_modes.weights, f["weight"][:])
        np.testing.assert_allclose(dft_modes.frequency, f["frequency"][:], atol=0.01)
        speed_ref = np.linalg.norm(f["group_velocity"][:], axis=-1) * 100.0   # THz Å -> m/s
    degenerate_free = dft_modes.frequency[:, 0] > 0.1        # skip Γ
    np.testing.assert_allclose(dft_modes.speed[degenerate_free].sum(axis=-1),
                               speed_ref[degenerate_free].sum(axis=-1), rtol=0.01)
    omega = 2 * np.pi * 1e12 * dft_modes.frequency
    volume = 5.43356003**3 / 4 * 1e-30
    with np.errstate(divide="ignore", invalid="ignore"):
        x = HBAR * omega / (KB * 300.0)
        c = KB * x**2 * np.exp(x) / np.expm1(x) ** 2 / (11**3 * volume)
    ok = dft_modes.frequency > 0.1
    np.testing.assert_allclose(dft_modes.heat_capacity[ok], c[ok], rtol=1e-5)
    # lifetimes: Γ acoustic modes are ignored (0), all others finite and positive
    assert (dft_modes.lifetime[0, :3] == 0).all() and (dft_modes.lifetime[ok] > 0).all()
    assert dft_modes.mean_free_path.max() < 1e-4      # m


def test_expand_star_gives_full_tensor(dft_modes):
    full = dft_modes.expand_star()
    assert full.weights.sum() == pytest.approx(11**3)
    v, w = full.group_velocity, (full.weights[:, None] * full.heat_capacity * full.lifetime)
    kappa = np.einsum("qb,qbi,qbj->ij", w, v, v)
    np.testing.assert_allclose(kappa, np.eye(3) * KAPPA_RTA_11, rtol=1e-3, atol=1e-6)
    # rotated q-points stay on the 11³ mesh
    np.testing.assert_allclose(full.qpoints * 11, np.round(full.qpoints * 11), atol=1e-8)


@pytest.mark.slow
def test_isotope_scattering_dft(dft_fc):
    modes = mode_properties(dft_fc, (11, 11, 11), 300.0, is_isotope=True)
    assert modes.mode_kappa().sum() == pytest.approx(KAPPA_RTA_ISOTOPE_11, rel=1e-3)


@pytest.mark.slow
def test_boundary_scattering_is_matthiessen(dft_fc, dft_modes):
    """With a boundary MFP L every lifetime obeys 1/τ = 1/τ_ph + |v|/L (the Casimir term)."""
    length_um = 0.1
    modes = mode_properties(dft_fc, (11, 11, 11), 300.0, boundary_mfp=length_um)
    ok = dft_modes.lifetime > 0
    expected = 1.0 / (1.0 / dft_modes.lifetime[ok] + dft_modes.speed[ok] / (length_um * 1e-6))
    np.testing.assert_allclose(modes.lifetime[ok], expected, rtol=1e-8)
    assert modes.mode_kappa().sum() < 0.5 * KAPPA_RTA_11


def test_imaginary_modes_warned_with_qpoints(dft_fc):
    from dataclasses import replace
    unstable = replace(dft_fc, fc2=-dft_fc.fc2)
    # the Γ optical mode of the DFT data (15.27 THz) turns imaginary
    expected = r"q = \(0\.0000, 0\.0000, 0\.0000\): -15\.27"
    with pytest.warns(ImaginaryModeWarning, match=expected):
        mode_properties(unstable, (2, 2, 2), 300.0)


def test_progress_is_called_once_per_irreducible_grid_point(dft_fc):
    """The progress callback counts the irreducible q-points of the mesh, as spglib's own
    irreducible-mesh reduction of the primitive cell (time reversal included) counts them."""
    import spglib

    mesh = (6, 6, 6)
    cell = dft_fc.unitcell
    lattice, positions, numbers = spglib.standardize_cell(
        (cell.cell[:], cell.get_scaled_positions(), cell.numbers), to_primitive=True)
    mapping, _ = spglib.get_ir_reciprocal_mesh(mesh, (lattice, positions, numbers))
    n_irreducible = len(np.unique(mapping))
    calls = []
    modes = mode_properties(dft_fc, mesh, 300.0, progress=lambda done, total:
                            calls.append((done, total)))
    assert calls == [(k, n_irreducible) for k in range(1, n_irreducible + 1)]
    assert len(modes.qpoints) == n_irreducible
