"""ASE calculator and batched evaluation of many structures in one graph.

Units: energy eV, forces eV/Å, stress eV/Å^3 (ASE sign convention and Voigt order xx, yy, zz,
yz, xz, xy).  Stress is returned only for structures periodic in all three directions.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from ase import Atoms
from ase.calculators.calculator import Calculator, PropertyNotImplementedError, all_changes

from potentials.model import EquivariantPotential
from potentials.model_files import load_model
from potentials.neighbours import build_graph

#: Atoms per batched graph: ~512 keeps the edge tensors in cache (larger batches run slower on CPU).
MAX_ATOMS_PER_BATCH = 512


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; anything else as torch understands it."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def full_to_voigt(stress: np.ndarray) -> np.ndarray:
    """3x3 stress (eV/Å^3) -> ASE Voigt order xx, yy, zz, yz, xz, xy."""
    return stress[[0, 1, 2, 1, 0, 0], [0, 1, 2, 2, 2, 1]]


class MLCalculator(Calculator):
    """ASE calculator for an :class:`EquivariantPotential` (energy eV, forces eV/Å, stress eV/Å^3).

    ``model`` is a model object, a model file path or a shipped name (``"si"``); ``dtype`` is
    the precision of the evaluation (float64 by default: force constants need it).
    """

    implemented_properties = ["energy", "free_energy", "forces", "stress"]

    def __init__(self, model: EquivariantPotential | str = "si",
                 device: str | torch.device = "auto",
                 dtype: torch.dtype = torch.float64, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(model, EquivariantPotential):
            model = load_model(model)
        self.device = resolve_device(device)
        self.dtype = dtype
        self.model = model.to(device=self.device, dtype=dtype).eval()

    def evaluate_batch(self, atoms_list: Sequence[Atoms]) -> list[dict[str, np.ndarray | float]]:
        """Energy (eV), forces (eV/Å) and, for fully periodic structures, stress (eV/Å^3, Voigt)
        of every structure, computed in batched graphs of up to :data:`MAX_ATOMS_PER_BATCH`
        atoms."""
        results: list[dict] = []
        chunk: list[Atoms] = []
        count = 0
        for atoms in atoms_list:
            if chunk and count + len(atoms) > MAX_ATOMS_PER_BATCH:
                results.extend(self._evaluate_chunk(chunk))
                chunk, count = [], 0
            chunk.append(atoms)
            count += len(atoms)
        if chunk:
            results.extend(self._evaluate_chunk(chunk))
        return results

    def _evaluate_chunk(self, atoms_list: Sequence[Atoms]) -> list[dict]:
        graph = build_graph(atoms_list, self.model.species, self.model.graph_cutoff)
        graph = graph.to(self.device)
        periodic = [bool(np.all(atoms.pbc)) for atoms in atoms_list]
        output = self.model(graph, forces=True, stress=any(periodic))
        energy = output["energy"].detach().cpu().numpy().astype(np.float64)
        forces = output["forces"].detach().cpu().numpy().astype(np.float64)
        stress = (output["stress"].detach().cpu().numpy().astype(np.float64) if any(periodic)
                  else None)
        results, start = [], 0
        for g, atoms in enumerate(atoms_list):
            result = {"energy": float(energy[g]), "forces": forces[start:start + len(atoms)]}
            if periodic[g]:
                result["stress"] = full_to_voigt(stress[g])
            results.append(result)
            start += len(atoms)
        return results

    def calculate(self, atoms: Atoms | None = None, properties=("energy",),
                  system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        if "stress" in properties and not np.all(self.atoms.pbc):
            raise PropertyNotImplementedError("stress needs a structure periodic in all directions")
        result = self.evaluate_batch([self.atoms])[0]
        self.results = {"energy": result["energy"], "free_energy": result["energy"],
                        "forces": result["forces"]}
        if "stress" in result:
            self.results["stress"] = result["stress"]


def pretrained_calculator(name: str = "si", device: str | torch.device = "auto",
                          dtype: torch.dtype = torch.float64) -> MLCalculator:
    """An :class:`MLCalculator` for a shipped model (``"si"``: PBEsol silicon)."""
    return MLCalculator(load_model(name), device=device, dtype=dtype)


def evaluate_batch(atoms_list: Sequence[Atoms],
                   model_or_calculator: MLCalculator | EquivariantPotential | str | None = None
                   ) -> list[dict[str, np.ndarray | float]]:
    """:meth:`MLCalculator.evaluate_batch` for a calculator, model, model path or (None) the
    shipped Si model."""
    if isinstance(model_or_calculator, MLCalculator):
        calculator = model_or_calculator
    else:
        calculator = MLCalculator("si" if model_or_calculator is None else model_or_calculator)
    return calculator.evaluate_batch(atoms_list)
