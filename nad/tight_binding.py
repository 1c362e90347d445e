"""Position-dependent tight binding of a MoS2-like honeycomb monolayer (the DFT-free reference).

One orbital per site on a flat honeycomb lattice: metal sites (``Mo``) and chalcogen sites
(``S``).  Hoppings t(r) = t0·exp(-β(r/r0 - 1))·f_c(r) for metal–chalcogen nearest neighbours
(r0 = d0 = a/√3) and for metal–metal and chalcogen–chalcogen second neighbours (r0 = a), with a
C² smooth cutoff f_c between two shells.  On-site energies drop when a site loses neighbours,
ε_i = ε_0 - U·(z_0 - z_i), with the smooth coordination z_i = Σ_j f_c(r_ij) over its nearest
neighbours; a metal next to a chalcogen vacancy therefore sits U lower, and the three metals
around a vacancy bind a localised trap level below the conduction band minimum (CBM).  With the
default parameters the band edges lie at Γ, so Γ-point supercells hold them for every size.

Units: length Å, energy eV.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from ase import Atoms
from ase.neighborlist import neighbor_list

METAL, CHALCOGEN = "Mo", "S"


@dataclass(frozen=True)
class TBParameters:
    """Tight-binding parameters (energies eV, lengths Å, β dimensionless).

    a: lattice constant; eps_metal/eps_chalcogen: on-site energies of fully coordinated sites;
    t_mx, t_mm, t_xx: hoppings at the ideal distances; beta: distance decay; u_metal/u_chalcogen:
    on-site drop per missing nearest neighbour; the cutoff of each shell runs smoothly from
    ``cut_on`` to ``cut_off`` times its ideal distance.
    """

    a: float = 3.16
    eps_metal: float = 2.0
    eps_chalcogen: float = -2.0
    t_mx: float = -0.6
    t_mm: float = -0.3
    t_xx: float = -0.1
    beta: float = 5.0
    u_metal: float = 0.25
    u_chalcogen: float = 0.25
    cut_on: float = 1.2
    cut_off: float = 1.45

    @property
    def d0(self) -> float:
        """Metal–chalcogen nearest-neighbour distance (Å)."""
        return self.a / np.sqrt(3.0)


def smooth_cutoff(r: np.ndarray, r_on: float, r_off: float) -> tuple[np.ndarray, np.ndarray]:
    """C² switch f (1 below r_on, 0 above r_off) and its derivative df/dr (1/Å)."""
    x = np.clip((r - r_on) / (r_off - r_on), 0.0, 1.0)
    f = 1.0 - x ** 3 * (10.0 - 15.0 * x + 6.0 * x * x)
    df = -30.0 * x * x * (1.0 - x) ** 2 / (r_off - r_on)
    return f, df


def honeycomb(n: int, a: float = 3.16, vacuum: float = 20.0) -> Atoms:
    """Flat n×n honeycomb supercell: metals at the lattice points, chalcogens at (a1 + a2)/3.

    Cell vectors n·a1, n·a2 (a1 = a(1, 0), a2 = a(1/2, √3/2)) and ``vacuum`` Å along z;
    periodic in-plane only.  Atoms are ordered metal, chalcogen per primitive cell.
    """
    if n < 2:
        raise ValueError(f"n: supercell size must be at least 2, got {n}")
    a1 = np.array([a, 0.0, 0.0])
    a2 = np.array([0.5 * a, 0.5 * np.sqrt(3.0) * a, 0.0])
    i, j = np.meshgrid(np.arange(n), np.arange(n), indexing="ij")
    lattice = i.reshape(-1, 1) * a1 + j.reshape(-1, 1) * a2
    shift = (a1 + a2) / 3.0
    positions = np.stack([lattice, lattice + shift], axis=1).reshape(-1, 3)
    positions[:, 2] = 0.5 * vacuum
    symbols = [METAL, CHALCOGEN] * (n * n)
    return Atoms(symbols, positions=positions, cell=[n * a1, n * a2, [0, 0, vacuum]],
                 pbc=[True, True, False])


def chalcogen_vacancies(atoms: Atoms, count: int, rng: np.random.Generator | int = 0,
                        min_separation: float = 8.0) -> tuple[Atoms, np.ndarray]:
    """Remove ``count`` chalcogen atoms at random sites at least ``min_separation`` Å apart.

    Returns (defective atoms, Cartesian positions (count, 3) of the removed sites in Å).
    """
    rng = np.random.default_rng(rng)
    x_idx = np.nonzero(np.array(atoms.get_chemical_symbols()) == CHALCOGEN)[0]
    if not 0 <= count <= x_idx.size:
        raise ValueError(f"count: {count} vacancies but only {x_idx.size} chalcogen sites")
    chosen: list[int] = []
    for candidate in rng.permutation(x_idx):
        if len(chosen) == count:
            break
        if chosen:
            d = atoms.get_distances(int(candidate), chosen, mic=True)
            if d.min() < min_separation:
                continue
        chosen.append(int(candidate))
    if len(chosen) < count:
        raise ValueError(f"count: cannot place {count} vacancies {min_separation} Å apart")
    sites = atoms.positions[chosen].copy()
    defective = atoms.copy()
    del defective[chosen]
    return defective, sites


def vacancy_concentration(atoms: Atoms, n: int) -> float:
    """Fraction of the n·n chalcogen sites of an n×n cell that are empty."""
    return 1.0 - sum(s == CHALCOGEN for s in atoms.get_chemical_symbols()) / (n * n)


class TightBinding:
    """The position-dependent TB Hamiltonian of one fixed set of atoms (its bond topology).

    The candidate pairs (with their periodic image shifts) are found once from the reference
    structure; positions may then move (thermal motion) as long as no pair enters a cutoff shell
    from outside the candidate list, which holds for a solid far below melting.
    """

    def __init__(self, atoms: Atoms, params: TBParameters | None = None):
        self.params = params or TBParameters()
        p = self.params
        self.symbols = np.array(atoms.get_chemical_symbols())
        self.is_metal = self.symbols == METAL
        self.cell = np.array(atoms.cell)
        self.natoms = len(atoms)
        i, j, shifts = neighbor_list("ijS", atoms, p.cut_off * p.a + 0.3)
        keep = i < j
        self.i, self.j = i[keep], j[keep]
        self.shift_vectors = shifts[keep] @ self.cell
        same = self.is_metal[self.i] == self.is_metal[self.j]
        metal_pair = self.is_metal[self.i] & same
        self.r0 = np.where(same, p.a, p.d0)
        self.t0 = np.where(same, np.where(metal_pair, p.t_mm, p.t_xx), p.t_mx)
        self.nn = ~same
        self.eps0 = np.where(self.is_metal, p.eps_metal, p.eps_chalcogen)
        self.u = np.where(self.is_metal, p.u_metal, p.u_chalcogen)

    def _pairs(self, positions: np.ndarray):
        vec = positions[self.j] - positions[self.i] + self.shift_vectors
        r = np.linalg.norm(vec, axis=1)
        f, df = smooth_cutoff(r, self.params.cut_on * self.r0, self.params.cut_off * self.r0)
        return vec, r, f, df

    def onsite(self, positions: np.ndarray) -> np.ndarray:
        """On-site energies ε_i (eV) from the smooth nearest-neighbour coordination."""
        _, _, f, _ = self._pairs(positions)
        z = np.bincount(self.i, weights=f * self.nn, minlength=self.natoms)
        z += np.bincount(self.j, weights=f * self.nn, minlength=self.natoms)
        return self.eps0 - self.u * (3.0 - z)

    def hamiltonian(self, positions: np.ndarray) -> sp.csr_matrix:
        """Γ-point Hamiltonian (natoms × natoms, sparse CSR, eV) at Cartesian positions (Å)."""
        p = self.params
        _, r, f, _ = self._pairs(positions)
        z = np.bincount(self.i, weights=f * self.nn, minlength=self.natoms)
        z += np.bincount(self.j, weights=f * self.nn, minlength=self.natoms)
        eps = self.eps0 - self.u * (3.0 - z)
        t = self.t0 * np.exp(-p.beta * (r / self.r0 - 1.0)) * f
        n = self.natoms
        rows = np.concatenate([self.i, self.j, np.arange(n)])
        cols = np.concatenate([self.j, self.i, np.arange(n)])
        vals = np.concatenate([t, t, eps])
        return sp.csr_matrix((vals, (rows, cols)), shape=(n, n))
