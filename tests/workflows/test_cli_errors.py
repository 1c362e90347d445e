"""The `mts` error policy (issue 23): every crash is one line and an exit code, in a subprocess
as a user meets it; a failed or interrupted stage is never left marked done; a whole study is
checked before its first stage; stale temporaries of killed runs are removed."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from test_pipeline import A0_TERSOFF
from test_pipeline import study as pipeline_study

from mtscore import InputError
from workflows.cli import main
from workflows.cli.errors import classify, one_line
from workflows.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "giftbte"


def mts(args: list[str], cwd: Path, patch: str = "", env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    """``mts ARGS`` in a fresh Python, after running the Python lines ``patch`` (which stand in
    for a crash, a full disk or a Ctrl-C at a chosen place)."""
    script = textwrap.dedent(patch) + "\nimport sys\nfrom workflows.cli import main\n" \
                                      "sys.exit(main(sys.argv[1:]))\n"
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO), str(cwd), os.environ.get("PYTHONPATH", "")])}
    environment.update(env or {})
    return subprocess.run([sys.executable, "-c", script, *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=environment)


def one_error_line(proc: subprocess.CompletedProcess, prefix: str = "mts: error: ") -> str:
    """The one line on stderr (after any ``warning:`` lines): no traceback."""
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [line for line in proc.stderr.splitlines()
             if line.strip() and not line.startswith("warning: ")]
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(prefix), proc.stderr
    return lines[0]


def done_stages(out: Path) -> list[str]:
    return sorted(p.parent.name.split("-")[0] for p in (out / "stages").glob("*/done.json"))


def hidden(out: Path) -> list[Path]:
    return [p for p in out.rglob(".*")]


def study(tmp_path: Path, calculator: str = "tersoff", relax: bool = False,
          extra: str = "") -> Path:
    """test_pipeline's small Tersoff study (two films), with another calculator name, or
    relaxing the lattice constant with the calculator."""
    path = pipeline_study(tmp_path, extra=extra)
    text = path.read_text().replace('calculator = "tersoff"', f'calculator = "{calculator}"')
    if relax:
        text = text.replace(f"lattice_constant = {A0_TERSOFF}\n", "")
    path.write_text(text)
    return path


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


# --------------------------------------------------------------------------------------------
# the policy itself
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("exc, code, text", [
    (KeyboardInterrupt(), 130, "interrupted"),
    (InputError("bad value", "a.toml", 3, "x"), 2, "error: a.toml:3: x: bad value"),
    (FileNotFoundError(2, "No such file or directory", "in.xyz"), 2,
     "error: in.xyz: No such file or directory"),
    (PermissionError(13, "Permission denied", "out.csv"), 1, "error: out.csv: Permission denied"),
    (RuntimeError("boom"), 1, "error: RuntimeError: boom"),
    (ValueError(f"bad {np.float64(1.5)!r}\nsecond line"), 2, "error: bad 1.5 second line"),
])
def test_one_policy_for_every_exception(exc, code, text):
    got_code, message = classify(exc)
    assert got_code == code
    assert message.startswith(text) and "\n" not in message


def test_no_numpy_reprs_in_messages():
    assert one_line(f"kappa {np.float64(3.5)!r} at {np.int64(4)!r} K") == "kappa 3.5 at 4 K"


def test_version_and_traceback_flag(capsys):
    with pytest.raises(SystemExit) as info:        # argparse's version action exits 0
        from workflows.cli import build_parser
        build_parser().parse_args(["--version"])
    assert info.value.code == 0
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.startswith("mts ")
    assert main(["--traceback", "bte", "run", "/definitely/not/here"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1] == "mts: error: /definitely/not/here: no such directory"


# --------------------------------------------------------------------------------------------
# a whole study checked before the first stage (item 1/2)
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("extra, key", [
    ('[[geometry]]\nkind = "ribbon"\nwidth_nm = [100]\nthickness_nm = [1e300]\n',
     "geometry[2].thickness_nm: must be at most"),
    ('[[geometry]]\nkind = "wire"\nsize_nm = [[20, 1e300]]\n', "geometry[2].size_nm"),
])
def test_huge_sizes_refused(tmp_path, extra, key):
    with pytest.raises(ConfigError, match=key.replace("[", r"\[").replace("]", r"\]")):
        load_config(study(tmp_path, extra=extra))


def test_huge_displacement_refused(tmp_path):
    path = study(tmp_path)
    path.write_text(path.read_text().replace("[phonons]\n", "[phonons]\ndisplacement = 1e300\n"))
    with pytest.raises(ConfigError, match="phonons.displacement: must be at most"):
        load_config(path)


def test_unknown_calculator_refused_before_any_stage(tmp_path):
    proc = mts(["pipeline", "-q", str(study(tmp_path, calculator="nonsense"))], tmp_path)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "study.toml" in line and "potential.calculator" in line and "nonsense" in line
    assert not (tmp_path / "out").exists()


def test_missing_calculator_module_refused_before_any_stage(tmp_path):
    proc = mts(["pipeline", "-q", str(study(tmp_path, calculator="no_such_module_x:make"))],
               tmp_path)
    assert proc.returncode == 2
    assert "no module 'no_such_module_x'" in one_error_line(proc)
    assert not (tmp_path / "out").exists()


def test_binary_study_file_is_one_line(tmp_path):
    path = tmp_path / "study.toml"
    path.write_bytes(bytes(range(128, 256)) * 4)
    proc = mts(["pipeline", str(path)], tmp_path)
    assert proc.returncode == 2
    assert str(path) in one_error_line(proc)


# --------------------------------------------------------------------------------------------
# failed, non-finite and interrupted stages are never marked done
# --------------------------------------------------------------------------------------------

def test_failing_module_function_calculator(tmp_path):
    (tmp_path / "brokencalc.py").write_text(
        "def make():\n    raise RuntimeError('licence server unreachable')\n")
    path = study(tmp_path, calculator="brokencalc:make", relax=True)
    proc = mts(["pipeline", "-q", str(path)], tmp_path)
    assert proc.returncode == 2
    line = one_error_line(proc)
    assert "brokencalc:make" in line and "licence server unreachable" in line
    assert done_stages(tmp_path / "out") == [] and hidden(tmp_path / "out") == []


def test_non_finite_stage_result_is_not_marked_done(tmp_path):
    patch = """
        import workflows.stages
        workflows.stages.relaxed_lattice_constant = lambda calculator, guess=5.43: float("nan")
    """
    proc = mts(["pipeline", "-q", str(study(tmp_path, relax=True))], tmp_path, patch)
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "stage structure" in line and "not a finite number" in line
    assert done_stages(tmp_path / "out") == [] and hidden(tmp_path / "out") == []


def test_write_failure_in_a_stage_is_one_error(tmp_path):
    patch = """
        import errno, ase.io
        def full_disk(path, *args, **kwargs):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        ase.io.write = full_disk
    """
    proc = mts(["pipeline", "-q", str(study(tmp_path))], tmp_path, patch)
    assert proc.returncode == 1
    line = one_error_line(proc)
    assert "stage structure failed" in line and "No space left on device" in line
    assert done_stages(tmp_path / "out") == [] and hidden(tmp_path / "out") == []


_CTRL_C_IN_FORCES = """
    import phonons
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    phonons.compute_force_constants = interrupted
"""


def test_ctrl_c_in_pipeline(tmp_path):
    """One line, exit 130, the interrupted stage not marked done (the structure stage before it
    is), and the stale temporaries of an earlier killed run removed on the way."""
    stale = [tmp_path / "out" / "stages" / f".fc-0123456789abcdef.{dead_pid()}-deadbeef",
             tmp_path / "out" / f".mts-tmp-{dead_pid()}-0badcafe"]
    for path in stale:
        path.mkdir(parents=True)
        (path / "partial.hdf5").write_text("half")
        old = time.time() - 3600
        os.utime(path, (old, old))
    proc = mts(["pipeline", "-q", str(study(tmp_path))], tmp_path, _CTRL_C_IN_FORCES)
    assert proc.returncode == 130
    assert one_error_line(proc, "mts: interrupted") == "mts: interrupted"
    assert done_stages(tmp_path / "out") == ["structure"]
    assert hidden(tmp_path / "out") == []


def test_ctrl_c_in_phonons_run(tmp_path):
    from ase.build import bulk
    from ase.io import write
    write(tmp_path / "POSCAR", bulk("Si", "diamond", a=5.432, cubic=True), format="vasp")
    proc = mts(["phonons", "run", "--structure", "POSCAR", "--calculator", "tersoff",
                "--output", "out"], tmp_path, _CTRL_C_IN_FORCES)
    assert proc.returncode == 130
    assert one_error_line(proc, "mts: interrupted") == "mts: interrupted"
    assert "fc" not in done_stages(tmp_path / "out")


def test_ctrl_c_in_batch(tmp_path):
    path = tmp_path / "batch.toml"
    path.write_text('[potential]\ncalculator = "tersoff"\n[grid]\nthickness_nm = [10]\n')
    patch = """
        import workflows.batch
        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt
        workflows.batch.run_batch = interrupted
    """
    proc = mts(["batch", str(path)], tmp_path, patch)
    assert proc.returncode == 130
    assert one_error_line(proc, "mts: interrupted") == "mts: interrupted"


def test_ctrl_c_in_namd_tully(tmp_path):
    patch = """
        import nad.tully
        def interrupted(*args, **kwargs):
            raise KeyboardInterrupt
        nad.tully.run_tully = interrupted
    """
    proc = mts(["namd", "tully", "--ntraj", "10"], tmp_path, patch)
    assert proc.returncode == 130
    assert one_error_line(proc, "mts: interrupted") == "mts: interrupted"


# --------------------------------------------------------------------------------------------
# structure files ASE cannot read
# --------------------------------------------------------------------------------------------

def test_garbage_cif_batch_job_names_the_file(tmp_path):
    """ASE fails on this file with an empty AssertionError: the job's error says what is wrong
    and with which file."""
    from workflows.batch import load_batch_config, run_job

    (tmp_path / "garbage.cif").write_text("garbage\n")
    path = tmp_path / "batch.toml"
    path.write_text(f'output = "{tmp_path / "out"}"\n[potential]\ncalculator = "tersoff"\n'
                    '[grid]\nmaterials = ["garbage.cif"]\nthickness_nm = [10]\n')
    config = load_batch_config(path)
    row = run_job(config, config.jobs[0])
    assert row.kappa_W_mK is None
    assert "garbage.cif" in row.error and "not a structure ASE can read" in row.error
    assert row.error.strip() != "AssertionError"
    assert done_stages(tmp_path / "out") == []


def test_garbage_structure_in_phonons_run(tmp_path):
    (tmp_path / "garbage.cif").write_text("garbage\n")
    proc = mts(["phonons", "run", "--structure", "garbage.cif", "--calculator", "tersoff",
                "--output", "out"], tmp_path)
    assert proc.returncode == 2
    assert "garbage.cif" in one_error_line(proc)


# --------------------------------------------------------------------------------------------
# warnings once
# --------------------------------------------------------------------------------------------

def test_reader_warning_printed_once(tmp_path):
    """An unknown GEOMETRY keyword: one ``warning:`` line, no Python UserWarning besides."""
    run = tmp_path / "a" / "b" / "run"
    shutil.copytree(EXAMPLES / "examples" / "cross-plane" / "1e-8", run)
    with (run / "input" / "GEOMETRY").open("a") as handle:
        handle.write("Foo=\n1\n")
    table = tmp_path / "materials" / "DATABASE" / "Si"          # PHONON's ../../../materials
    table.mkdir(parents=True)
    shutil.copy(EXAMPLES / "materials" / "DATABASE" / "Si" / "Si_15.dat", table)
    proc = mts(["bte", "run", str(run), "-o", str(tmp_path / "out"), "-q", "--max-iter", "1"],
               tmp_path)
    assert proc.returncode == 1                                  # one iteration: not converged
    assert "UserWarning" not in proc.stderr
    warnings = [line for line in proc.stderr.splitlines() if "Foo" in line]
    assert len(warnings) == 1 and warnings[0].startswith("warning: "), proc.stderr
