"""Reference data of the potentials tests: the DFT silicon files shipped with the package
(potentials/data, see its README for source and licence) and their published value."""
from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "potentials" / "data"

# REFERENCES.md §2: phono3py κ_RTA of the PBEsol DFT force constants, 300 K, 11x11x11 mesh
KAPPA_DFT_RTA_300K_11 = 108.98  # W/mK
