"""Mode-resolved anisotropic input (modes with group-velocity vectors, integrated over the
solid-angle cells of the direction set), checked against references computed here:

* an in-plane film with diffuse walls against the exact per-mode Fuchs-Sondheimer sum, and
  modes moving exactly parallel to the walls (the pitfall of REFERENCES §1.2);
* a periodic box against the modes' bulk tensor Σ C v_a v_b τ;
* energy conservation with a heat source, steady and transient;
* isotropic bands given as modes against the band input (round-off), steady and transient;
* the same material read from a GiftBTE folder (MaterialFile ... MODES, a modes.npz as
  phonons.write_mode_data writes it), through the Python API, and under MPI.

The synthetic material: three bands, each of two families of modes; a family is one first-octant
node direction s of the Ntheta = Nphi = 2 Gauss set and its seven mirror images, all with one
speed, τ and C.  Every mode thus lies on a quadrature direction (alone in its solid-angle
cell), so the angle-discretised BTE holds the modes themselves, and the exact per-mode results
are exact for the solver's input: what is left is the spatial discretisation.
"""
from __future__ import annotations

import importlib.util
import shutil

import numpy as np
import pytest
from bte_cases import mpirun_bte

import bte
from bte import BoundaryKind as Kind
from bte.angles import angular_set, direction_cells
from bte.materials import mode_material, pair_table, read_mode_data, write_band_table
from bte.transient import explicit_stability

NTHETA, NPHI = 2, 2
ANGLES = angular_set(3, 2, NTHETA, NPHI)
# (band, first-octant node of the set, speed m/s, tau s, C J m^-3 K^-1 per mode)
FAMILIES = [(0, 0, 6000.0, 20e-12, 4e4), (0, 3, 3000.0, 50e-12, 2e4),
            (1, 1, 2000.0, 100e-12, 6e4), (1, 2, 7000.0, 8e-12, 1e4),
            (2, 0, 1500.0, 60e-12, 8e4), (2, 3, 8000.0, 5e-12, 3e4)]
MIRRORS = np.array([[sx, sy, sz] for sx in (1, -1) for sy in (1, -1) for sz in (1, -1)], float)
FILM = 50e-9                                   # m, film thickness and period


def _bands() -> bte.Material:
    """Three isotropic bands with exactly consistent ratio columns."""
    v = np.array([5000.0, 2500.0, 900.0])
    tau = np.array([30e-12, 80e-12, 10e-12])
    cap = np.array([3e5, 7e5, 5e5])
    rate = cap / tau
    return bte.Material("bands", v, tau, cap, rate / rate.sum(), cap / cap.sum())


@pytest.fixture(scope="module")
def phonon(tmp_path_factory):
    """PHONON settings of the cases: 3 bands (the band table written here; the tests swap in
    the material under test), the Ntheta = Nphi = 2 Gauss set."""
    table = write_band_table(_bands(), tmp_path_factory.mktemp("table") / "bands3.dat")
    return {"BandNumber": 3, "MaterialFile 1": str(table), "Ntheta": NTHETA, "Nphi": NPHI}


def _octant_nodes() -> np.ndarray:
    s = ANGLES.directions
    return s[(s > 0).all(axis=1)]


def synthetic_modes() -> dict[str, np.ndarray]:
    """48 modes: frequency rad/s (distinct per band, so frequency binning finds the bands),
    velocity (n, 3) m/s, tau s, heat_capacity J m^-3 K^-1, band."""
    nodes = _octant_nodes()
    rows = []
    for band, node, speed, tau, cap in FAMILIES:
        for mirror in MIRRORS:
            rows.append((2e13 * (band + 1), *(speed * mirror * nodes[node]), tau, cap, band))
    a = np.array(rows)
    return dict(frequency=a[:, 0], velocity=a[:, 1:4], tau=a[:, 4], heat_capacity=a[:, 5],
                band=a[:, 6].astype(int))


def _material(modes=None) -> bte.ModeMaterial:
    m = synthetic_modes() if modes is None else modes
    return mode_material(m["frequency"], m["velocity"], m["tau"], m["heat_capacity"], 3,
                         band=m["band"], name="synthetic")


def _with_material(run, material) -> bte.Problem:
    problem = bte.read_input_folder(run)
    problem.materials = [material]
    return problem


def _film(case_factory, phonon, name, ny):
    """Film 0 <= y <= FILM, one cell along x, periodic in x with a 1 K jump over FILM,
    diffuse walls at y = 0 and y = FILM."""
    return case_factory("in-plane/1e-7", name, mesh=("rect", [0.0, 1.0], np.linspace(0, 1, ny + 1)),
                        bc=[(1, -4, 1), (4, -1, 0), (2, Kind.DIFFUSE, 0), (3, Kind.DIFFUSE, 0)],
                        geometry={"ScaleX": FILM, "ScaleY": FILM}, phonon=phonon)


def _solve(problem, **kwargs):
    settings = dict(scheme="Synthetic", order="2", residual_temp=1e-10, residual_flux=1e-10,
                    max_iter=500)
    result = bte.solve(problem, **{**settings, **kwargs})
    assert result.converged
    return result


def per_mode_fuchs_sondheimer(modes, d: float) -> float:
    """Exact in-plane κ_xx (W/mK) of a film of thickness d between diffuse walls at y = 0, d.

    Each mode decouples (the mode set is mirror symmetric in x, so the lattice temperature is
    the imposed linear profile and the diffuse walls re-emit at it): with a gradient G along x,
    g(y) = −C v_x τ G (1 − exp(−y'/Λ_y)), y' the distance to the wall the mode comes from and
    Λ_y = |v_y| τ; averaged over the film, κ = Σ C v_x² τ [1 − (Λ_y/d)(1 − exp(−d/Λ_y))]."""
    vx, vy = modes["velocity"][:, 0], modes["velocity"][:, 1]
    lam = np.abs(vy) * modes["tau"]
    with np.errstate(divide="ignore"):              # v_y = 0: no suppression, S = 1
        suppression = 1.0 - lam / d * (1.0 - np.exp(-d / lam))
    return float(np.sum(modes["heat_capacity"] * vx**2 * modes["tau"] * suppression))


def bulk_tensor(modes) -> np.ndarray:
    v = modes["velocity"]
    return np.einsum("n,na,nb->ab", modes["heat_capacity"] * modes["tau"], v, v)


# ------------------------------------------------------------------------------------------------
# solid-angle cells and pair tables
# ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("dimension,method,ntheta,nphi", [(3, 2, 4, 4), (3, 1, 3, 5), (2, 2, 1, 6)])
def test_every_direction_lies_in_its_own_cell(dimension, method, ntheta, nphi):
    a = angular_set(dimension, method, ntheta, nphi)
    np.testing.assert_array_equal(direction_cells(a, 2.5 * a.directions).toarray(),
                                  np.eye(a.n_dir))
    # the cell measures are the weights: μ edges cumulate the μ weights, φ edges the φ weights
    if dimension == 3:
        n_az = 4 * nphi
        w_mu = a.weights.reshape(-1, n_az).sum(1)[:ntheta]       # upper hemisphere, μ ↓
        np.testing.assert_allclose(np.diff(a.mu_edges)[::-1], 2 * w_mu, rtol=1e-13)


def test_vectors_on_cell_edges_are_shared_symmetrically():
    """A velocity in a mirror plane (v_y = 0: parallel to walls normal to y) is split between
    the cells on both sides, so the pair table stays mirror symmetric and carries no net
    equilibrium current; a zero velocity is spread over all cells by weight."""
    v = np.array([[3.0, 0.0, 1.0], [0.0, 0.0, 0.0]])
    cells = direction_cells(ANGLES, v).toarray()
    np.testing.assert_allclose(cells.sum(1), 1.0)
    s = ANGLES.directions
    assert np.all(np.abs(s[cells[0] > 0, 1]) > 0) and np.isclose(cells[0][s[:, 1] > 0].sum(), 0.5)
    np.testing.assert_allclose(cells[1], ANGLES.weights)
    modes = synthetic_modes()
    modes["velocity"] = modes["velocity"].copy()
    modes["velocity"][:8, 1] = 0.0                        # a family parallel to y-walls
    t = pair_table(_material(modes), ANGLES)
    current = ((t.cap * t.speed) @ (ANGLES.weights[:, None] * s))     # (nb, 3)
    np.testing.assert_allclose(current, 0.0, atol=1e-12 * np.abs(t.cap * t.speed).max())


def test_pair_table_keeps_heat_capacity_and_kappa_trace():
    """Modes scattered over many directions: per band the pairs keep ΣC and trace κ exactly,
    and the mode heat capacity lands in the cells of the modes' directions."""
    rng = np.random.default_rng(3)
    n = 500
    v = rng.normal(size=(n, 3)) * [3000.0, 1000.0, 2000.0]
    tau, cap, freq = rng.uniform(1e-12, 1e-10, n), rng.uniform(1e3, 1e4, n), rng.uniform(1, 9, n)
    material = mode_material(freq, v, tau, cap, 4, "frequency")
    t = pair_table(material, ANGLES)
    w = ANGLES.weights
    np.testing.assert_allclose(t.band_capacity, np.bincount(material.band, cap, 4), rtol=1e-12)
    np.testing.assert_allclose((t.cap * w).sum(1), t.band_capacity, rtol=1e-12)
    trace_pairs = (w * t.cap * t.speed**2 * t.tau).sum()
    assert trace_pairs == pytest.approx(np.trace(material.kappa_tensor()), rel=1e-12)
    assert (w * t.heat).sum() == pytest.approx(1.0, rel=1e-12)
    assert (w * t.lattice * t.cap).sum() == pytest.approx(1.0, rel=1e-12)


# ------------------------------------------------------------------------------------------------
# physics against exact references
# ------------------------------------------------------------------------------------------------

def test_in_plane_film_vs_per_mode_fuchs_sondheimer(case_factory, phonon):
    """κ_xx of a 50 nm film of the synthetic material (Λ_y = 18 to 139 nm: every mode partly
    suppressed, the film keeps 56 % of the bulk κ_xx) within 3e-4 of the exact per-mode
    Fuchs-Sondheimer sum.  The reference is exact for the discretised input (see the module
    docstring), so the error is the second-order upwind scheme's in y: measured −1.6e-4,
    −4.2e-5, −1.1e-5 on 20, 40, 80 cells (∝ Δy²); the tolerance is 7× the 40-cell error and
    100× below the suppression tested."""
    modes = synthetic_modes()
    result = _solve(_with_material(_film(case_factory, phonon, "film", 40), _material()))
    exact = per_mode_fuchs_sondheimer(modes, FILM)
    assert exact == pytest.approx(0.564 * bulk_tensor(modes)[0, 0], rel=1e-3)
    assert result.kappa_effective == pytest.approx(exact, rel=3e-4)


def test_modes_parallel_to_the_walls_are_suppressed(case_factory, phonon):
    """The pitfall of REFERENCES §1.2: modes with v_y = 0 exactly (here ±x, 5000 m/s, 40 ps,
    39 % of the bulk κ_xx) are not suppressed at all by walls normal to y if taken with their
    bare direction.  Here each is shared by the four cells that meet at its direction and moves
    along their quadrature directions (|s_y| = 0.32): the film κ equals the Fuchs-Sondheimer
    sum over the (band, direction) pairs, Σ w C v² τ s_x² S(d / (v τ |s_y|)), within the 3e-4
    of the film test, and lies 39 % below the bare per-mode sum."""
    modes = synthetic_modes()
    along_x = np.array([[5000.0, 0.0, 0.0], [-5000.0, 0.0, 0.0]])
    modes = dict(frequency=np.r_[modes["frequency"], 2e13, 2e13],
                 velocity=np.r_[modes["velocity"], along_x],
                 tau=np.r_[modes["tau"], 40e-12, 40e-12],
                 heat_capacity=np.r_[modes["heat_capacity"], 5e4, 5e4],
                 band=np.r_[modes["band"], 0, 0])
    material = _material(modes)
    result = _solve(_with_material(_film(case_factory, phonon, "parallel", 40), material))
    t = pair_table(material, ANGLES)
    s = ANGLES.directions
    lam_y = t.speed * t.tau * np.abs(s[:, 1])
    with np.errstate(invalid="ignore", divide="ignore"):
        suppression = np.where(t.cap > 0, 1.0 - lam_y / FILM * (1.0 - np.exp(-FILM / lam_y)), 0)
    pairs = float(np.sum(ANGLES.weights * t.cap * t.speed**2 * t.tau * s[:, 0]**2 * suppression))
    assert result.kappa_effective == pytest.approx(pairs, rel=3e-4)
    bare = per_mode_fuchs_sondheimer(modes, FILM)         # the ±x modes count as unsuppressed
    assert result.kappa_effective == pytest.approx(0.608 * bare, abs=0.005 * bare)


@pytest.mark.parametrize("axis", [0, 1])
def test_periodic_box_reproduces_the_modes_bulk_tensor(case_factory, phonon, axis):
    """A periodic box (1 K offset along x or y, specular walls across) is bulk material:
    κ_eff = Σ C v_a v_a τ of the modes (κ_xx ≠ κ_yy for this material) to the solver
    tolerance; the modes lie on quadrature directions, so there is no angular error."""
    modes = synthetic_modes()
    if axis == 0:
        bc = [(1, -4, 1), (4, -1, 0), (2, Kind.SPECULAR, 0), (3, Kind.SPECULAR, 0)]
    else:
        bc = [(2, -3, 1), (3, -2, 0), (1, Kind.SPECULAR, 0), (4, Kind.SPECULAR, 0)]
    run = case_factory("in-plane/1e-7", f"box{axis}", mesh=("rect", np.linspace(0, 1, 4),
                                                            np.linspace(0, 1, 4)),
                       bc=bc, geometry={"ScaleX": FILM, "ScaleY": FILM}, phonon=phonon)
    result = _solve(_with_material(run, _material()))
    kappa = bulk_tensor(modes)
    assert kappa[0, 0] / kappa[1, 1] == pytest.approx(0.754, abs=1e-3)
    assert result.kappa_effective == pytest.approx(kappa[axis, axis], rel=1e-7)


def test_heated_slab_conserves_energy(case_factory, phonon):
    """Uniform heat Q between two walls at 300 K (x = 0, L), specular walls across: in steady
    state ∇·q = Q, so q_x = Q (x − L/2) (the energy-conserving lattice temperature and the heat
    shares of the pairs at work).  The face fluxes conserve energy exactly; the cell-centred
    flux of the second-order scheme is off by 5.2e-4 Q L/2 in the cells at the walls, 5.5e-5
    in the next ones and < 3e-6 further in (measured, 40 cells)."""
    q_source = 1e15
    run = case_factory("in-plane/1e-7", "heated", mesh=("rect", np.linspace(0, 1, 41), [0.0, 1.0]),
                       bc=[(1, Kind.THERMALIZING, 300.0), (4, Kind.THERMALIZING, 300.0),
                           (2, Kind.SPECULAR, 0), (3, Kind.SPECULAR, 0)],
                       geometry={"ScaleX": FILM, "ScaleY": FILM, "UniformHeat": q_source},
                       phonon=phonon)
    problem = _with_material(run, _material())
    problem.heat_source[:] = q_source
    result = _solve(problem)
    x = result.problem.geometry.centroid[:, 0]
    error = np.abs(result.heat_flux[:, 0] - q_source * (x - FILM / 2)) / (q_source * FILM / 2)
    assert error.max() < 1e-3 and error[3:-3].max() < 1e-5, error
    assert result.temperature_lattice.max() > 300.0


@pytest.mark.parametrize("scheme", ["explicit", "implicit"])
def test_transient_energy_balance_closed_domain(case_factory, phonon, scheme):
    """Periodic grating (no walls) under a uniform source Q: the mean temperature rises by
    exactly Q t / ΣC of the modes, explicit (at half its stability limit) and implicit."""
    q_source = 1e15
    run = case_factory("TTG/2pikn=1", f"energy_{scheme}", mesh=("1d", 20), phonon=phonon)
    problem = _with_material(run, _material())
    problem.heat_source[:] = q_source
    dt = 0.5 * explicit_stability(problem, 1e-15, 1)["dt_limit"]
    result = bte.solve(problem, scheme=scheme, time_step=dt, total_time=40 * dt,
                       early_stop=False, inner_tol=1e-13)
    volume = problem.geometry.volume
    rise = (np.average(result.temperature_energy, weights=volume)
            - np.average(problem.initial_temperature, weights=volume))
    capacity = synthetic_modes()["heat_capacity"].sum()
    assert rise == pytest.approx(q_source * result.times[-1] / capacity, rel=1e-9)


def _isotropic_pair() -> tuple[bte.Material, bte.ModeMaterial]:
    """Three bands as a band table and as modes on every direction (C_b w_k, v_b s_k, τ_b)."""
    bands = _bands()
    nd = ANGLES.n_dir
    modes = mode_material(np.repeat([1.0, 2.0, 3.0], nd),
                          (bands.velocity[:, None, None] * ANGLES.directions[None]).reshape(-1, 3),
                          np.repeat(bands.tau, nd),
                          (bands.heat_capacity[:, None] * ANGLES.weights).ravel(), 3)
    return bands, modes


def test_isotropic_modes_equal_the_band_input(case_factory, phonon):
    """Isotropic bands given as modes run through the same arrays as the band table: the
    results agree to round-off.  Walls of every kind that re-emits (thermalizing 301/300 K,
    partially specular p = 0.4, diffuse), Synthetic, Order 2."""
    bands, modes = _isotropic_pair()
    tb, tm = pair_table(bands, ANGLES), pair_table(modes, ANGLES)
    for name in ("cap", "speed", "tau", "heat", "lattice", "band_capacity"):
        np.testing.assert_allclose(getattr(tm, name), getattr(tb, name), rtol=1e-13)
    run = case_factory("cross-plane/1e-8", "iso", mesh=("rect", np.linspace(0, 1, 5),
                                                        np.linspace(0, 1, 11)),
                       bc=[(1, Kind.THERMALIZING, 301.0), (4, Kind.THERMALIZING, 300.0),
                           (2, Kind.PARTIALLY_SPECULAR, 0.4), (3, Kind.DIFFUSE, 0)],
                       geometry={"ScaleX": FILM, "ScaleY": FILM / 2}, phonon=phonon)
    a = _solve(_with_material(run, bands))
    b = _solve(_with_material(run, modes))
    assert a.iterations == b.iterations
    np.testing.assert_allclose(b.temperature_lattice - 300, a.temperature_lattice - 300,
                               rtol=0, atol=1e-11)
    np.testing.assert_allclose(b.heat_flux, a.heat_flux, rtol=0,
                               atol=1e-11 * np.abs(a.heat_flux).max())


def test_isotropic_modes_equal_the_band_input_transient(case_factory, phonon):
    """Same for the transient solvers (explicit and implicit) on a periodic 1D grating."""
    bands, modes = _isotropic_pair()
    run = case_factory("TTG/2pikn=1", "ttg", mesh=("1d", 20), phonon=phonon)
    for scheme, dt in (("explicit", 1e-13), ("implicit", 1e-12)):
        kw = dict(scheme=scheme, time_step=dt, total_time=20 * dt, early_stop=False)
        a = bte.solve(_with_material(run, bands), **kw)
        b = bte.solve(_with_material(run, modes), **kw)
        np.testing.assert_allclose(b.grating_amplitude, a.grating_amplitude, rtol=0,
                                   atol=1e-12 * np.abs(a.grating_amplitude).max())


# ------------------------------------------------------------------------------------------------
# input: GiftBTE folder and phonons.write_mode_data
# ------------------------------------------------------------------------------------------------

def _write_npz(path, modes, **override):
    """modes.npz with phonons.write_mode_data's fields: frequency THz, velocity m/s,
    heat_capacity J/m^3K per mesh q-point, tau s, weight."""
    fields = dict(frequency=modes["frequency"] / (2e12 * np.pi), velocity=modes["velocity"],
                  heat_capacity=modes["heat_capacity"] / 2.0, tau=modes["tau"],
                  weight=np.full(len(modes["tau"]), 2.0))
    fields.update(override)
    np.savez(path, **{k: v for k, v in fields.items() if v is not None})
    return path


def _modes_folder(case_factory, phonon, name, npz_name="modes.npz"):
    run = _film(case_factory, phonon, name, 20)
    phonon = run / "input" / "PHONON"
    lines = phonon.read_text().splitlines()
    i = next(j for j, line in enumerate(lines) if "MaterialFile" in line)
    lines[i:i + 2] = ["MaterialFile 1 MODES", f"input/{npz_name}"]
    phonon.write_text("\n".join(lines) + "\n")
    return run


def test_modes_npz_from_input_folder_equals_python_api(case_factory, phonon):
    """PHONON's 'MaterialFile 1 MODES' + path: the modes are read (weight × heat_capacity,
    THz -> rad/s), binned by frequency into BandNumber bands, and solve as through the API."""
    modes = synthetic_modes()
    run = _modes_folder(case_factory, phonon, "folder")
    _write_npz(run / "input" / "modes.npz", modes)
    problem = bte.read_input_folder(run)
    material = problem.materials[0]
    assert isinstance(material, bte.ModeMaterial)
    np.testing.assert_array_equal(material.band, modes["band"])
    np.testing.assert_allclose(material.kappa_tensor(), bulk_tensor(modes), rtol=1e-12)
    a = _solve(problem)
    b = _solve(_with_material(run, _material()))
    assert a.kappa_effective == pytest.approx(b.kappa_effective, rel=1e-12)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mpirun") is None, reason="no mpirun on this machine")
@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="mpi4py is not installed")
def test_modes_folder_under_mpi_equals_serial(case_factory, phonon, tmp_path):
    """The MODES folder (half of the (band, direction) pairs hold no modes and are dealt to no
    rank) under mpirun -n 2 and 3: fields equal the serial run's after 15 iterations."""
    run = _modes_folder(case_factory, phonon, "mpi")
    _write_npz(run / "input" / "modes.npz", synthetic_modes())
    serial = bte.solve(bte.read_input_folder(run), max_iter=15, residual_temp=1e-30,
                       residual_flux=1e-30)
    for n in (2, 3):
        done = mpirun_bte(n, run, tmp_path / f"n{n}", "--max-iter", "15", "--residual-temp",
                          "1e-30", "--residual-flux", "1e-30")
        assert done.returncode == 1, done.stderr        # stopped at --max-iter, as asked
        t = np.loadtxt(tmp_path / f"n{n}" / "TempLattice.dat")[:, -1]
        q = np.loadtxt(tmp_path / f"n{n}" / "HeatFlux.dat")[:, -3:]
        np.testing.assert_allclose(t, serial.temperature_lattice, rtol=0, atol=1e-10)
        np.testing.assert_allclose(q, serial.heat_flux, rtol=0,
                                   atol=1e-10 * np.abs(serial.heat_flux).max())


@pytest.mark.parametrize("override,field,message", [
    (dict(weight=None), "weight", "missing field"),
    (dict(velocity=np.ones((48, 2))), "velocity", "expected"),
    (dict(tau=np.full(48, -1.0)), "modes", "mode 0"),
    (dict(weight=np.full(48, np.nan)), "weight", "mode 0")])
def test_bad_mode_file_names_file_and_field(case_factory, phonon, override, field, message):
    run = _modes_folder(case_factory, phonon, "bad")
    path = _write_npz(run / "input" / "modes.npz", synthetic_modes(), **override)
    with pytest.raises(bte.BTEInputError, match=message) as info:
        bte.read_input_folder(run)
    assert info.value.field == field and info.value.file == str(path)


def test_missing_mode_file_names_the_phonon_line(case_factory, phonon):
    run = _modes_folder(case_factory, phonon, "missing", "nowhere.npz")
    with pytest.raises(bte.BTEInputError, match="nowhere.npz") as info:
        bte.read_input_folder(run)
    assert info.value.file.endswith("PHONON") and info.value.line is not None


def test_phonons_write_mode_data_is_read(tmp_path):
    """A ModeSet written by phonons.write_mode_data (star expanded over its rotations) reads
    back with the ModeSet's κ tensor."""
    pytest.importorskip("phonopy")
    from phonons.band_table import write_mode_data
    from phonons.modes import ModeSet

    rng = np.random.default_rng(7)
    n_q, n_b = 5, 3
    rotations = np.array([np.eye(3), -np.eye(3), np.diag([1.0, -1.0, 1.0]),
                          np.diag([-1.0, 1.0, -1.0])])
    modes = ModeSet(mesh=np.array([4, 4, 4]), temperature=300.0, qpoints=rng.random((n_q, 3)),
                    weights=np.array([1.0, 2.0, 3.0, 4.0, 6.0]),
                    frequency=rng.uniform(1, 10, (n_q, n_b)),
                    group_velocity=rng.normal(size=(n_q, n_b, 3)) * 2000.0,
                    heat_capacity=rng.uniform(1e3, 1e4, (n_q, n_b)),
                    lifetime=rng.uniform(1e-12, 1e-10, (n_q, n_b)), rotations=rotations,
                    lattice=np.eye(3) * 5.43)
    material = read_mode_data(write_mode_data(modes, tmp_path / "modes.npz"), 3)
    kappa = modes.kappa()
    np.testing.assert_allclose(material.kappa_tensor(), kappa, rtol=0,
                               atol=1e-12 * np.abs(kappa).max())
    assert material.n_bands == 3 and len(material.tau) == n_q * n_b * len(rotations)
