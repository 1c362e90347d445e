"""Tully's one-dimensional two-state models (J. Chem. Phys. 93, 1061 (1990)) and full FSSH on them.

Atomic units throughout: energy hartree, length bohr, time a.u. (ħ = 1), mass in electron
masses (2000 for the standard tests), momentum k in a.u.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .hopping_kernels import tully_fssh

#: Model parameters (A, B, C, D, E) in Tully's notation (E only for model 2: the asymptotic shift).
TULLY_PARAMETERS = {
    1: (0.01, 1.6, 0.005, 1.0, 0.0),   # simple avoided crossing
    2: (0.10, 0.28, 0.015, 0.06, 0.05),  # dual avoided crossing
    3: (6e-4, 0.10, 0.90, 0.0, 0.0),   # extended coupling with reflection
}


@dataclass
class TullyResult:
    """Branching probabilities of an FSSH swarm: reflected/transmitted on the lower (0) or upper (1)
    adiabatic state, their binomial standard errors, and the number of trajectories."""

    r0: float
    t0: float
    r1: float
    t1: float
    stderr: float
    ntraj: int
    unfinished: int

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.r0, self.t0, self.r1, self.t1


def run_tully(model: int, k: float, ntraj: int = 2000, mass: float = 2000.0, x0: float = -10.5,
              dt: float | None = None, decoherence: float | None = None,
              seed: int = 1) -> TullyResult:
    """FSSH with back-reaction for Tully model ``model`` at incoming momentum ``k`` (a.u.).

    Trajectories start at x0 (bohr) on the lower adiabatic state and end when |x| > |x0|.
    dt: nuclear time step in a.u. (default: 0.02 bohr of travel per step, at most 2 a.u.);
    decoherence: None for plain FSSH, or the constant C (hartree, 0.1 is the usual choice) of the
    energy-based decoherence correction τ = (ħ/ΔE)(1 + C/E_kin).
    """
    if model not in TULLY_PARAMETERS:
        raise ValueError(f"model: Tully model must be 1, 2 or 3, got {model!r}")
    if not k > 0:
        raise ValueError(f"k: incoming momentum must be positive, got {k!r}")
    if ntraj < 1:
        raise ValueError(f"ntraj: must be positive, got {ntraj!r}")
    speed = k / mass
    if dt is None:
        dt = min(2.0, 0.02 / speed)
    max_steps = int(20 * 2 * abs(x0) / (speed * dt)) + 10000
    counts = tully_fssh(model, np.array(TULLY_PARAMETERS[model], dtype=float), float(mass),
                        float(k), float(x0), float(dt), abs(float(x0)), int(ntraj),
                        -1.0 if decoherence is None else float(decoherence), int(seed), max_steps)
    p = counts[:4] / ntraj
    return TullyResult(*p, stderr=float(np.sqrt(0.25 / ntraj)), ntraj=ntraj,
                       unfinished=int(counts[4]))
