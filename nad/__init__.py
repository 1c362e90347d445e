"""ML-descriptor nonadiabatic molecular dynamics (carrier trapping and recombination).

Classical path approximation: nuclei move on the ground state (MD, :mod:`nad.md`); a DFT-free
tight-binding model (:mod:`nad.tight_binding`) or ML models on local descriptors
(:mod:`nad.descriptors`, :mod:`nad.ml`) give the band-edge and trap energies and the
nonadiabatic couplings along the trajectory (:mod:`nad.trajectory`); surface hopping (FSSH,
DISH, detailed balance; :mod:`nad.hopping`, numba kernels in :mod:`nad.hopping_kernels`) gives
populations, fitted by :mod:`nad.analysis`.  Tully's models (:mod:`nad.tully`) validate the
engine; :mod:`nad.pipeline` chains everything.  Units: time fs, energy eV, length Å (Tully's
models: atomic units).  Neither torch nor phonopy is imported.
"""
from .analysis import decay_time, decoherence_times, dephasing_function, fit_time_constant
from .descriptors import descriptors
from .hopping import NADInputError, VibronicHamiltonian, carrier_hamiltonian, run_surface_hopping
from .ml import HamiltonianModel
from .tight_binding import TBParameters, TightBinding
from .tully import run_tully

__all__ = ["HamiltonianModel", "NADInputError", "TBParameters", "TightBinding",
           "VibronicHamiltonian", "carrier_hamiltonian", "decay_time", "decoherence_times",
           "dephasing_function", "descriptors", "fit_time_constant", "run_surface_hopping",
           "run_tully"]
