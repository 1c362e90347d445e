"""The one study runner: structure → (strained structure) → force constants → modes → band
table → BTE case, each a cached stage of :mod:`workflows.stages`, with the potential built
lazily (a study whose stages are all cached never builds it).

The pipeline, the batch jobs, the strain studies and ``mts phonons run`` all go through
:class:`StudyRunner`; its stage results are typed (:class:`PhononResult`, :class:`CaseResult`).

Units: Å, K, κ W m^-1 K^-1, wall time s.
"""
from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtscore import get_logger, remove_stale_temporaries
from workflows.calculators import calculator_fingerprint, lazy_calculator
from workflows.config import PhononSettings
from workflows.stages import (
    CaseSpec,
    Stage,
    band_table_path,
    band_table_stage,
    bte_stage,
    force_constants_stage,
    modes_stage,
    strained_structure_stage,
    structure_stage,
)

log = get_logger(__name__)


@dataclass(frozen=True)
class PhononResult:
    """Modes and band table of one structure: bulk κ of the modes by ``method`` (trace/3 and
    the tensor, W/mK), the band table's bulk κ (W/mK), its file, the phonon warnings, and the
    stages themselves."""

    modes: Stage
    table: Stage
    kappa_W_mK: float
    kappa_tensor_W_mK: tuple[tuple[float, ...], ...]
    method: str
    kappa_bands_W_mK: float
    band_table: Path
    warnings: tuple[str, ...]

    @classmethod
    def from_stages(cls, modes: Stage, table: Stage) -> PhononResult:
        """The typed view of a finished modes and band-table stage."""
        m = modes.summary
        return cls(modes=modes, table=table, kappa_W_mK=float(m["kappa_W_mK"]),
                   kappa_tensor_W_mK=tuple(tuple(row) for row in m["kappa_tensor_W_mK"]),
                   method=m["method"], kappa_bands_W_mK=float(table.summary["kappa_W_mK"]),
                   band_table=band_table_path(table), warnings=tuple(m["warnings"]))


@dataclass(frozen=True)
class CaseResult:
    """One solved BTE case: κ_eff (W/mK, None when the solver gives none), iterations,
    convergence, wall time (s) and its stage (directory, cached)."""

    stage: Stage
    kappa_W_mK: float | None
    iterations: int
    converged: bool
    wall_s: float

    @property
    def cached(self) -> bool:
        """Whether the case came from the cache."""
        return self.stage.cached

    @property
    def directory(self) -> Path:
        """The case's stage directory (its GiftBTE input and outputs)."""
        return self.stage.directory


@contextlib.contextmanager
def _quiet_matscipy() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        yield


class StudyRunner:
    """Stages of one study under ``root`` with the potential ``potential`` (a calculator spec
    of :mod:`workflows.calculators`, relative model paths under ``base``; ``calculator_factory``
    overrides how it is built).  ``on_stage`` is called with every stage as it is finished or
    read; :attr:`log` lists them.  Hidden temporaries that killed runs left in ``root`` are
    removed when the runner is made."""

    def __init__(self, root: str | Path, potential: str, base: str | Path | None = None, *,
                 calculator_factory: Callable[[], object] | None = None,
                 on_stage: Callable[[Stage], object] | None = None, progress: bool = False):
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        for path in remove_stale_temporaries(self.root):
            log.info("removed %s, left by a killed run", path)
        self.potential = potential
        self.potential_id = calculator_fingerprint(potential, base)
        self.calculator = lazy_calculator(potential, base, calculator_factory)
        self.on_stage = on_stage
        self.progress = progress
        self.log: list[Stage] = []

    def _record(self, stage: Stage) -> Stage:
        self.log.append(stage)
        if self.on_stage is not None:
            self.on_stage(stage)
        return stage

    def structure(self, structure: str, lattice_constant: float | None = None) -> Stage:
        """The unit cell: "builtin:si" at ``lattice_constant`` Å (relaxed with the potential
        when None) or a structure file."""
        with _quiet_matscipy():
            return self._record(structure_stage(self.root, structure, lattice_constant,
                                                self.potential, self.potential_id,
                                                self.calculator))

    def strained(self, structure: Stage, strain: np.ndarray) -> Stage:
        """``structure`` under the (3, 3) ``strain`` with relaxed internal coordinates (the
        structure itself for zero strain)."""
        with _quiet_matscipy():
            stage = strained_structure_stage(self.root, structure, strain, self.potential_id,
                                             self.calculator)
        return stage if stage is structure else self._record(stage)

    def force_constants(self, structure: Stage, supercell: Sequence[int], displacement: float,
                        **options) -> Stage:
        """fc2/fc3 of ``structure`` (displacement Å); ``options`` as
        :func:`workflows.stages.force_constants_stage` (cutoff_pair, n_random, forces_dir,
        progress)."""
        with _quiet_matscipy():
            return self._record(force_constants_stage(
                self.root, structure, self.potential_id, self.calculator, supercell,
                displacement, **options))

    def phonons(self, structure: Stage, settings: PhononSettings,
                temperature: float | None = None) -> PhononResult:
        """Force constants, modes and band table of ``structure`` with ``settings``
        (``temperature`` K overrides its temperature)."""
        fc = self.force_constants(structure, settings.supercell, settings.displacement)
        with _quiet_matscipy():
            modes = self._record(modes_stage(
                self.root, fc, settings.mesh,
                settings.temperature if temperature is None else temperature,
                settings.method, settings.isotope, self.progress))
            table = self._record(band_table_stage(self.root, modes, settings.n_bands,
                                                  settings.binning))
        return PhononResult.from_stages(modes, table)

    def case(self, tables: Sequence[PhononResult], n_bands: int, case: CaseSpec,
             monitor: object | None = None) -> CaseResult:
        """Solve the BTE ``case`` with one band table per layer (one for a film or folder);
        ``monitor`` (a :class:`bte.monitor.Monitor`) follows its iterations."""
        stage = self._record(bte_stage(self.root, [t.table for t in tables], n_bands, case,
                                       monitor))
        s = stage.summary
        return CaseResult(stage=stage, kappa_W_mK=s["kappa_W_mK"], iterations=s["iterations"],
                          converged=s["converged"], wall_s=s["wall_s"])
