"""Issue 23, items 6-8: inputs no physics allows are one-line errors naming file, line and
keyword, checked as a user sees them (the CLI in a subprocess: exit code 2, one line), before any
solve: huge keyword values, band tables with values outside their physical range or conducting no
heat, a misspelt material source, non-positive thresholds, empty or binary
keyword files.  (Wall temperatures <= 0 K stay allowed: the BTE here is linear and GiftBTE's
shipped heat-generation, interface and TDTR examples use 0 as the reference temperature.)"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from bte_cases import MATERIALS, REPO, copy_case, set_keyword

from bte import Material
from bte.build import band_value_error

SI15 = MATERIALS / "DATABASE" / "Si" / "Si_15.dat"


def _mts_error(run: Path) -> str:
    """The one stderr line of `mts bte run RUN` (exit code 2, no traceback)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", "bte", "run", str(run), "-q",
                           "-o", str(run.parent / "out"), "--max-iter", "1"], env=env,
                          capture_output=True, text=True, timeout=300)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert proc.returncode == 2, proc.stderr
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert not (run.parent / "out" / "kappa.json").exists()
    return lines[0]


def _line_of(path: Path, keyword: str) -> int:
    """The 1-based line of the value following ``keyword`` in a GiftBTE keyword file."""
    lines = path.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if keyword in line.split("//")[0])
    return next(j for j in range(k + 1, len(lines)) if lines[j].split()) + 1


@pytest.mark.parametrize("file, keyword, value, message", [
    ("PHONON", "Ntheta", "1e300", "'1e300' is too large (at most 2147483647)"),
    ("PHONON", "Nphi", "200000", "must be at most 100000, got 2e+05"),
    ("GEOMETRY", "ScaleX", "1e300", "the mesh spans 1e+300 m along x"),
    ("CONTROL", "ResidualTemp", "0", "must be > 0, got 0"),
    ("CONTROL", "ResidualFlux", "-1e-3", "must be > 0, got -0.001"),
])
def test_keyword_value_out_of_range(tmp_path, file, keyword, value, message):
    run = copy_case("cross-plane/1e-8", tmp_path / "run")
    path = run / "input" / file
    set_keyword(path, keyword, value)
    line = _mts_error(run)
    assert line.startswith(f"mts: error: {path}:{_line_of(path, keyword)}: {keyword}: "), line
    assert message in line


@pytest.mark.parametrize("column, value, message", [
    (0, 1e300, "group velocity v = 1e+300 m/s is outside [0, 100000]"),
    (0, 2e5, "group velocity v = 200000 m/s is outside [0, 100000]"),
    (1, 1e300, "relaxation time tau = 1e+300 s is outside [0, 1]"),
    (2, 1e300, "heat capacity C = 1e+300 J m^-3 K^-1 is outside [0, 1e+09]"),
])
def test_band_table_value_out_of_range(tmp_path, column, value, message):
    """Band 3 of the table (its line 3) holds the bad value: named as such, not 'the iteration
    diverged' or a singular-matrix traceback."""
    run = copy_case("cross-plane/1e-8", tmp_path / "run")
    rows = SI15.read_text().splitlines()
    tokens = rows[2].split()
    tokens[column] = repr(value)
    rows[2] = " ".join(tokens)
    table = tmp_path / "table.dat"
    table.write_text("\n".join(rows) + "\n")
    phonon = run / "input" / "PHONON"
    phonon.write_text(phonon.read_text().replace(str(SI15), str(table)))
    line = _mts_error(run)
    assert line.startswith(f"mts: error: {table}:3: band table: "), line
    assert message in line and "band 3" in line


def test_band_table_conducting_no_heat(tmp_path):
    run = copy_case("cross-plane/1e-8", tmp_path / "run")
    rows = [line.split() for line in SI15.read_text().splitlines() if line.split()]
    table = tmp_path / "table.dat"
    table.write_text("".join("0.0 " + " ".join(r[1:]) + "\n" for r in rows))
    phonon = run / "input" / "PHONON"
    phonon.write_text(phonon.read_text().replace(str(SI15), str(table)))
    assert "conducts no heat" in _mts_error(run)


def test_misspelt_material_source(tmp_path):
    run = copy_case("cross-plane/1e-8", tmp_path / "run")
    phonon = run / "input" / "PHONON"
    lines = phonon.read_text().splitlines()
    k = next(i for i, line in enumerate(lines) if "DATABASE" in line.split("//")[0]
             and "MaterialFile" in line)
    lines[k] = lines[k].replace("DATABASE", "DATABSE", 1)
    phonon.write_text("\n".join(lines) + "\n")
    line = _mts_error(run)
    assert line.startswith(f"mts: error: {phonon}:{k + 1}: MaterialFile 1: unknown material "
                           "source 'DATABSE' (did you mean DATABASE?)"), line
    assert "DATABASE, ShengBTE, ALAMODE, MODES" in line and "band-table row" not in line


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty (no keywords)"),
    (b"\n  \n// only a comment\n", "the file is empty (no keywords)"),
    (bytes(range(256)) * 4, "not a text file (binary content)"),
])
def test_empty_or_binary_control(tmp_path, content, message):
    run = copy_case("cross-plane/1e-8", tmp_path / "run")
    control = run / "input" / "CONTROL"
    control.write_bytes(content)
    assert _mts_error(run) == f"mts: error: {control}: {message}"


def test_band_value_error_accepts_the_shipped_table():
    v, tau, c, lattice, heat = np.loadtxt(SI15, usecols=range(5)).T
    assert band_value_error(Material("Si_15", v, tau, c, lattice / lattice.sum(), heat)) is None
