"""Strained crystals and κ as a function of strain.

Strain ε is the dimensionless symmetric (3, 3) small-strain tensor in Cartesian axes; a cell
with lattice vectors as rows becomes cell (I + ε)ᵀ.  Lengths Å, forces eV/Å, κ W m^-1 K^-1.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.constraints import FixSymmetry
from ase.optimize import BFGS

from .force_constants import DEFAULT_DISPLACEMENT, compute_force_constants
from .kappa import bulk_kappa
from .nac import NacParams


def strain_tensor(kind: str, epsilon: float,
                  direction: Sequence[float] = (0.0, 0.0, 1.0)) -> np.ndarray:
    """(3, 3) strain of magnitude ``epsilon`` (0.01 = 1 %).

    kind: "hydrostatic" ε I; "uniaxial" ε n nᵀ along ``direction`` n; "biaxial" ε (I - n nᵀ),
    equal strain in the plane normal to ``direction``.
    """
    n = np.asarray(direction, dtype=np.float64)
    n = n / np.linalg.norm(n)
    if kind == "hydrostatic":
        return epsilon * np.eye(3)
    if kind == "uniaxial":
        return epsilon * np.outer(n, n)
    if kind == "biaxial":
        return epsilon * (np.eye(3) - np.outer(n, n))
    raise ValueError(f"unknown strain kind {kind!r}; use hydrostatic, uniaxial or biaxial")


def _as_tensor(strain: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """A number (hydrostatic), 3 numbers (diagonal) or a symmetric (3, 3) tensor -> (3, 3)."""
    s = np.asarray(strain, dtype=np.float64)
    if s.ndim == 0:
        return float(s) * np.eye(3)
    if s.shape == (3,):
        return np.diag(s)
    if s.shape != (3, 3):
        raise ValueError(f"strain must be a number, 3 numbers or a 3x3 tensor, got shape "
                         f"{s.shape}")
    if not np.allclose(s, s.T, atol=1e-12):
        raise ValueError("the strain tensor must be symmetric (an antisymmetric part is a "
                         "rotation, not a strain)")
    return s


def strain_cell(atoms: Atoms, strain: float | Sequence[float] | np.ndarray,
                calculator: Calculator, *, fmax: float = 1e-4, steps: int = 500,
                symprec: float = 1e-5) -> Atoms:
    """``atoms`` with its cell strained by ``strain`` (see :func:`strain_tensor`; a number is
    hydrostatic) and the internal coordinates relaxed with ``calculator`` by ASE's BFGS to
    forces below ``fmax`` eV/Å, keeping the symmetry the strained cell has (ase FixSymmetry).
    Returns a new Atoms without calculator; raises RuntimeError when not converged in
    ``steps``."""
    eps = _as_tensor(strain)
    strained = atoms.copy()
    strained.set_cell(np.array(atoms.cell) @ (np.eye(3) + eps).T, scale_atoms=True)
    strained.calc = calculator
    strained.set_constraint(FixSymmetry(strained, symprec=symprec))
    optimizer = BFGS(strained, logfile=None)
    if not optimizer.run(fmax=fmax, steps=steps):
        raise RuntimeError(f"internal relaxation of the strained cell did not reach fmax = "
                           f"{fmax:g} eV/A in {steps} steps")
    strained.set_constraint()
    strained.calc = None
    return strained


@dataclass
class StrainSweepResult:
    """κ versus strain: strains (n, 3, 3); temperatures (n_T,) K; kappa (n, n_T, 3, 3)
    W m^-1 K^-1; mesh (3,) q-mesh; method "rta"/"lbte"; is_isotope."""

    strains: np.ndarray
    temperatures: np.ndarray
    kappa: np.ndarray
    mesh: np.ndarray
    method: str
    is_isotope: bool

    @property
    def kappa_average(self) -> np.ndarray:
        """trace(κ)/3, (n, n_T) W m^-1 K^-1."""
        return np.trace(self.kappa, axis1=-2, axis2=-1) / 3.0

    def relative_change(self, reference: int = 0) -> np.ndarray:
        """trace(κ)/3 relative to the strain at index ``reference``, minus 1, (n, n_T)."""
        avg = self.kappa_average
        return avg / avg[reference] - 1.0


def strain_sweep(atoms: Atoms, calculator: Calculator,
                 strains: Sequence[float | np.ndarray],
                 supercell_matrix: Sequence[int] | np.ndarray = (2, 2, 2), *,
                 mesh: Sequence[int] = (11, 11, 11), temperatures: Sequence[float] = (300.0,),
                 method: str = "rta", is_isotope: bool = False,
                 displacement: float = DEFAULT_DISPLACEMENT,
                 cache_dir: str | Path | None = None, fmax: float = 1e-4,
                 born: str | Path | NacParams | None = None,
                 nac: bool | None = None) -> StrainSweepResult:
    """κ(ε): for each strain, strain and relax the cell (:func:`strain_cell`), compute force
    constants with ``calculator`` and bulk κ on ``mesh`` at ``temperatures`` (K).  With
    ``cache_dir`` each strain caches its forces in ``cache_dir/strain-NNN``.  born/nac: the
    non-analytic correction of a polar crystal (see :func:`compute_force_constants`; the Born
    charges of the unstrained crystal are used at every strain)."""
    tensors = np.array([_as_tensor(s) for s in strains])
    kappas = []
    for k, eps in enumerate(tensors):
        cell = strain_cell(atoms, eps, calculator, fmax=fmax)
        fc = compute_force_constants(
            cell, calculator, supercell_matrix, displacement=displacement,
            cache_dir=None if cache_dir is None else Path(cache_dir) / f"strain-{k:03d}",
            born=born, nac=nac)
        kappas.append(bulk_kappa(fc, mesh, temperatures, method=method,
                                 is_isotope=is_isotope).kappa)
    return StrainSweepResult(strains=tensors, temperatures=np.asarray(temperatures, float),
                             kappa=np.array(kappas), mesh=np.asarray(mesh), method=method,
                             is_isotope=is_isotope)
