"""Strain studies: bulk κ versus uniform strain, and a bent ribbon as a layered BTE problem.

Uniform strain (:func:`strain_study`): ``phonons.strain_sweep`` over strain magnitudes of one
kind (hydrostatic ε I, uniaxial ε n nᵀ, biaxial ε (I − n nᵀ)), κ relative to the first strain.

Bent ribbon (:func:`bent_ribbon`): bending a ribbon of thickness t with a strain gradient g puts
the layer at height y (0 ≤ y ≤ t) under uniaxial strain ε(y) = g (y − t/2) along the ribbon
axis x, the heat-flow direction: tension on one face, compression on the other.  The model cuts
the thickness into ``n_layers`` layers, gives layer k the phonon band table of the bulk crystal
at its mid-layer strain (force constants and lifetimes recomputed for that strained cell), and
solves the in-plane BTE of the layered column (periodic along x, diffuse or partially specular
faces).  Phonons cross the layers band to band without interface resistance.

What the layered model captures: position-dependent harmonic and anharmonic phonon properties
(dispersion, group velocities, three-phonon lifetimes) of the local strain, boundary scattering
at the faces, and the ballistic coupling of the layers.  What it does NOT capture: scattering by
the strain gradient itself (phonon scattering by the inhomogeneous strain field, mode
conversion, the loss of translational symmetry across the thickness), dislocations or surface
reconstruction of a bent ribbon.  Because the linear effect of tension and compression largely
cancels across the thickness, the layered model predicts a small change of κ, far below the
34 ± 5 % suppression measured by Yang et al. (Nature 629, 1021 (2024)) at 0.112 %/nm; the
difference is what gradient scattering would have to supply.

Units: thickness m, strain gradient 1/m (0.112 %/nm = 1.12e6 /m), κ W m^-1 K^-1, T K.
"""
from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from workflows import references as ref
from workflows.config import BTESettings, PhononSettings


@dataclass
class StrainStudyResult:
    """κ versus uniform strain: kind, direction n, strain magnitudes (n,), κ tensors
    (n, 3, 3) W/mK at ``temperature`` K, trace/3 (n,) and the change relative to the first
    strain (n,)."""

    kind: str
    direction: tuple[float, float, float]
    strains: np.ndarray
    temperature: float
    kappa: np.ndarray
    kappa_average: np.ndarray
    relative_change: np.ndarray


def strain_study(atoms, calculator, kind: str, strains: Sequence[float], *,
                 direction: Sequence[float] = (0.0, 0.0, 1.0),
                 supercell: Sequence[int] = (2, 2, 2), mesh: Sequence[int] = (11, 11, 11),
                 temperature: float = 300.0, method: str = "rta", is_isotope: bool = False,
                 displacement: float = 0.03,
                 cache_dir: str | Path | None = None) -> StrainStudyResult:
    """Bulk κ of ``atoms`` (unit cell, Å) with ``calculator`` at each strain magnitude of
    ``kind`` ("hydrostatic", "uniaxial", "biaxial"; normal/axis ``direction``); put the
    unstrained value first to get changes relative to it."""
    from phonons import strain_sweep, strain_tensor

    tensors = [strain_tensor(kind, float(e), direction) for e in strains]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        sweep = strain_sweep(atoms, calculator, tensors, supercell, mesh=mesh,
                             temperatures=[temperature], method=method, is_isotope=is_isotope,
                             displacement=displacement, cache_dir=cache_dir)
    return StrainStudyResult(kind=kind, direction=tuple(float(x) for x in direction),
                             strains=np.asarray(strains, dtype=np.float64),
                             temperature=float(temperature), kappa=sweep.kappa[:, 0],
                             kappa_average=sweep.kappa_average[:, 0],
                             relative_change=sweep.relative_change()[:, 0])


#: default phonon and BTE settings of :func:`bent_ribbon` (uniform cells across the ribbon)
RIBBON_PHONONS = PhononSettings()
RIBBON_BTE = BTESettings(n_cells=40, grading=1.0)


@dataclass
class BentRibbonResult:
    """Bent versus straight ribbon: thickness m, strain gradient 1/m, layer strains (n,),
    κ of the bent (layered) and straight ribbon and of uniform ribbons at the most tensile and
    the most compressive layer strain (W/mK), the suppression 1 − κ_bent/κ_straight and the
    measured suppression (value, uncertainty) at 0.112 %/nm for comparison."""

    thickness: float
    gradient: float
    layer_strains: np.ndarray
    kappa_bent: float
    kappa_straight: float
    kappa_tensile: float
    kappa_compressive: float
    suppression: float
    measured_suppression: tuple[float, float]

    def summary(self) -> str:
        """A few lines for the terminal."""
        return (f"ribbon {self.thickness * 1e9:g} nm, strain gradient "
                f"{self.gradient * 1e-9 * 100:.4g} %/nm, layers at "
                f"{', '.join(f'{e * 100:+.3g}%' for e in self.layer_strains)}\n"
                f"kappa straight {self.kappa_straight:.2f}, bent {self.kappa_bent:.2f} W/mK "
                f"(suppression {self.suppression * 100:.1f} %; uniform "
                f"{self.layer_strains.max() * 100:+.3g}% {self.kappa_tensile:.2f}, "
                f"{self.layer_strains.min() * 100:+.3g}% {self.kappa_compressive:.2f})\n"
                f"measured at 0.112 %/nm: {self.measured_suppression[0] * 100:.0f} ± "
                f"{self.measured_suppression[1] * 100:.0f} % (layered model: no "
                "strain-gradient scattering)")


def bent_ribbon(potential: str, output: str | Path, *, thickness: float = 20e-9,
                gradient: float = ref.BENT_RIBBON_GRADIENT_PER_NM * 1e9, n_layers: int = 4,
                lattice_constant: float | None = None,
                phonons: PhononSettings = RIBBON_PHONONS,
                bte: BTESettings = RIBBON_BTE,
                specularity: float = 0.0,
                calculator_factory: Callable | None = None) -> BentRibbonResult:
    """κ of a bent Si ribbon (layered model, see the module docstring) and of the straight
    ribbon, at ``phonons.temperature``.  potential: a calculator spec
    (workflows.calculators); ``calculator_factory`` overrides how it is made.  Stages are
    cached under ``output/stages``.  Strain along x (the ribbon axis)."""
    from phonons import strain_tensor
    from workflows.config import BUILTIN_SI
    from workflows.stages import CaseSpec
    from workflows.study import StudyRunner

    if n_layers < 2:
        raise ValueError(f"a bent ribbon needs at least 2 layers, got {n_layers}")
    runner = StudyRunner(Path(output) / "stages", potential,
                         calculator_factory=calculator_factory)
    centres = (np.arange(n_layers) + 0.5) / n_layers * thickness
    strains = gradient * (centres - thickness / 2)
    base = runner.structure(BUILTIN_SI, lattice_constant)

    def table(eps: float):
        cell = runner.strained(base, strain_tensor("uniaxial", eps, (1, 0, 0)))
        return runner.phonons(cell, phonons)

    tables = [table(e) for e in strains]
    straight = table(0.0)
    case = CaseSpec("in-plane", thickness, specularity, None, asdict(bte))

    def kappa(layer_tables) -> float:
        return runner.case(layer_tables, phonons.n_bands, case).kappa_W_mK

    k_bent, k_straight = kappa(tables), kappa([straight])
    return BentRibbonResult(thickness=thickness, gradient=gradient, layer_strains=strains,
                            kappa_bent=k_bent, kappa_straight=k_straight,
                            kappa_tensile=kappa([tables[-1]]),
                            kappa_compressive=kappa([tables[0]]),
                            suppression=1.0 - k_bent / k_straight,
                            measured_suppression=ref.BENT_RIBBON_SUPPRESSION)
