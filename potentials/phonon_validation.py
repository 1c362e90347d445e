"""Force constants and thermal conductivity of a model as validation metrics (phono3py).

A model's fc2/fc3 are computed from the same supercell and displacements as a DFT reference
set (phono3py yaml + extxyz of the displaced supercells with reference forces in the same
order), symmetrised, and compared by the relative Frobenius norm ||fc_model - fc_ref|| /
||fc_ref|| over atom pairs/triplets within ``shell_radius`` (Å) of the primitive atom, and for
fc2 also over the pairs beyond it (``fc2_far_error``).  The far pairs are small next to the
self and nearest-neighbour terms that dominate ``fc2_error``, but they set the long-wavelength
acoustic branches: in silicon the couplings along the [110] chains (5.92 and 7.68 Å) decide κ
on fine q-meshes and the TA frequency at L.  κ_RTA (W m^-1 K^-1, mean of the diagonal) on
``mesh`` at ``temperature`` (K).  Force constants and κ are the :mod:`phonons` package's
(:func:`phonons.force_constants.force_constants_from_forces`, :func:`phonons.bulk_kappa`).
"""
from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mtscore import Section
from phonons import ForceConstants, bulk_kappa
from phonons.force_constants import ase_atoms, force_constants_from_forces
from potentials.datasets import DatasetError, read_dataset

PHONON_DEFAULTS = {"every": 10, "mesh": [11, 11, 11], "temperature": 300.0,
                   "kappa_reference": None, "shell_radius": 4.6}


def shell_masks(phono3py_object, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of compact fc2 [p, i] and fc3 [p, i, j] entries within ``radius`` (Å) of
    atom p."""
    atoms = ase_atoms(phono3py_object.supercell)
    p2s = phono3py_object.primitive.p2s_map
    near = np.array([atoms.get_distances(p, np.arange(len(atoms)), mic=True) <= radius + 1e-6
                     for p in p2s])
    return near, near[:, :, None] & near[:, None, :]


def relative_error(model_fc: np.ndarray, reference_fc: np.ndarray, mask: np.ndarray) -> float:
    """||model - reference|| / ||reference|| (Frobenius) over the masked entries."""
    return float(np.linalg.norm((model_fc - reference_fc)[mask])
                 / np.linalg.norm(reference_fc[mask]))


def kappa_rta(fc: ForceConstants, mesh: Sequence[int], temperature: float) -> float:
    """Mean diagonal κ_RTA (W m^-1 K^-1) of force constants ``fc`` on ``mesh`` at
    ``temperature`` (K)."""
    return float(bulk_kappa(fc, mesh, [temperature]).kappa_average[0])


def read_section(section: dict, source: str | Path | None = None) -> dict[str, Any]:
    """The options of a ``[phonons]`` section (defaults: :data:`PHONON_DEFAULTS`);
    :class:`~potentials.training_config.TrainingConfigError` naming ``source`` and the key for a
    bad or unknown key."""
    from potentials.training_config import TrainingConfigError

    table = Section(section, "phonons", source, TrainingConfigError)
    options = {"phono3py_yaml": table.get("phono3py_yaml", str, required=True),
               "reference": table.get("reference", str, required=True),
               "every": table.get("every", int, PHONON_DEFAULTS["every"], minimum=1),
               "mesh": list(table.get("mesh", int, PHONON_DEFAULTS["mesh"], length=3,
                                      minimum=1)),
               "temperature": table.get("temperature", (int, float),
                                        PHONON_DEFAULTS["temperature"], positive=True),
               "kappa_reference": table.get("kappa_reference", (int, float), None,
                                            positive=True),
               "shell_radius": table.get("shell_radius", (int, float),
                                         PHONON_DEFAULTS["shell_radius"], positive=True)}
    table.check_unknown()
    return options


class PhononValidation:
    """The ``[phonons]`` section of a training config: ``phono3py_yaml``, ``reference``
    (extxyz of the displaced supercells with reference forces), ``every`` (epochs), ``mesh``,
    ``temperature`` (K), ``kappa_reference`` (W/mK), ``shell_radius`` (Å)."""

    def __init__(self, section: dict, root: Path, source: str | Path | None = None):
        import phono3py

        self.options = read_section(section, source)
        self.phono3py = phono3py.load(str(root / self.options["phono3py_yaml"]), produce_fc=False,
                                      log_level=0)
        self.supercells = [ase_atoms(s) for s in self.phono3py.supercells_with_displacements]
        reference = read_dataset(root / self.options["reference"], labels=("forces",))
        if len(reference) != len(self.supercells):
            raise DatasetError(f"{len(reference)} structures, but the phono3py set "
                               f"{self.options['phono3py_yaml']} has {len(self.supercells)} "
                               "displacements", root / self.options["reference"])
        self.reference = force_constants_from_forces(self.phono3py,
                                                     np.array([s.forces for s in reference]))
        self.fc2_ref, self.fc3_ref = self.reference.fc2, self.reference.fc3
        self.mask2, self.mask3 = shell_masks(self.phono3py, self.options["shell_radius"])

    def due(self, epoch: int, last_epoch: int) -> bool:
        return epoch % int(self.options["every"]) == 0 or epoch == last_epoch

    def metrics(self, model) -> dict[str, float]:
        """The :meth:`force_constant_metrics` of a model's symmetrised fc2/fc3."""
        from potentials.calculator import MLCalculator

        # force constants in float64 whatever the training precision (the shipped model runs so)
        calculator = MLCalculator(copy.deepcopy(model), device="cpu", dtype=torch.float64)
        results = calculator.evaluate_batch(self.supercells)
        fc = force_constants_from_forces(self.phono3py, np.array([r["forces"] for r in results]))
        return self.force_constant_metrics(fc.fc2, fc.fc3)

    def force_constant_metrics(self, fc2: np.ndarray, fc3: np.ndarray) -> dict[str, float]:
        """fc2_error, fc2_far_error, fc3_error (relative), kappa (W/mK) and kappa_error
        (relative, if a reference is set) of compact fc2 [eV/Å^2] and fc3 [eV/Å^3]."""
        for name, given, reference in (("fc2", fc2, self.fc2_ref), ("fc3", fc3, self.fc3_ref)):
            if np.shape(given) != reference.shape:
                raise ValueError(f"{name}: shape {np.shape(given)}, but the reference "
                                 f"{self.options['phono3py_yaml']} gives compact {name} of "
                                 f"shape {reference.shape}")
        values = {"fc2_error": relative_error(fc2, self.fc2_ref, self.mask2),
                  "fc2_far_error": relative_error(fc2, self.fc2_ref, ~self.mask2),
                  "fc3_error": relative_error(fc3, self.fc3_ref, self.mask3)}
        kappa = kappa_rta(replace(self.reference, fc2=fc2, fc3=fc3), self.options["mesh"],
                          self.options["temperature"])
        values["kappa"] = kappa
        if self.options["kappa_reference"]:
            values["kappa_error"] = abs(kappa / self.options["kappa_reference"] - 1.0)
        return values
