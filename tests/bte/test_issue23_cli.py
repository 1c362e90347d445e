"""Issue 23, item 3 and 4: `mts bte run` checks, before the solve, that its outputs can be written
(also with --checkpoint-every) and that the run fits in memory; without --output it never writes
into the input folder.  Crashes are checked as a user sees them: the CLI in a subprocess, its exit
code and its one-line message."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from bte_cases import REPO, copy_case, set_keyword

import bte
from bte.discretisation import available_memory, memory_estimate, n_directions


def _mts(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "workflows.cli", "bte", "run", *args],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert lines[0].startswith("mts: error: ") and "Traceback" not in stderr
    return lines[0]


@pytest.fixture
def case(tmp_path) -> Path:
    return copy_case("cross-plane/1e-8", tmp_path / "1e-8")


@pytest.mark.parametrize("checkpoint", [[], ["--checkpoint-every", "2"]])
def test_output_path_is_a_file_refused_before_the_solve(case, tmp_path, checkpoint):
    target = tmp_path / "taken"
    target.write_text("not a directory\n")
    start = time.perf_counter()
    proc = _mts(str(case), "-o", str(target), *checkpoint, cwd=tmp_path)
    assert proc.returncode == 2
    assert _one_line(proc.stderr) == (f"mts: error: {target}: the output path is an existing "
                                      "file, not a directory")
    assert time.perf_counter() - start < 60          # refused at start (the solve takes longer)
    assert target.read_text() == "not a directory\n"


@pytest.mark.parametrize("checkpoint", [[], ["--checkpoint-every", "2"]])
def test_unwritable_output_refused_before_the_solve(case, tmp_path, checkpoint):
    """A directory that cannot be created (below a file) or written to (read-only)."""
    below_file = tmp_path / "file"
    below_file.write_text("x")
    targets = [below_file / "out"]
    if os.geteuid() != 0:                         # root writes into read-only directories
        read_only = tmp_path / "ro"
        read_only.mkdir()
        read_only.chmod(0o555)
        targets.append(read_only)
    elif Path("/sys").is_dir():
        targets.append(Path("/sys/mts-bte-out"))  # a read-only file system even for root
    for target in targets:
        proc = _mts(str(case), "-o", str(target), *checkpoint, cwd=tmp_path)
        assert proc.returncode == 1, proc.stderr
        line = _one_line(proc.stderr)
        assert line.startswith(f"mts: error: cannot write outputs to {target}: "), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1e-8", "file"] + (
        ["ro"] if os.geteuid() != 0 else [])


def test_default_output_is_outside_the_input_folder(case, tmp_path):
    """Without --output the run writes ./<DIR name>-out in the current directory, and says so;
    started inside DIR it writes beside DIR."""
    from workflows.cli.bte import default_output
    here = Path.cwd()
    try:
        os.chdir(tmp_path)
        assert default_output(case) == tmp_path / "1e-8-out"
        os.chdir(case / "input")
        assert default_output(case) == tmp_path / "1e-8-out"
        os.chdir(case)
        assert default_output(case) == tmp_path / "1e-8-out"
    finally:
        os.chdir(here)


def test_huge_direction_count_refused_with_the_estimate(case, tmp_path):
    """Ntheta = Nphi = 2000 (32 M directions): refused in seconds, the estimate in the message,
    nothing allocated or written."""
    phonon = case / "input" / "PHONON"
    set_keyword(phonon, "Ntheta", "2000")
    set_keyword(phonon, "Nphi", "2000")
    start = time.perf_counter()
    proc = _mts(str(case), cwd=tmp_path)
    assert time.perf_counter() - start < 60
    assert proc.returncode == 2
    line = _one_line(proc.stderr)
    problem = bte.read_input_folder(case)
    assert n_directions(problem) == 2 * 2000 * 4 * 2000
    # intensities alone: 8 bytes x bands x directions x cells
    need = memory_estimate(problem)
    assert need >= 8 * problem.n_bands * 32_000_000 * problem.geometry.n_cells
    assert f"the run needs about {need / 2**30:.3g} GiB" in line
    assert "32000000 directions" in line and "--force-memory" in line
    assert not (tmp_path / "1e-8-out").exists()
    with pytest.raises(bte.BTEInputError, match="force_memory"):
        bte.solve(problem)


def test_memory_estimate_counts_the_arrays(case):
    """The estimate of a small case against the arrays the solver really allocates."""
    from bte.discretisation import discretise
    from bte.transport import Transport
    problem = bte.read_input_folder(case)
    d = discretise(problem)
    run = Transport(d, problem.geometry.volume, problem.geometry.volume * 0 + 300.0, "1")
    real = (run.e.nbytes + run.e_bnd.nbytes + d.speed.nbytes * 5 + d.order.nbytes
            + d.bf_sn.nbytes + d.reflect.nbytes)
    assert memory_estimate(problem) == real
    assert available_memory() is None or available_memory() > 0
