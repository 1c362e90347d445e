"""Equivariant machine-learned interatomic potentials (torch + e3nn).

Units throughout: positions and cells Å, energy eV, forces eV/Å, stress eV/Å^3 (ASE convention).

* :class:`EquivariantPotential`, :class:`ModelConfig`: the network;
* :class:`MLCalculator`, :func:`evaluate_batch`, :func:`pretrained_calculator`: use it;
* :func:`load_model`, :func:`save_model`: model files (state dict + JSON config);
* :func:`train`: fit a model to extxyz / phonopy datasets (``mts train CONFIG``); bad input
  raises :class:`DatasetError`, :class:`StructureError`, :class:`ModelFileError` or
  :class:`TrainingConfigError`, all :class:`mtscore.InputError`.
"""
from __future__ import annotations

from potentials.calculator import MLCalculator, evaluate_batch, pretrained_calculator
from potentials.datasets import DatasetError
from potentials.model import EquivariantPotential, ModelConfig
from potentials.model_files import ModelFileError, load_model, save_model
from potentials.neighbours import StructureError
from potentials.training import train
from potentials.training_config import TrainingConfigError

__all__ = ["EquivariantPotential", "ModelConfig", "MLCalculator", "evaluate_batch",
           "pretrained_calculator", "load_model", "save_model", "train", "StructureError",
           "DatasetError", "ModelFileError", "TrainingConfigError"]
