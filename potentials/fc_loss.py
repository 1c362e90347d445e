"""Force-constant terms of the training loss, from a phono3py displacement set.

A model with a force RMSE of a few meV/Å can still have fc3 10-25 % off (``REFERENCES.md`` §2):
in a 0.03 Å displacement set the third-order part of the forces is under 1 meV/Å per component,
so a plain force loss hardly sees it.  The combinations below isolate the second- and
third-order parts of the forces of the set's own supercells, so that fc2 and fc3 errors can be
weighted on their own scale.  They are linear in the forces, hence they apply to the force
residuals F_model - F_ref, and they use nothing but the structures of the training split.

For a first displacement d1 of atom a (supercell ``s``) and the site symmetry of the crystal,
the harmonic response to a displacement u of any atom b,

    H(b, u) = sum_i (v_i . G^-1 u) T_i F(s_i),    G = sum_i v_i v_i^T,

averages the images T_i F(s_i) of the first-displacement forces under the space-group
operations that carry the displaced atom to b (displacement images v_i = R_i d1).  The image
set holds -v for every v, so the even (anharmonic) part cancels and H(b, u) = -Φ2 u + O(u^3).

* fc2 term of a first-displacement supercell:  Y = -H(a, d1) / |d1|  = Φ2 d1/|d1|  (eV/Å^2)
* fc3 term of a pair supercell (d1 at a, d2 at b):
      Y = [F(d1 + d2) - F(d1) - H(b, d2)] / (|d1| |d2|) = -[Φ3(d1, d2) + Φ3(d2, d2)/2] / (|d1||d2|)
  (eV/Å^3) up to O(d^3): a contraction of fc3 with the two displacements.

Each term is a matrix acting on the concatenated forces of the set's first-displacement
supercells (the references) plus, for pairs, the supercell's own forces.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from potentials.datasets import DatasetError


class DisplacementSetError(DatasetError):
    """A phono3py displacement set that does not match its structures."""


@dataclass
class ForceConstantTerm:
    """One loss term of a displacement-set supercell.

    ``Y = scale * (self_coefficient * F_self - references_matrix @ concat(F_references))``
    with forces flattened to [3n]; ``order`` is 2 (fc2 term, eV/Å^2) or 3 (fc3 term, eV/Å^3).
    """

    order: int
    self_coefficient: float
    references_matrix: np.ndarray    # [3n, 3n * n_references]
    scale: float                     # 1/Å (order 2) or 1/Å^2 (order 3)
    distances: np.ndarray | None = None   # [n] Å from the displaced atom (order 2)


def _space_group_images(cell: np.ndarray, fractional: np.ndarray, numbers: np.ndarray
                        ) -> list[tuple[np.ndarray, np.ndarray]]:
    """(Cartesian rotation [3, 3], atom map g [n] with atom i -> g[i]) of every operation."""
    import spglib

    symmetry = spglib.get_symmetry((cell, fractional, numbers), symprec=1e-5)
    if symmetry is None:
        raise DisplacementSetError("spglib found no symmetry for the perfect supercell")
    to_cartesian = cell.T
    images = []
    for rotation, translation in zip(symmetry["rotations"], symmetry["translations"]):
        moved = fractional @ rotation.T + translation
        delta = moved[:, None, :] - fractional[None, :, :]
        delta -= np.round(delta)
        match = np.linalg.norm(delta @ cell, axis=-1) < 1e-4
        if not np.all(match.sum(1) == 1):
            raise DisplacementSetError("a symmetry operation does not map atoms onto atoms")
        images.append((to_cartesian @ rotation @ np.linalg.inv(to_cartesian), match.argmax(1)))
    return images


def _force_map(rotation: np.ndarray, atom_map: np.ndarray) -> np.ndarray:
    """[3n, 3n] matrix of F -> F' with F'[g(i)] = R F[i]."""
    n = len(atom_map)
    matrix = np.zeros((n, 3, n, 3))
    matrix[atom_map, :, np.arange(n), :] = rotation
    return matrix.reshape(3 * n, 3 * n)


def _harmonic_response(atom: int, displacement: np.ndarray, firsts: list[tuple[int, np.ndarray]],
                       images: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    """[3n, 3n * n_references] matrix giving H(atom, displacement) from the reference forces."""
    vectors, blocks = [], []
    for reference, (first_atom, first_displacement) in enumerate(firsts):
        for rotation, atom_map in images:
            if atom_map[first_atom] == atom:
                vectors.append(rotation @ first_displacement)
                blocks.append((reference, _force_map(rotation, atom_map)))
    if not vectors:
        raise DisplacementSetError(f"no first displacement is symmetry-equivalent to atom {atom}")
    vectors = np.array(vectors)
    for v in vectors:
        if not np.any(np.linalg.norm(vectors + v, axis=1) < 1e-8):
            raise DisplacementSetError(
                f"the displacement images at atom {atom} lack -{np.round(v, 6).tolist()}: "
                "the harmonic response needs plus-minus displacements")
    gram = vectors.T @ vectors
    if np.linalg.matrix_rank(gram) < 3:
        raise DisplacementSetError(f"the displacement images at atom {atom} do not span 3D")
    coefficients = vectors @ np.linalg.solve(gram, displacement)
    matrix = np.zeros((3 * n, 3 * n * len(firsts)))
    for coefficient, (reference, block) in zip(coefficients, blocks):
        matrix[:, 3 * n * reference:3 * n * (reference + 1)] += coefficient * block
    return matrix


def displacement_terms(phono3py_yaml: str | Path, positions: list[np.ndarray]
                       ) -> tuple[list[int], list[ForceConstantTerm]]:
    """(indices of the first-displacement supercells, one term per supercell) of a phono3py set.

    ``positions``: the Cartesian positions (Å) of the dataset's structures, in the order of
    phono3py's ``supercells_with_displacements`` (pairs outside a pair cutoff left out); they
    are checked against the displacements of ``phono3py_yaml``.
    """
    import phono3py

    phono = phono3py.load(str(phono3py_yaml), produce_fc=False, log_level=0)
    dataset = phono.dataset
    if not dataset or "first_atoms" not in dataset:
        raise DisplacementSetError(f"{phono3py_yaml}: no fc3 displacement dataset (first_atoms)")
    supercell = phono.supercell
    n = len(supercell)
    firsts = [(int(f["number"]), np.asarray(f["displacement"], dtype=np.float64))
              for f in dataset["first_atoms"]]
    layout = [(None, first) for first in range(len(firsts))]
    for first, entry in enumerate(dataset["first_atoms"]):
        layout += [((int(s["number"]), np.asarray(s["displacement"], dtype=np.float64)), first)
                   for s in entry["second_atoms"] if s.get("included", True)]
    if len(layout) != len(positions):
        raise DisplacementSetError(f"{phono3py_yaml}: {len(layout)} displaced supercells, but the "
                                   f"dataset has {len(positions)} structures")
    images = _space_group_images(supercell.cell, supercell.scaled_positions, supercell.numbers)
    terms = []
    for index, ((second, first), structure) in enumerate(zip(layout, positions)):
        first_atom, d1 = firsts[first]
        expected = supercell.positions.copy()
        expected[first_atom] += d1
        if second is not None:
            expected[second[0]] += second[1]
        offset = (np.asarray(structure) - expected) @ np.linalg.inv(supercell.cell)
        if np.abs((offset - np.round(offset)) @ supercell.cell).max() > 1e-5:
            raise DisplacementSetError(f"structure {index} does not carry the displacements of "
                                       f"entry {index} of {phono3py_yaml}")
        if second is None:
            delta = supercell.scaled_positions - supercell.scaled_positions[first_atom]
            distances = np.linalg.norm((delta - np.round(delta)) @ supercell.cell, axis=1)
            response = _harmonic_response(first_atom, d1, firsts, images, n)
            terms.append(ForceConstantTerm(2, 0.0, response,
                                           1.0 / np.linalg.norm(d1), distances))
        else:
            matrix = _harmonic_response(second[0], second[1], firsts, images, n)
            matrix[:, 3 * n * first:3 * n * (first + 1)] += np.eye(3 * n)
            terms.append(ForceConstantTerm(3, 1.0, matrix,
                                           1.0 / (np.linalg.norm(d1) * np.linalg.norm(second[1]))))
    return list(range(len(firsts))), terms


def balance_shells(term: ForceConstantTerm, reference_forces: np.ndarray,
                   max_weight: float) -> ForceConstantTerm:
    """The fc2 term with each atom's rows weighted so that every neighbour shell of the
    displaced atom counts by its relative error: weight = (RMS of the reference Y over the
    nearest shell) / (RMS over the atom's shell), at most ``max_weight``.  Frequencies need
    every shell right to a few per cent, while the plain sum is all nearest shell.
    ``reference_forces``: the flattened reference forces the term combines (eV/Å)."""
    if term.order != 2 or term.distances is None:
        raise ValueError("shell balancing applies to fc2 terms with atom distances")
    y = (term.scale * term.references_matrix @ reference_forces).reshape(-1, 3)
    order = np.argsort(term.distances)
    shells = np.empty(len(order), dtype=int)       # 0: the displaced atom, 1: nearest, ...
    shells[order] = np.cumsum(np.r_[0, np.diff(term.distances[order]) > 1e-3])
    rms = np.array([np.sqrt(np.mean(y[shells == shell] ** 2)) for shell in range(shells.max() + 1)])
    atom_weight = np.minimum(max_weight, rms[1] / np.maximum(rms, 1e-30))[shells]
    return dataclasses.replace(term, references_matrix=np.repeat(atom_weight, 3)[:, None]
                               * term.references_matrix)
