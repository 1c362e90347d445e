"""phono3py's thermal-conductivity run, shared by :mod:`phonons.kappa` (κ tensors) and
:mod:`phonons.modes` (mode-resolved properties), with a per-grid-point progress hook.

Units: temperatures K, boundary_mfp µm (phono3py's convention), frequencies THz.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from phono3py import Phono3py

from .force_constants import ForceConstants

METHODS = ("rta", "lbte")
IMAGINARY_TOLERANCE = 0.05        # THz: frequencies below -tolerance are reported

#: ``progress(done, total)``: called after each irreducible grid point of the q-mesh.
Progress = Callable[[int, int], None]


class ImaginaryModeWarning(UserWarning):
    """Imaginary (negative) phonon frequencies beyond the tolerance on the q-mesh."""


@dataclass
class Phono3pyRun:
    """A finished conductivity run: ``phono3py`` (the Phono3py object: cells, mesh, symmetry)
    and ``conductivity`` (phono3py's calculator: kappa, gamma, frequencies, ... per irreducible
    grid point)."""

    phono3py: Phono3py
    conductivity: Any


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


def progress_bar(description: str = "phono3py grid points") -> tuple[Progress, Callable[[], None]]:
    """A :data:`Progress` callback drawing a tqdm bar, and the function that closes the bar."""
    from tqdm import tqdm

    bar = tqdm(desc=description, unit="q-point", mininterval=1.0)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def _rta_calculator(ph3: Phono3py, temperatures: np.ndarray, is_isotope: bool,
                    boundary_mfp: float | None, progress: Progress | None) -> Any:
    """phono3py's RTA calculator, built and run as ``Phono3py.run_thermal_conductivity`` does
    (which offers no per-grid-point hook), calling ``progress`` after each grid point."""
    from phono3py.conductivity.factory import conductivity_calculator

    calculator = conductivity_calculator(
        ph3.phph_interaction, temperatures, list(ph3.sigmas) or [None],
        sigma_cutoff=ph3.sigma_cutoff, is_isotope=is_isotope, boundary_mfp=boundary_mfp,
        lang=ph3.lang, log_level=0)
    total = len(calculator.grid_points)
    calculator.run(on_grid_point=None if progress is None
                   else lambda index: progress(index + 1, total))
    return calculator


def run_phono3py(fc: ForceConstants, mesh: Sequence[int], temperatures: Sequence[float], *,
                 method: str = "rta", is_isotope: bool = False,
                 boundary_mfp: float | None = None,
                 imaginary_tolerance: float = IMAGINARY_TOLERANCE,
                 progress: Progress | bool = False) -> Phono3pyRun:
    """Run phono3py's conductivity calculation on a ``mesh`` q-grid at ``temperatures`` (K).

    Warns (ImaginaryModeWarning) about imaginary modes on the mesh; boundary_mfp in µm.
    ``progress``: a :data:`Progress` callback, or True for a progress bar; it reports the
    irreducible grid points of the RTA's main loop (the LBTE run reports none)."""
    if method not in METHODS:
        raise ValueError(f"unknown kappa method {method!r}; use one of {METHODS}")
    mesh = [int(n) for n in np.broadcast_to(mesh, (3,))]
    if min(mesh) < 1:
        raise ValueError(f"q-mesh {mesh} must be positive integers")
    temperatures = np.asarray(temperatures, dtype=np.float64)
    ph3 = fc.to_phono3py()
    ph3.mesh_numbers = mesh
    ph3.init_phph_interaction()
    if method == "lbte":
        ph3.run_thermal_conductivity(is_LBTE=True, temperatures=temperatures,
                                     is_isotope=is_isotope, boundary_mfp=boundary_mfp,
                                     log_level=0)
        conductivity = ph3.thermal_conductivity
    else:
        close = None
        if progress is True:
            progress, close = progress_bar()
        try:
            conductivity = _rta_calculator(ph3, temperatures, is_isotope, boundary_mfp,
                                           progress or None)
        finally:
            if close is not None:
                close()
    warn_imaginary(np.asarray(conductivity.qpoints), np.asarray(conductivity.frequencies),
                   imaginary_tolerance)
    return Phono3pyRun(ph3, conductivity)
