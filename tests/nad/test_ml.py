"""ML vibronic Hamiltonian: per-atom kernel models, and the small-to-large transfer (slow)."""
from __future__ import annotations

import numpy as np
import pytest

from nad.dataset import simulate_cell, trap_data, trap_states
from nad.descriptors import make_descriptor
from nad.ml import AtomSumKRR, HamiltonianModel, r_squared, rmse, size_factor
from nad.pipeline import ml_vibronic, tb_vibronic, training_set, trapping

# ------------------------------------------------------------------------------------------
# the regression machinery on synthetic per-atom functions (fast)
# ------------------------------------------------------------------------------------------

def test_atom_sum_krr_learns_an_additive_function():
    rng = np.random.default_rng(0)
    q = rng.normal(size=(300, 5, 3))
    y = np.sum(np.sin(q[..., 0]) + 0.5 * q[..., 1] * q[..., 2], axis=1)
    model = AtomSumKRR().fit(q[:250], y[:250])
    assert r_squared(model.predict(q[250:]), y[250:]) > 0.97


def test_atom_sum_krr_linear_in_rates():
    rng = np.random.default_rng(1)
    q = rng.normal(size=(300, 4, 3))
    rates = rng.normal(size=(300, 4, 3))
    weights = np.stack([np.cos(q[..., 0]), 1 + 0.3 * q[..., 1], np.ones(q.shape[:2])], -1)
    y = np.sum(weights * rates, axis=(1, 2))
    model = AtomSumKRR().fit(q[:250], y[:250], rates=rates[:250])
    assert r_squared(model.predict(q[250:], rates[250:]), y[250:]) > 0.95
    with pytest.raises(ValueError, match="rates"):
        model.predict(q[250:])


def test_several_target_columns_pick_the_consistent_one():
    rng = np.random.default_rng(2)
    q = rng.normal(size=(200, 3, 2))
    clean = np.sum(q[..., 0] ** 2, axis=1)
    noisy = clean + rng.normal(scale=2.0, size=200)
    model = AtomSumKRR().fit(q, np.stack([noisy, clean], axis=1))
    assert model.chosen == 1


def test_size_factor_is_the_2d_threshold_law():
    """√N·ln(1 + N·Δ/ε0) by hand, and a clear error for a trap at or above the CBM."""
    assert size_factor(144, np.array([0.07]), 1.0) == pytest.approx(
        [12.0 * np.log(1.0 + 144 * 0.07 / np.e)], rel=1e-14)
    with pytest.raises(ValueError, match=r"depth: .* -0.01 eV at index \(1,\)"):
        size_factor(144, np.array([0.05, -0.01]), 1.0)


# ------------------------------------------------------------------------------------------
# trained on 12x12 and 24x24 cells, applied to a 48x48 cell (slow)
# ------------------------------------------------------------------------------------------

LARGE_SEEDS = (4801, 4802, 4803)  # three independent 0.2 ps trajectories of the 48x48 cell


@pytest.fixture(scope="module")
def transfer():
    """The model trained on 12x12 and 24x24 cells, and (cell, trajectory, TB states, TB trap
    data) of each one-vacancy 48x48 trajectory."""
    train = training_set(sizes=(12, 24), trajectories=(3, 2), nframes=300, seed=0)
    model = HamiltonianModel(max_train=800).fit(train.data)
    large = []
    for seed in LARGE_SEEDS:
        cell, traj = simulate_cell(48, 200, vacancies=1, seed=seed)
        states = trap_states(cell, traj)
        large.append((cell, traj, states, trap_data(cell, traj, make_descriptor("soap"), states)))
    return model, large


@pytest.mark.slow
def test_ml_trap_depth_on_large_cell(transfer):
    model, large = transfer
    for cell, _, _, ref in large:
        depth = model.predict_depth(ref.q, cell.ncells)
        assert rmse(depth, ref.depth) <= 0.020                 # E_trap - E_CBM, eV


@pytest.mark.slow
def test_ml_coupling_magnitude_on_large_cell(transfer):
    """R² of |⟨trap|dH/dt|CBM⟩| over the frames of three 48x48 trajectories: 0.912.

    One 0.2 ps trajectory is a small sample of one vacancy's surroundings: per trajectory
    (seeds 4801-4807) R² = 0.880, 0.903, 0.895, 0.887, 0.956, 0.973, 0.760, mostly through a
    trajectory-wide scale of the prediction (best-fit scale 0.844-1.062; R² at that scale
    0.889-0.980) that local descriptors cannot see; over all seven, R² = 0.921.  The size law
    matters: the former target coupling·Δ·√N·ln(N/N0) gave R² = 0.865 over these three
    trajectories and 0.687 over all seven (-0.58 on seed 4807)."""
    model, large = transfer
    predicted, reference = [], []
    for cell, _, _, ref in large:
        predicted.append(np.abs(model.predict_coupling(ref.q, ref.dt, cell.ncells)).ravel())
        reference.append(np.abs(ref.coupling).ravel())
    assert r_squared(np.concatenate(predicted), np.concatenate(reference)) >= 0.9


@pytest.mark.slow
def test_trapping_time_from_ml_matches_direct_tb(transfer):
    """Populations averaged over the three trajectories: τ_ML/τ_TB = 0.98.  Per trajectory
    (100 time origins each) the ratio is 1.10, 0.66, 1.14, with τ_TB from 62 to 197 ps: the
    trapping time of one short trajectory follows its slow fluctuations."""
    model, large = transfer
    tb = [tb_vibronic(cell, states) for cell, _, states, _ in large]
    ml = [ml_vibronic(model, cell, traj) for cell, traj, _, _ in large]
    _, fit_tb = trapping(tb, 300_000, nreal=20, origins=34)
    _, fit_ml = trapping(ml, 300_000, nreal=20, origins=34)
    assert fit_ml.tau == pytest.approx(fit_tb.tau, rel=0.20)


@pytest.mark.slow
def test_trapping_time_scales_as_inverse_concentration(transfer):
    """ML on 48x48 cells: 4 vacancies trap 4x faster than 1 (concentration x4).

    Two independent 0.4 ps trajectories per concentration (the trapping time of one short
    trajectory scatters by tens of per cent with its slow local fluctuations).  Measured ratio
    3.23."""
    model = transfer[0]
    taus = {}
    for nvac, steps in ((1, 200_000), (4, 60_000)):
        hams = [ml_vibronic(model, *simulate_cell(48, 400, vacancies=nvac, seed=seed))
                for seed in (4810 + nvac, 4820 + nvac)]
        taus[nvac] = trapping(hams, steps, nreal=10, origins=100)[1].tau
    assert taus[1] / taus[4] == pytest.approx(4.0, rel=0.30)
