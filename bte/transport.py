"""The state both solvers advance: intensities e (nb, nd, nc) and boundary values e_bnd
(nb, nd, nbf) of a discretised problem, with their moments, and the one step each solver
repeats (a sweep or a forward-Euler step, then moments, the MPI reduction and the boundary
update).  Units: J m^-3 (e, per unit angular weight), K, W m^-2, W m^-3 (heat), s."""
from __future__ import annotations

import numpy as np

from . import kernels
from .discretisation import Discretisation, initial_state
from .parallel import Partition


class Transport:
    """e and e_bnd of one run on the Discretisation ``d``, started at equilibrium with ``temp``
    (K per cell, see bte.discretisation.initial_state: fields are deviations from ``level``),
    with the moments of the last step: t_lat, t_en (nc,), t_band (nb, nc) K and flux (nc, 3)
    W m^-2.  Under mpirun the (band, direction) pairs are split over the ranks (``part``)."""

    def __init__(self, d: Discretisation, volume: np.ndarray, temp: np.ndarray, order: str):
        nb, nd, nc = d.shape
        self.d, self.level, self.temp, self.e, self.e_bnd = initial_state(d, volume, temp)
        self.second, self.limit = order.startswith("2"), order == "2limit"
        self.part = Partition.for_pairs(nb, nd, (d.cap > 0).any(0))
        self.outgoing = np.ascontiguousarray(d.bf_sn.T > 0.0)             # (nd, nbf)
        self.t_lat, self.t_en = np.empty(nc), np.empty(nc)
        self.t_band, self.flux = np.empty((nb, nc)), np.empty((nc, 3))

    def sweep(self, temp: np.ndarray, heat: np.ndarray, inv_dt: float = 0.0,
              e_old: np.ndarray | None = None) -> None:
        """One ordered sweep with emission C T (``temp``, K) and ``heat`` (W m^-3); with
        inv_dt = 1/Δt and the previous level e_old a backward-Euler step."""
        kernels.sweep(self.e, self.e_bnd, temp, heat, self.d, self.second, self.limit, inv_dt,
                      e_old, self.part.active)
        self._close()

    def explicit_step(self, temp: np.ndarray, heat: np.ndarray, dt: float) -> None:
        """One forward-Euler step of ``dt`` s (0: only the outgoing boundary values)."""
        kernels.explicit_step(self.e, self.e_bnd, temp, heat, dt, self.d, self.second,
                              self.limit, self.part.active)
        self._close()

    def _close(self) -> None:
        """Moments of e, the one MPI reduction (which also gathers e_bnd's outgoing values),
        then the incoming boundary values."""
        kernels.moments(self.e, self.d, self.t_lat, self.t_en, self.t_band, self.flux,
                        self.part.active)
        self.part.reduce(self.outgoing, self.e_bnd, self.t_lat, self.t_en, self.t_band,
                         self.flux)
        kernels.update_boundaries(self.e_bnd, self.d)

    def fields(self) -> dict[str, np.ndarray]:
        """Absolute fields of the last step (K, W m^-2), for a result."""
        return dict(temperature_lattice=self.t_lat + self.level,
                    temperature_energy=self.t_en + self.level,
                    temperature_band=self.t_band + self.level, heat_flux=self.flux.copy())
