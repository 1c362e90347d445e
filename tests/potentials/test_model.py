"""The network itself: symmetry, derivatives, smoothness at the cutoff, precision, devices."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from ase import Atoms
from scipy.spatial.transform import Rotation

from potentials.calculator import MLCalculator
from potentials.model import EquivariantPotential, ModelConfig
from potentials.neighbours import build_graph


def evaluate(model, atoms):
    return MLCalculator(model, device="cpu", dtype=torch.float64).evaluate_batch([atoms])[0]


def test_rotations_reflections_translations(random_model, mixed_crystal):
    ref = evaluate(random_model, mixed_crystal)
    rng = np.random.default_rng(0)
    for k in range(4):
        matrix = Rotation.random(random_state=k).as_matrix()
        if k % 2:
            matrix = matrix @ np.diag([1.0, 1.0, -1.0])  # improper: a reflection
        moved = mixed_crystal.copy()
        moved.set_cell(mixed_crystal.cell.array @ matrix.T)
        moved.positions = mixed_crystal.positions @ matrix.T + rng.normal(size=3) * 3.0
        out = evaluate(random_model, moved)
        assert out["energy"] == pytest.approx(ref["energy"], abs=1e-10)
        np.testing.assert_allclose(out["forces"], ref["forces"] @ matrix.T, atol=1e-10)
        def stress(v):
            return np.array([[v[0], v[5], v[4]], [v[5], v[1], v[3]], [v[4], v[3], v[2]]])
        np.testing.assert_allclose(stress(out["stress"]), matrix @ stress(ref["stress"]) @ matrix.T,
                                   atol=1e-10)


def test_permutations_and_wrapping(random_model, mixed_crystal):
    ref = evaluate(random_model, mixed_crystal)
    order = np.random.default_rng(1).permutation(len(mixed_crystal))
    permuted = mixed_crystal[order]
    permuted.positions += permuted.cell.array.T @ np.array([1, -2, 1])  # whole-cell shift
    out = evaluate(random_model, permuted)
    assert out["energy"] == pytest.approx(ref["energy"], abs=1e-10)
    np.testing.assert_allclose(out["forces"], ref["forces"][order], atol=1e-10)


def test_forces_are_minus_energy_gradient(random_model, mixed_crystal):
    forces = evaluate(random_model, mixed_crystal)["forces"]
    h = 1e-5
    for atom, axis in [(0, 0), (1, 2), (4, 1), (7, 0)]:
        energies = []
        for sign in (1, -1):
            moved = mixed_crystal.copy()
            moved.positions[atom, axis] += sign * h
            energies.append(evaluate(random_model, moved)["energy"])
        assert forces[atom, axis] == pytest.approx(-(energies[0] - energies[1]) / (2 * h), abs=1e-7)


def test_stress_is_strain_derivative(random_model, mixed_crystal):
    stress = evaluate(random_model, mixed_crystal)["stress"]
    volume = mixed_crystal.get_volume()
    h = 1e-5
    for voigt, (a, b) in enumerate([(0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1)]):
        energies = []
        for sign in (1, -1):
            strain = np.eye(3)
            strain[a, b] += sign * h / (1 if a == b else 2)
            strain[b, a] += 0 if a == b else sign * h / 2
            moved = mixed_crystal.copy()
            moved.set_cell(mixed_crystal.cell.array @ strain, scale_atoms=True)
            energies.append(evaluate(random_model, moved)["energy"])
        derivative = (energies[0] - energies[1]) / (2 * h) / volume
        assert stress[voigt] == pytest.approx(derivative, abs=1e-9)


def test_second_derivative_continuous_through_cutoff(random_model):
    """A trimer whose third atom crosses every cutoff sphere (message passing at 4 Å, the
    long-range three-body terms at 4.8 Å, its pair terms at 5.5 Å): dF/dx has no jump anywhere."""
    cutoff = random_model.graph_cutoff
    xs = np.linspace(2.5, cutoff + 0.1, 6401)  # spacing 5e-4 Å
    structures = [Atoms("SiCSi", positions=[[0, 0, 0], [-1.9, 0.4, 0], [x, 0.7, 0.3]], pbc=False)
                  for x in xs]
    graph = build_graph(structures, random_model.species, cutoff)
    positions = graph.positions.clone().requires_grad_(True)
    graph.positions = positions
    forces = random_model(graph, forces=True, training=True)["forces"]
    moving = torch.arange(len(xs)) * 3 + 2
    dfdx = torch.autograd.grad(forces[moving, 0].sum(), positions)[0][moving, 0].detach().numpy()
    jumps = np.abs(np.diff(dfdx))
    assert np.abs(dfdx).max() > 1e-3                 # the path does feel the potential
    assert jumps.max() < 0.01 * np.abs(dfdx).max()  # continuous: no step anywhere
    distance = np.sqrt(xs ** 2 + 0.7 ** 2 + 0.3 ** 2)
    beyond = distance > cutoff                      # the third atom is outside every sphere
    assert 100 < beyond.sum() < len(xs) - 100
    assert np.abs(dfdx[beyond]).max() < 1e-12
    last_inside = np.flatnonzero(~beyond)[-1]       # 5e-4 Å before the cutoff: ~(5e-4)^2 decay
    assert abs(dfdx[last_inside]) < 1e-5 * np.abs(dfdx).max()
    # beyond the three-body cutoff only the long-range pair terms act, and they do act
    between = ((distance > random_model.long_range.three_body_cutoff + 0.05)
               & (distance < cutoff - 0.05))
    assert np.abs(dfdx[between]).max() > 1e-6


@pytest.mark.parametrize("term", ["message passing", "long-range pairs", "long-range three-body"])
def test_envelope_vanishes_smoothly(random_model, term):
    envelope = {"message passing": random_model.envelope,
                "long-range pairs": random_model.long_range.pair_envelope,
                "long-range three-body": random_model.long_range.envelope}[term]
    r = torch.tensor([envelope.cutoff - 1e-3], dtype=torch.float64, requires_grad=True)
    value = envelope(r)
    derivatives = [float(value)]
    for _ in range(3):
        (value,) = torch.autograd.grad(value.sum(), r, create_graph=True)
        derivatives.append(float(value))
    for order, d in enumerate(derivatives):  # u ~ (r_c - r)^4: the n-th derivative ~ 1e-3^(4-n)
        assert abs(d) < 50 * 1e-3 ** (4 - order), (order, d)
    assert float(envelope(torch.tensor([0.0], dtype=torch.float64))) == 1.0


def test_envelope_is_the_polynomial_it_states():
    """u(d) = 1 + sum_k a_k d^(p+k) with the a_k of envelope_coefficients, written out term by
    term: the Horner evaluation changes nothing but rounding."""
    from potentials.radial import PolynomialEnvelope, envelope_coefficients

    d = np.linspace(0.0, 1.2, 2001)
    for p, smoothness in [(10, 3), (6, 3), (5, 0)]:
        a = envelope_coefficients(p, smoothness)
        expected = np.where(d < 1.0, 1.0 + sum(c * d ** (p + k) for k, c in enumerate(a)), 0.0)
        got = PolynomialEnvelope(2.0, p, smoothness)(torch.from_numpy(2.0 * d)).numpy()
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_long_range_energy_is_linear_in_its_weights(random_model, mixed_crystal, si_supercell):
    """Energy, forces and stress are those of the zero-weight model plus the weights times the
    unit outputs (the columns of the least-squares fit), to rounding."""
    import copy

    graph = build_graph([mixed_crystal, si_supercell(1, rattle=0.05, seed=7)],
                        random_model.species, random_model.graph_cutoff)
    full = random_model(graph, forces=True, stress=True)
    bare = copy.deepcopy(random_model)
    with torch.no_grad():
        bare.long_range.weights.zero_()
    zero = bare(graph, forces=True, stress=True)
    units = random_model.long_range.unit_outputs(graph, stress=True)
    weights = random_model.long_range.weights.detach().reshape(-1)
    for key in ("energy", "forces", "stress"):
        contribution = full[key].detach() - zero[key].detach()
        assert contribution.abs().max() > 1e-4, key         # the term does contribute
        np.testing.assert_allclose((units[key] @ weights).numpy(), contribution.numpy(),
                                   atol=1e-12, err_msg=key)


def test_float32_matches_float64_forces(si_supercell):
    from potentials import load_model

    atoms = si_supercell(2, rattle=0.05, seed=4)
    model = load_model("si")
    f64 = MLCalculator(model, device="cpu", dtype=torch.float64).evaluate_batch([atoms])[0]
    f32 = MLCalculator(load_model("si"), device="cpu",
                       dtype=torch.float32).evaluate_batch([atoms])[0]
    assert np.abs(f64["forces"]).max() > 0.1
    np.testing.assert_allclose(f32["forces"], f64["forces"], atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_cuda_matches_cpu(si_supercell):
    from potentials import load_model

    atoms = [si_supercell(2, rattle=0.05, seed=s) for s in range(3)]
    cpu = MLCalculator(load_model("si"), device="cpu").evaluate_batch(atoms)
    gpu = MLCalculator(load_model("si"), device="cuda").evaluate_batch(atoms)
    assert MLCalculator(load_model("si"), device="auto").device.type == "cuda"
    for a, b in zip(cpu, gpu):
        assert b["energy"] == pytest.approx(a["energy"], abs=1e-8)
        np.testing.assert_allclose(b["forces"], a["forces"], atol=1e-8)
        np.testing.assert_allclose(b["stress"], a["stress"], atol=1e-10)


def test_config_validation():
    with pytest.raises(ValueError, match="envelope_p"):
        ModelConfig(species=["Si"], envelope_p=3)
    with pytest.raises(ValueError, match="l_max"):
        ModelConfig(species=["Si"], l_max=-1)
    with pytest.raises(ValueError, match="unknown model config keys"):
        ModelConfig.from_dict({"species": ["Si"], "channel": 3})
    with pytest.raises(ValueError, match="species"):
        EquivariantPotential({"species": []})
    with pytest.raises(ValueError, match="long_range_cutoff .* must exceed cutoff"):
        ModelConfig(species=["Si"], cutoff=5.0, long_range_cutoff=4.0)
    for three_body in (9.0, 4.5):   # beyond the pair terms, or short of the message passing
        with pytest.raises(ValueError, match="three_body_cutoff .* must be in"):
            ModelConfig(species=["Si"], cutoff=5.0, long_range_cutoff=8.0,
                        three_body_cutoff=three_body)
