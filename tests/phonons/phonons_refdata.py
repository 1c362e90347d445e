"""Reference data and helpers of the phonons tests: the DFT silicon data in tests/data/phonons
and its published values (REFERENCES.md §2), a matscipy Tersoff calculator, and the BTE case
builders of tests/bte/bte_cases.py (loaded from that file, not copied)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "phonons"

# REFERENCES.md §2, VASP PBEsol silicon, phono3py 4.8, 300 K
KAPPA_RTA_11 = 108.98
KAPPA_RTA_ISOTOPE_11 = 102.27
KAPPA_LBTE_11 = 113.10
FREQ_GAMMA_OPTICAL = 15.27
FREQ_X = (4.04, 12.16, 13.74)
FREQ_L = (3.10, 11.07, 12.30, 14.58)
Q_GAMMA, Q_X, Q_L = (0, 0, 0), (0.5, 0.0, 0.5), (0.5, 0.5, 0.5)
TERSOFF_A0 = 5.4320


def _load_bte_helpers():
    spec = importlib.util.spec_from_file_location("bte_cases",
                                                  REPO / "tests" / "bte" / "bte_cases.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bte_helpers = _load_bte_helpers()


def distinct(frequencies, tol: float = 0.01) -> list[float]:
    """Distinct values (THz) of sorted frequencies, degenerate ones merged."""
    out: list[float] = []
    for f in np.sort(frequencies):
        if not out or f - out[-1] > tol:
            out.append(float(f))
    return out


def tersoff():
    """matscipy's Tersoff silicon (Tersoff_PRB_39_5566_Si_C)."""
    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms import TersoffBrenner
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C,
    )
    return Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))

# phono3py's AlN-LDA example (tests/data/aln-lda/README.md): wurtzite AlN, VASP LDA
ALN = REPO / "tests" / "data" / "aln-lda"
ALN_MESH = (15, 15, 8)
# published κ_RTA(300 K, 15x15x8), phono3py's finite-difference fc3, NAC (W/mK): xx, zz
ALN_KAPPA_RTA_NAC = (251.2, 233.4)
