"""The main job's physics (slow): the settings of examples/silicon/pipeline.toml, its potential
(the shipped ML model) included, against almaBTE's first-principles cross-plane Si films
(REFERENCES §1.5: 37.82 and 84.21 W/mK at 100 nm and 1 µm, bulk 135.28), and its in-plane
p = 0.5 films against the exact per-mode Fuchs–Sondheimer κ of the same modes over solid-angle
cells (workflows.film_reference, itself tested against the analytic Fuchs–Sondheimer integral).
The fresh-clone run of the whole job and its wall time are benchmarks/bench_main_job.py."""
from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from workflows.config import load_config
from workflows.pipeline import PipelineResult, run_pipeline
from workflows.references import ALMABTE_BULK, ALMABTE_CROSS_PLANE

REPO = Path(__file__).resolve().parents[2]
ALMABTE_KAPPA = {t: ALMABTE_CROSS_PLANE[t] for t in (1e-7, 1e-6)}    # W/mK
DFT_KAPPA_RTA_19 = 124.41   # W/mK, phono3py RTA of the PBEsol force constants, 19³ (REFERENCES §2)


IN_PLANE = (1e-8, 1e-7, 1e-6)   # m, the main job's in-plane p = 0.5 films
TOLERANCE = 0.08                # relative, on κ/κ_bulk against the per-mode reference


@pytest.fixture(scope="module")
def main_job(tmp_path_factory) -> PipelineResult:
    """The main job's cross-plane films at almaBTE's thicknesses and its in-plane p = 0.5
    films."""
    config = load_config(REPO / "examples" / "silicon" / "pipeline.toml")
    cross = next(g for g in config.geometries if g.kind == "cross-plane")
    partial = next(g for g in config.geometries if g.kind == "in-plane" and g.specularity == 0.5)
    assert tuple(partial.thicknesses) == pytest.approx(IN_PLANE)
    config = dataclasses.replace(
        config, output=tmp_path_factory.mktemp("main-job"), temperature_map=None,
        geometries=(dataclasses.replace(cross, thicknesses=tuple(ALMABTE_KAPPA)), partial))
    result = run_pipeline(config, progress=False, plots=False)
    for row, reference in zip(result.rows, ALMABTE_KAPPA.values()):
        print(f"{config.potential}: κ({row.thickness_m * 1e9:.0f} nm) = {row.kappa_W_mK:.2f} W/mK, "
              f"κ/κ_bulk {row.ratio:.3f} (almaBTE {reference:.2f}, {reference / ALMABTE_BULK:.3f});"
              f" bulk {result.kappa_bulk:.1f}")
    for row in result.rows[len(ALMABTE_KAPPA):]:
        print(f"in-plane p = 0.5, {row.thickness_m * 1e9:.0f} nm: κ/κ_bulk {row.ratio:.4f}, "
              f"per-mode FS {row.reference_ratio:.4f} ({row.ratio / row.reference_ratio - 1:+.2%})")
    return result


@pytest.fixture(scope="module")
def films(main_job) -> PipelineResult:
    """The cross-plane films of the main job."""
    result = dataclasses.replace(main_job, rows=[r for r in main_job.rows
                                                 if r.kind == "cross-plane"])
    assert [row.thickness_m for row in result.rows] == pytest.approx(list(ALMABTE_KAPPA))
    return result


@pytest.mark.slow
def test_in_plane_partially_specular_films_match_per_mode_fuchs_sondheimer(main_job):
    """The BTE's in-plane p = 0.5 films (40 bands by MFP, 128 directions, 40 cells) against the
    exact per-mode Fuchs–Sondheimer κ/κ_bulk of the same modes, each over its solid-angle cell
    of the same 128-direction set.  The two differ by the band binning (each band one gray
    isotropic medium with its mean MFP) and the BTE's discretisation.  Measured (one run):
    10 nm 0.2441 against 0.2581 (-5.4 %), 100 nm 0.5778 / 0.5796 (-0.3 %), 1 µm 0.8838 /
    0.8422 (+4.9 %).  The gray Fuchs–Sondheimer sum over the 40 bands gives 0.2538 / 0.5804 /
    0.8837: thick films differ by the binning only (the MFP tail within the longest-MFP band
    is suppressed less as one band), the 10 nm film also by the BTE's discretisation (-3.8 %
    against the band sum)."""
    rows = [r for r in main_job.rows if r.kind == "in-plane"]
    assert [r.thickness_m for r in rows] == pytest.approx(IN_PLANE)
    assert all(r.specularity == 0.5 and r.reference.startswith("per-mode") for r in rows)
    for row in rows:
        assert row.ratio == pytest.approx(row.reference_ratio, rel=TOLERANCE)


@pytest.mark.slow
def test_cross_plane_ratios_match_first_principles(films):
    """The issue's criterion: κ/κ_bulk within 15 % of almaBTE's ratios (measured: 0.274 and
    0.637 against 0.280 and 0.622, -2 % and +2 %)."""
    for row, reference in zip(films.rows, ALMABTE_KAPPA.values()):
        assert row.ratio == pytest.approx(reference / ALMABTE_BULK, rel=0.15)


@pytest.mark.slow
def test_cross_plane_kappa_matches_first_principles(films):
    """The film κ itself, against almaBTE's film κ for the bulk κ of the PBEsol force constants
    the model was trained on (almaBTE's first-principles bulk is 135.28 W/mK, phono3py's from
    the PBEsol data 124.41: the two references differ by 8 % before any film is made).  Measured:
    33.61 and 78.18 W/mK against 34.78 and 77.45 (-3.4 % and +0.9 %)."""
    for row, reference in zip(films.rows, ALMABTE_KAPPA.values()):
        assert row.kappa_W_mK == pytest.approx(reference * DFT_KAPPA_RTA_19 / ALMABTE_BULK,
                                               rel=0.10)


@pytest.mark.slow
def test_bulk_kappa_matches_dft(films):
    """Issue 4's κ_RTA(19³) within 5 % of DFT, for the shipped model: the main job's bulk κ is
    that quantity (2×2×2 supercell, 0.03 Å displacements, 19³ mesh, 300 K, RTA, lattice constant
    relaxed by the model: 5.43351 Å against the DFT 5.43356 Å; measured 122.77 W/mK, -1.3 %)."""
    assert films.kappa_bulk == pytest.approx(DFT_KAPPA_RTA_19, rel=0.05)
