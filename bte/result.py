"""Results of BTE runs: the fields every run ends with (RunFields), the steady result with its
effective conductivity (Result, also named SteadyResult) and the transient result with its time
series (bte.transient.TransientResult).  Units: K, W m^-2, W m^-1 K^-1, s."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .problem import BoundaryKind, Problem


@dataclass
class RunFields:
    """The final fields of a run, steady or transient.

    temperature_lattice: (n_cells,) K, energy-conserving lattice temperature (TempLattice.dat);
    temperature_energy: (n_cells,) K, sum(e)/sum(C) (Temperature.dat);
    temperature_band: (n_bands, n_cells) K (Tempband.dat);
    heat_flux: (n_cells, 3) W m^-2 (HeatFlux.dat);
    iterations: iterations (steady) or time steps (transient) done;
    residual_history: per iteration or step (err_T, err_q) in GiftBTE's normalisation;
    wall_time: s; settings: the solver settings used, for the run record.
    """

    problem: Problem
    temperature_lattice: np.ndarray
    temperature_energy: np.ndarray
    temperature_band: np.ndarray
    heat_flux: np.ndarray
    iterations: int = 0
    residual_history: list[tuple[float, float]] = field(default_factory=list)
    wall_time: float = 0.0
    settings: dict = field(default_factory=dict)


@dataclass
class Result(RunFields):
    """A steady run: the fields of a converged (or stopped) iteration and κ.

    kappa_effective: W m^-1 K^-1 along kappa_direction, or None where the problem has no
    driving temperature difference (e.g. heat generation between walls at one temperature);
    kappa_method: how kappa_effective was computed, in words;
    converged: both residuals fell below their thresholds (False: stopped at max_iter);
    temperature_fourier: (n_cells,) K, Fourier's law on the same mesh (bulk κ, walls held at
    their temperature, no phonon-boundary resistance) for problems with a heat source, else None.
    """

    kappa_effective: float | None = None
    kappa_method: str = ""
    kappa_direction: np.ndarray | None = None
    converged: bool = False
    temperature_fourier: np.ndarray | None = None

    def peak_temperature_rise(self) -> dict[str, float] | None:
        """Hot-spot temperature rise (K) above the coldest thermalizing wall, from the BTE and
        from Fourier's law on the same mesh; None without a heat source or a wall."""
        present = self.problem.geometry.bface_index
        walls = [bc.value for i, bc in self.problem.boundary_conditions.items()
                 if bc.kind == BoundaryKind.THERMALIZING and np.isin(i, present)]
        if self.temperature_fourier is None or not walls:
            return None
        sink = min(walls)
        return {"bte": float(self.temperature_lattice.max() - sink),
                "fourier": float(self.temperature_fourier.max() - sink)}


#: the steady result under the name that says so
SteadyResult = Result

__all__ = ["Result", "RunFields", "SteadyResult"]
