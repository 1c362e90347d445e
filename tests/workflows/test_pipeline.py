"""The study pipeline: same κ as calling phonons and bte by hand, stage caching, TOML errors.

The by-hand path builds its BTE folders from the GiftBTE examples with the test helpers of
tests/bte/bte_cases.py (their own case layout and meshes; the file syntax is bte.giftbte.writer's,
shared with the pipeline), its force constants and modes with ``phonons`` directly and Tersoff
with matscipy directly.
"""
from __future__ import annotations

import csv
import importlib.util
import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from workflows.config import ConfigError, load_config
from workflows.pipeline import run_pipeline

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("bte_cases", REPO / "tests" / "bte" / "bte_cases.py")
bte_cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bte_cases)

A0_TERSOFF = 5.4320      # Å, REFERENCES §2


def tersoff():
    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms import TersoffBrenner
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C,
    )
    return Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))


def study(tmp_path: Path, *, mesh=4, n_bands=4, thicknesses=(20, 200), n_cells=8, angles=2,
          extra: str = "") -> Path:
    path = tmp_path / "study.toml"
    path.write_text(f"""
name = "t"
output = "{tmp_path / 'out'}"
[material]
structure = "builtin:si"
lattice_constant = {A0_TERSOFF}
[potential]
calculator = "tersoff"
[phonons]
mesh = [{mesh}, {mesh}, {mesh}]
n_bands = {n_bands}
[bte]
ntheta = {angles}
nphi = {angles}
n_cells = {n_cells}
grading = 1.0
residual_temp = 1e-8
residual_flux = 1e-7
[[geometry]]
kind = "cross-plane"
thickness_nm = {list(thicknesses)}
[[geometry]]
kind = "in-plane"
thickness_nm = {list(thicknesses)}
{extra}
""")
    return path


def markers(out: Path) -> dict[str, float]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (out / "stages").glob("*/done.json")}


@pytest.fixture(autouse=True)
def _quiet_matscipy():
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        yield


@pytest.mark.slow
def test_pipeline_matches_packages_by_hand(tmp_path):
    """Tersoff, 11³ mesh, two film thicknesses, cross-plane and in-plane: the pipeline's κ equals
    the κ of force constants, modes, band table and BTE runs done by hand.  The pipeline caches
    the force constants as phono3py files and reads them back, and reading symmetrises them once
    more (phono3py's symmetrisation is not exactly idempotent): κ agrees to ~4e-5, so rel 2e-4."""
    from ase.build import bulk

    import bte
    import phonons

    n_bands, n_cells, angles = 8, 10, 2
    result = run_pipeline(study(tmp_path, mesh=11, n_bands=n_bands, n_cells=n_cells,
                                angles=angles), progress=False, plots=False)

    atoms = bulk("Si", "diamond", a=A0_TERSOFF, cubic=True)
    fc = phonons.compute_force_constants(atoms, tersoff(), (2, 2, 2), displacement=0.03)
    modes = phonons.mode_properties(fc, (11, 11, 11), 300.0)
    table = tmp_path / "hand" / "Si_hand.dat"
    table.parent.mkdir()
    material = phonons.write_band_table(modes, table, n_bands, "frequency")
    assert result.kappa_bands == pytest.approx(material.kappa_bulk(), rel=2e-4)
    assert result.kappa_bulk == pytest.approx(np.trace(modes.kappa()) / 3, rel=2e-4)

    ys = np.linspace(0, 1, n_cells + 1)
    common = dict(mesh=("rect", [0.0, 1.0], ys),
                  phonon={"BandNumber": n_bands, "MaterialFile": str(table), "Ntheta": angles,
                          "Nphi": angles},
                  control={"ResidualTemp": 1e-8, "ResidualFlux": 1e-7, "MaxNumIter": 2000})
    for row in result.rows:
        L = row.thickness_m
        example = "cross-plane/1e-7" if row.kind == "cross-plane" else "in-plane/1e-7"
        run = bte_cases.make_case(tmp_path / "hand", example, f"{row.kind}-{L:g}",
                                  geometry={"ScaleX": L, "ScaleY": L}, **common)
        by_hand = bte.solve(bte.read_input_folder(run))
        assert by_hand.converged
        assert row.kappa_W_mK == pytest.approx(by_hand.kappa_effective, rel=2e-4), row


def test_pipeline_caches_stages(tmp_path):
    """A rerun runs no stage and touches no marker; changing n_bands reruns only the band
    table and the BTE cases; the outputs are all there."""
    path = study(tmp_path)
    first = run_pipeline(path, progress=False)
    out = tmp_path / "out"
    assert {p.name for p in first.files} >= {"results.csv", "band_table.dat", "bulk.json",
                                             "kappa_vs_thickness.png", "accumulation.png",
                                             "temperature_map.png"}
    assert len(first.rows) == 4 and all(r.converged for r in first.rows)
    assert not first.stages_cached
    before = markers(out)

    second = run_pipeline(path, progress=False, plots=False)
    assert second.stages_run == []
    assert markers(out) == before
    assert [r.kappa_W_mK for r in second.rows] == [r.kappa_W_mK for r in first.rows]
    assert all(r.cached for r in second.rows)

    third = run_pipeline(study(tmp_path, n_bands=5), progress=False, plots=False)
    assert sorted({s.split("-")[0] for s in third.stages_run}) == ["bands", "bte"]
    assert sorted({s.split("-")[0] for s in third.stages_cached}) == ["fc", "modes",
                                                                      "structure"]
    csv_rows = (out / "results.csv").read_text().splitlines()
    assert len(csv_rows) == 5 and csv_rows[0].startswith("geometry,kind,thickness_m")


def test_quiet_cli_prints_summary_and_writes_a_clean_table(tmp_path, capsys):
    """``mts pipeline --quiet`` still prints the summary; results.csv holds 30 nm as 3e-08 (not
    3.0000000000000004e-08), wall times to the millisecond and an empty reference where
    there is none (not nan: almaBTE has no 30 nm cross-plane film); the in-plane film's is the
    per-mode Fuchs–Sondheimer κ of the study's modes, below their bulk κ."""
    from workflows.cli import main

    assert main(["pipeline", "--quiet", "--no-plots", str(study(tmp_path, thicknesses=(30,)))]) == 0
    printed = capsys.readouterr().out
    assert "bulk kappa" in printed and "stages: " in printed
    with (tmp_path / "out" / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [r["thickness_m"] for r in rows] == ["3e-08", "3e-08"]
    cross, film = rows
    assert cross["reference_W_mK"] == cross["reference_ratio"] == cross["reference"] == ""
    assert film["reference"].startswith("per-mode Fuchs-Sondheimer")
    assert 0 < float(film["reference_ratio"]) < 1 and float(film["reference_W_mK"]) > 0
    assert "reference: cross-plane films almaBTE" in printed
    assert all(r["width_m"] == "" for r in rows)
    assert all(re.fullmatch(r"\d+\.\d{3}", r["wall_s"]) for r in rows), rows


def test_pipeline_film_physics(tmp_path):
    """Sanity of the film results against bulk: κ below the band table's bulk κ, growing with
    thickness, in-plane above cross-plane at the same thickness."""
    result = run_pipeline(study(tmp_path), progress=False, plots=False)
    by = {(r.kind, round(r.thickness_m * 1e9)): r.kappa_W_mK for r in result.rows}
    for kind in ("cross-plane", "in-plane"):
        assert by[(kind, 20)] < by[(kind, 200)] < result.kappa_bands
    assert by[("in-plane", 20)] > by[("cross-plane", 20)]
    bulk = json.loads((tmp_path / "out" / "bulk.json").read_text())
    assert bulk["band_table_kappa_W_mK"] == pytest.approx(result.kappa_bands)


@pytest.mark.parametrize("text, message", [
    ("[potential]\ncalculator = 'tersoff'\n[[geometry]]\nkind = 'in-plane'\n"
     "thickness_nm = [10]\n", "material: missing"),
    ("[material]\n[potential]\ncalculator = 'tersoff'\n[phonons]\nmesh = [11, 11]\n"
     "[[geometry]]\nkind = 'in-plane'\nthickness_nm = [10]\n",
     "phonons.mesh: expected a list of 3"),
    ("[material]\n[potential]\ncalculator = 'tersoff'\n[[geometry]]\nkind = 'tube'\n"
     "thickness_nm = [10]\n", "geometry[0].kind: must be one of"),
    ("[material]\n[potential]\ncalculator = 'tersoff'\n[[geometry]]\nkind = 'in-plane'\n"
     "thickness_nm = [-1]\n", "geometry[0].thickness_nm: must be positive"),
    ("[material]\ntypo = 1\n[potential]\ncalculator = 'tersoff'\n[[geometry]]\n"
     "kind = 'in-plane'\nthickness_nm = [10]\n", "material.typo: unknown key"),
    ("[material]\n[potential]\ncalculator = 'tersoff'\n", "geometry: at least one"),
    ("[material\n", "invalid TOML"),
])
def test_config_errors_name_file_key_problem(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value) and message in str(err.value), str(err.value)


def test_main_job_config_is_valid():
    config = load_config(REPO / "examples" / "silicon" / "pipeline.toml")
    films = {g.name: g.thicknesses for g in config.geometries}
    assert min(films["cross-plane"]) == pytest.approx(10e-9)
    assert max(films["cross-plane"]) == pytest.approx(10e-6)
    assert max(films["in-plane"]) == pytest.approx(10e-6)


def test_long_stages_show_live_progress(tmp_path, capsys):
    """Issue 23 item 9: the modes stage shows the phono3py grid points done and each BTE case
    its iteration and residuals on the pipeline's bar (not one motionless stage bar)."""
    run_pipeline(study(tmp_path, thicknesses=(20,)), plots=False, summary=False)
    shown = capsys.readouterr().err
    assert "phono3py grid points" in shown
    assert re.search(r"cross-plane[^:]*: iteration \d+, err_T \d\.\de[-+]\d+, err_q", shown), shown
