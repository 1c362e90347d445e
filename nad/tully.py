"""Tully's one-dimensional two-state models (J. Chem. Phys. 93, 1061 (1990)) and full FSSH on them.

Atomic units throughout: energy hartree, length bohr, time a.u. (ħ = 1), mass in electron
masses (2000 for the standard tests), momentum k in a.u.

Methods (``run_tully(method=...)``) and their known limits:

* ``"fssh"``: Tully's fewest switches, no decoherence.  Right for models 1 and 2 above
  k ≈ 10 (model 1) and at high momentum (model 2); over-coherent where wave packets separate
  and meet a coupling region again: on model 3 it puts the reflected flux on the lower state
  (k = 10: R0 ≈ 0.27, R1 ≈ 0.01; exact 0.09 and 0.21).
* ``"edc"``: energy-based decoherence (Granucci–Persico), τ = (ħ/ΔE)(1 + C/E_kin).  Repairs
  model 3's reflected branch but damps every coherence at a rate set by the gap alone, also
  where the packets have not separated: on model 2 it destroys the coherence between the two
  crossings (T1 at k = 104 falls from 0.87, exact, to about 0.54).  Not recommended.
* ``"afssh"``: augmented FSSH (Subotnik & Shenvi, J. Chem. Phys. 134, 024105 (2011), with the
  moment reset of Landry & Subotnik, J. Chem. Phys. 137, 22A513 (2012)): the inactive state's
  packet displacement δR and momentum δP are integrated along the trajectory and its amplitude
  collapses at the rate (F_n - F_λ)δR/(2ħ) - 2|F_λn δR|/ħ, i.e. only once the packets have
  separated.  Limits of this implementation: two states in one dimension, moments start at
  zero after each hop or collapse (no momentum given to the newly populated packet),
  frustrated hops keep the momentum (no velocity reversal).
"""
from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from mtscore import get_logger

from .errors import NADInputError
from .hopping_kernels import TULLY_AFSSH, TULLY_EDC, TULLY_PLAIN, tully_fssh

_log = get_logger(__name__)

#: Model parameters (A, B, C, D, E) in Tully's notation (E only for model 2: the asymptotic shift).
TULLY_PARAMETERS = {
    1: (0.01, 1.6, 0.005, 1.0, 0.0),   # simple avoided crossing
    2: (0.10, 0.28, 0.015, 0.06, 0.05),  # dual avoided crossing
    3: (6e-4, 0.10, 0.90, 0.0, 0.0),   # extended coupling with reflection
}

#: Decoherence methods of :func:`run_tully` and their kernel codes.
TULLY_METHODS = {"fssh": TULLY_PLAIN, "edc": TULLY_EDC, "afssh": TULLY_AFSSH}

#: Largest nuclear travel per step (bohr) accepted: the couplings vary on a scale of ~0.5 bohr.
MAX_TRAVEL_PER_STEP = 0.2
#: Most steps one trajectory may need to cross the interaction region once.
MAX_CROSSING_STEPS = 10_000_000


@dataclass
class TullyResult:
    """Branching probabilities of an FSSH swarm: reflected/transmitted on the lower (0) or upper (1)
    adiabatic state, the largest binomial standard error (``stderr``), the number of
    trajectories and how many did not leave the interaction region (``unfinished``; the four
    probabilities then sum to less than 1)."""

    r0: float
    t0: float
    r1: float
    t1: float
    stderr: float
    ntraj: int
    unfinished: int

    def as_tuple(self) -> tuple[float, float, float, float]:
        return self.r0, self.t0, self.r1, self.t1

    def errors(self) -> tuple[float, float, float, float]:
        """Binomial standard errors sqrt(p(1 - p)/N) of (R0, T0, R1, T1)."""
        return tuple(float(np.sqrt(p * (1.0 - p) / self.ntraj))  # type: ignore[return-value]
                     for p in self.as_tuple())


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) \
            or not np.isfinite(float(value)):
        raise NADInputError(f"must be a finite number, got {value!r}", key=name)
    return float(value)


def validate_tully(model: int, k: float, ntraj: int, mass: float, x0: float, dt: float | None,
                   decoherence: float | None, method: str | None, seed: int
                   ) -> tuple[str, float, float]:
    """Check every argument of :func:`run_tully`; return (method, dt, C).

    Raises :class:`NADInputError` whose ``key`` (and message) names the field at fault.
    """
    if isinstance(model, bool) or model not in TULLY_PARAMETERS:
        raise NADInputError(f"Tully model must be 1, 2 or 3, got {model!r}", key="model")
    if _finite("k", k) <= 0:
        raise NADInputError(f"incoming momentum must be positive (a.u.), got {k!r}", key="k")
    if isinstance(ntraj, bool) or not isinstance(ntraj, numbers.Integral) or ntraj < 1:
        raise NADInputError(f"must be a positive integer, got {ntraj!r}", key="ntraj")
    if _finite("mass", mass) <= 0:
        raise NADInputError(f"must be positive (electron masses), got {mass!r}", key="mass")
    if _finite("x0", x0) >= 0:
        raise NADInputError(f"start must lie left of the interaction region (x0 < 0 bohr), "
                            f"got {x0!r}", key="x0")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise NADInputError(f"must be an integer, got {seed!r}", key="seed")
    speed = float(k) / float(mass)
    if dt is None:
        dt = min(2.0, 0.02 / speed)
    elif _finite("dt", dt) <= 0:
        raise NADInputError(f"time step must be positive (a.u.), got {dt!r}", key="dt")
    dt = float(dt)
    if dt * speed > MAX_TRAVEL_PER_STEP:
        raise NADInputError(f"time step {dt:g} a.u. moves the nuclei {dt * speed:.3g} bohr per "
                            f"step (at most {MAX_TRAVEL_PER_STEP} bohr)", key="dt")
    if 2 * abs(float(x0)) / (speed * dt) > MAX_CROSSING_STEPS:
        raise NADInputError(f"time step {dt:g} a.u. needs more than {MAX_CROSSING_STEPS} steps "
                            "to cross the interaction region", key="dt")
    if method is None:
        method = "fssh" if decoherence is None else "edc"
    if method not in TULLY_METHODS:
        raise NADInputError(f"unknown method {method!r} (choose from "
                            f"{', '.join(TULLY_METHODS)})", key="method")
    c = 0.1
    if decoherence is not None:
        if method != "edc":
            raise NADInputError(f"the constant C belongs to method 'edc', not {method!r}",
                                key="decoherence")
        c = _finite("decoherence", decoherence)
        if c < 0:
            raise NADInputError(f"the constant C must be >= 0 hartree, got {decoherence!r}",
                                key="decoherence")
    return method, dt, c


def run_tully(model: int, k: float, ntraj: int = 2000, mass: float = 2000.0, x0: float = -10.5,
              dt: float | None = None, decoherence: float | None = None,
              seed: int = 1, method: str | None = None) -> TullyResult:
    """FSSH with back-reaction for Tully model ``model`` at incoming momentum ``k`` (a.u.).

    Trajectories start at x0 (bohr, < 0) on the lower adiabatic state and end when |x| > |x0|.
    mass: nuclear mass (electron masses); dt: nuclear time step in a.u. (default: 0.02 bohr of
    travel per step, at most 2 a.u.); method: ``"fssh"`` (plain), ``"afssh"`` (augmented FSSH)
    or ``"edc"`` (energy-based decoherence; see the module docstring for each one's limits);
    decoherence: the constant C (hartree, default 0.1) of ``"edc"``,
    τ = (ħ/ΔE)(1 + C/E_kin); giving it without a method selects ``"edc"``.
    Raises :class:`NADInputError` naming the field for bad input.
    """
    method, dt, c = validate_tully(model, k, ntraj, mass, x0, dt, decoherence, method, seed)
    if method == "edc" and model == 2:
        _log.warning("energy-based decoherence destroys the coherence between model 2's two "
                     "crossings (T1 too low at high k); use method='afssh'")
    speed = k / mass
    max_steps = int(20 * 2 * abs(x0) / (speed * dt)) + 10000
    counts = tully_fssh(model, np.array(TULLY_PARAMETERS[model], dtype=float), float(mass),
                        float(k), float(x0), float(dt), abs(float(x0)), int(ntraj),
                        TULLY_METHODS[method], c, int(seed), max_steps)
    p = counts[:4] / ntraj
    return TullyResult(*p, stderr=float(np.sqrt(0.25 / ntraj)), ntraj=int(ntraj),
                       unfinished=int(counts[4]))
