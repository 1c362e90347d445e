"""Result of a steady BTE run (fields per cell and the effective conductivity)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .problem import BoundaryKind, Problem


@dataclass
class Result:
    """Fields of a converged (or stopped) run.

    temperature_lattice: (n_cells,) K, energy-conserving lattice temperature (TempLattice.dat);
    temperature_energy: (n_cells,) K, sum(e)/sum(C) (Temperature.dat);
    temperature_band: (n_bands, n_cells) K (Tempband.dat);
    heat_flux: (n_cells, 3) W m^-2 (HeatFlux.dat);
    kappa_effective: W m^-1 K^-1 along kappa_direction, or None where the problem has no
    driving temperature difference (e.g. heat generation between walls at one temperature);
    kappa_method: how kappa_effective was computed, in words;
    residual_history: per iteration (err_T, err_q) in GiftBTE's normalisation;
    wall_time: s;
    temperature_fourier: (n_cells,) K, Fourier's law on the same mesh (bulk κ, walls held at
    their temperature, no phonon-boundary resistance) for problems with a heat source, else None.
    """

    problem: Problem
    temperature_lattice: np.ndarray
    temperature_energy: np.ndarray
    temperature_band: np.ndarray
    heat_flux: np.ndarray
    kappa_effective: float | None
    kappa_method: str
    kappa_direction: np.ndarray | None
    iterations: int
    converged: bool
    residual_history: list[tuple[float, float]] = field(default_factory=list)
    wall_time: float = 0.0
    settings: dict = field(default_factory=dict)
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
