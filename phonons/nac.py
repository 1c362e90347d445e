"""Non-analytic correction (NAC) of polar crystals: Born effective charges and the dielectric
tensor, and the check that a polar material does not run without them.

Units: Born charges in elementary charges e, dielectric tensor dimensionless (ε∞), ``factor``
phonopy's unit-conversion factor of the NAC term (None: phonopy's default for eV/Å input,
Hartree·Bohr = 14.4 eV·Å).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mtscore import InputError, get_logger

log = get_logger(__name__)

#: Pauling electronegativities (CRC Handbook); elements without a value are left out.
PAULING = {
    "H": 2.20, "Li": 0.98, "Be": 1.57, "B": 2.04, "C": 2.55, "N": 3.04, "O": 3.44, "F": 3.98,
    "Na": 0.93, "Mg": 1.31, "Al": 1.61, "Si": 1.90, "P": 2.19, "S": 2.58, "Cl": 3.16,
    "K": 0.82, "Ca": 1.00, "Sc": 1.36, "Ti": 1.54, "V": 1.63, "Cr": 1.66, "Mn": 1.55,
    "Fe": 1.83, "Co": 1.88, "Ni": 1.91, "Cu": 1.90, "Zn": 1.65, "Ga": 1.81, "Ge": 2.01,
    "As": 2.18, "Se": 2.55, "Br": 2.96, "Kr": 3.00, "Rb": 0.82, "Sr": 0.95, "Y": 1.22,
    "Zr": 1.33, "Nb": 1.6, "Mo": 2.16, "Tc": 1.9, "Ru": 2.2, "Rh": 2.28, "Pd": 2.20,
    "Ag": 1.93, "Cd": 1.69, "In": 1.78, "Sn": 1.96, "Sb": 2.05, "Te": 2.1, "I": 2.66,
    "Xe": 2.6, "Cs": 0.79, "Ba": 0.89, "La": 1.10, "Ce": 1.12, "Pr": 1.13, "Nd": 1.14,
    "Sm": 1.17, "Gd": 1.20, "Dy": 1.22, "Ho": 1.23, "Er": 1.24, "Tm": 1.25, "Lu": 1.27,
    "Hf": 1.3, "Ta": 1.5, "W": 2.36, "Re": 1.9, "Os": 2.2, "Ir": 2.20, "Pt": 2.28,
    "Au": 2.54, "Hg": 2.00, "Tl": 1.62, "Pb": 2.33, "Bi": 2.02, "Po": 2.0, "At": 2.2,
}
POLAR_THRESHOLD = 0.4        # Pauling units: a larger difference between species means polar


class PolarMaterialError(InputError):
    """A polar material would run without Born charges (no non-analytic correction)."""


@dataclass(frozen=True)
class NacParams:
    """Born effective charges (n_prim, 3, 3) e of the primitive-cell atoms (phonopy's order),
    dielectric tensor (3, 3) and phonopy's NAC unit factor (None: phonopy's default)."""

    born: np.ndarray
    dielectric: np.ndarray
    factor: float | None = None

    def __post_init__(self) -> None:
        born = np.asarray(self.born, dtype=np.float64)
        dielectric = np.asarray(self.dielectric, dtype=np.float64)
        if born.ndim != 3 or born.shape[1:] != (3, 3):
            raise InputError(f"Born charges must have shape (n_atoms, 3, 3), not {born.shape}",
                             key="born")
        if dielectric.shape != (3, 3):
            raise InputError(f"dielectric tensor must have shape (3, 3), not "
                             f"{dielectric.shape}", key="dielectric")
        if not (np.all(np.isfinite(born)) and np.all(np.isfinite(dielectric))):
            raise InputError("Born charges and dielectric tensor must be finite", key="born")
        object.__setattr__(self, "born", born)
        object.__setattr__(self, "dielectric", dielectric)

    def as_phonopy(self) -> dict:
        """phonopy's ``nac_params`` dict (born, dielectric, factor)."""
        return {"born": self.born.copy(), "dielectric": self.dielectric.copy(),
                "factor": default_factor() if self.factor is None else float(self.factor)}

    @classmethod
    def from_phonopy(cls, params: dict) -> NacParams:
        """From phonopy's ``nac_params`` dict (born, dielectric, optional factor)."""
        factor = params.get("factor")
        return cls(params["born"], params["dielectric"],
                   None if factor is None else float(factor))


def default_factor() -> float:
    """phonopy's NAC unit factor for eV and Å (Hartree·Bohr, about 14.4 eV·Å)."""
    from phonopy.interface.calculator import get_calculator_physical_units

    return float(get_calculator_physical_units("vasp").nac_factor)


def read_born(path: str | Path, primitive, symprec: float = 1e-5) -> NacParams:
    """Born charges and dielectric tensor from a phonopy BORN file for ``primitive`` (phonopy's
    PhonopyAtoms primitive cell; the charges of the symmetry-independent atoms are expanded
    over it).  InputError naming the file when it is missing or unreadable."""
    from phonopy.file_IO import parse_BORN

    path = Path(path)
    if not path.is_file():
        raise InputError("no such BORN file", str(path), key="born")
    try:
        params = parse_BORN(primitive, symprec=symprec, filename=str(path))
    except Exception as exc:        # phonopy raises assorted errors on malformed files
        raise InputError(f"not a readable BORN file: {type(exc).__name__}: {exc}", str(path),
                         key="born") from exc
    return NacParams.from_phonopy(params)


def polar_species(symbols) -> tuple[str, str, float] | None:
    """The pair of species with the largest Pauling electronegativity difference and that
    difference, when it exceeds :data:`POLAR_THRESHOLD`; None for a non-polar material."""
    known = sorted({s for s in symbols if s in PAULING}, key=PAULING.get)
    if len(known) < 2:
        return None
    low, high = known[0], known[-1]
    difference = PAULING[high] - PAULING[low]
    return (low, high, difference) if difference > POLAR_THRESHOLD else None


def check_polar(symbols, *, file: str | Path | None = None, unused_born: Path | None = None,
                key: str = "born") -> None:
    """Raise PolarMaterialError when a material runs without Born charges although it is polar:
    a BORN file ``unused_born`` lies in its data folder, or two of its species differ in
    Pauling electronegativity by more than 0.4.  Pass ``nac=False`` to the caller to run
    without the correction on purpose."""
    hint = ("give Born charges (born=FILE or NacParams, --born FILE) or switch the non-analytic "
            "correction off explicitly (nac=False, --no-nac)")
    if unused_born is not None:
        raise PolarMaterialError(f"a BORN file ({unused_born}) lies beside the data but is not "
                                 f"used; {hint}", None if file is None else str(file), key=key)
    pair = polar_species(symbols)
    if pair is not None:
        low, high, difference = pair
        raise PolarMaterialError(
            f"polar material ({low}-{high}: Pauling electronegativity difference "
            f"{difference:.2f} > {POLAR_THRESHOLD}) without Born charges; {hint}",
            None if file is None else str(file), key=key)


def resolve_nac(symbols, primitive, *, born: str | Path | NacParams | None = None,
                nac: bool | None = None, embedded: NacParams | None = None,
                data_dir: str | Path | None = None, file: str | Path | None = None,
                symprec: float = 1e-5) -> NacParams | None:
    """The NAC parameters a calculation uses, in this order: ``born`` (a BORN file or
    NacParams), ``embedded`` (e.g. a phono3py yaml's ``nac_params``), a ``BORN`` file in
    ``data_dir``.  ``nac=False``: none, on purpose (no check); ``nac=True``: one is required.
    Without any, a polar material raises PolarMaterialError (see :func:`check_polar`) naming
    ``file``."""
    if nac is False:
        if born is not None:
            raise InputError("Born charges given together with nac=False (--no-nac)",
                             None if file is None else str(file), key="born")
        return None
    if isinstance(born, NacParams):
        params = born
    elif born is not None:
        params = read_born(born, primitive, symprec)
    elif embedded is not None:
        params = embedded
    elif data_dir is not None and (Path(data_dir) / "BORN").is_file():
        params = read_born(Path(data_dir) / "BORN", primitive, symprec)
        log.info("non-analytic correction from %s", Path(data_dir) / "BORN")
    else:
        params = None
    if params is None:
        if nac:
            raise PolarMaterialError("nac=True but no Born charges were found (no born "
                                     "argument, nac_params or BORN file)",
                                     None if file is None else str(file), key="born")
        check_polar(symbols, file=file)
        return None
    if len(params.born) != len(primitive):
        raise InputError(f"{len(params.born)} Born charge tensors for a primitive cell of "
                         f"{len(primitive)} atoms", None if file is None else str(file),
                         key="born")
    return params
