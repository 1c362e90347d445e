"""Bulk lattice thermal conductivity from phono3py (RTA and LBTE) and κ accumulation.

Units: κ W m^-1 K^-1, temperatures K, frequencies THz, mean free paths m, boundary_mfp µm
(phono3py's convention).  Every result states the q-mesh it was computed on.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .force_constants import ForceConstants
from .phono3py_run import (  # noqa: F401  (METHODS, warn_imaginary: kept importable from here)
                           IMAGINARY_TOLERANCE,
                           METHODS,
                           ImaginaryModeWarning,
                           Progress,
                           run_phono3py,
                           warn_imaginary,
)

if TYPE_CHECKING:
    from .modes import ModeSet


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
        """Human-readable table of the full tensor (all nine components, Cartesian axes of the
        crystal) per temperature, mesh and settings included."""
        mesh = "x".join(str(int(n)) for n in self.mesh)
        extra = (", natural isotopes" if self.is_isotope else "") + (
            f", boundary MFP {self.boundary_mfp:g} um" if self.boundary_mfp else "")
        names = [a + b for a in "xyz" for b in "xyz"]
        lines = [f"kappa ({self.method.upper()}, q-mesh {mesh}{extra}), W/mK",
                 f"{'T (K)':>8} " + " ".join(f"{n:>9}" for n in names) + f" {'avg':>9}"]
        for t, k, avg in zip(self.temperatures, self.kappa, self.kappa_average):
            lines.append(f"{t:8.1f} " + " ".join(f"{v:9.3f}" for v in k.ravel())
                         + f" {avg:9.3f}")
        return "\n".join(lines)


def voigt_to_tensor(voigt: np.ndarray) -> np.ndarray:
    """(..., 6) phono3py order xx, yy, zz, yz, xz, xy -> (..., 3, 3)."""
    voigt = np.asarray(voigt)
    out = np.empty(voigt.shape[:-1] + (3, 3))
    for k, (i, j) in enumerate(((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))):
        out[..., i, j] = out[..., j, i] = voigt[..., k]
    return out


def bulk_kappa(fc: ForceConstants, mesh: Sequence[int] = (11, 11, 11),
               temperatures: Sequence[float] = (300.0,), *, method: str = "rta",
               is_isotope: bool = False, boundary_mfp: float | None = None,
               imaginary_tolerance: float = IMAGINARY_TOLERANCE,
               progress: Progress | bool = False) -> KappaResult:
    """Bulk κ tensor at ``temperatures`` (K) on a ``mesh`` q-grid by the relaxation-time
    approximation ("rta") or the full linearised BTE ("lbte"), optionally with natural-isotope
    and boundary (``boundary_mfp`` µm) scattering.  ``progress``: see
    :func:`phonons.phono3py_run.run_phono3py`."""
    temperatures = np.atleast_1d(np.asarray(temperatures, dtype=np.float64))
    run = run_phono3py(fc, mesh, temperatures, method=method, is_isotope=is_isotope,
                       boundary_mfp=boundary_mfp, imaginary_tolerance=imaginary_tolerance,
                       progress=progress)
    kappa = np.asarray(run.conductivity.kappa)[0]        # first (only) sigma
    return KappaResult(temperatures=temperatures, kappa=voigt_to_tensor(kappa),
                       mesh=np.array(run.phono3py.mesh_numbers), method=method,
                       is_isotope=is_isotope, boundary_mfp=boundary_mfp)


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
