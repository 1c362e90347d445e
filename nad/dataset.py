"""Reference data for the trap models: MD of a defective cell + direct tight binding.

For a cell of n×n primitive cells with chalcogen vacancies the band-edge problem is: one trap
level per vacancy below the conduction band minimum (CBM).  Along an MD trajectory this module
computes, per frame, the trap and CBM energies (eV) and the overlap NACs d_trap,CBM (1/fs) with
a sign convention shared by all trajectories (CBM: positive sum of metal amplitudes; trap:
positive sum on the metals around its vacancy), and the local descriptors of every vacancy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase import Atoms

from .descriptors import DefectEnvironment, descriptor_series
from .md import Trajectory, run_md
from .tight_binding import METAL, TBParameters, TightBinding, chalcogen_vacancies, honeycomb
from .trajectory import ElectronicTrajectory, eigenstates_near, electronic_trajectory


@dataclass
class DefectCell:
    """A defective n×n supercell: atoms, vacancy sites (Å) and one environment per vacancy."""

    n: int
    atoms: Atoms
    sites: np.ndarray
    environments: list[DefectEnvironment]

    @classmethod
    def build(cls, n: int, vacancies: int = 1, seed: int = 0, a: float = 3.16,
              r_local: float = 4.0, r_cut: float = 4.5) -> "DefectCell":
        """n×n honeycomb with ``vacancies`` chalcogen vacancies placed at random (``seed``)."""
        atoms, sites = chalcogen_vacancies(honeycomb(n, a), vacancies, seed,
                                           min_separation=min(20.0, 0.4 * n * a))
        envs = [DefectEnvironment.around(atoms, s, r_local, r_cut) for s in sites]
        return cls(n, atoms, sites, envs)

    @property
    def ncells(self) -> int:
        """Number of primitive cells N = n² (the √N scaling of band–trap couplings)."""
        return self.n * self.n

    def symbols(self) -> np.ndarray:
        return np.array(self.atoms.get_chemical_symbols())

    def descriptors(self, trajectory: Trajectory, descriptor) -> np.ndarray:
        """Local descriptors (nvac, nframes, n_local, dim) of every vacancy along a trajectory."""
        cell, pbc = np.array(self.atoms.cell), np.array(self.atoms.pbc)
        return np.stack([descriptor_series(descriptor, self.symbols(), trajectory.positions,
                                           cell, pbc, env) for env in self.environments])


def trap_window_shift(tb: TightBinding, positions: np.ndarray, k: int) -> float:
    """Eigensolver shift (eV) 0.25 eV below the lowest of the ``k`` states nearest
    ε_metal - 1 eV (inside the gap, near the traps, for the default parameters)."""
    w, _ = eigenstates_near(tb.hamiltonian(positions), tb.params.eps_metal - 1.0, k + 2)
    return float(w[0] - 0.25)


def trap_states(cell: DefectCell, trajectory: Trajectory, params: TBParameters | None = None,
                sigma: float | None = None) -> ElectronicTrajectory:
    """Direct TB along ``trajectory``: states [trap_1 .. trap_nvac, CBM].

    sigma: shift (eV) of the eigensolver; default 0.25 eV below the deepest trap of frame 0
    (found among the states nearest ε_metal - 1 eV, inside the gap for the default parameters).
    Trap j is the state with the largest weight on the metal shell of vacancy j; with several
    vacancies states are tracked by overlap (trap levels of distant vacancies cross freely).
    The first frame's phases follow the sign convention of this module, later ones continuity.
    """
    tb = TightBinding(cell.atoms, params)
    nvac = len(cell.environments)
    k = nvac + 1
    if sigma is None:
        sigma = trap_window_shift(tb, trajectory.positions[0], k)
    _, v0 = eigenstates_near(tb.hamiltonian(trajectory.positions[0]), sigma, k)
    shells = [env.center_atoms for env in cell.environments]
    shell_weight = np.array([np.sum(v0[sites] ** 2, axis=0) for sites in shells])  # (nvac, k)
    owner = list(np.argmax(shell_weight, axis=1))  # energy position of each vacancy's trap
    if len(set(owner)) != nvac:
        raise RuntimeError("trap states could not be assigned to vacancies (overlapping traps)")
    order = owner + [p for p in range(k) if p not in owner]
    reference = np.zeros((len(cell.atoms), k))
    for j, p in enumerate(owner):
        reference[shells[j], p] = 1.0
    reference[:, order[-1]] = cell.symbols() == METAL
    et = electronic_trajectory(tb.hamiltonian, trajectory.positions, trajectory.dt, sigma, k,
                               track=nvac > 1, site_groups=shells, phase_reference=reference)
    et.energies = et.energies[:, order]
    et.nac = et.nac[:, order][:, :, order]
    et.ipr = et.ipr[:, order]
    et.site_weight = et.site_weight[:, order]
    return et


def midpoints(series: np.ndarray) -> np.ndarray:
    """Values (..., nf - 1) on the intervals (midpoints) of a series (..., nf) given at frames."""
    return 0.5 * (series[..., 1:] + series[..., :-1])


@dataclass
class TrapData:
    """Per-vacancy training data of one trajectory (nv vacancies, nf frames, L local atoms).

    depth: (nv, nf) E_CBM - E_trap in eV; coupling: (nv, nf - 1) ⟨trap|dH/dt|CBM⟩ in eV/fs on
    each interval; q: (nv, nf, L, dim) descriptors; dt in fs; ncells: primitive cells N.
    """

    depth: np.ndarray
    coupling: np.ndarray
    q: np.ndarray
    dt: float
    ncells: int


def trap_data(cell: DefectCell, trajectory: Trajectory, descriptor,
              states: ElectronicTrajectory) -> TrapData:
    """Training targets and descriptors from a trajectory and its direct-TB ``trap_states``."""
    nvac = len(cell.environments)
    e = states.energies
    depth = (e[:, nvac][None, :] - e[:, :nvac].T)
    coupling = states.nac[:, np.arange(nvac), nvac].T * midpoints(depth)
    return TrapData(depth, coupling, cell.descriptors(trajectory, descriptor), trajectory.dt,
                    cell.ncells)


def simulate_cell(n: int, nframes: int, vacancies: int = 1, temperature: float = 300.0,
                  dt: float = 1.0, seed: int = 0, params: TBParameters | None = None,
                  equilibration: int = 500) -> tuple[DefectCell, Trajectory]:
    """Build an n×n defective cell and run ground-state Langevin MD (frames every dt fs)."""
    cell = DefectCell.build(n, vacancies, seed, a=(params or TBParameters()).a)
    traj = run_md(cell.atoms, nframes, temperature, dt, equilibration=equilibration,
                  seed=seed + 1000)
    return cell, traj
