"""Bulk modulus of a crystal from a model's energy under hydrostatic strain, and the training
constraint that holds a model's long-range weights to a target bulk modulus.

A cell and its atoms scaled by (1 + ε) has the energy E(ε); at a stress-free reference cell of
volume V (Å^3), d²E/dε² = 9 V B, with B the bulk modulus.  The second derivative is taken by
central differences of step :data:`STRAIN_STEP` in float64 (relative truncation error ~1e-7).

Why training needs it: the displaced supercells of a phono3py set, all at one volume, fix the
force constants only as sums over the periodic images of the supercell.  A model whose
three-body terms reach past half the supercell can fit them with any curvature of E(V), and
the shipped silicon model did so with a negative one (potentials/data/README.md).  E(V) is
linear in the long-range weights, so one more least-squares row pins it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from ase import Atoms, units

from potentials.neighbours import Graph, build_graph

STRAIN_STEP = 1e-3


def strained_graph(atoms: Atoms, species: list[str], cutoff: float,
                   step: float = STRAIN_STEP) -> Graph:
    """One graph of ``atoms`` with cell and positions scaled by 1 - step, 1 and 1 + step."""
    strained = []
    for strain in (-step, 0.0, step):
        copy = atoms.copy()
        copy.set_cell(np.asarray(atoms.cell) * (1.0 + strain), scale_atoms=True)
        strained.append(copy)
    return build_graph(strained, species, cutoff)


def curvature_to_bulk_modulus(energies: torch.Tensor, volume: float,
                              step: float = STRAIN_STEP) -> torch.Tensor:
    """B (GPa) from energies [3, ...] (eV) at strains -step, 0, +step of a cell of ``volume``
    Å^3."""
    second = (energies[0] - 2.0 * energies[1] + energies[2]) / step ** 2
    return second / (9.0 * volume) / units.GPa


class BulkModulusConstraint:
    """The term weight · (B_model / target - 1)^2 of the long-range least-squares fit, for the
    stress-free crystal ``atoms``, target B in GPa (:func:`read_section` reads it from a
    training config)."""

    def __init__(self, atoms: Atoms, target: float, weight: float, species: list[str],
                 cutoff: float):
        self.target, self.weight = target, weight
        self.volume = atoms.get_volume()
        self.graph = strained_graph(atoms, species, cutoff)

    def bulk_modulus(self, model: torch.nn.Module) -> float:
        """B (GPa) of ``model``."""
        device = model.energy_shifts.device
        energies = model(self.graph.to(device), forces=False)["energy"].detach().double().cpu()
        return float(curvature_to_bulk_modulus(energies, self.volume))

    def columns(self, term: torch.nn.Module) -> torch.Tensor:
        """d(B_model / target) per unit long-range weight [P]: B is linear in those weights."""
        energies = term.unit_outputs(self.graph)["energy"]
        return curvature_to_bulk_modulus(energies, self.volume) / self.target


def read_section(section: dict, root: Path) -> tuple[Atoms, float, float]:
    """(crystal, target in GPa, weight) of the ``[bulk_modulus]`` section of a training config:
    ``structure`` (a file ASE reads, relative to ``root``: the stress-free crystal), ``target``
    (GPa), ``weight`` (default 1); ValueError naming what is wrong."""
    from ase.io import read

    unknown = set(section) - {"structure", "target", "weight"}
    if unknown:
        raise ValueError(f"unknown [bulk_modulus] options: {', '.join(sorted(unknown))}")
    for key in ("structure", "target"):
        if key not in section:
            raise ValueError(f"[bulk_modulus] needs {key!r}")
    target, weight = section["target"], section.get("weight", 1.0)
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
               for v in (target, weight)):
        raise ValueError(f"[bulk_modulus] target and weight must be numbers > 0, got "
                         f"{target!r} and {weight!r}")
    path = root / section["structure"]
    try:
        atoms = read(path)
    except Exception as exc:     # ASE raises many kinds for unreadable files
        raise ValueError(f"[bulk_modulus] structure: cannot read {path}: {exc}") from exc
    return atoms, float(target), float(weight)
