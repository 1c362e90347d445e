"""bte.outputs: GiftBTE text files at full precision, kappa.json, result.vtu, atomic writing."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest

import bte.outputs as outputs
from bte.problem import Control, Geometry, Material, Mesh, Problem
from bte.progress import ProgressLine, format_elapsed
from bte.result import Result
from mtscore import TMP_PREFIX

meshio = pytest.importorskip("meshio")


# --------------------------------------------------------------------------------------------
# a tiny hand-built problem: 2x2 quads on [0, 2e-8] x [0, 2e-8] m, 2 bands
# --------------------------------------------------------------------------------------------

def _geometry_from_cells(points: np.ndarray, cells: list[list[int]],
                         region: np.ndarray) -> Geometry:
    """Centroids and areas from the vertices (enough for the outputs; faces are placeholders)."""
    centroid = np.array([points[c].mean(axis=0) for c in cells])
    volume = np.array([0.5 * abs(np.dot(points[c, 0], np.roll(points[c, 1], 1))
                                 - np.dot(points[c, 1], np.roll(points[c, 0], 1))) for c in cells])
    n = len(cells)
    z3 = np.zeros((0, 3))
    return Geometry(dim=2, centroid=centroid, volume=volume, region=region,
                    face_offsets=np.zeros(n + 1, dtype=np.int64),
                    face_neighbor=np.zeros(0, dtype=np.int64), face_normal=z3,
                    face_area=np.zeros(0), face_center=z3,
                    bface_cell=np.zeros(0, dtype=np.int64), bface_index=np.zeros(0, dtype=np.int64),
                    bface_normal=z3, bface_area=np.zeros(0), bface_center=z3,
                    bface_partner=np.zeros(0, dtype=np.int64))


def make_problem(points: np.ndarray, cells: list[list[int]], types: list[int],
                 region: np.ndarray | None = None, n_bands: int = 2,
                 root: Path = Path("/runs/tiny")) -> Problem:
    n = len(cells)
    region = np.zeros(n, dtype=np.int64) if region is None else np.asarray(region)
    offsets = np.concatenate([[0], np.cumsum([len(c) for c in cells])]).astype(np.int64)
    mesh = Mesh(dim=2, points=points, cell_offsets=offsets,
                cell_nodes=np.concatenate(cells).astype(np.int64),
                cell_types=np.asarray(types, dtype=np.int64), cell_region=region,
                bnd_offsets=np.zeros(1, dtype=np.int64), bnd_nodes=np.zeros(0, dtype=np.int64),
                bnd_index=np.zeros(0, dtype=np.int64), source="tiny")
    geometry = _geometry_from_cells(points, cells, region)
    ones = np.ones(n_bands)
    material = Material("Si", velocity=1000.0 * ones, tau=1e-11 * ones, heat_capacity=1e6 * ones,
                        lattice_ratio=ones / n_bands, heat_ratio=ones / n_bands)
    return Problem(root=root, control=Control(), geometry_dimension=2, mesh=mesh,
                   geometry=geometry, materials=[material],
                   region_material=np.zeros(int(region.max()) + 1, dtype=np.int64),
                   material_dimension=3, angle_method=2, ntheta=4, nphi=4,
                   boundary_conditions={}, heat_source=np.zeros(n),
                   warnings=["PHONON:3: something odd"])


def quad_problem(n_bands: int = 2) -> Problem:
    h = 1e-8
    xs, ys = np.meshgrid(np.arange(3) * h, np.arange(3) * h)
    points = np.column_stack([xs.ravel(), ys.ravel(), np.zeros(9)])
    cells = [[j * 3 + i, j * 3 + i + 1, (j + 1) * 3 + i + 1, (j + 1) * 3 + i]
             for j in range(2) for i in range(2)]
    return make_problem(points, cells, [9] * 4, region=np.array([0, 0, 1, 1]), n_bands=n_bands)


def make_result(problem: Problem, converged: bool = True, seed: int = 0) -> Result:
    rng = np.random.default_rng(seed)
    n, nb = problem.geometry.n_cells, problem.n_bands
    # awkward floats: every digit of %.17g matters for the round trip
    return Result(problem=problem,
                  temperature_lattice=300.0 + rng.random(n) / 3.0,
                  temperature_energy=300.0 + rng.random(n) / 7.0,
                  temperature_band=300.0 + rng.random((nb, n)) * np.pi,
                  heat_flux=rng.standard_normal((n, 3)) * 1e9 / 3.0,
                  kappa_effective=12.345678901234567, kappa_method="mean(q_y) * L / dT",
                  kappa_direction=np.array([0.0, 1.0, 0.0]), iterations=3, converged=converged,
                  residual_history=[(1.0, 0.5), (1e-3, 2e-2), (np.float64(1e-7), 1e-5)],
                  wall_time=0.25,
                  settings={"n_directions": np.int64(32), "scheme": "Synthetic",
                            "order": "2", "path": Path("/x"), "tol": np.array([1e-6, 1e-4])})


@pytest.fixture
def result() -> Result:
    return make_result(quad_problem())


def _snapshot(directory: Path) -> dict[str, bytes]:
    return {str(p.relative_to(directory)): (p.read_bytes() if p.is_file() else b"<dir>")
            for p in sorted(directory.rglob("*"))}


# --------------------------------------------------------------------------------------------
# text files
# --------------------------------------------------------------------------------------------

def test_file_names_and_return_value(tmp_path, result):
    out = tmp_path / "a" / "b"          # created, parents included
    paths = outputs.write_outputs(result, out)
    names = ["TempLattice.dat", "Temperature.dat", "Tempband.dat", "HeatFlux.dat",
             "kappa.json", "result.vtu"]
    assert [p.name for p in paths] == names
    assert all(p.parent == out and p.is_file() for p in paths)
    assert sorted(os.listdir(out)) == sorted(names)     # no temp dir left


def test_columns_round_trip_exactly(tmp_path, result):
    outputs.write_outputs(result, tmp_path)
    xyz = result.problem.geometry.centroid
    tl = np.loadtxt(tmp_path / "TempLattice.dat")
    assert tl.shape == (4, 4)
    np.testing.assert_array_equal(tl[:, :3], xyz)
    np.testing.assert_array_equal(tl[:, 3], result.temperature_lattice)
    te = np.loadtxt(tmp_path / "Temperature.dat")
    np.testing.assert_array_equal(te[:, :3], xyz)
    np.testing.assert_array_equal(te[:, 3], result.temperature_energy)
    hf = np.loadtxt(tmp_path / "HeatFlux.dat")
    assert hf.shape == (4, 6)
    np.testing.assert_array_equal(hf[:, :3], xyz)
    np.testing.assert_array_equal(hf[:, 3:], result.heat_flux)


def test_tempband_ordering(tmp_path, result):
    outputs.write_outputs(result, tmp_path)
    text = (tmp_path / "Tempband.dat").read_text().splitlines()
    assert len(text) == 2 * 4
    assert [line.split()[0] for line in text] == ["1"] * 4 + ["2"] * 4   # integer band column
    assert text[0].split()[1:3] == ["5e-09", "5e-09"]                    # shortest exact repr
    tb = np.loadtxt(tmp_path / "Tempband.dat")
    xyz = result.problem.geometry.centroid
    for b in range(2):
        rows = tb[b * 4:(b + 1) * 4]
        np.testing.assert_array_equal(rows[:, 0], b + 1)
        np.testing.assert_array_equal(rows[:, 1:4], xyz)
        np.testing.assert_array_equal(rows[:, 4], result.temperature_band[b])


def test_large_table_is_exact(tmp_path):
    """150k Tempband lines (100x100 mesh, 15 bands) round-trip exactly."""
    rng = np.random.default_rng(1)
    data = rng.random((150_000, 5)) * 1e-6
    data[:, 0] = np.repeat(np.arange(1, 16), 10_000)
    outputs._write_table(tmp_path / "big.dat",
                         [data[:, 0].astype(np.int64), *data[:, 1:].T])
    np.testing.assert_array_equal(np.loadtxt(tmp_path / "big.dat"), data)
    first = (tmp_path / "big.dat").read_text().split("\n", 1)[0].split()
    assert first[0] == "1" and [float(v) for v in first[1:]] == data[0, 1:].tolist()


def test_shape_mismatch_is_rejected_before_writing(tmp_path, result):
    result.heat_flux = result.heat_flux[:, :2]
    with pytest.raises(ValueError, match="heat_flux"):
        outputs.write_outputs(result, tmp_path / "out")
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# kappa.json
# --------------------------------------------------------------------------------------------

def test_kappa_json(tmp_path, result):
    outputs.write_outputs(result, tmp_path)
    text = (tmp_path / "kappa.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    k = json.loads(text)
    assert k["version"] == outputs.KAPPA_JSON_VERSION
    assert k["kappa_effective"] == result.kappa_effective       # exact float
    assert k["kappa_direction"] == [0.0, 1.0, 0.0]
    assert k["kappa_method"] == "mean(q_y) * L / dT"
    assert k["iterations"] == 3 and k["converged"] is True
    assert k["residual_history"] == [[1.0, 0.5], [1e-3, 2e-2], [1e-7, 1e-5]]
    assert k["wall_time_s"] == 0.25
    assert k["n_cells"] == 4 and k["n_bands"] == 2 and k["n_directions"] == 32
    assert k["settings"]["scheme"] == "Synthetic"
    assert k["settings"]["path"] == "/x" and k["settings"]["tol"] == [1e-6, 1e-4]
    assert k["run_directory"] == str(Path("/runs/tiny"))
    assert k["output_directory"] == str(tmp_path.resolve())
    assert k["warnings"] == ["PHONON:3: something odd"]


def test_kappa_json_null_and_nonfinite(tmp_path):
    res = make_result(quad_problem(), converged=False)
    res.kappa_effective = None
    res.kappa_direction = None
    res.residual_history = [(float("inf"), float("nan"))]
    res.settings = {}
    outputs.write_outputs(res, tmp_path)
    k = json.loads((tmp_path / "kappa.json").read_text())
    assert k["kappa_effective"] is None and k["kappa_direction"] is None
    assert k["converged"] is False
    assert k["residual_history"] == [[None, None]]
    assert k["n_directions"] is None


# --------------------------------------------------------------------------------------------
# result.vtu
# --------------------------------------------------------------------------------------------

def test_vtu_reads_back(tmp_path, result):
    outputs.write_outputs(result, tmp_path)
    m = meshio.read(tmp_path / "result.vtu")
    np.testing.assert_array_equal(m.points, result.problem.mesh.points)
    assert [c.type for c in m.cells] == ["quad"]
    np.testing.assert_array_equal(m.cells[0].data, result.problem.mesh.cell_nodes.reshape(4, 4))
    cd = m.cell_data
    assert set(cd) == {"TempLattice", "Temperature", "HeatFlux", "Region", "TempBand_1",
                       "TempBand_2"}
    np.testing.assert_array_equal(cd["TempLattice"][0], result.temperature_lattice)
    np.testing.assert_array_equal(cd["Temperature"][0], result.temperature_energy)
    np.testing.assert_array_equal(cd["HeatFlux"][0], result.heat_flux)
    np.testing.assert_array_equal(cd["Region"][0], [0, 0, 1, 1])
    np.testing.assert_array_equal(cd["TempBand_2"][0], result.temperature_band[1])


def test_vtu_mixed_cell_types_keep_data_matched(tmp_path):
    """Interleaved quads and triangles: meshio gets blocks by type; data must follow the cells."""
    h = 1.0e-9
    points = np.array([[0, 0, 0], [1, 0, 0], [2, 0, 0], [0, 1, 0], [1, 1, 0], [2, 1, 0],
                       [3, 0, 0]], dtype=float) * h
    # triangle, quad, triangle, triangle (the last overlaps the quad: geometry does not matter)
    cells = [[1, 2, 5], [0, 1, 4, 3], [2, 6, 5], [0, 1, 4]]
    types = [5, 9, 5, 5]
    problem = make_problem(points, cells, types, region=np.array([0, 1, 2, 3]))
    res = make_result(problem)
    outputs.write_outputs(res, tmp_path)
    m = meshio.read(tmp_path / "result.vtu")
    assert [c.type for c in m.cells] == ["triangle", "quad"]
    # map every written cell back to its original index through its node list
    original = {tuple(c): i for i, c in enumerate(cells)}
    seen = []
    for block, region in zip(m.cells, m.cell_data["Region"]):
        for conn, reg in zip(block.data, region):
            i = original[tuple(conn)]
            seen.append(i)
            assert reg == i
    assert sorted(seen) == [0, 1, 2, 3]
    for name, field in (("TempLattice", res.temperature_lattice),
                        ("HeatFlux", res.heat_flux), ("TempBand_1", res.temperature_band[0])):
        flat = np.concatenate(m.cell_data[name])
        np.testing.assert_array_equal(flat, field[seen])


def test_vtu_omits_band_fields_above_limit(tmp_path):
    res = make_result(quad_problem(n_bands=outputs.MAX_VTU_BANDS + 1))
    outputs.write_outputs(res, tmp_path)
    m = meshio.read(tmp_path / "result.vtu")
    assert not any(k.startswith("TempBand_") for k in m.cell_data)
    assert len(np.loadtxt(tmp_path / "Tempband.dat")) == 4 * (outputs.MAX_VTU_BANDS + 1)


def test_bad_cell_node_count_is_reported(tmp_path, result):
    result.problem.mesh.cell_types = np.array([9, 9, 9, 5])
    with pytest.raises(ValueError, match="cell 3"):
        outputs.write_outputs(result, tmp_path)
    assert os.listdir(tmp_path) == []


# --------------------------------------------------------------------------------------------
# atomicity
# --------------------------------------------------------------------------------------------

@pytest.fixture
def previous_run(tmp_path) -> Path:
    out = tmp_path / "out"
    out.mkdir()
    (out / "TempLattice.dat").write_text("old lattice\n")
    (out / "kappa.json").write_text('{"old": true}\n')
    (out / "notes.txt").write_text("user file\n")
    return out


def test_failure_in_a_writer_leaves_directory_untouched(previous_run, result, monkeypatch):
    before = _snapshot(previous_run)

    def boom(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(outputs, "write_vtu", boom)   # the last writer: .dat files already staged
    with pytest.raises(RuntimeError, match="disk on fire"):
        outputs.write_outputs(result, previous_run)
    assert _snapshot(previous_run) == before


def test_half_written_file_is_not_left(previous_run, result, monkeypatch):
    before = _snapshot(previous_run)
    real = outputs._write_table

    def half(path, columns):
        if path.name == "Tempband.dat":
            with open(path, "w") as fh:
                fh.write("1 0.5 ")
            raise OSError(28, "No space left on device")
        real(path, columns)

    monkeypatch.setattr(outputs, "_write_table", half)
    with pytest.raises(OSError):
        outputs.write_outputs(result, previous_run)
    assert _snapshot(previous_run) == before


def test_failure_while_moving_rolls_back(previous_run, result, monkeypatch):
    before = _snapshot(previous_run)
    real_replace = os.replace
    calls = {"n": 0}

    def flaky(src, dst):
        calls["n"] += 1
        if calls["n"] == 5:             # after four files are already in place
            raise OSError(5, "I/O error")
        real_replace(src, dst)

    monkeypatch.setattr(outputs.os, "replace", flaky)
    with pytest.raises(OSError):
        outputs.write_outputs(result, previous_run)
    monkeypatch.undo()
    assert _snapshot(previous_run) == before


def test_failure_removes_directories_it_created(tmp_path, result, monkeypatch):
    monkeypatch.setattr(outputs, "write_kappa_json",
                        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("x")))
    with pytest.raises(RuntimeError):
        outputs.write_outputs(result, tmp_path / "new" / "dir")
    assert os.listdir(tmp_path) == []


def test_overwrites_previous_outputs(previous_run, result):
    outputs.write_outputs(result, previous_run)
    assert (previous_run / "notes.txt").read_text() == "user file\n"
    assert "old" not in (previous_run / "kappa.json").read_text()
    np.testing.assert_array_equal(np.loadtxt(previous_run / "TempLattice.dat")[:, 3],
                                  result.temperature_lattice)
    assert not [p for p in os.listdir(previous_run) if p.startswith(TMP_PREFIX)]


def test_public_entry_point(tmp_path, result):
    import bte
    paths = bte.write_outputs(result, tmp_path)
    assert len(paths) == 6


# --------------------------------------------------------------------------------------------
# progress line
# --------------------------------------------------------------------------------------------

class _Clock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        return self.t


def test_progress_tty_rewrites_in_place():
    buf, clock = io.StringIO(), _Clock()
    p = ProgressLine(buf, tty=True, clock=clock)
    clock.t = 4.2
    p.update(12, 3.1e-7, 2.2e-3)
    assert buf.getvalue() == "\riter   12  err_T 3.1e-07  err_q 2.2e-03  elapsed 00:04.2"
    clock.t = 5.0
    p.update(13, 1e-7, 1e-3, extra="scheme synthetic")
    assert buf.getvalue().count("\r") == 2 and "scheme synthetic" in buf.getvalue()
    p.close("done")
    assert buf.getvalue().endswith("\ndone\n")


def test_progress_plain_is_throttled_and_shows_last_on_close():
    buf, clock = io.StringIO(), _Clock()
    with ProgressLine(buf, tty=False, interval=2.0, clock=clock) as p:
        for i in range(1, 101):             # 100 iterations in 5 s
            clock.t = i * 0.05
            p.update(i, 1.0 / i, 2.0 / i)
    lines = buf.getvalue().splitlines()
    assert "\r" not in buf.getvalue()
    assert 2 <= len(lines) <= 4
    assert lines[0].startswith("iter    1 ") and lines[-1].startswith("iter  100 ")


def test_progress_disabled_prints_nothing():
    buf = io.StringIO()
    p = ProgressLine(buf, enabled=False, tty=True)
    p.update(1, 1.0, 1.0)
    p.close("bye")
    assert buf.getvalue() == ""


def test_format_elapsed():
    assert format_elapsed(4.2) == "00:04.2"
    assert format_elapsed(61.25).startswith("01:01.")
    assert format_elapsed(7325) == "2:02:05"
