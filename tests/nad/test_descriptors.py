"""Local descriptors: locality (size independence), invariance, defect environments."""
from __future__ import annotations

import numpy as np

from nad.descriptors import DefectEnvironment, descriptors, local_descriptors, make_descriptor
from nad.tight_binding import chalcogen_vacancies, honeycomb


def _vacancy_descriptors(n: int, kind: str) -> np.ndarray:
    atoms, sites = chalcogen_vacancies(honeycomb(n), 1, rng=5)
    env = DefectEnvironment.around(atoms, sites[0])
    return local_descriptors(make_descriptor(kind), np.array(atoms.get_chemical_symbols()),
                             atoms.positions, np.array(atoms.cell), atoms.pbc, env)


def test_vacancy_environment_is_the_same_in_small_and_large_cells():
    for kind in ("soap", "acsf"):
        small, large = _vacancy_descriptors(12, kind), _vacancy_descriptors(30, kind)
        assert small.shape == large.shape and small.shape[0] == 12
        assert np.allclose(small, large, atol=1e-10)


def test_environment_shells_and_invariance():
    atoms, sites = chalcogen_vacancies(honeycomb(12), 1, rng=1)
    env = DefectEnvironment.around(atoms, sites[0])
    symbols = np.array(atoms.get_chemical_symbols())
    assert list(symbols[env.center_atoms]) == ["Mo"] * 3
    assert list(symbols[env.local]).count("S") == 6
    desc = make_descriptor("soap")
    cell, pbc = np.array(atoms.cell), atoms.pbc
    base = local_descriptors(desc, symbols, atoms.positions, cell, pbc, env)
    shifted = atoms.positions + np.array([7.3, -2.1, 0.0])                 # translation
    assert np.allclose(local_descriptors(desc, symbols, shifted, cell, pbc, env), base,
                       atol=1e-8)
    rng = np.random.default_rng(0)
    moved = atoms.positions + rng.normal(scale=0.05, size=atoms.positions.shape)
    assert not np.allclose(local_descriptors(desc, symbols, moved, cell, pbc, env), base)


def test_periodic_wrapper_matches_cluster_descriptors_of_the_pristine_lattice():
    atoms = honeycomb(8)
    soap = descriptors(atoms, [0, 1], "soap")
    assert soap.shape[0] == 2
    other = descriptors(atoms, [2, 3], "soap")           # equivalent sites, same descriptors
    assert np.allclose(soap, other, atol=1e-10)
