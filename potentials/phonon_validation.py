"""Force constants and thermal conductivity of a model as validation metrics (phono3py).

A model's fc2/fc3 are computed from the same supercell and displacements as a DFT reference
set (phono3py yaml + extxyz of the displaced supercells with reference forces in the same
order), symmetrised (``symmetrize_fc2/fc3``), and compared by the relative Frobenius norm
||fc_model - fc_ref|| / ||fc_ref|| over atom pairs/triplets within ``shell_radius`` (Å) of the
primitive atom, and for fc2 also over the pairs beyond it (``fc2_far_error``).  The far pairs
are small next to the self and nearest-neighbour terms that dominate ``fc2_error``, but they
set the long-wavelength acoustic branches: in silicon the couplings along the [110] chains
(5.92 and 7.68 Å) decide κ on fine q-meshes and the TA frequency at L.  κ_RTA (W m^-1 K^-1,
mean of the diagonal) comes from phono3py on ``mesh`` at ``temperature`` (K).
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import torch

from potentials.datasets import read_dataset

PHONON_DEFAULTS = {"every": 10, "mesh": [11, 11, 11], "temperature": 300.0,
                   "kappa_reference": None, "shell_radius": 4.6}


def symmetrised_force_constants(phono3py_object, forces: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(fc2 [eV/Å^2], fc3 [eV/Å^3]) from displaced-supercell forces (eV/Å), both symmetrised."""
    phono3py_object.forces = np.asarray(forces, dtype=np.float64)
    phono3py_object.produce_fc3()
    phono3py_object.produce_fc2()
    phono3py_object.symmetrize_fc3()
    phono3py_object.symmetrize_fc2()
    return phono3py_object.fc2.copy(), phono3py_object.fc3.copy()


def shell_masks(phono3py_object, radius: float) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of compact fc2 [p, i] and fc3 [p, i, j] entries within ``radius`` (Å) of atom p."""
    from ase import Atoms

    cell = phono3py_object.supercell
    atoms = Atoms(cell.symbols, positions=cell.positions, cell=cell.cell, pbc=True)
    p2s = phono3py_object.primitive.p2s_map
    near = np.array([atoms.get_distances(p, np.arange(len(atoms)), mic=True) <= radius + 1e-6
                     for p in p2s])
    return near, near[:, :, None] & near[:, None, :]


def relative_error(model_fc: np.ndarray, reference_fc: np.ndarray, mask: np.ndarray) -> float:
    """||model - reference|| / ||reference|| (Frobenius) over the masked entries."""
    return float(np.linalg.norm((model_fc - reference_fc)[mask]) / np.linalg.norm(reference_fc[mask]))


def kappa_rta(phono3py_object, fc2: np.ndarray, fc3: np.ndarray, mesh, temperature: float) -> float:
    """Mean diagonal κ_RTA (W m^-1 K^-1) from given fc2/fc3."""
    phono3py_object.fc2 = fc2
    phono3py_object.fc3 = fc3
    phono3py_object.mesh_numbers = list(mesh)
    phono3py_object.init_phph_interaction()
    phono3py_object.run_thermal_conductivity(temperatures=[temperature], is_LBTE=False)
    return float(np.mean(phono3py_object.thermal_conductivity.kappa[0, 0, :3]))


class PhononValidation:
    """The ``[phonons]`` section of a training config: ``phono3py_yaml``, ``reference``
    (extxyz of the displaced supercells with reference forces), ``every`` (epochs), ``mesh``,
    ``temperature`` (K), ``kappa_reference`` (W/mK), ``shell_radius`` (Å)."""

    def __init__(self, section: dict, root: Path):
        import phono3py

        unknown = set(section) - set(PHONON_DEFAULTS) - {"phono3py_yaml", "reference"}
        if unknown:
            raise ValueError(f"unknown [phonons] options: {', '.join(sorted(unknown))}")
        self.options = {**PHONON_DEFAULTS, **section}
        self.phono3py = phono3py.load(str(root / section["phono3py_yaml"]), produce_fc=False,
                                      log_level=0)
        self.supercells = [self._atoms(s) for s in self.phono3py.supercells_with_displacements]
        reference = read_dataset(root / section["reference"], labels=("forces",))
        if len(reference) != len(self.supercells):
            raise ValueError(f"{section['reference']}: {len(reference)} structures, but the "
                             f"phono3py set has {len(self.supercells)} displacements")
        self.fc2_ref, self.fc3_ref = symmetrised_force_constants(
            self.phono3py, np.array([s.forces for s in reference]))
        self.mask2, self.mask3 = shell_masks(self.phono3py, self.options["shell_radius"])

    @staticmethod
    def _atoms(cell):
        from ase import Atoms

        return Atoms(cell.symbols, positions=cell.positions, cell=cell.cell, pbc=True)

    def due(self, epoch: int, last_epoch: int) -> bool:
        return epoch % int(self.options["every"]) == 0 or epoch == last_epoch

    def metrics(self, model) -> dict[str, float]:
        """The :meth:`force_constant_metrics` of a model's symmetrised fc2/fc3."""
        from potentials.calculator import MLCalculator

        # force constants in float64 whatever the training precision (the shipped model runs so)
        calculator = MLCalculator(copy.deepcopy(model), device="cpu", dtype=torch.float64)
        results = calculator.evaluate_batch(self.supercells)
        return self.force_constant_metrics(*symmetrised_force_constants(
            self.phono3py, np.array([r["forces"] for r in results])))

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
        kappa = kappa_rta(self.phono3py, fc2, fc3, self.options["mesh"], self.options["temperature"])
        values["kappa"] = kappa
        if self.options["kappa_reference"]:
            values["kappa_error"] = abs(kappa / self.options["kappa_reference"] - 1.0)
        return values
