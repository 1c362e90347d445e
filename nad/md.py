"""Classical ground-state MD that drives the electronic model (the classical path).

:class:`HarmonicNetwork` is a simple ASE calculator: harmonic springs on the nearest-neighbour
(metal–chalcogen) and second-neighbour (like-atom) bonds of the reference structure.  Any ASE
calculator (e.g. the ML potentials of ``potentials``) can be passed to :func:`run_md` instead.
Units: length Å, energy eV, time fs, temperature K, mass amu.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms, units
from ase.calculators.calculator import Calculator, all_changes
from ase.constraints import FixCartesian
from ase.md.langevin import Langevin
from ase.md.velocitydistribution import MaxwellBoltzmannDistribution, Stationary
from ase.neighborlist import neighbor_list


class HarmonicNetwork(Calculator):
    """Harmonic bonds E = Σ ½k(r - r_ref)² on the pairs of the reference structure.

    k_nearest (eV/Å²) for pairs closer than ``split`` Å, k_second beyond it up to ``cutoff`` Å;
    r_ref are the reference distances.  The bond list is fixed at construction.
    """

    implemented_properties = ["energy", "forces"]

    def __init__(self, reference: Atoms, k_nearest: float = 8.0, k_second: float = 2.0,
                 cutoff: float = 3.6, split: float = 2.5):
        super().__init__()
        i, j, shifts, dist = neighbor_list("ijSd", reference, cutoff)
        keep = i < j
        self.i, self.j = i[keep], j[keep]
        self.shift_vectors = shifts[keep] @ np.array(reference.cell)
        self.r_ref = dist[keep]
        self.k = np.where(self.r_ref < split, k_nearest, k_second)

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        pos = self.atoms.positions
        vec = pos[self.j] - pos[self.i] + self.shift_vectors
        r = np.linalg.norm(vec, axis=1)
        stretch = r - self.r_ref
        pair_force = (self.k * stretch / r)[:, None] * vec  # force on i, minus on j
        forces = np.zeros_like(pos)
        np.add.at(forces, self.i, pair_force)
        np.add.at(forces, self.j, -pair_force)
        self.results = {"energy": float(0.5 * np.sum(self.k * stretch ** 2)), "forces": forces}


@dataclass
class Trajectory:
    """MD frames every ``dt`` fs: positions and velocities (nframes, natoms, 3) in Å and Å/fs."""

    positions: np.ndarray
    velocities: np.ndarray
    dt: float
    temperature: float


def run_md(atoms: Atoms, nframes: int, temperature: float = 300.0, dt: float = 1.0,
           calculator: Calculator | None = None, equilibration: int = 500,
           friction: float = 0.01, stride: int = 1, planar: bool = True,
           seed: int = 0) -> Trajectory:
    """Langevin MD (ASE) at ``temperature`` K with time step ``dt`` fs; frames every stride·dt.

    calculator: default :class:`HarmonicNetwork` of ``atoms``; equilibration: steps discarded
    first; friction: Langevin friction in 1/fs; planar: keep z fixed (a flat monolayer model).
    """
    atoms = atoms.copy()
    atoms.calc = calculator if calculator is not None else HarmonicNetwork(atoms)
    if planar:
        atoms.set_constraint(FixCartesian(np.arange(len(atoms)), mask=(False, False, True)))
    rng = np.random.default_rng(seed)
    MaxwellBoltzmannDistribution(atoms, temperature_K=temperature, rng=rng)
    if planar:
        momenta = atoms.get_momenta()
        momenta[:, 2] = 0.0
        atoms.set_momenta(momenta)
    Stationary(atoms)
    dyn = Langevin(atoms, dt * units.fs, temperature_K=temperature,
                   friction=friction / units.fs, rng=rng)
    dyn.run(equilibration)
    positions = np.empty((nframes, len(atoms), 3))
    velocities = np.empty_like(positions)
    to_fs = units.fs  # ASE velocity unit is Å / (ASE time); Å/fs = v·units.fs
    for f in range(nframes):
        if f:
            dyn.run(stride)
        positions[f] = atoms.positions
        velocities[f] = atoms.get_velocities() * to_fs
    return Trajectory(positions, velocities, dt * stride, temperature)
