"""Force constants and mode-resolved phonon properties via phonopy/phono3py, from any ASE
calculator; bulk κ, band tables for the ``bte`` package and strain; Born charges (non-analytic
correction) of polar crystals.

Units: frequency THz, lengths Å, energy eV, mass amu, group velocity m/s, heat capacity
J m^-3 K^-1, lifetime s, κ W m^-1 K^-1.
"""
from .band_table import band_material, write_band_table, write_mode_data
from .force_constants import (
                              ForceConstants,
                              ForceEvaluationError,
                              SymmetryError,
                              check_symmetry,
                              compute_force_constants,
                              evaluate_forces,
                              force_constants_from_forces,
                              load_force_constants,
)
from .kappa import ImaginaryModeWarning, KappaResult, bulk_kappa, kappa_accumulation
from .modes import ModeSet, harmonic_frequencies, mode_properties
from .nac import NacParams, PolarMaterialError, read_born
from .strain import StrainSweepResult, strain_cell, strain_sweep, strain_tensor

__all__ = ["ForceConstants", "ForceEvaluationError", "ImaginaryModeWarning", "KappaResult",
           "ModeSet", "NacParams", "PolarMaterialError", "StrainSweepResult", "SymmetryError",
           "band_material", "bulk_kappa", "check_symmetry", "compute_force_constants",
           "evaluate_forces", "force_constants_from_forces", "harmonic_frequencies",
           "kappa_accumulation", "load_force_constants", "mode_properties", "read_born",
           "strain_cell", "strain_sweep", "strain_tensor", "write_band_table", "write_mode_data"]
