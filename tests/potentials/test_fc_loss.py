"""Force-constant loss terms of a phono3py displacement set (potentials.fc_loss), checked
against phono3py's own fc2/fc3 fit: exactly for forces of a truncated Taylor expansion, to the
finite-difference order for the DFT forces and for a model's forces inside a training batch."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from potentials_refdata import DATA

from potentials.datasets import read_dataset
from potentials.fc_loss import DisplacementSetError, balance_shells, displacement_terms

YAML = DATA / "phono3py_disp.yaml"
EXTXYZ = DATA / "si-pbesol-fc3-disp111.extxyz"


@pytest.fixture(scope="module")
def dft():
    """(samples, references, terms, phono3py with full fc2/fc3 from the DFT forces)."""
    import phono3py

    samples = read_dataset(EXTXYZ, labels=("forces",))
    references, terms = displacement_terms(YAML, [s.atoms.positions for s in samples])
    phono = phono3py.load(str(YAML), produce_fc=False, log_level=0)
    phono.forces = np.array([s.forces for s in samples])
    phono.produce_fc3(is_compact_fc=False)
    phono.produce_fc2(is_compact_fc=False)
    phono.symmetrize_fc3()
    phono.symmetrize_fc2()
    return samples, references, terms, phono


def combinations(forces: np.ndarray, references: list[int], terms) -> list[np.ndarray]:
    """Y of every term from per-structure forces [S, n, 3]."""
    flat = forces.reshape(len(forces), -1)
    stacked = np.concatenate([flat[r] for r in references])
    return [t.scale * (t.self_coefficient * flat[k] - t.references_matrix @ stacked)
            for k, t in enumerate(terms)]


def expected_combinations(phono, fc2: np.ndarray, fc3: np.ndarray) -> list[np.ndarray]:
    """Φ2 d1/|d1| for the first displacement, -[Φ3(d1,d2) + Φ3(d2,d2)/2]/(|d1||d2|) for pairs."""
    first = phono.dataset["first_atoms"][0]
    a, d1 = first["number"], np.array(first["displacement"])
    out = [np.einsum("jxy,x->jy", fc2[a], d1).ravel() / np.linalg.norm(d1)]
    for second in first["second_atoms"]:
        b, d2 = second["number"], np.array(second["displacement"])
        contraction = (np.einsum("jxyz,x,y->jz", fc3[a, b], d1, d2)
                       + 0.5 * np.einsum("jxyz,x,y->jz", fc3[b, b], d2, d2))
        out.append(-contraction.ravel() / (np.linalg.norm(d1) * np.linalg.norm(d2)))
    return out


def relative_difference(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    return float(np.sqrt(sum(((x - y) ** 2).sum() for x, y in zip(a, b))
                         / sum((y ** 2).sum() for y in b)))


def test_layout_of_the_silicon_set(dft):
    _, references, terms, _ = dft
    assert references == [0]
    assert [t.order for t in terms] == [2] + [3] * 110


def test_exact_for_forces_of_a_cubic_taylor_expansion(dft):
    """F = -Φ2 u - Φ3 u u / 2 with phono3py's DFT fc2/fc3: the combinations give fc2 and the fc3
    contractions up to rounding: there are no higher orders to leave behind.  What remains
    (2e-5) is the structures' positions carrying the displacements to 2e-7 relative and
    phono3py's symmetrised fc2/fc3 obeying the space group to about 1e-5; an error in the
    symmetry images or their weights would be of order one."""
    samples, references, terms, phono = dft
    fc2, fc3 = phono.fc2, phono.fc3
    perfect = phono.supercell.positions
    forces = []
    for sample in samples:
        u = sample.atoms.positions - perfect
        moved = np.flatnonzero(np.abs(u).max(1) > 1e-8)
        f = -np.einsum("jixy,iy->jx", fc2[:, moved], u[moved])
        f -= 0.5 * np.einsum("jikxyz,iy,kz->jx", fc3[:, moved][:, :, moved], u[moved], u[moved])
        forces.append(f)
    got = combinations(np.array(forces), references, terms)
    want = expected_combinations(phono, fc2, fc3)
    assert relative_difference(got[:1], want[:1]) < 1e-6
    assert relative_difference(got[1:], want[1:]) < 1e-4


def test_dft_forces_give_phono3py_force_constants(dft):
    """With the DFT forces themselves the fc3 combinations match phono3py's fc3 fit to the
    finite-difference order (0.03 Å displacements)."""
    samples, references, terms, phono = dft
    got = combinations(np.array([s.forces for s in samples]), references, terms)
    want = expected_combinations(phono, phono.fc2, phono.fc3)
    assert relative_difference(got[:1], want[:1]) < 1e-3
    assert relative_difference(got[1:], want[1:]) < 0.03


def test_training_batch_terms(dft, tmp_path):
    """In a training batch the first-displacement supercell joins unlabelled (force loss
    unchanged) and the fc3 term of a model equals the combination of its forces."""
    from potentials.model import EquivariantPotential, ModelConfig
    from potentials.training import (
        attach_force_constant_terms,
        collate_labelled,
        labelled_graph,
        loss_terms,
    )

    samples, references, terms, _ = dft
    torch.manual_seed(0)
    config = ModelConfig(species=["Si"], cutoff=4.0, channels=4, l_max=1, num_layers=1,
                         energy_shifts=[0.0], energy_scales=[0.3])
    model = EquivariantPotential(config).double()
    items = [labelled_graph(s, config, 2.0) for s in samples[:4]]
    bare = collate_labelled(items[1:], torch.float64)
    attach_force_constant_terms(items, [items[0]], terms[:4], 2.0)
    batch = collate_labelled(items[1:], torch.float64)
    assert len(batch.graph.species) == 4 * 64 and len(bare.graph.species) == 3 * 64
    plain, with_fc = loss_terms(model, bare, False, False), loss_terms(model, batch, False, False)
    assert float(with_fc["forces"]) == pytest.approx(float(plain["forces"]), rel=1e-12)
    assert int(with_fc["forces_count"]) == int(plain["forces_count"])

    predicted = model(collate_labelled(items[:4], torch.float64).graph, forces=True)["forces"]
    residual = (predicted.detach().numpy().reshape(4, 64, 3)
                - np.array([s.forces for s in samples[:4]]))
    y = combinations(residual, references, terms[:4])[1:]
    assert float(with_fc["fc3_sse"]) == pytest.approx(sum((v ** 2).sum() for v in y), rel=1e-10)
    assert int(with_fc["fc3_count"]) == 3 * 192


def test_mismatched_structures_are_named(tmp_path):
    samples = read_dataset(EXTXYZ, labels=("forces",))
    positions = [s.atoms.positions for s in samples]
    positions[5] = positions[6]
    with pytest.raises(DisplacementSetError, match="structure 5 does not carry"):
        displacement_terms(YAML, positions)
    with pytest.raises(DisplacementSetError,
                       match="111 displaced supercells, but the dataset has 110"):
        displacement_terms(YAML, positions[:110])


def test_first_displacement_supercell_is_kept_for_training():
    """Split seed 9 puts the first-displacement supercell into validation; with force-constant
    terms it goes to training, since every other term combines its forces."""
    from potentials.datasets import split_indices
    from potentials.training import prepare_datasets

    assert 0 in split_indices(111, 0.2, 9)[1]
    entry = {"name": "disp", "path": str(EXTXYZ), "labels": ["forces"], "validation_fraction": 0.2,
             "split_seed": 9, "phono3py_yaml": str(YAML)}
    split = prepare_datasets({"datasets": [entry]}, DATA, 0, fc_orders=(2, 3))["disp"]
    assert len(split.train) + len(split.validation) == 111
    first = split.train[split.references[0]]
    original = read_dataset(EXTXYZ, labels=("forces",))[0].atoms.positions
    assert np.abs(first.atoms.positions - original).max() == 0
    assert [t.order for t in split.train_terms].count(2) == 1
    assert all(t.order == 3 for t in split.validation_terms)
    plain = prepare_datasets({"datasets": [entry]}, DATA, 0)["disp"]
    assert plain.references is None and len(plain.validation) == len(split.validation) + 1


def _shell_rms(y: np.ndarray, shells: np.ndarray) -> dict[float, float]:
    return {s: float(np.sqrt(np.mean(y[shells == s] ** 2))) for s in np.unique(shells)}


def test_shell_balance_gives_every_shell_the_nearest_shells_scale(dft):
    """Balanced with the DFT forces, every neighbour shell of the displaced atom has the RMS
    of the nearest shell, except those whose weight hits the cap, which keep cap times their
    own; the shells are ASE's minimum-image distances from the displaced atom (the diamond
    shells at 2.35, 3.84, 4.50, 5.43 Å ... of the 2x2x2 supercell)."""
    from ase import Atoms

    samples, references, terms, phono = dft
    forces = np.concatenate([samples[r].forces.reshape(-1) for r in references])
    cell = phono.supercell
    atoms = Atoms(cell.symbols, positions=cell.positions, cell=cell.cell, pbc=True)
    first = phono.dataset["first_atoms"][0]["number"]
    distances = atoms.get_distances(first, np.arange(len(atoms)), mic=True)
    np.testing.assert_allclose(terms[0].distances, distances, atol=1e-8)
    shells = np.round(distances, 2)
    assert [int((shells == s).sum()) for s in np.unique(shells)[:5]] == [1, 4, 12, 12, 3]

    cap = 30.0
    balanced = balance_shells(terms[0], forces, cap)
    plain = _shell_rms((terms[0].scale * terms[0].references_matrix @ forces).reshape(-1, 3),
                       shells)
    got = _shell_rms((balanced.scale * balanced.references_matrix @ forces).reshape(-1, 3), shells)
    nearest = plain[2.35]
    capped = [s for s in plain if nearest / plain[s] > cap]
    assert capped and len(capped) < len(plain) - 3          # the cap matters, but not everywhere
    for shell in plain:                  # the displaced atom itself (0 Å) is scaled down to it
        want = cap * plain[shell] if shell in capped else nearest
        assert got[shell] == pytest.approx(want, rel=1e-12), shell
    with pytest.raises(ValueError, match="fc2 terms"):
        balance_shells(terms[1], forces, cap)


def test_shell_balance_reaches_the_training_terms():
    """``fc2_shell_balance`` in the training options reweights the fc2 term of the split and
    leaves the fc3 terms alone."""
    from potentials.training import prepare_datasets

    entry = {"name": "disp", "path": str(EXTXYZ), "labels": ["forces"], "validation_fraction": 0.2,
             "phono3py_yaml": str(YAML)}
    plain = prepare_datasets({"datasets": [entry]}, DATA, 0, fc_orders=(2, 3))["disp"]
    balanced = prepare_datasets({"datasets": [entry]}, DATA, 0, fc_orders=(2, 3),
                                shell_balance=30.0)["disp"]
    pairs = list(zip(plain.train_terms, balanced.train_terms))
    assert [a.order for a, _ in pairs].count(2) == 1
    for a, b in pairs:
        same = np.array_equal(a.references_matrix, b.references_matrix)
        assert same == (a.order == 3)
