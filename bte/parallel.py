"""MPI scale-out of the steady solver: the (band, direction) pairs that hold modes are dealt
round-robin over the ranks (the i-th such pair goes to rank i mod size, so any rank count
works; with isotropic bands every pair t = b·n_dir + k holds modes), every rank
holds the whole mesh, and one Allreduce per iteration sums the partial moments and the
outgoing boundary values.  Everything after that reduction (boundary update, synthetic
correction) is the same on every rank.

MPI is used only when the process was started by an MPI launcher (mpirun/mpiexec/srun set
their size variables) with more than one rank; mpi4py is imported only then, so serial runs
never initialise MPI.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

#: environment variables an MPI launcher sets to the number of ranks (Open MPI, MPICH/Hydra,
#: PMIx, Slurm)
_SIZE_VARIABLES = ("OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS")


def _launched_ranks() -> int:
    for name in _SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def _world():
    """mpi4py's COMM_WORLD when started by an MPI launcher with several ranks, else None."""
    if _launched_ranks() <= 1:
        return None
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise RuntimeError("started by an MPI launcher with several ranks, but mpi4py is not "
                           "installed (pip install mpi4py, or the 'mpi' extra)") from exc
    return MPI.COMM_WORLD if MPI.COMM_WORLD.Get_size() > 1 else None


def rank() -> int:
    """This process's MPI rank (0 when not under MPI): only rank 0 writes outputs."""
    comm = _world()
    return 0 if comm is None else comm.Get_rank()


@dataclass
class Partition:
    """This rank's share of the (band, direction) pairs.

    active: (n_bands·n_dir,) bool, or None when serial and every pair holds modes (every pair
    is swept here).
    """

    comm: object | None
    active: np.ndarray | None
    n_bands: int
    n_dir: int

    @classmethod
    def for_pairs(cls, n_bands: int, n_dir: int,
                  present: np.ndarray | None = None) -> "Partition":
        """Deal the pairs round-robin over the ranks; present (n_bands, n_dir) bool marks the
        pairs that hold modes in some material (default all): the others stay zero and are
        never swept."""
        comm = _world()
        present = (np.ones(n_bands * n_dir, dtype=bool) if present is None
                   else np.asarray(present, dtype=bool).ravel())
        if comm is None:
            return cls(None, None if present.all() else present, n_bands, n_dir)
        active = np.zeros(n_bands * n_dir, dtype=bool)
        active[np.flatnonzero(present)[comm.Get_rank()::comm.Get_size()]] = True
        return cls(comm, active, n_bands, n_dir)

    @property
    def rank(self) -> int:
        return 0 if self.comm is None else self.comm.Get_rank()

    @property
    def size(self) -> int:
        return 1 if self.comm is None else self.comm.Get_size()

    def reduce(self, outgoing: np.ndarray, e_bnd: np.ndarray, *moments: np.ndarray) -> None:
        """Sum the partial ``moments`` (arrays, in place) and gather the outgoing boundary
        values of every pair into ``e_bnd`` (nb, nd, nbf) with one Allreduce.  outgoing
        (nd, nbf) bool marks the entries a sweep writes (s_k·n > 0)."""
        if self.comm is None:
            return
        from mpi4py import MPI

        mine = self.active.reshape(self.n_bands, self.n_dir)[:, :, None] & outgoing[None]
        parts = [m.ravel() for m in moments] + [np.where(mine, e_bnd, 0.0).ravel()]
        buffer = np.concatenate(parts)
        self.comm.Allreduce(MPI.IN_PLACE, buffer, op=MPI.SUM)
        start = 0
        for m in moments:
            m[...] = buffer[start:start + m.size].reshape(m.shape)
            start += m.size
        gathered = buffer[start:].reshape(e_bnd.shape)
        everyone = np.broadcast_to(outgoing[None], e_bnd.shape)
        e_bnd[everyone] = gathered[everyone]
