"""Minimal hand-made vasprun.xml files for the reader tests (ASE cannot write vasprun.xml).

Only the elements ASE's ``vasp-xml`` reader needs are written: the k-point list, the species,
the initial structure and one ``<calculation>`` per ionic step with its structure, forces
(eV/Å), stress (kBar as VASP writes it; ASE's value in eV/Å^3 is -0.1 GPa times it) and
energies (eV).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from ase import Atoms


def _varray(name: str, rows: np.ndarray) -> str:
    lines = "".join(f"<v>{' '.join(f'{x:.10f}' for x in row)}</v>\n" for row in rows)
    return f'<varray name="{name}">\n{lines}</varray>\n'


def _structure(atoms: Atoms, name: str | None = None) -> str:
    attribute = f' name="{name}"' if name else ""
    return (f"<structure{attribute}><crystal>{_varray('basis', atoms.cell.array)}</crystal>"
            f"{_varray('positions', atoms.get_scaled_positions(wrap=False))}</structure>\n")


def vasprun_text(steps: Sequence[tuple[Atoms, float, np.ndarray | None, np.ndarray]]) -> str:
    """A vasprun.xml with one ionic step per (atoms, energy eV, forces eV/Å or None, stress
    kBar 3x3); a step with forces None has no ``<varray name="forces">``."""
    first = steps[0][0]
    rc = "".join(f"<rc><c>{s}</c><c>1</c></rc>" for s in first.get_chemical_symbols())
    calculations = ""
    for atoms, energy, forces, stress in steps:
        energies = (f'<energy><i name="e_fr_energy">{energy:.8f}</i>'
                    f'<i name="e_0_energy">{energy:.8f}</i></energy>')
        calculations += ("<calculation>\n" + f"<scstep>{energies}</scstep>\n" + _structure(atoms)
                         + ("" if forces is None else _varray("forces", forces))
                         + _varray("stress", stress) + energies + "\n</calculation>\n")
    return ('<?xml version="1.0" encoding="ISO-8859-1"?>\n<modeling>\n'
            '<kpoints><varray name="kpointlist"><v>0 0 0</v></varray>'
            '<varray name="weights"><v>1</v></varray></kpoints>\n'
            f'<atominfo><array name="atoms"><set>{rc}</set></array></atominfo>\n'
            + _structure(first, "initialpos") + calculations + "</modeling>\n")


def write_vasprun(path: Path, steps: Sequence[tuple[Atoms, float, np.ndarray | None,
                                                    np.ndarray]]) -> Path:
    """Write :func:`vasprun_text` of ``steps`` to ``path`` (folders created); return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(vasprun_text(steps))
    return path
