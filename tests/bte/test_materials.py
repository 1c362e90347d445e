"""Material readers and mode binning (bte.materials), checked against values derived directly
from the raw files with numpy and against hand-computed synthetic cases."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bte.materials import (
    band_table_from_text,
    bin_modes,
    read_alamode_tau,
    read_band_table,
    read_shengbte,
)
from bte.problem import BTEInputError

GIFT = Path(__file__).resolve().parents[2] / "examples" / "giftbte"
MATERIALS = GIFT / "materials"
ALAMODE_SI = MATERIALS / "ALAMODE" / "Si" / "tau300K_pure.dat"
SHENGBTE_GE = MATERIALS / "ShengBTE" / "Ge"
KB = 1.380649e-23          # J/K (CODATA, exact)
HBAR = 6.62607015e-34 / (2 * np.pi)   # J s (exact h)


def kappa_of(material) -> float:
    return float(np.sum(material.heat_capacity * material.velocity**2 * material.tau) / 3)


# -- band tables ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name, n_bands, kappa", [
    ("Si/Si_1.dat", 1, 155.1), ("Si/Si_15.dat", 15, 151.8), ("Si/Si_8.dat", 8, 156.5),
    ("Si/Si_ran.dat", 134, 149.3), ("Ge/Ge_ran.dat", 134, 70.3)])
def test_database_bulk_kappa(name, n_bands, kappa):
    messages: list[str] = []
    material = read_band_table(MATERIALS / "DATABASE" / name, n_bands, warn=messages.append)
    assert material.n_bands == n_bands
    assert material.kappa_bulk() == pytest.approx(kappa, abs=0.05)
    for array in (material.velocity, material.tau, material.heat_capacity,
                  material.lattice_ratio, material.heat_ratio):
        assert array.dtype == np.float64 and array.shape == (n_bands,)
    # the lattice ratios are rescaled to conserve energy exactly (Si_15's column sums to
    # 1 - 7.3e-8), and agree with (C/tau)/sum(C/tau) recomputed from the table's columns
    assert material.lattice_ratio.sum() == pytest.approx(1.0, abs=1e-15)
    rate = material.heat_capacity / material.tau
    np.testing.assert_allclose(material.lattice_ratio, rate / rate.sum(), rtol=2e-3, atol=1e-9)
    # Ge_ran's heat-ratio column sums to 1.004: a warning, not an error (GiftBTE loads it).
    assert bool(messages) == (name == "Ge/Ge_ran.dat")
    if messages:
        assert "heat-ratio" in messages[0] and "1.0039" in messages[0]


def test_gray_table_values():
    material = read_band_table(MATERIALS / "DATABASE" / "Si" / "Si_1.dat", 1)
    assert material.velocity[0] == 2677.0
    assert material.tau[0] == pytest.approx(39.9e-12)
    assert material.heat_capacity[0] == pytest.approx(1.627e6)
    assert material.name == "Si_1"


def test_table_heat_ratio_warning_goes_to_warnings_module(tmp_path):
    path = tmp_path / "t.dat"
    path.write_text("100 1e-12 1e6 0.5 0.6\r\n200 2e-12 1e6 0.5 0.6\r\n")
    with pytest.warns(UserWarning, match="heat-ratio column"):
        material = read_band_table(path, 2)
    assert material.heat_ratio.tolist() == [0.6, 0.6]


def test_table_lattice_ratio_sum_error_names_file():
    lines = ["100 1e-12 1e6 0.5 0.5", "", "200 2e-12 1e6 0.4 0.5"]
    with pytest.raises(BTEInputError) as err:
        band_table_from_text(lines, "mydir/mat.dat", 7, 2)
    assert err.value.file == "mydir/mat.dat" and err.value.line == 7
    assert "0.9" in err.value.message and "lattice ratio" in str(err.value)


def test_table_parse_error_names_line_and_token():
    lines = ["100 1e-12 1e6 0.5 0.5", "200 2e-12 abc 0.5 0.5"]
    with pytest.raises(BTEInputError) as err:
        band_table_from_text(lines, "PHONON", 10, 2)
    assert err.value.line == 11 and "abc" in err.value.message


def test_table_band_count_must_match():
    with pytest.raises(BTEInputError, match="3 bands but BandNumber is 2"):
        band_table_from_text(["1 1 1 0.3 0.3", "1 1 1 0.3 0.3", "1 1 1 0.4 0.4"], "x.dat", 1, 2)


def test_table_rejects_nonpositive_tau():
    with pytest.raises(BTEInputError, match="tau"):
        band_table_from_text(["100 0 1e6 1 1"], "x.dat", 3, 1)


# -- binning -------------------------------------------------------------------------------------

# seven modes: C (J/m^3K), v (m/s), tau (s), frequency (rad/s)
C7 = np.array([1.0, 3.0, 2.0, 2.0, 1.0, 1.0, 2.0])
V7 = np.array([10.0, 20.0, 5.0, 15.0, 1.0, 1.0, 4.0])
T7 = np.array([1.0, 2.0, 4.0, 1.0, 1.0, 3.0, 0.5])
F7 = np.array([7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0])


def test_giftbte_chunking_by_hand():
    # 7 modes, 3 bands: chunks of floor(7/3) = 2 in file order, the last takes the rest (3).
    #   band 1 = modes 0,1: C = 4, v = (10 + 60)/4 = 17.5, kappa*3 = 100 + 2400 = 2500,
    #            tau = 2500/(4*17.5^2) = 2500/1225
    #   band 2 = modes 2,3: C = 4, v = (10 + 30)/4 = 10, 3kappa = 200 + 450 = 650, tau = 1.625
    #   band 3 = modes 4,5,6: C = 4, v = (1 + 1 + 8)/4 = 2.5, 3kappa = 1 + 3 + 16 = 20, tau = 0.8
    m = bin_modes(F7, V7, T7, C7, 3, "giftbte")
    np.testing.assert_allclose(m.heat_capacity, [4, 4, 4], rtol=1e-15)
    np.testing.assert_allclose(m.velocity, [17.5, 10.0, 2.5], rtol=1e-15)
    np.testing.assert_allclose(m.tau, [2500 / 1225, 1.625, 0.8], rtol=1e-15)
    c_over_tau = np.array([4 * 1225 / 2500, 4 / 1.625, 4 / 0.8])
    np.testing.assert_allclose(m.lattice_ratio, c_over_tau / c_over_tau.sum(), rtol=1e-14)
    np.testing.assert_allclose(m.heat_ratio, [1 / 3, 1 / 3, 1 / 3], rtol=1e-15)
    assert kappa_of(m) == pytest.approx((2500 + 650 + 20) / 3, rel=1e-14)


def test_frequency_binning_sorts_first():
    # sorted by frequency: modes 6,5 | 4,3 | 2,1,0 (balanced chunks 2, 2, 3)
    #   band 1: C = 3, v = (8 + 1)/3 = 3, 3kappa = 16 + 3 = 19, tau = 19/27
    m = bin_modes(F7, V7, T7, C7, 3, "frequency")
    assert m.heat_capacity[0] == pytest.approx(3.0)
    assert m.velocity[0] == pytest.approx(3.0)
    assert m.tau[0] == pytest.approx(19 / 27)
    assert m.heat_capacity[2] == pytest.approx(6.0)      # modes 2, 1, 0
    assert kappa_of(m) == pytest.approx(3170 / 3, rel=1e-14)


def test_mfp_binning_sorts_by_v_tau():
    # MFPs 10, 40, 20, 15, 1, 3, 2 -> order 4,6,5 | ... ; 2 bands: modes 4,6,5 | 0,3,2,1
    m = bin_modes(F7, V7, T7, C7, 2, "mfp")
    assert m.heat_capacity.tolist() == pytest.approx([4.0, 8.0])
    assert m.velocity[0] == pytest.approx((1 + 8 + 1) / 4)
    assert kappa_of(m) == pytest.approx(3170 / 3, rel=1e-14)


def test_binning_errors():
    with pytest.raises(BTEInputError, match="empty bands"):
        bin_modes(F7[:2], V7[:2], T7[:2], C7[:2], 3)
    with pytest.raises(BTEInputError, match="binning"):
        bin_modes(F7, V7, T7, C7, 3, "random")
    with pytest.raises(BTEInputError, match="band 1"):
        bin_modes(F7, V7, T7, np.r_[0.0, 0.0, C7[2:]], 3)
    with pytest.raises(BTEInputError, match="mode 1"):
        bin_modes(F7, V7, np.r_[1.0, np.nan, T7[2:]], C7, 3)


# -- ALAMODE -------------------------------------------------------------------------------------

def alamode_mode_kappa() -> np.ndarray:
    """Per-mode kappa trace x multiplicity (W/mK), straight from the file."""
    raw = np.loadtxt(ALAMODE_SI)
    return (raw[:, 7] + raw[:, 11] + raw[:, 15]) * raw[:, 6]


@pytest.mark.parametrize("method", ["giftbte", "frequency", "mfp"])
def test_alamode_binning_conserves_kappa(method):
    expected = alamode_mode_kappa().sum() / 3
    m = read_alamode_tau(ALAMODE_SI, 12, method)
    assert m.n_bands == 12
    assert kappa_of(m) == pytest.approx(expected, rel=1e-12)
    assert 130 < expected < 160          # Si at 300 K
    np.testing.assert_allclose([m.lattice_ratio.sum(), m.heat_ratio.sum()], [1, 1], rtol=1e-12)


def test_alamode_giftbte_chunks_match_direct_sum():
    raw = np.loadtxt(ALAMODE_SI)
    v, tau = raw[:, 4], raw[:, 3] * 1e-12
    kappa = (raw[:, 7] + raw[:, 11] + raw[:, 15]) * raw[:, 6]
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(v * tau > 0, kappa / (v * v * tau), 0.0)
    n = len(raw) // 15
    first, last = slice(0, n), slice(14 * n, len(raw))
    m = read_alamode_tau(ALAMODE_SI, 15, "giftbte")
    for band, chunk in ((0, first), (14, last)):
        assert m.heat_capacity[band] == pytest.approx(c[chunk].sum(), rel=1e-12)
        assert m.velocity[band] == pytest.approx((c * v)[chunk].sum() / c[chunk].sum(),
                                                 rel=1e-12)


def test_alamode_synthetic(tmp_path):
    path = tmp_path / "tau300K.dat"
    row = "{ik} {s} {f} {tau} {v} 0 {mult} {k} 0 0 0 {k} 0 0 0 {k}\n"
    path.write_text("# kpoint range 1 2\n# mode   range 1 2\n# ik, is, ...\n"
                    + row.format(ik=1, s=1, f=0.0, tau=0, v=0, mult=1, k=0)
                    + row.format(ik=1, s=2, f=100.0, tau=2.0, v=1000.0, mult=1, k=1.0)
                    + row.format(ik=2, s=1, f=50.0, tau=4.0, v=500.0, mult=2, k=0.5)
                    + row.format(ik=2, s=2, f=200.0, tau=1.0, v=2000.0, mult=2, k=2.0))
    m = read_alamode_tau(path, 2, "giftbte")
    # band 1: modes 1 (C = 0) and 2: C = 3/(1e6 * 2e-12) = 1.5e6, v = 1000
    assert m.heat_capacity[0] == pytest.approx(1.5e6)
    assert m.velocity[0] == pytest.approx(1000.0)
    assert m.tau[0] == pytest.approx(2e-12)
    # band 2: C3 = 3/(2.5e5 * 4e-12) = 3e6, C4 = 12/(4e6 * 1e-12) = 3e6
    assert m.heat_capacity[1] == pytest.approx(6e6)
    assert m.velocity[1] == pytest.approx(1250.0)
    assert kappa_of(m) == pytest.approx((3 + 3 + 12) / 3)
    bad = tmp_path / "short.dat"
    bad.write_text(path.read_text().replace("kpoint range 1 2", "kpoint range 1 3"))
    with pytest.raises(BTEInputError, match="3 k-points"):
        read_alamode_tau(bad, 2)


# -- ShengBTE ------------------------------------------------------------------------------------

def shengbte_modes_direct(folder: Path, volume_m3: float, temperature: float):
    """Kept modes in GiftBTE order (branch-major over the full grid), from the raw files,
    looping over branches explicitly: (C, v, tau, C v^2 tau)."""
    omega = np.loadtxt(folder / "BTE.omega")
    irr = np.loadtxt(folder / "BTE.qpoints_full")[:, 1].astype(int) - 1
    vel = np.loadtxt(folder / "BTE.v")
    rate = np.loadtxt(folder / "BTE.w_final")[:, 1]
    n_irr, n_branch = omega.shape
    out = []
    for branch in range(n_branch):
        rows = branch * n_irr + irr
        w = omega[irr, branch] * 1e12
        v = np.sqrt((vel[rows] ** 2).sum(axis=1)) * 1000.0
        with np.errstate(all="ignore"):
            tau = 1.0 / (rate[rows] * 1e12)
            x = HBAR * w / (KB * temperature)
            c = KB * x**2 * np.exp(x) / (np.exp(x) - 1.0) ** 2 / (volume_m3 * len(irr))
            k = c * v * v * tau
        keep = ~np.isnan(k) & (k >= 0)
        out.append(np.stack([c[keep], v[keep], tau[keep], k[keep]]))
    return np.concatenate(out, axis=1)


def ge_volume() -> float:
    a = 5.372296320673052
    lattice = np.array([[-a, 0, a], [0, a, a], [-a, a, 0]])
    return abs(np.linalg.det(lattice)) * 0.0529177210818**3 * 1e-27


@pytest.mark.parametrize("method", ["giftbte", "frequency", "mfp"])
def test_shengbte_ge_kappa(method):
    modes = shengbte_modes_direct(SHENGBTE_GE, ge_volume(), 300.0)
    expected = modes[3].sum() / 3
    m = read_shengbte(SHENGBTE_GE, 20, method)
    assert m.name == "Ge" and m.n_bands == 20
    assert kappa_of(m) == pytest.approx(expected, rel=1e-10)
    # RTA with ShengBTE's final scattering rates: 47.6 W/mK (Ge, 300 K, isotopes)
    assert 40.0 < expected < 70.0


def test_shengbte_ge_giftbte_chunks():
    c, v, tau, k = shengbte_modes_direct(SHENGBTE_GE, ge_volume(), 300.0)
    n = len(c) // 20
    m = read_shengbte(SHENGBTE_GE, 20, "giftbte")
    for band, chunk in ((0, slice(0, n)), (7, slice(7 * n, 8 * n)), (19, slice(19 * n, None))):
        assert m.heat_capacity[band] == pytest.approx(c[chunk].sum(), rel=1e-10)
        assert m.velocity[band] == pytest.approx((c * v)[chunk].sum() / c[chunk].sum(), rel=1e-10)
        assert m.heat_capacity[band] * m.velocity[band] ** 2 * m.tau[band] == pytest.approx(
            k[chunk].sum(), rel=1e-10)
    assert m.heat_capacity.sum() == pytest.approx(c.sum(), rel=1e-12)


def write_shengbte(folder: Path, control: str) -> None:
    """Two q-points (both irreducible), one branch; the second mode has a NaN rate."""
    folder.mkdir()
    (folder / "CONTROL").write_text(control)
    (folder / "BTE.omega").write_text("10.0\n20.0\n")                     # rad/ps
    (folder / "BTE.qpoints_full").write_text("1 1 0 0 0\n2 2 0.5 0 0\n")
    (folder / "BTE.v").write_text("3.0 4.0 0.0\n1.0 0.0 0.0\n")           # km/s
    (folder / "BTE.w_final").write_text("10.0 0.5\n20.0 NaN\n")            # 1/ps


def test_shengbte_synthetic_general_cell(tmp_path):
    # lattvec rows (1 2 0), (0.5 1.5 0), (0 0 2): det = 2*(1.5 - 1) = 1; GiftBTE's typo would
    # give |3 - 8| = 5.  T in column 0 is accepted; lines containing TRUE are skipped.
    folder = tmp_path / "X"
    write_shengbte(folder, "&allocations\n ngrid(:)=2 1 1\n&end\n&crystal\n lfactor=0.1,\n"
                   " lattvec(:,1)= 1.0 2.0 0.0\n lattvec(:,2)= 0.5 1.5 0.0\n"
                   " lattvec(:,3)= 0.0 0.0 2.0\n&end\n&parameters\nT=200.d0\n&end\n"
                   "&flags\n nanowires=.TRUE. T=5\n&end\n")
    m = read_shengbte(folder, 1)
    volume = 1.0 * 0.1**3 * 1e-27
    x = HBAR * 10e12 / (KB * 200.0)
    c = KB * x**2 * np.exp(x) / np.expm1(x) ** 2 / (volume * 2)
    assert m.heat_capacity[0] == pytest.approx(c, rel=1e-12)
    assert m.velocity[0] == pytest.approx(5000.0)
    assert m.tau[0] == pytest.approx(2e-12)
    assert m.name == "X"


def test_shengbte_missing_file(tmp_path):
    folder = tmp_path / "Y"
    write_shengbte(folder, " ngrid(:)=2 1 1\n lfactor=0.1\n lattvec(:,1)=1 0 0\n"
                   " lattvec(:,2)=0 1 0\n lattvec(:,3)=0 0 1\n T=300\n")
    (folder / "BTE.qpoints_full").unlink()
    with pytest.raises(BTEInputError, match="BTE.qpoints_full") as err:
        read_shengbte(folder, 1)
    assert err.value.file.endswith("BTE.qpoints_full")


def test_shengbte_control_without_t(tmp_path):
    folder = tmp_path / "Z"
    write_shengbte(folder, " ngrid(:)=2 1 1\n lfactor=0.1\n lattvec(:,1)=1 0 0\n"
                   " lattvec(:,2)=0 1 0\n lattvec(:,3)=0 0 1\n T_min=100\n")
    with pytest.raises(BTEInputError, match="no T"):
        read_shengbte(folder, 1)


def test_write_band_table_round_trip(tmp_path):
    """GiftBTE's own Si_15.dat read, written and read again: the same five columns as the
    shipped file (compared with numpy's reading of that file; the lattice ratios rescaled to
    sum to 1 on reading)."""
    from bte.materials import write_band_table
    original = MATERIALS / "DATABASE" / "Si" / "Si_15.dat"
    written = write_band_table(read_band_table(original, 15), tmp_path / "Si_15_copy.dat")
    again = read_band_table(written, 15)
    expected = np.loadtxt(original)[:, :5]
    expected[:, 3] /= expected[:, 3].sum()
    got = np.column_stack([again.velocity, again.tau, again.heat_capacity, again.lattice_ratio,
                           again.heat_ratio])
    np.testing.assert_allclose(got, expected, rtol=1e-15)
    assert again.name == "Si_15_copy"
