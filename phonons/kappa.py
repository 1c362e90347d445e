"""Bulk lattice thermal conductivity from phono3py (RTA and LBTE) and κ accumulation.

Units: κ W m^-1 K^-1, temperatures K, frequencies THz, mean free paths m, boundary_mfp µm
(phono3py's convention).  Every result states the q-mesh it was computed on.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from phono3py import Phono3py

from .force_constants import ForceConstants

if TYPE_CHECKING:
    from .modes import ModeSet

METHODS = ("rta", "lbte")
IMAGINARY_TOLERANCE = 0.05        # THz: frequencies below -tolerance are reported


class ImaginaryModeWarning(UserWarning):
    """Imaginary (negative) phonon frequencies beyond the tolerance on the q-mesh."""


@dataclass
class KappaResult:
    """Bulk thermal conductivity at several temperatures.

    temperatures: (n_T,) K; kappa: (n_T, 3, 3) W m^-1 K^-1; mesh: (3,) q-mesh used; method:
    "rta" or "lbte"; is_isotope: natural-isotope scattering included; boundary_mfp: boundary
    mean free path in µm or None.
    """

    temperatures: np.ndarray
    kappa: np.ndarray
    mesh: np.ndarray
    method: str
    is_isotope: bool = False
    boundary_mfp: float | None = None

    @property
    def kappa_average(self) -> np.ndarray:
        """trace(κ)/3 per temperature, W m^-1 K^-1."""
        return np.trace(self.kappa, axis1=1, axis2=2) / 3.0

    def summary(self) -> str:
        """Human-readable table, mesh and settings included."""
        mesh = "x".join(str(int(n)) for n in self.mesh)
        extra = (", natural isotopes" if self.is_isotope else "") + (
            f", boundary MFP {self.boundary_mfp:g} um" if self.boundary_mfp else "")
        lines = [f"kappa ({self.method.upper()}, q-mesh {mesh}{extra}), W/mK",
                 f"{'T (K)':>8} {'xx':>10} {'yy':>10} {'zz':>10} {'avg':>10}"]
        for t, k, avg in zip(self.temperatures, self.kappa, self.kappa_average):
            lines.append(f"{t:8.1f} {k[0, 0]:10.3f} {k[1, 1]:10.3f} {k[2, 2]:10.3f} {avg:10.3f}")
        return "\n".join(lines)


def voigt_to_tensor(voigt: np.ndarray) -> np.ndarray:
    """(..., 6) phono3py order xx, yy, zz, yz, xz, xy -> (..., 3, 3)."""
    voigt = np.asarray(voigt)
    out = np.empty(voigt.shape[:-1] + (3, 3))
    for k, (i, j) in enumerate(((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))):
        out[..., i, j] = out[..., j, i] = voigt[..., k]
    return out


def warn_imaginary(qpoints: np.ndarray, frequencies: np.ndarray,
                   tolerance: float = IMAGINARY_TOLERANCE) -> None:
    """ImaginaryModeWarning listing the q-points (reduced coordinates) with a frequency (THz)
    below -tolerance; silent otherwise."""
    bad = np.nonzero((np.asarray(frequencies) < -tolerance).any(axis=1))[0]
    if len(bad) == 0:
        return
    shown = "; ".join(f"q = ({', '.join(f'{x:.4f}' for x in qpoints[i])}): "
                      f"{np.min(frequencies[i]):.3f} THz" for i in bad[:10])
    more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
    warnings.warn(f"imaginary modes below -{tolerance:g} THz at {len(bad)} q-point(s): "
                  f"{shown}{more}; the structure is dynamically unstable or the force constants "
                  "are poor (phono3py ignores these modes in kappa)", ImaginaryModeWarning,
                  stacklevel=3)


def run_phono3py(fc: ForceConstants, mesh: Sequence[int], temperatures: Sequence[float], *,
                 method: str = "rta", is_isotope: bool = False,
                 boundary_mfp: float | None = None,
                 imaginary_tolerance: float = IMAGINARY_TOLERANCE) -> Phono3py:
    """Run phono3py's conductivity calculation; returns the Phono3py object whose
    ``thermal_conductivity`` holds the results.  Warns (ImaginaryModeWarning) about imaginary
    modes on the mesh.  boundary_mfp in µm."""
    if method not in METHODS:
        raise ValueError(f"unknown kappa method {method!r}; use one of {METHODS}")
    mesh = [int(n) for n in np.broadcast_to(mesh, (3,))]
    if min(mesh) < 1:
        raise ValueError(f"q-mesh {mesh} must be positive integers")
    ph3 = fc.to_phono3py()
    ph3.mesh_numbers = mesh
    ph3.init_phph_interaction()
    ph3.run_thermal_conductivity(is_LBTE=(method == "lbte"),
                                 temperatures=np.asarray(temperatures, dtype=np.float64),
                                 is_isotope=is_isotope, boundary_mfp=boundary_mfp, log_level=0)
    tc = ph3.thermal_conductivity
    warn_imaginary(np.asarray(tc.qpoints), np.asarray(tc.frequencies),
                   imaginary_tolerance)
    return ph3


def bulk_kappa(fc: ForceConstants, mesh: Sequence[int] = (11, 11, 11),
               temperatures: Sequence[float] = (300.0,), *, method: str = "rta",
               is_isotope: bool = False, boundary_mfp: float | None = None,
               imaginary_tolerance: float = IMAGINARY_TOLERANCE) -> KappaResult:
    """Bulk κ tensor at ``temperatures`` (K) on a ``mesh`` q-grid by the relaxation-time
    approximation ("rta") or the full linearised BTE ("lbte"), optionally with natural-isotope
    and boundary (``boundary_mfp`` µm) scattering."""
    temperatures = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    ph3 = run_phono3py(fc, mesh, temperatures, method=method, is_isotope=is_isotope,
                       boundary_mfp=boundary_mfp, imaginary_tolerance=imaginary_tolerance)
    kappa = np.asarray(ph3.thermal_conductivity.kappa)[0]        # first (only) sigma
    return KappaResult(temperatures=temperatures, kappa=voigt_to_tensor(kappa),
                       mesh=np.array(ph3.mesh_numbers), method=method, is_isotope=is_isotope,
                       boundary_mfp=boundary_mfp)


def kappa_accumulation(modes: ModeSet, by: str = "mfp") -> tuple[np.ndarray, np.ndarray]:
    """Cumulative κ (trace/3, W m^-1 K^-1) over modes sorted by mean free path (m) or frequency
    (THz).  Returns (x sorted ascending, κ of all modes with x' <= x); the last value is the
    total κ."""
    if by == "mfp":
        x = modes.mean_free_path
    elif by == "frequency":
        x = modes.frequency
    else:
        raise ValueError(f"accumulate by 'mfp' or 'frequency', not {by!r}")
    contribution = modes.mode_kappa()
    order = np.argsort(x, axis=None, kind="stable")
    return x.ravel()[order], np.cumsum(contribution.ravel()[order])
