"""One call of spglib's symmetry search for every package (bte reads crystals from ShengBTE
files, phonons from ASE structures); each turns a failed search into its own input error."""
from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np


def symmetry_search(lattice: np.ndarray, positions: np.ndarray, numbers: Sequence[int],
                    symprec: float = 1e-5) -> tuple[object | None, str]:
    """(spglib's symmetry dataset, "") of the crystal with ``lattice`` rows (Å or any length
    unit), fractional ``positions`` and atomic or type ``numbers``; (None, spglib's reason) when
    the search fails, whether spglib reports it by returning None or by raising.  spglib's
    deprecation warnings are silenced; spglib is imported only here, on the first call."""
    import spglib

    cell = (np.asarray(lattice, dtype=np.float64), np.asarray(positions, dtype=np.float64),
            [int(n) for n in numbers])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
            if dataset is None:
                return None, spglib.get_error_message()
    except Exception as exc:       # spglib raises SpglibError when OLD_ERROR_HANDLING is off
        return None, str(exc)
    return dataset, ""
