"""PYXAID-style vibronic Hamiltonian files: ``<prefix><k>_re`` and ``<prefix><k>_im``.

One pair of whitespace-separated n×n text matrices per time step k: the real part of the
vibronic Hamiltonian H = E - iħd (energies on the diagonal) and its imaginary part (-ħd_ij off
the diagonal).  PYXAID (built on Quantum ESPRESSO) writes them in Rydberg, the default here;
``units="eV"`` reads and writes eV.  The time step is not stored in the files.
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np

from .hopping import NADInputError, VibronicHamiltonian

RYDBERG = 13.605693122994  # eV
UNITS = {"Ry": RYDBERG, "eV": 1.0}
#: State energies spanning more than this (eV) at one step are implausible for the few states of
#: an NA-MD active space: read in Ry, such files are most likely in eV (13.6x off).
PLAUSIBLE_SPREAD_EV = 10.0


def _factor(units: str) -> float:
    if units not in UNITS:
        raise NADInputError(f"units: unknown energy unit {units!r} (Ry, eV)")
    return UNITS[units]


def write_hamiltonians(ham: VibronicHamiltonian, directory: str | Path, prefix: str = "Ham_",
                       units: str = "Ry", start: int = 0) -> list[Path]:
    """Write every step of ``ham`` as ``<prefix><k>_re/_im``; returns the paths written."""
    factor = _factor(units)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for k, h in enumerate(ham.hamiltonian(), start=start):
        for part, values in (("re", h.real), ("im", h.imag)):
            path = directory / f"{prefix}{k}_{part}"
            np.savetxt(path, values / factor, fmt="%.12e")
            written.append(path)
    return written


def _read_matrix(path: Path, n: int | None) -> np.ndarray:
    try:
        m = np.loadtxt(path, ndmin=2)
    except ValueError as exc:
        raise NADInputError(f"{path}: not a numeric matrix ({exc})") from None
    if m.shape[0] != m.shape[1]:
        raise NADInputError(f"{path}: matrix is {m.shape[0]}x{m.shape[1]}, not square")
    if n is not None and m.shape[0] != n:
        raise NADInputError(f"{path}: {m.shape[0]} states but earlier files have {n} "
                            "(inconsistent state counts)")
    return m


def _check_unit_plausible(directory: Path, prefix: str, units: str, h: np.ndarray) -> None:
    """Warn when Ry files look like eV files (state energies spanning too much, in eV)."""
    if units != "Ry" or h.size == 0:
        return
    energies = np.diagonal(h, axis1=1, axis2=2).real
    spread = float((energies.max(axis=1) - energies.min(axis=1)).max())
    if spread > PLAUSIBLE_SPREAD_EV:
        warnings.warn(f"{directory}: the {prefix}<k> state energies span {spread:.3g} eV when "
                      f"read in Ry (implausible, more than {PLAUSIBLE_SPREAD_EV:g} eV): if the "
                      "files are in eV, read them with units 'eV' (mts namd hop --units eV)",
                      stacklevel=3)


def read_hamiltonians(directory: str | Path, dt: float, prefix: str = "Ham_",
                      units: str = "Ry", states: list[int] | None = None,
                      labels: list[str] | None = None) -> VibronicHamiltonian:
    """Read all consecutive ``<prefix><k>_re/_im`` files of ``directory`` (dt in fs).

    states: optional subset of state indices.  Files read in Ry whose state energies span more
    than :data:`PLAUSIBLE_SPREAD_EV` at some step give a warning (eV files read as Ry are
    13.6x off).  Raises :class:`NADInputError` naming the file
    for a missing partner file, a gap in the step numbering, inconsistent sizes or a
    non-Hermitian matrix.
    """
    factor = _factor(units)
    directory = Path(directory)
    pattern = re.compile(re.escape(prefix) + r"(\d+)_re$")
    steps = sorted(int(m.group(1)) for p in directory.iterdir()
                   if (m := pattern.match(p.name)))
    if not steps:
        raise NADInputError(f"{directory}: no {prefix}<k>_re files")
    missing = sorted(set(range(steps[0], steps[-1] + 1)) - set(steps))
    if missing:
        raise NADInputError(f"{directory / f'{prefix}{missing[0]}_re'}: missing step")
    n = None
    mats = []
    for k in steps:
        re_path, im_path = directory / f"{prefix}{k}_re", directory / f"{prefix}{k}_im"
        if not im_path.exists():
            raise NADInputError(f"{im_path}: missing (needed with {re_path.name})")
        re_m = _read_matrix(re_path, n)
        n = re_m.shape[0]
        im_m = _read_matrix(im_path, n)
        h = (re_m + 1j * im_m) * factor
        herm = np.abs(h - h.conj().T).max()
        if herm > 1e-8 * max(np.abs(h).max(), 1e-12):
            raise NADInputError(f"{re_path} / {im_path}: hamiltonian not Hermitian "
                                f"(max |H - H^†| = {herm:.3g} eV)")
        mats.append(h)
    _check_unit_plausible(directory, prefix, units, np.array(mats))
    ham = VibronicHamiltonian.from_hamiltonian(np.array(mats), dt, labels)
    return ham.select(states) if states is not None else ham
