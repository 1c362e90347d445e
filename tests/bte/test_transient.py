"""Transient BTE (bte.transient): TTG against the exact curve and rates, explicit vs implicit,
energy conservation, TDTR, heat-source and initial-temperature files, outputs and errors.

References are independent of the code: kk1.txt (exact TTG amplitude for 2πKn = 1), the
quasi-steady conductivity κ(q)/κ_b = 3/η²(1 − arctan η/η) and the gray-RTA dispersion relation
arctan(η/(1 − γτ)) = η (both computed here), and energy balance.
"""
from __future__ import annotations

import numpy as np
import pytest
from bte_cases import EXAMPLES, make_case, remove_keyword

import bte
from bte import BoundaryKind as Kind
from bte.problem import BTEInputError
from bte.transient import explicit_stability, solve_transient, tdtr_envelope

TTG = "TTG/2pikn=1"
V, TAU = 2677.0, 39.9e-12                 # Si_1.dat: group velocity m/s, relaxation time s
MFP = V * TAU


def ttg_case(tmp_path, name, eta, n_cells=100, ntheta=4, nphi=4, **control):
    """The TTG example as a 1D periodic grating of wavenumber q = η/Λ on n_cells cells (the
    grating runs along x, the polar axis of the directions is z: both angles matter)."""
    length = 2 * np.pi * MFP / eta
    return make_case(tmp_path, TTG, name, mesh=("1d", n_cells), geometry={"ScaleX": length},
                     phonon={"Ntheta": ntheta, "Nphi": nphi}, control=control)


def cfl_step(length, n_cells, cfl):
    return cfl * length / n_cells / V


def amplitude(result):
    return result.grating_amplitude / result.grating_amplitude[0]


# --------------------------------------------------------------------------------------------
# TTG physics
# --------------------------------------------------------------------------------------------

def test_ttg_amplitude_matches_kk1(tmp_path):
    run = ttg_case(tmp_path, "kk1", 1.0, n_cells=60, ntheta=8, nphi=8)
    problem = bte.read_input_folder(run)
    length = 2 * np.pi * MFP
    result = bte.solve(problem, time_step=cfl_step(length, 60, 0.4), total_time=10 * TAU)
    ref = np.loadtxt(EXAMPLES / "TTG" / "analytical_result" / "kk1.txt")
    ours = np.interp(ref[:, 0], result.times / TAU, amplitude(result))
    assert np.abs(ours - ref[:, 1]).max() < 0.01


def _rate_run(tmp_path, eta, scheme="explicit"):
    """Effective and late-time decay rates (1/τ units) of a TTG at η = qΛ."""
    n = 40
    length = 2 * np.pi * MFP / eta
    gamma_guess = 1 - np.arctan(eta) / eta
    t_end = min(10 / gamma_guess, 400) * TAU if eta < 1.5 else 30 * TAU
    run = ttg_case(tmp_path, f"eta{eta}", eta, n_cells=n, ntheta=12, nphi=12)
    result = solve_transient(bte.read_input_folder(run), time_step=cfl_step(length, n, 0.3),
                             total_time=t_end, early_stop=False, scheme=scheme)
    t, a = result.times / TAU, amplitude(result)
    late = t > 0.7 * t[-1]
    slope = -np.polyfit(t[late], np.log(np.abs(a[late])), 1)[0]
    # the formula is the ω → 0 (quasi-steady) response: in the time domain that is the Laplace
    # transform at s = 0, ∫A dt = τ (1/(γ_eff τ) − 1), exact for every η
    # the exponential tail beyond t_end exists only with a discrete late mode (η < π/2); above
    # it the ballistic tail oscillates and has died out by t_end
    tail = a[-1] / slope if eta < np.pi / 2 else 0.0
    integral = np.trapezoid(a, t) + tail
    return 1.0 / (1.0 + integral), slope


@pytest.mark.slow
@pytest.mark.parametrize("two_pi_kn, scheme", [(0.25, "explicit"), (0.5, "explicit"),
                                               (1.0, "explicit"), (2.0, "explicit"),
                                               (5.0, "implicit")])
def test_ttg_decay_rate_matches_formula(tmp_path, two_pi_kn, scheme):
    """2πKn = 5 runs to 30 τ: over 3200 steps the unlimited second-order explicit scheme
    amplifies round-off (~7e11, it warns) and the late amplitude grows (γ_eff 0.689 against
    0.725); the implicit scheme is stable there and gives 0.7232."""
    eta = two_pi_kn
    gamma_eff, gamma_late = _rate_run(tmp_path, eta, scheme)
    kappa_ratio = 3 / eta**2 * (1 - np.arctan(eta) / eta)
    assert gamma_eff == pytest.approx(kappa_ratio * eta**2 / 3, rel=0.02)
    if eta < np.pi / 2:   # a discrete late-time mode exists: arctan(η/(1 − γτ)) = η
        assert gamma_late == pytest.approx(1 - eta / np.tan(eta), rel=0.02)


def test_explicit_and_implicit_agree(tmp_path):
    run = ttg_case(tmp_path, "both", 1.0, n_cells=50)
    problem = bte.read_input_folder(run)
    dt = cfl_step(2 * np.pi * MFP, 50, 0.1)
    kw = dict(time_step=dt, total_time=5 * TAU, early_stop=False)
    explicit = solve_transient(problem, scheme="explicit", **kw)
    implicit = solve_transient(problem, scheme="implicit", **kw)
    assert np.abs(amplitude(explicit) - amplitude(implicit)).max() < 0.005


def test_implicit_stable_far_above_explicit_limit(tmp_path):
    run = ttg_case(tmp_path, "big", 1.0, n_cells=50)
    problem = bte.read_input_folder(run)
    limit = explicit_stability(problem, 1e-15, 1)["dt_limit"]
    with pytest.raises(BTEInputError, match="TimeStep"):
        solve_transient(problem, scheme="explicit", time_step=10 * limit, total_time=20 * limit)
    result = solve_transient(problem, scheme="implicit", time_step=10 * limit,
                             total_time=10 * TAU, early_stop=False)
    a = amplitude(result)
    assert np.all(np.isfinite(a)) and np.all(np.diff(a) <= 1e-12) and 0 < a[-1] < 0.2


@pytest.mark.parametrize("scheme", ["explicit", "implicit"])
def test_energy_balance_closed_periodic_domain(tmp_path, scheme):
    """No walls: the mean temperature rises by exactly Q t / C under a uniform source."""
    q = 1e15
    run = ttg_case(tmp_path, scheme, 1.0, n_cells=30)
    (run / "input" / "GEOMETRY").write_text((run / "input" / "GEOMETRY").read_text()
                                            + f"UniformHeat=\n{q}\n")
    problem = bte.read_input_folder(run)
    t_end = 2 * TAU
    result = solve_transient(problem, scheme=scheme, time_step=cfl_step(2 * np.pi * MFP, 30, 0.2),
                             total_time=t_end, early_stop=False, inner_tol=1e-13)
    g = problem.geometry
    mean0 = np.average(problem.initial_temperature, weights=g.volume)
    mean = np.average(result.temperature_energy, weights=g.volume)
    heat_capacity = problem.materials[0].heat_capacity.sum()
    assert mean - mean0 == pytest.approx(q * result.times[-1] / heat_capacity, rel=1e-9)


# --------------------------------------------------------------------------------------------
# input files: initial temperature, COORDINATE heat, TDTR, errors
# --------------------------------------------------------------------------------------------

def test_initial_temperature_file_mapped_to_cells(tmp_path):
    problem = bte.read_input_folder(ttg_case(tmp_path, "init", 1.0, n_cells=64))
    x = problem.geometry.centroid[:, 0] / (2 * np.pi * MFP)
    # cell means of the linear interpolant of cos(2πx): cos(2πx)·sinc(Δ) to O(Δ²)
    assert np.allclose(problem.initial_temperature, np.cos(2 * np.pi * x), atol=2e-3)


def test_coordinate_heat_source_deposits_its_energy(tmp_path):
    """A linear Q(x) from a COORDINATE file maps exactly (1D inverse distance = linear
    interpolation) and the transient run applies it outside TDTR mode."""
    run = ttg_case(tmp_path, "coord", 1.0, n_cells=20)
    xs = np.linspace(0, 1, 11)
    lines = ["% Nodes: 11"] + [f"{x} {1e15 * (1 + x)}" for x in xs]
    (run / "input" / "heat.txt").write_text("\n".join(lines) + "\n")
    geo = run / "input" / "GEOMETRY"
    geo.write_text(geo.read_text() + "HeatType=\nCOORDINATE\nHeatFile=\ninput/heat.txt\n")
    problem = bte.read_input_folder(run)
    x = problem.geometry.centroid[:, 0] / (2 * np.pi * MFP)
    assert np.allclose(problem.heat_source, 1e15 * (1 + x), rtol=1e-12)
    result = solve_transient(problem, time_step=cfl_step(2 * np.pi * MFP, 20, 0.2),
                             total_time=TAU, early_stop=False)
    g = problem.geometry
    gain = np.sum(g.volume * (result.temperature_energy - problem.initial_temperature))
    expected = np.sum(g.volume * problem.heat_source) * result.times[-1]
    assert gain * problem.materials[0].heat_capacity.sum() == pytest.approx(expected, rel=1e-9)


def test_tdtr_envelope_integrates_pulses():
    # a 1 ps pulse every 12.5 ns (80 MHz), no modulation: one step of 1 ps holds it all
    assert tdtr_envelope(0.0, 1e-12, 1e-12, 80, 0) == pytest.approx(1.0)
    assert tdtr_envelope(1e-12, 1e-12, 1e-12, 80, 0) == 0.0
    assert tdtr_envelope(12.5e-9, 2e-12, 1e-12, 80, 0) == pytest.approx(0.5)
    # modulation 1 + sin(2π f t) at the step midpoint
    t = 0.25 / 10e6 - 0.5e-12
    assert tdtr_envelope(t, 1e-12, 1.0, 0, 10) == pytest.approx(2.0, rel=1e-9)


@pytest.fixture
def gray_tdtr(tmp_path):
    """The TDTR example on a 6³ hex block, gray Si (Si_1.dat), a COORDINATE spot source."""
    xs = np.linspace(0, 1, 7)
    bc = [(1, Kind.SPECULAR, 0), (2, Kind.SPECULAR, 0), (3, Kind.DIFFUSE, 0),
          (4, Kind.THERMALIZING, 0), (5, Kind.DIFFUSE, 0), (6, Kind.DIFFUSE, 0)]
    run = make_case(tmp_path, TTG, "tdtr", mesh=("box", xs, xs, xs), bc=bc,
                    geometry={"ScaleX": 1e-6, "ScaleY": 1e-6, "ScaleZ": 1e-6},
                    phonon={"Ntheta": 2, "Nphi": 2},
                    control={"TimeStep": 1e-12, "TotalTime": 5e-12, "IsTDTR": 1,
                             "PulseTime": 1e-12, "RepetitionFrequency": 80,
                             "ModulationFrequency": 10, "RadiusProbe": 2e-7, "Tref": 0})
    remove_keyword(run / "input" / "CONTROL", "InitialTemperatureFile")
    pts = [(x, y, z) for x in xs for y in xs for z in xs]
    lines = [f"% Nodes: {len(pts)}"] + [
        f"{x} {y} {z} {1e20 * np.exp(-(x * x + y * y) / 0.1) * (z < 0.2)}" for x, y, z in pts]
    (run / "input" / "spot.txt").write_text("\n".join(lines) + "\n")
    geo = run / "input" / "GEOMETRY"
    geo.write_text(geo.read_text() + "HeatType=\nCOORDINATE\nHeatFile=\ninput/spot.txt\n")
    return run


def test_tdtr_run_writes_tdtr_dat(gray_tdtr, tmp_path):
    problem = bte.read_input_folder(gray_tdtr)
    result = bte.solve(problem, save_every=2)
    out = tmp_path / "out"
    written = {p.name for p in bte.write_outputs(result, out)}
    assert {"TDTR.dat", "TTG.dat", "Tempcell.dat", "result.pvd"} <= written
    tdtr = np.loadtxt(out / "TDTR.dat")
    assert tdtr.shape == (6, 2) and np.array_equal(tdtr[:, 0], np.arange(6))
    assert tdtr[0, 1] == 0.0 and tdtr[1, 1] > 0.0           # heated by the first pulse only
    # energy: the pulse deposits ∫Q dV · PulseTime · (1 + sin(2π f_mod · 0.5 ps))
    g = problem.geometry
    energy = np.sum(g.volume * result.temperature_energy) * problem.materials[0].heat_capacity.sum()
    pulse = np.sum(g.volume * problem.heat_source) * 1e-12 * (1 + np.sin(np.pi * 1e7 * 1e-12))
    assert energy <= pulse * (1 + 1e-9)                     # the cold wall may take some
    assert energy == pytest.approx(pulse, rel=0.05)
    pvd = (out / "result.pvd").read_text()
    assert pvd.count("<DataSet") == 4                         # steps 0, 2, 4 and the last (5)
    assert np.loadtxt(out / "TTG.dat").shape == (6, 2)


@pytest.mark.slow
def test_tdtr_example_runs(tmp_path):
    """The shipped TDTR example (3D tets, 15 ALAMODE bands; its heat file is missing from the
    snapshot, so a spot source is written) for two steps."""
    run = make_case(tmp_path, "TDTR", "tdtr", control={"TotalTime": 2e-12})
    lines = ["% Nodes: 4"] + [f"{x} {y} 0 1e20" for x in (0, 0.05) for y in (0, 0.05)]
    (run / "input" / "TDTR_3d_heatfile.txt").write_text("\n".join(lines) + "\n")
    result = bte.solve(bte.read_input_folder(run))
    assert len(result.tdtr_signal) == 3 and result.tdtr_signal[-1] > result.tdtr_signal[0]


def test_missing_time_step_is_one_line_error(tmp_path):
    run = ttg_case(tmp_path, "bad", 1.0, n_cells=10)
    remove_keyword(run / "input" / "CONTROL", "TimeStep")
    with pytest.raises(BTEInputError) as info:
        bte.read_input_folder(run)
    text = str(info.value)
    assert "CONTROL" in text and "TimeStep" in text and "\n" not in text


def test_cli_runs_transient_folder(tmp_path, capsys, monkeypatch):
    from workflows.cli import main
    run = ttg_case(tmp_path, "cli", 1.0, n_cells=20)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "cli-out"            # the default output: ./<DIR name>-out
    dt = cfl_step(2 * np.pi * MFP, 20, 0.2)
    code = main(["bte", "run", str(run), "--total-time", str(20 * dt), "--time-step", str(dt),
                 "--save-every", "10", "--transient-scheme", "implicit"])
    assert code == 0
    assert "time steps   20" in capsys.readouterr().out
    ttg = np.loadtxt(out / "TTG.dat")
    assert ttg.shape == (21, 2) and ttg[0, 0] == 0.0
    assert not (run / "TTG.dat").exists()
    assert sorted(p.name for p in out.glob("result_*.vtu")) == [
        "result_0000000.vtu", "result_0000010.vtu", "result_0000020.vtu"]


# --------------------------------------------------------------------------------------------
# checkpoint and restart
# --------------------------------------------------------------------------------------------

def test_interrupted_transient_run_resumes(tmp_path):
    """A run interrupted at step 25 (checkpoint every 10) and started again resumes from step
    21 and ends with the uninterrupted run's time series and snapshots."""
    run = ttg_case(tmp_path, "resume", 1.0, n_cells=30)
    problem = bte.read_input_folder(run)
    kw = dict(scheme="implicit", time_step=2 * TAU / 40, total_time=2 * TAU, early_stop=False,
              save_every=15)
    whole = solve_transient(problem, **kw)

    def stop_at_25(step, t, err_t, err_q):
        if step == 25:
            raise KeyboardInterrupt

    path = tmp_path / "state.npz"
    with pytest.raises(KeyboardInterrupt):
        solve_transient(problem, checkpoint=path, checkpoint_every=10, callback=stop_at_25, **kw)
    steps = []
    resumed = solve_transient(problem, checkpoint=path, checkpoint_every=10,
                              callback=lambda step, *rest: steps.append(step), **kw)
    assert steps[0] == 21 and steps[-1] == 40
    np.testing.assert_allclose(resumed.grating_amplitude, whole.grating_amplitude, rtol=0,
                               atol=1e-12)
    np.testing.assert_allclose(resumed.times, whole.times, rtol=1e-15)
    assert [s.step for s in resumed.snapshots] == [s.step for s in whole.snapshots]
    np.testing.assert_allclose(resumed.snapshots[1].temperature_lattice,
                               whole.snapshots[1].temperature_lattice, rtol=0, atol=1e-12)
