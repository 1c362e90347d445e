"""Force constants: DFT data (REFERENCES §2) through both the loader and the calculator path,
phono3py-readable output files, the force cache, failing calculators and symmetry failures."""
from __future__ import annotations

import numpy as np
import pytest
from ase.calculators.calculator import Calculator, all_changes
from ase.io import read
from phonons_refdata import (
    DATA,
    FREQ_GAMMA_OPTICAL,
    FREQ_L,
    FREQ_X,
    Q_GAMMA,
    Q_L,
    Q_X,
    distinct,
    tersoff,
)

import phonons
from phonons import ForceEvaluationError, SymmetryError, compute_force_constants
from phonons.modes import harmonic_frequencies


def _dft_table() -> dict[bytes, np.ndarray]:
    """DFT forces (eV/Å) of the 111 displaced supercells keyed by their rounded positions."""
    import phono3py
    ph3 = phono3py.load(DATA / "phono3py_disp.yaml", forces_fc3_filename=DATA / "FORCES_FC3",
                        produce_fc=False, log_level=0)
    return {np.round(cell.positions, 6).tobytes(): forces
            for cell, forces in zip(ph3.supercells_with_displacements, ph3.forces)}


class DFTLookup(Calculator):
    """An ASE calculator returning the stored VASP forces of a displaced supercell; any other
    structure is an error.  ``fail_on`` (a set of call numbers, 0-based) makes calls fail."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, table, fail_on=()):
        super().__init__()
        self.table, self.fail_on, self.calls = table, set(fail_on), 0

    def calculate(self, atoms=None, properties=("forces",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        call, self.calls = self.calls, self.calls + 1
        if call in self.fail_on:
            raise RuntimeError("SCF did not converge")
        self.results = {"energy": 0.0,
                        "forces": self.table[np.round(self.atoms.positions, 6).tobytes()]}


class BatchedLookup:
    """Duck-typed batched evaluator (as potentials.MLCalculator): evaluate_batch only."""

    def __init__(self, table):
        self.table, self.batches = table, []

    def evaluate_batch(self, atoms_list):
        self.batches.append(len(atoms_list))
        return [{"energy": 0.0, "stress": np.zeros(6),
                 "forces": self.table[np.round(a.positions, 6).tobytes()]} for a in atoms_list]


@pytest.fixture(scope="module")
def dft_table():
    return _dft_table()


def _assert_dft_frequencies(fc):
    gamma, x, l_point = harmonic_frequencies(fc, [Q_GAMMA, Q_X, Q_L])
    assert gamma[3:] == pytest.approx([FREQ_GAMMA_OPTICAL] * 3, abs=0.01)
    assert np.abs(gamma[:3]).max() < 1e-3
    assert distinct(x) == pytest.approx(FREQ_X, abs=0.01)
    assert distinct(l_point) == pytest.approx(FREQ_L, abs=0.01)


def test_loaded_dft_frequencies(dft_fc):
    _assert_dft_frequencies(dft_fc)
    # symmetrised: acoustic sum rule of fc2 holds to machine precision
    assert np.abs(dft_fc.fc2.sum(axis=1)).max() < 1e-10


def test_calculator_path_reproduces_dft(tmp_path, dft_table):
    """The DFT forces served by an ASE calculator: same displacement set, same phonons."""
    unitcell = read(DATA / "POSCAR-unitcell", format="vasp")
    calc = DFTLookup(dft_table)
    fc = compute_force_constants(unitcell, calc, (2, 2, 2), cache_dir=tmp_path / "cache")
    assert calc.calls == 111
    assert len(list((tmp_path / "cache" / "fc3").glob("*.npz"))) == 111
    _assert_dft_frequencies(fc)


def test_batched_evaluator_is_used(dft_table):
    unitcell = read(DATA / "POSCAR-unitcell", format="vasp")
    calc = BatchedLookup(dft_table)
    fc = compute_force_constants(unitcell, calc, (2, 2, 2), batch_size=50)
    assert calc.batches == [50, 50, 11]
    _assert_dft_frequencies(fc)


def test_failing_displacement_named_and_run_resumes(tmp_path, dft_table):
    unitcell = read(DATA / "POSCAR-unitcell", format="vasp")
    with pytest.raises(ForceEvaluationError, match=r"fc3 displacement 38 of 111") as err:
        compute_force_constants(unitcell, DFTLookup(dft_table, fail_on={37}), (2, 2, 2),
                                cache_dir=tmp_path)
    assert err.value.index == 37 and err.value.kind == "fc3"
    assert sorted(err.value.forces) == list(range(37))
    assert "SCF did not converge" in str(err.value)
    assert len(list((tmp_path / "fc3").glob("*.npz"))) == 37      # computed forces kept
    resumed = DFTLookup(dft_table)
    fc = compute_force_constants(unitcell, resumed, (2, 2, 2), cache_dir=tmp_path)
    assert resumed.calls == 111 - 37
    _assert_dft_frequencies(fc)


def test_failure_without_cache_keeps_forces_in_error(dft_table):
    unitcell = read(DATA / "POSCAR-unitcell", format="vasp")
    with pytest.raises(ForceEvaluationError, match="displacement 1 of 111") as err:
        compute_force_constants(unitcell, DFTLookup(dft_table, fail_on={0}), (2, 2, 2))
    assert err.value.forces == {}


def test_written_files_read_by_phono3py(tmp_path, dft_fc):
    """phono3py's own loader reads phono3py_disp.yaml + fc2.hdf5 + fc3.hdf5 as written."""
    import phono3py
    paths = dft_fc.write(tmp_path)
    assert [p.name for p in paths] == ["phono3py_disp.yaml", "fc2.hdf5", "fc3.hdf5"]
    ph3 = phono3py.load(tmp_path / "phono3py_disp.yaml", fc2_filename=tmp_path / "fc2.hdf5",
                        fc3_filename=tmp_path / "fc3.hdf5", log_level=0)
    assert len(ph3.supercells_with_displacements) == 111
    assert ph3.fc3.shape == (2, 64, 64, 3, 3, 3)
    ph3.mesh_numbers = [1, 1, 1]
    ph3.init_phph_interaction()
    ph3.run_phonon_solver()
    gamma = ph3.get_phonon_data()[0][0]
    assert gamma[3:] == pytest.approx([FREQ_GAMMA_OPTICAL] * 3, abs=0.01)
    # and our loader's hdf5 path (the yaml without forces)
    (tmp_path / "yaml").mkdir()
    for name in ("fc2.hdf5", "fc3.hdf5"):
        (tmp_path / "yaml" / name).write_bytes((tmp_path / name).read_bytes())
    (tmp_path / "yaml" / "phono3py_disp.yaml").write_text(
        (DATA / "phono3py_disp.yaml").read_text())
    _assert_dft_frequencies(phonons.load_force_constants(tmp_path / "yaml" /
                                                         "phono3py_disp.yaml"))


def test_symmetry_failure_is_clear(silicon_tersoff):
    atoms = silicon_tersoff.copy()
    atoms.positions[1] = atoms.positions[0]            # two atoms on top of each other
    with pytest.raises(SymmetryError, match="symmetry search failed"):
        compute_force_constants(atoms, tersoff(), (1, 1, 1))


def test_pair_cutoff_skips_far_pairs(silicon_tersoff, tersoff_fc):
    """With a 3 Å pair cutoff only first-neighbour pairs are displaced; the harmonic part
    (fc2 from single displacements) is unaffected: Γ optical of Tersoff as without cutoff."""
    counter = tersoff()
    calls = []
    original = counter.calculate

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    counter.calculate = counting
    fc = compute_force_constants(silicon_tersoff, counter, (2, 2, 2), cutoff_pair_distance=3.0)
    assert len(calls) < 111
    # fc2 depends only on the single displacements, which the cutoff never skips
    assert harmonic_frequencies(fc, [Q_X]) == pytest.approx(
        harmonic_frequencies(tersoff_fc, [Q_X]), abs=1e-8)


@pytest.mark.slow
def test_symfc_on_dft_set():
    """REFERENCES §2: symfc on the DFT finite-displacement set gives κ = 109.13 (11³)."""
    fc = phonons.load_force_constants(DATA / "phono3py_disp.yaml", DATA / "FORCES_FC3",
                                      fc_calculator="symfc")
    kappa = phonons.bulk_kappa(fc, (11, 11, 11), [300.0]).kappa_average[0]
    assert kappa == pytest.approx(109.13, rel=2e-3)


@pytest.mark.slow
def test_random_displacements_with_symfc():
    """REFERENCES §2: Stillinger-Weber (a0 = 5.4309 Å, 2x2x2, 0.03 Å, RTA 11³, 300 K) gives
    501.2 W/mK from the full finite-displacement set, and 40 random 64-atom snapshots fitted
    with symfc reproduce it within 0.5 % there; seeds differ, so 1.5 % here."""
    from ase.build import bulk

    from workflows.calculators import make_calculator
    si = bulk("Si", "diamond", a=5.4309, cubic=True)
    fc = compute_force_constants(si, make_calculator("sw"), (2, 2, 2), n_random=40,
                                 random_seed=1)
    kappa = phonons.bulk_kappa(fc, (11, 11, 11), [300.0]).kappa_average[0]
    assert kappa == pytest.approx(501.2, rel=0.015)


def test_strained_cell_round_trip(tmp_path, silicon_tersoff):
    """A relaxed, uniaxially strained (tetragonal) cell written and loaded back gives the same
    κ: a fractional coordinate of 1 − 1e-17 used to be wrapped differently after the yaml round
    trip, which reordered the supercell and scrambled the reloaded force constants (κ_xx 38
    instead of 225 W/mK)."""
    strain = phonons.strain_tensor("uniaxial", 0.0056, (1, 0, 0))
    cell = phonons.strain_cell(silicon_tersoff, strain, tersoff())
    fc = compute_force_constants(cell, tersoff(), (2, 2, 2), displacement=0.03)
    fc.write(tmp_path)
    loaded = phonons.load_force_constants(tmp_path / "phono3py_disp.yaml")
    kappa = phonons.mode_properties(fc, (5, 5, 5), 300.0).kappa()
    again = phonons.mode_properties(loaded, (5, 5, 5), 300.0).kappa()
    np.testing.assert_allclose(np.diag(again), np.diag(kappa), rtol=1e-3)


@pytest.mark.parametrize("other_worker", ["writes the same entry", "removes the cache"])
def test_other_batch_worker_between_write_and_rename(tmp_path, monkeypatch, other_worker):
    """Batch workers computing the same stage share its force cache: another worker may write
    the same entry, or finish the stage and remove the cache, between our write and rename.
    Neither may make our evaluation fail."""
    import shutil

    from ase.build import bulk

    from phonons import force_constants as module
    atoms = bulk("Si", cubic=True)
    forces = np.arange(24.0).reshape(8, 3)
    path = tmp_path / "fc3" / "disp-00001.npz"
    real_savez = np.savez
    others: list[str] = []

    def savez_then_other_worker(file, **arrays):
        real_savez(file, **arrays)
        if not others:
            others.append(str(file))
            if other_worker == "writes the same entry":
                module._write_cached(path, atoms, forces + 1)
            else:
                shutil.rmtree(path.parent)

    monkeypatch.setattr(module.np, "savez", savez_then_other_worker)
    module._write_cached(path, atoms, forces)
    assert len(others) == 1
    if other_worker == "writes the same entry":
        np.testing.assert_array_equal(module._read_cached(path, atoms), forces)
        assert [p.name for p in path.parent.iterdir()] == ["disp-00001.npz"]
    else:
        assert not path.parent.exists()
