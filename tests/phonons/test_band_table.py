"""Band tables from a ModeSet: κ conservation (Σ C v² τ / 3 = κ_RTA), bte reading the table
back, bte's solver on a periodic box reproducing bulk κ, and the direction-resolved mode data.
Reference: the DFT κ_RTA(300 K, 11³) = 108.98 W/mK of REFERENCES §2."""
from __future__ import annotations

import numpy as np
import pytest
from phonons_refdata import KAPPA_RTA_11, bte_helpers

import bte
from bte.materials import read_band_table
from phonons import write_band_table, write_mode_data


@pytest.mark.parametrize("method", ["frequency", "mfp", "giftbte"])
def test_band_table_conserves_kappa(tmp_path, dft_modes, method):
    path = tmp_path / f"Si_dft_{method}.dat"
    material = write_band_table(dft_modes, path, 20, method)
    table = read_band_table(path, 20)                 # bte's own reader
    kappa = float(np.sum(table.heat_capacity * table.velocity**2 * table.tau) / 3)
    assert kappa == pytest.approx(KAPPA_RTA_11, rel=5e-3)
    assert table.lattice_ratio.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(table.velocity, material.velocity, rtol=1e-15)
    # the table's total heat capacity is the Einstein-mode sum over all 6 x 1331 modes;
    # Dulong-Petit bounds it: C < 3 N k_B / V
    volume = 5.43356003**3 / 8 * 1e-30                 # m^3 per atom
    dulong_petit = 3 * 1.380649e-23 / volume
    assert 0.6 * dulong_petit < table.heat_capacity.sum() < dulong_petit
    if method == "frequency":        # optical bands (top) are slower than acoustic (bottom)
        assert table.velocity[0] > table.velocity[-1]


def test_bte_periodic_box_reproduces_bulk_kappa(tmp_path, dft_modes):
    """A 100 µm (≈ 400 median MFPs) periodic box with specular side walls, the written 12-band
    table, 3D Gauss angles: bte's solver must return the bulk κ (within 1 %)."""
    table = write_band_table(dft_modes, tmp_path / "Si_dft_12.dat", 12, "frequency")
    xs, ys = np.linspace(0, 1, 5), np.linspace(0, 1, 4)
    run = bte_helpers.make_case(
        tmp_path, bte_helpers.EXAMPLES / "in-plane" / "1e-7", "bulk", mesh=("rect", xs, ys),
        bc=[(1, -4, 1), (4, -1, 0), (2, 3, 0), (3, 3, 0)],
        geometry={"ScaleX": 1e-4, "ScaleY": 1e-4},
        phonon={"BandNumber": 12, "MaterialFile 1": str(tmp_path / "Si_dft_12.dat"),
                "MaterialDimension": 3, "Angle_method": 2, "Ntheta": 4, "Nphi": 4})
    problem = bte.read_input_folder(run)
    result = bte.solve(problem, scheme="Synthetic", residual_temp=1e-10, residual_flux=1e-9,
                       max_iter=3000)
    assert result.converged
    assert result.kappa_effective == pytest.approx(KAPPA_RTA_11, rel=0.01)
    assert table.kappa_bulk() == pytest.approx(KAPPA_RTA_11, rel=5e-3)


def test_direction_resolved_mode_data(tmp_path, dft_modes):
    path = write_mode_data(dft_modes, tmp_path / "modes.npz")
    data = np.load(path)
    n = 11**3 * 6
    assert data["velocity"].shape[1] == 3
    assert data["weight"].sum() == pytest.approx(n)        # q-points x 6 branches
    w = data["weight"] * data["heat_capacity"] * data["tau"]
    kappa = np.einsum("m,mi,mj->ij", w, data["velocity"], data["velocity"])
    np.testing.assert_allclose(kappa, np.eye(3) * KAPPA_RTA_11, rtol=1e-3, atol=1e-6)
    assert "m/s" in str(data["units"])
