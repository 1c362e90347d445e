"""The `mts` command: `mts bte run`, exit codes, one-line errors, no torch at import."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import bte
from bte.monitor import Monitor
from bte.problem import BTEInputError, Control, Geometry, Material, Mesh, Problem
from bte.result import Result
from workflows.cli import main

REPO = Path(__file__).resolve().parents[2]
CROSS_PLANE = REPO / "examples" / "giftbte" / "examples" / "cross-plane" / "1e-8"


# --------------------------------------------------------------------------------------------
# a tiny hand-built problem and result (2x2 quads, 2 bands) for a fake reader/solver
# --------------------------------------------------------------------------------------------

def tiny_problem(root: Path) -> Problem:
    h = 1e-8
    xs, ys = np.meshgrid(np.arange(3) * h, np.arange(3) * h)
    points = np.column_stack([xs.ravel(), ys.ravel(), np.zeros(9)])
    cells = np.array([[j * 3 + i, j * 3 + i + 1, (j + 1) * 3 + i + 1, (j + 1) * 3 + i]
                      for j in range(2) for i in range(2)])
    region = np.zeros(4, dtype=np.int64)
    i0 = np.zeros(0, dtype=np.int64)
    z3 = np.zeros((0, 3))
    mesh = Mesh(dim=2, points=points, cell_offsets=np.arange(0, 17, 4), cell_nodes=cells.ravel(),
                cell_types=np.full(4, 9), cell_region=region, bnd_offsets=np.zeros(1, np.int64),
                bnd_nodes=i0, bnd_index=i0)
    geometry = Geometry(dim=2, centroid=points[cells].mean(axis=1), volume=np.full(4, h * h),
                        region=region, face_offsets=np.zeros(5, np.int64), face_neighbor=i0,
                        face_normal=z3, face_area=np.zeros(0), face_center=z3, bface_cell=i0,
                        bface_index=i0, bface_normal=z3, bface_area=np.zeros(0),
                        bface_center=z3, bface_partner=i0)
    ones = np.ones(2)
    material = Material("Si", 1000.0 * ones, 1e-11 * ones, 1e6 * ones, ones / 2, ones / 2)
    return Problem(root=root, control=Control(), geometry_dimension=2, mesh=mesh,
                   geometry=geometry, materials=[material], region_material=np.zeros(1, np.int64),
                   material_dimension=3, angle_method=2, ntheta=4, nphi=4,
                   boundary_conditions={}, heat_source=np.zeros(4),
                   warnings=["GEOMETRY:7: unknown keyword 'Foo' ignored"])


def tiny_result(problem: Problem, converged: bool = True) -> Result:
    return Result(problem=problem, temperature_lattice=np.linspace(300, 301, 4),
                  temperature_energy=np.linspace(300, 301, 4),
                  temperature_band=np.vstack([np.linspace(300, 301, 4)] * 2),
                  heat_flux=np.tile([0.0, 1.5e9, 0.0], (4, 1)), kappa_effective=15.0,
                  kappa_method="mean(q_y) * L / dT", kappa_direction=np.array([0.0, 1.0, 0.0]),
                  iterations=7, converged=converged,
                  residual_history=[(1e-3, 1e-2)] * 6 + [(1e-9, 1e-3)], wall_time=0.5,
                  settings={"n_directions": 32})


@pytest.fixture
def run_dir(tmp_path) -> Path:
    d = tmp_path / "run"
    (d / "input").mkdir(parents=True)
    return d


@pytest.fixture
def fake_bte(monkeypatch):
    """Replace bte.read_input_folder/bte.solve; record how the CLI calls them."""
    calls: dict = {}

    def read(path, **kwargs):
        calls["read"] = (Path(path), kwargs)
        return tiny_problem(Path(path))

    def solve(problem, monitor=None, **kwargs):
        calls["solve"] = (monitor, kwargs)
        for i in range(1, 4):
            monitor.iteration(i, None, 10.0 ** -i, 10.0 ** -(i - 1))
        return tiny_result(problem, converged=calls.get("converged", True))

    monkeypatch.setattr(bte, "read_input_folder", read)
    monkeypatch.setattr(bte, "solve", solve)
    return calls


def _one_line_error(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("mts: error: ")
    assert "Traceback" not in err
    return lines[0]


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------

def test_missing_directory(tmp_path, capsys):
    missing = tmp_path / "nope"
    rc = main(["bte", "run", str(missing)])
    assert rc == 2
    cap = capsys.readouterr()
    assert str(missing) in _one_line_error(cap.err)
    assert cap.out == ""


def test_directory_is_a_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["bte", "run", str(f)]) == 2
    assert str(f) in _one_line_error(capsys.readouterr().err)


def test_reader_error_is_one_line(run_dir, monkeypatch, capsys):
    def read(path, **kwargs):
        raise BTEInputError("not a number: 'abc'", file=Path(path) / "input" / "CONTROL",
                            line=12, field="ResidualTemp")

    monkeypatch.setattr(bte, "read_input_folder", read)
    monkeypatch.setattr(bte, "solve", lambda *a, **k: pytest.fail("solve must not run"))
    assert main(["bte", "run", str(run_dir)]) == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "CONTROL:12" in line and "ResidualTemp" in line


def test_usage_errors_return_2(capsys):
    assert main([]) == 2
    assert main(["bte"]) == 2
    assert main(["bte", "run"]) == 2                       # DIR missing
    assert main(["bte", "run", "x", "--max-iter", "ten"]) == 2
    assert main(["bte", "run", "x", "--binning", "wrong"]) == 2
    assert main(["nonsense"]) == 2
    capsys.readouterr()


def test_help_returns_0(capsys):
    assert main(["--help"]) == 0
    assert main(["bte", "run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--residual-temp" in out and "--binning" in out


def test_corrupt_control_names_file_and_line(tmp_path, capsys):
    pytest.importorskip("bte.inputs", reason="bte.inputs (input reader) not written yet")
    if not CROSS_PLANE.is_dir():
        pytest.skip("cross-plane example not present")
    run = tmp_path / "1e-8"
    shutil.copytree(CROSS_PLANE, run)
    control = run / "input" / "CONTROL"
    lines = control.read_bytes().decode().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if "ResidualTemp" in line) + 1
    assert lines[index].strip() == "1e-8"
    lines[index] = lines[index].replace("1e-8", "abc")
    control.write_bytes("".join(lines).encode())
    rc = main(["bte", "run", str(run), "--quiet"])
    assert rc == 2
    line = _one_line_error(capsys.readouterr().err)
    assert "CONTROL" in line
    assert f":{index + 1}:" in line or f":{index}:" in line   # value line (or keyword line)


# --------------------------------------------------------------------------------------------
# a run with a fake solver: wiring, outputs, summary, exit codes
# --------------------------------------------------------------------------------------------

def test_run_writes_outputs_and_summary(run_dir, tmp_path, fake_bte, capsys):
    out = tmp_path / "out"
    rc = main(["bte", "run", str(run_dir), "--output", str(out)])
    assert rc == 0
    cap = capsys.readouterr()
    assert fake_bte["read"] == (run_dir, {})
    monitor, kwargs = fake_bte["solve"]
    assert kwargs == {}                                     # only options that were given
    assert isinstance(monitor, Monitor)
    assert "warning: GEOMETRY:7: unknown keyword 'Foo' ignored" in cap.err
    assert "iter    1 " in cap.err                          # progress (plain lines, not a TTY)
    assert "7 (converged)" in cap.out
    assert "15 W/mK" in cap.out and "mean(q_y) * L / dT" in cap.out
    assert str(out) in cap.out
    assert json.loads((out / "kappa.json").read_text())["kappa_effective"] == 15.0
    assert (out / "result.vtu").is_file()
    assert not (run_dir / "kappa.json").exists()


def test_run_default_output_is_dir_and_options_passed(run_dir, fake_bte, capsys, tmp_path,
                                                      monkeypatch):
    """Without --output the outputs go to ./<DIR name>-out, never into DIR."""
    monkeypatch.chdir(tmp_path)
    rc = main(["bte", "run", str(run_dir), "--quiet", "--binning", "mfp", "--max-iter", "50",
               "--residual-temp", "1e-7", "--residual-flux", "1e-3"])
    assert rc == 0
    cap = capsys.readouterr()
    assert fake_bte["read"][1] == {"binning": "mfp"}
    assert fake_bte["solve"][1] == {"max_iter": 50, "residual_temp": 1e-7,
                                    "residual_flux": 1e-3}
    assert "iter " not in cap.err                           # --quiet: no progress line
    assert "warning: " in cap.err                           # warnings still shown
    assert (tmp_path / "run-out" / "TempLattice.dat").is_file()
    assert not (run_dir / "TempLattice.dat").exists()
    assert str(tmp_path / "run-out") in cap.out


def test_not_converged_exit_1_outputs_written(run_dir, fake_bte, capsys, tmp_path,
                                              monkeypatch):
    monkeypatch.chdir(tmp_path)
    fake_bte["converged"] = False
    rc = main(["bte", "run", str(run_dir), "-q"])
    assert rc == 1
    cap = capsys.readouterr()
    assert "not converged" in cap.err.lower()
    assert "NOT converged" in cap.out
    assert json.loads((tmp_path / "run-out" / "kappa.json").read_text())["converged"] is False


def test_run_help_mentions_transient_runs(capsys):
    assert main(["bte", "run", "--help"]) == 0
    assert "transient run" in " ".join(capsys.readouterr().out.split())


def test_resumed_run_says_so(run_dir, tmp_path, fake_bte, monkeypatch, capsys):
    """A checkpoint found by the solver shows as a first iteration past 1: the run says it
    resumed (a fresh run does not)."""
    def resumed(problem, monitor=None, **kwargs):
        for i in (5, 6, 7):
            monitor.iteration(i, None, 1e-9, 1e-9)
        return tiny_result(problem)

    out = tmp_path / "out"
    assert main(["bte", "run", str(run_dir), "-q", "-o", str(out)]) == 0
    assert not capsys.readouterr().out.startswith("resumed")
    monkeypatch.setattr(bte, "solve", resumed)
    assert main(["bte", "run", str(run_dir), "-q", "-o", str(out), "--checkpoint-every",
                 "2"]) == 0
    assert capsys.readouterr().out.startswith("resumed      from the checkpoint after "
                                              "iteration 4\n")


def test_diverging_solver_exit_1_one_line(run_dir, fake_bte, monkeypatch, capsys, tmp_path):
    def diverge(problem, monitor=None, **kwargs):
        monitor.iteration(1, None, 1.0, 1.0)
        raise bte.SolverDivergedError("iteration diverged at\niteration 2")

    monkeypatch.setattr(bte, "solve", diverge)
    monkeypatch.chdir(tmp_path)
    assert main(["bte", "run", str(run_dir), "-q"]) == 1
    err = capsys.readouterr().err
    assert "mts: error: solver failed: iteration diverged at iteration 2" in err
    assert "Traceback" not in err
    assert not (run_dir / "kappa.json").exists()
    assert not (tmp_path / "run-out" / "kappa.json").exists()


# --------------------------------------------------------------------------------------------
# imports: `mts bte` never pulls in torch or phonopy
# --------------------------------------------------------------------------------------------

_NO_HEAVY_IMPORTS = r"""
import sys
attempted = []

class Spy:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("torch", "phonopy", "phono3py", "e3nn"):
            attempted.append(name)
        return None

sys.meta_path.insert(0, Spy())
import workflows.cli
rc_help = workflows.cli.main(["bte", "--help"])
rc_run_help = workflows.cli.main(["bte", "run", "--help"])
rc_missing = workflows.cli.main(["bte", "run", "/definitely/not/here"])
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "phonopy", "phono3py"))
assert (rc_help, rc_run_help, rc_missing) == (0, 0, 2), (rc_help, rc_run_help, rc_missing)
assert not heavy, heavy
assert not attempted, attempted
print("CLEAN")
"""


def test_mts_bte_does_not_import_torch():
    proc = subprocess.run([sys.executable, "-c", _NO_HEAVY_IMPORTS], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().endswith("CLEAN")


def test_python_dash_m_works():
    proc = subprocess.run([sys.executable, "-m", "workflows.cli", "bte", "run", "/not/here"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip() == "mts: error: /not/here: no such directory"


# --------------------------------------------------------------------------------------------
# mts pipeline / mts batch (workflows.cli.study)
# --------------------------------------------------------------------------------------------

def test_pipeline_and_batch_registered(capsys):
    assert main(["pipeline", "--help"]) == 0
    assert "STUDY.toml" in capsys.readouterr().out
    assert main(["batch", "--help"]) == 0
    assert "--scheduler" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["pipeline", "batch"])
def test_study_commands_bad_file_one_line_error(tmp_path, capsys, command):
    bad = tmp_path / "bad.toml"
    bad.write_text("[potential]\ncalculator = 3\n")
    assert main([command, str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("mts: error: ") and str(bad) in err and "\n" not in err, err
