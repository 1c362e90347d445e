"""`mts namd ...` options and input checks (issue 22): every bad input is a one-line error with
exit code 2 before anything runs, time constants carry errors or say "not resolved", and the
numbers printed are checked against binomial statistics and the golden rule."""
from __future__ import annotations

import argparse
import json
import re

import numpy as np
import pytest
from scipy.integrate import quad

from nad.analysis import HBAR
from nad.hopping import VibronicHamiltonian
from nad.pyxaid_io import write_hamiltonians
from workflows.cli import main, namd


def _one_line_error(capsys, option: str) -> str:
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("mts: error:") and "\n" not in err, err
    assert option in err, err
    return captured.out


# --- mts namd tully -------------------------------------------------------------------------

def test_tully_options_error_bars_and_unfinished_fraction(capsys):
    ntraj = 200
    assert main(["namd", "tully", "--model", "1", "--k", "20", "--ntraj", str(ntraj),
                 "--method", "afssh", "--dt", "0.5", "--x0", "-12", "--mass", "2000"]) == 0
    out = capsys.readouterr().out
    assert "afssh" in out and "unfinished" in out
    row = [line.split() for line in out.splitlines() if line.split()[:1] == ["20"]][0]
    p = np.array(row[1:12:3], float)
    err = np.array(row[3:13:3], float)
    unfinished = float(row[13])
    assert row[2:12:3] == ["±"] * 4
    assert p.sum() + unfinished == pytest.approx(1.0, abs=2e-3)    # printed to 3 decimals
    assert err == pytest.approx(np.sqrt(p * (1 - p) / ntraj), abs=1e-3)   # binomial
    assert 0.35 < p[3] < 0.65      # T1 at k = 20: 0.49 exact (REFERENCES §4.1)


@pytest.mark.parametrize("options, option", [
    (["--decoherence", "-0.1"], "--decoherence"),
    (["--decoherence", "nan"], "--decoherence"),
    (["--decoherence", "inf"], "--decoherence"),
    (["--method", "afssh", "--decoherence", "0.1"], "--decoherence"),
    (["--dt", "-1"], "--dt"),
    (["--dt", "nan"], "--dt"),
    (["--mass", "-5"], "--mass"),
    (["--x0", "3"], "--x0"),
])
def test_tully_bad_values_are_one_line_errors(options, option, capsys):
    assert main(["namd", "tully", "--k", "20", "--ntraj", "10", *options]) == 2
    assert _one_line_error(capsys, option) == ""            # nothing ran


def test_tully_checks_every_momentum_before_the_first_run(capsys):
    # dt = 2 a.u. is fine at k = 5 but moves the nuclei 0.4 bohr per step at k = 400
    assert main(["namd", "tully", "--k", "5", "400", "--dt", "2", "--ntraj", "10"]) == 2
    assert _one_line_error(capsys, "--dt") == ""


# --- mts namd hop ---------------------------------------------------------------------------

SIGMA, TAU_C, V = 0.05, 10.0, 0.01     # eV, fs, eV: Ornstein-Uhlenbeck gap, constant coupling


def _ou_gap(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = np.exp(-1.0 / TAU_C)
    x = np.zeros(n)
    for i in range(1, n):
        x[i] = a * x[i - 1] + np.sqrt(1 - a * a) * SIGMA * rng.standard_normal()
    return x


def _write_two_level(directory, n: int, coupling: float = V, gap=None, units: str = "Ry"):
    h = np.zeros((n, 2, 2), complex)
    h[:, 1, 1] = _ou_gap(n) if gap is None else gap
    h[:, 0, 1] = h[:, 1, 0] = coupling
    write_hamiltonians(VibronicHamiltonian.from_hamiltonian(h, 1.0), directory, units=units)
    return directory


def _golden_rule_decay_time() -> float:
    """1/(2k) of P1 → 1/2 with k = (2V²/ħ²)∫D(s)ds, D the exact cumulant of the OU gap."""
    g = (SIGMA * TAU_C / HBAR) ** 2

    def dephasing(s: float) -> float:
        return np.exp(-g * (s / TAU_C - 1 + np.exp(-s / TAU_C)))
    rate = 2 * (V / HBAR) ** 2 * quad(dephasing, 0, np.inf)[0]
    return 1.0 / (2 * rate)


def _decay_line(out: str) -> str:
    return [line for line in out.splitlines() if line.startswith("decay time")][0]


@pytest.fixture(scope="module")
def golden(tmp_path_factory):
    return _write_two_level(tmp_path_factory.mktemp("golden"), 2000)


def test_hop_decay_time_is_golden_rule_for_any_run_length(golden, tmp_path, capsys):
    """Averaged over 40 time origins: the same τ (within errors) for two run lengths, both
    near the golden rule (FSSH is within 20 % of exact there, nad/hopping.py)."""
    exact = _golden_rule_decay_time()
    fits = []
    for nsteps in ("300", "600"):
        assert main(["namd", "hop", str(golden), "--dt", "1", "--nsteps", nsteps, "--nreal",
                     "40", "--origins", "40", "--method", "fssh", "--nblocks", "8",
                     "-o", str(tmp_path / "p.dat")]) == 0
        line = _decay_line(capsys.readouterr().out)
        tau, err = map(float, re.search(r"([\d.]+) ± ([\d.e+-]+) fs", line).groups())
        assert abs(tau - exact) < 0.3 * exact, (line, exact)
        fits.append((tau, err))
    (t1, e1), (t2, e2) = fits
    assert abs(t1 - t2) < 3 * np.hypot(e1, e2)


def test_hop_unsampled_decay_is_not_resolved(tmp_path, capsys):
    _write_two_level(tmp_path, 200, coupling=1e-4)      # golden-rule τ of about 2 ns
    assert main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "100", "--nreal", "20",
                 "--method", "fssh"]) == 0
    line = _decay_line(capsys.readouterr().out)
    assert "not resolved (" in line and "±" not in line.split("(")[0]


@pytest.mark.parametrize("initial", ["-3", "-1", "2"])
def test_hop_initial_state_outside_the_states_is_an_error(initial, tmp_path, capsys):
    _write_two_level(tmp_path, 20)
    assert main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "10",
                 "--initial", initial]) == 2
    _one_line_error(capsys, "--initial")


def test_hop_beyond_the_files_needs_cyclic(tmp_path, capsys):
    _write_two_level(tmp_path, 20, gap=np.full(20, 0.05))
    args = ["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "30", "--nreal", "2",
            "--method", "fssh"]
    assert main(args) == 2
    _one_line_error(capsys, "--cyclic")
    assert main([*args, "--cyclic"]) == 0
    assert main([*args[:6], "15", *args[7:], "--origins", "7"]) == 2   # 6 origins fit 15 steps
    _one_line_error(capsys, "--origins")


def test_hop_ev_files_read_as_rydberg_give_a_warning(tmp_path, capsys):
    _write_two_level(tmp_path, 20, gap=np.full(20, 2.0), units="eV")   # a 2 eV gap in eV
    args = ["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "10", "--nreal", "2"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "warning:" in err and "27.2 eV" in err and "--units eV" in err
    assert main([*args, "--units", "eV"]) == 0
    assert "warning" not in capsys.readouterr().err


@pytest.mark.parametrize("options, option", [
    (["--decoherence-scale", "-1"], "--decoherence-scale"),
    (["--decoherence-scale", "nan"], "--decoherence-scale"),
    (["--method", "fssh", "--decoherence-scale", "1"], "--decoherence-scale"),
])
def test_hop_bad_decoherence_scale(options, option, tmp_path, capsys):
    _write_two_level(tmp_path, 20)
    assert main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "10", *options]) == 2
    _one_line_error(capsys, option)


def test_hop_published_dish_and_blocks(tmp_path, capsys):
    _write_two_level(tmp_path, 40)
    assert main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "20", "--nreal", "4",
                 "--decoherence-scale", "1", "--nblocks", "2", "--origins", "3"]) == 0
    assert "intervals 1 dephasing times" in capsys.readouterr().out


def test_hop_fssh_with_detailed_balance_warns(tmp_path, capsys):
    _write_two_level(tmp_path, 20)
    assert main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "10", "--nreal", "2",
                 "--method", "fssh", "--temperature", "300"]) == 0
    assert "Boltzmann" in capsys.readouterr().err


def _must_not_run(*args, **kwargs):
    raise AssertionError("the run started before its output folder was checked")


def test_hop_missing_output_folder_is_checked_before_the_run(tmp_path, capsys, monkeypatch):
    import nad.hopping
    monkeypatch.setattr(nad.hopping, "run_surface_hopping", _must_not_run)
    _write_two_level(tmp_path, 20)
    assert main(["namd", "hop", str(tmp_path), "--dt", "1", "--nsteps", "10",
                 "-o", str(tmp_path / "missing" / "p.dat")]) == 2
    _one_line_error(capsys, "--output")


def test_trapping_bad_output_folder_is_checked_before_the_run(tmp_path, capsys, monkeypatch):
    import nad.pipeline
    monkeypatch.setattr(nad.pipeline, "trapping_study", _must_not_run)
    (tmp_path / "file").write_text("")
    assert main(["namd", "trapping", "--output", str(tmp_path / "file" / "out")]) == 2
    _one_line_error(capsys, "--output")


# --- mts namd trapping ----------------------------------------------------------------------

def test_trapping_unresolved_time_is_never_printed_as_measured(tmp_path, capsys, monkeypatch):
    import nad.pipeline
    cases = [
        {"vacancies": 1, "concentration": 1 / 256, "simulated_fs": 20_000.0,
         "tau_ml_fs": 12_345.0, "tau_ml_error_fs": 678.0, "tau_ml_resolved": True,
         "tau_tb_fs": 1.9e16, "tau_tb_error_fs": 1.0, "tau_tb_resolved": False,
         "depth_rmse_eV": 0.01, "coupling_magnitude_r2": 0.9},
        {"vacancies": 2, "concentration": 2 / 256, "simulated_fs": 20_000.0,
         "tau_ml_fs": 1.9e16, "tau_ml_error_fs": 0.0, "tau_ml_resolved": False},
    ]
    monkeypatch.setattr(nad.pipeline, "trapping_study", lambda *a, **k: {"cases": cases})
    assert main(["namd", "trapping", "--output", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "tau_ML = 12.35 ± 0.68 ps" in out
    assert out.count("not resolved (longer than 10x the simulated 20 ps)") == 2
    assert "1.9e" not in out and "190000" not in out and not re.search(r"± 0(\.0)? ps", out)
    assert "not resolved, raise --nsteps" in out
    json.dumps(cases)                    # the monkeypatched results stay JSON-like


# --- every option ---------------------------------------------------------------------------

def _namd_commands() -> dict[str, argparse.ArgumentParser]:
    top = argparse.ArgumentParser()
    namd.add_commands(top.add_subparsers())
    group = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)][0]
    namd_parser = group.choices["namd"]
    sub = [a for a in namd_parser._actions if isinstance(a, argparse._SubParsersAction)][0]
    return dict(sub.choices)


def test_every_namd_option_has_help_with_its_default():
    commands = _namd_commands()
    assert set(commands) == {"tully", "hop", "trapping"}
    for name, parser in commands.items():
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            text = action.help or ""
            assert text, (name, action.dest)
            if action.option_strings:
                assert "default" in text or "required" in text, (name, action.dest, text)


def test_cli_constants_match_the_library():
    from nad.analysis import RESOLVED_SPANS
    from nad.hopping import DISH_CPA_SCALE
    assert namd.DISH_CPA_SCALE == DISH_CPA_SCALE
    assert namd.TRAPPING_RESOLVED_SPANS == RESOLVED_SPANS


def test_unresolved_trapping_times_are_drawn_as_lower_bounds():
    """The figure draws an unresolved τ at its lower bound (10x the run), not at the fit, and
    anchors the 1/c guide on a resolved point."""
    from nad.pipeline import plotted_trapping_times
    from nad.plots import one_over_c_guide

    cases = [{"simulated_fs": 20_000.0, "tau_ml_fs": 1.9e16, "tau_ml_resolved": False},
             {"simulated_fs": 20_000.0, "tau_ml_fs": 5_000.0, "tau_ml_resolved": True}]
    tau, resolved = plotted_trapping_times(cases, "ml")
    assert tau.tolist() == [200_000.0, 5_000.0] and resolved.tolist() == [False, True]
    c = np.array([1.0, 2.0])
    assert one_over_c_guide(c, tau, resolved).tolist() == [10_000.0, 5_000.0]
    assert one_over_c_guide(c, tau, np.array([False, False])) is None
