"""Cached stages of a study: structure → force constants → modes → band table → BTE case.

Each stage lives in ``<root>/<stage>-<key>/`` where key is a hash of everything the stage
depends on (its settings and the keys of the stages it reads).  A stage is finished when its
``done.json`` marker exists; it is built in a temporary sibling directory and renamed into place,
so an interrupted or concurrent run never leaves a half-written stage behind.  Re-running with
the same settings reads the finished stages; a changed setting changes the keys of that stage
and of every stage after it only.

Units: Å, K, THz, m/s, s, J m^-3 K^-1, κ W m^-1 K^-1, film thickness and wire sizes m.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from mtscore import InputError, temporary_name

MARKER = "done.json"


@dataclass(frozen=True)
class Stage:
    """A finished stage: its name, key, directory and the summary stored in its marker."""

    name: str
    key: str
    directory: Path
    summary: dict
    cached: bool


def stage_key(name: str, inputs: dict) -> str:
    """16 hex digits of SHA-256 over the stage name and its JSON-encoded inputs."""
    text = json.dumps({"stage": name, **inputs}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StageError(RuntimeError):
    """A stage that could not be finished: its result holds a non-finite number, or its files
    could not be written.  Nothing of it is kept and it is not marked done."""


def _non_finite(value: object, where: str = "") -> str | None:
    """The dotted place of the first NaN or infinity in a JSON-like ``value``, None if none."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "value"
    if isinstance(value, dict):
        items = ((f"{where}.{k}" if where else str(k), v) for k, v in value.items())
    elif isinstance(value, (list, tuple)):
        items = ((f"{where}[{i}]", v) for i, v in enumerate(value))
    else:
        return None
    for place, item in items:
        found = _non_finite(item, place)
        if found is not None:
            return found
    return None


def run_stage(root: str | Path, name: str, inputs: dict,
              build: Callable[[Path], dict]) -> Stage:
    """Return the finished stage ``name`` for ``inputs``, calling ``build(directory)`` (which
    writes its files there and returns a JSON-able summary) only when it is not cached.  A
    summary holding NaN or infinity, or a file that cannot be written, is a :class:`StageError`
    and leaves nothing behind."""
    key = stage_key(name, inputs)
    final = Path(root) / f"{name}-{key}"
    if (final / MARKER).is_file():
        return _finished_stage(name, key, final)
    tmp = temporary_name(final)
    try:
        tmp.mkdir(parents=True)
        summary = build(tmp)
        bad = _non_finite(summary)
        if bad is not None:
            raise StageError(f"stage {name}: {bad} is not a finite number; the stage is not "
                             f"kept")
        (tmp / MARKER).write_text(json.dumps({"stage": name, "key": key, "inputs": inputs,
                                              "summary": summary}, indent=1, default=str))
        if final.exists() and not (final / MARKER).is_file():
            shutil.rmtree(final)           # a leftover without a marker is never a finished stage
        try:
            os.replace(tmp, final)
        except OSError:
            # Another process published the same stage first (the rename then finds a
            # non-empty directory); its result is as good as ours.
            if not (final / MARKER).is_file():
                raise
            shutil.rmtree(tmp)
            return _finished_stage(name, key, final)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError):
            raise StageError(f"stage {name} failed: {exc.filename or tmp}: "
                             f"{exc.strerror or exc}; nothing of it is kept") from exc
        raise
    return Stage(name, key, final, summary, False)


def _finished_stage(name: str, key: str, directory: Path) -> Stage:
    summary = json.loads((directory / MARKER).read_text())["summary"]
    return Stage(name, key, directory, summary, True)


# ------------------------------------------------------------------------------------------------
# the stages
# ------------------------------------------------------------------------------------------------

def silicon_cell(lattice_constant: float):
    """Conventional 8-atom diamond Si cell (ASE Atoms) with lattice constant Å."""
    from ase.build import bulk
    return bulk("Si", "diamond", a=lattice_constant, cubic=True)


def relaxed_lattice_constant(calculator, guess: float = 5.43) -> float:
    """Lattice constant (Å) of diamond Si minimising the energy of ``calculator`` (bounded
    scalar search within ±3 % of ``guess``, tolerance 1e-5 Å)."""
    from scipy.optimize import minimize_scalar

    def energy(a: float) -> float:
        atoms = silicon_cell(a)
        atoms.calc = calculator
        return float(atoms.get_potential_energy())

    res = minimize_scalar(energy, bounds=(0.97 * guess, 1.03 * guess), method="bounded",
                          options={"xatol": 1e-5})
    return float(res.x)


def structure_stage(root: Path, structure: str, lattice_constant: float | None,
                    potential: str, potential_id: str, calculator: Callable) -> Stage:
    """The unit cell as ``structure.extxyz``: built-in Si (at ``lattice_constant`` Å, or relaxed
    with the potential when None) or read from a file.  ``calculator()`` makes the ASE
    calculator only if a relaxation needs it; ``potential_id`` identifies it for the key."""
    from ase.io import write

    inputs = {"structure": structure, "lattice_constant": lattice_constant}
    if structure.startswith("builtin:") and lattice_constant is None:
        inputs["potential"] = potential_id
    else:
        inputs["file_sha256"] = (None if structure.startswith("builtin:") else
                                 hashlib.sha256(Path(structure).read_bytes()).hexdigest())

    def build(d: Path) -> dict:
        if structure.startswith("builtin:"):
            a = lattice_constant if lattice_constant is not None else \
                relaxed_lattice_constant(calculator())
            atoms = silicon_cell(a)
        else:
            atoms = read_structure_file(structure)
        write(d / "structure.extxyz", atoms)
        return {"formula": atoms.get_chemical_formula(),
                "cell_A": np.asarray(atoms.cell).tolist(), "potential": potential}

    return run_stage(root, "structure", inputs, build)


class StructureFileError(InputError):
    """A structure file that ASE cannot read as a unit cell."""


def read_structure_file(path: str | Path):
    """ASE Atoms of the unit cell in ``path`` (any ASE-readable format); a file ASE cannot
    read is one :class:`StructureFileError` naming it (ASE's readers fail with anything from
    an empty AssertionError to an IndexError on a garbage file)."""
    from ase.io import read

    try:
        atoms = read(path)
    except OSError:
        raise
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise StructureFileError(f"not a structure ASE can read ({reason})", path) from None
    if isinstance(atoms, list) or len(atoms) == 0:
        raise StructureFileError("no atoms in the file", path)
    return atoms


def read_structure(stage: Stage):
    """ASE Atoms of a structure stage."""
    from ase.io import read
    return read(stage.directory / "structure.extxyz")


def force_constants_stage(root: Path, structure: Stage, potential_id: str,
                          calculator: Callable, supercell, displacement: float, *,
                          cutoff_pair: float | None = None, n_random: int | None = None,
                          forces_dir: Path | None = None, progress: bool = False,
                          born: str | Path | None = None, nac: bool | None = None) -> Stage:
    """Symmetrised fc2/fc3 of the structure with the potential (phono3py_disp.yaml, fc2.hdf5,
    fc3.hdf5 in the stage directory); displacement Å, ``cutoff_pair`` Å (fc3 pairs farther
    apart are skipped), ``n_random`` random-displacement supercells (phonons
    .compute_force_constants).  Forces are cached per displacement so an interrupted stage
    resumes: in ``forces_dir`` (kept) when given, else in ``root/forces-<key>`` (removed once
    the stage is finished).  ``born``: a BORN file (Born charges, dielectric tensor) for the
    non-analytic correction; ``nac=False`` runs a polar crystal without it on purpose (see
    phonons.compute_force_constants)."""
    import phonons

    inputs = {"structure": structure.key, "potential": potential_id,
              "supercell": list(supercell), "displacement": displacement}
    if cutoff_pair is not None:           # only when set: the keys of older stages still hold
        inputs["cutoff_pair"] = cutoff_pair
    if n_random is not None:
        inputs["n_random"] = n_random
    if born is not None:                  # the file's contents, not its name, make the stage
        inputs["born"] = hashlib.sha256(Path(born).read_bytes()).hexdigest()
    if nac is not None:
        inputs["nac"] = nac
    key = stage_key("fc", inputs)
    cache = Path(root) / f"forces-{key}" if forces_dir is None else Path(forces_dir)

    def build(d: Path) -> dict:
        fc = phonons.compute_force_constants(
            read_structure(structure), calculator(), supercell, displacement=displacement,
            cutoff_pair_distance=cutoff_pair, n_random=n_random, cache_dir=cache,
            progress=progress, born=born, nac=nac)
        fc.write(d)
        return {"n_displacements": len(fc.dataset.get("first_atoms", [])),
                "nac": fc.nac is not None}

    stage = run_stage(root, "fc", inputs, build)
    if forces_dir is None:
        shutil.rmtree(cache, ignore_errors=True)
    return stage


def read_force_constants(stage: Stage):
    """ForceConstants of a force-constant stage (read back from its phono3py files, with the
    Born charges it was built with, or explicitly without them)."""
    import phonons

    return phonons.load_force_constants(stage.directory / "phono3py_disp.yaml",
                                        nac=stage.summary.get("nac"))


def modes_stage(root: Path, fc_stage: Stage, mesh, temperature: float, method: str,
                isotope: bool, progress: bool = False) -> Stage:
    """Mode properties (RTA lifetimes) on ``mesh`` at ``temperature`` K as ``modes.npz``, and
    the bulk κ tensor by ``method`` ("rta" from the modes, "lbte" from phono3py); a live bar of
    the grid points done when ``progress``."""
    import phonons

    inputs = {"fc": fc_stage.key, "mesh": list(mesh), "temperature": temperature,
              "method": method, "isotope": isotope}

    def build(d: Path) -> dict:
        fc = read_force_constants(fc_stage)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", phonons.ImaginaryModeWarning)
            modes = phonons.mode_properties(fc, mesh, temperature, is_isotope=isotope,
                                            progress=progress)
            kappa = modes.kappa() if method == "rta" else phonons.bulk_kappa(
                fc, mesh, [temperature], method=method, is_isotope=isotope,
                progress=progress).kappa[0]
        np.savez(d / "modes.npz", **{f.name: getattr(modes, f.name) for f in fields(modes)})
        return {"kappa_tensor_W_mK": np.asarray(kappa).tolist(),
                "kappa_W_mK": float(np.trace(kappa) / 3), "method": method,
                "warnings": [str(w.message) for w in caught]}

    return run_stage(root, "modes", inputs, build)


def read_modes(stage: Stage):
    """ModeSet of a modes stage."""
    from phonons import ModeSet
    with np.load(stage.directory / "modes.npz") as data:
        values = {k: data[k] for k in data.files}
    values["temperature"] = float(values["temperature"])
    return ModeSet(**values)


def band_table_stage(root: Path, modes: Stage, n_bands: int, binning: str,
                     direction: Sequence[float] | None = None) -> Stage:
    """GiftBTE DATABASE band table ``phonons_<n_bands>.dat`` binned by ``binning``; with a
    transport ``direction`` (Cartesian, crystal axes) its κ is κ along it (phonons
    .write_band_table), else trace(κ)/3."""
    import phonons

    inputs = {"modes": modes.key, "n_bands": n_bands, "binning": binning}
    if direction is not None:
        inputs["direction"] = [float(x) for x in direction]

    def build(d: Path) -> dict:
        material = phonons.write_band_table(read_modes(modes), d / f"phonons_{n_bands}.dat",
                                            n_bands, binning, direction=direction)
        return {"file": f"phonons_{n_bands}.dat", "kappa_W_mK": float(material.kappa_bulk())}

    return run_stage(root, "bands", inputs, build)


def band_table_path(stage: Stage) -> Path:
    """The band-table file of a band-table stage."""
    return stage.directory / stage.summary["file"]


@dataclass(frozen=True)
class CaseSpec:
    """One BTE run: a film ``kind`` of ``thickness`` m, or a wire/ribbon ``kind`` of
    cross-section ``width`` × ``thickness`` m, with wall ``specularity``; or a GiftBTE folder
    ``path``; the BTE settings as a plain dict (workflows.config.BTESettings)."""

    kind: str
    thickness: float | None
    specularity: float
    path: str | None
    bte: dict
    width: float | None = None


def bte_stage(root: Path, tables: list[Stage], n_bands: int, case: CaseSpec,
              monitor: object | None = None) -> Stage:
    """Write the case's GiftBTE input folder with ``tables`` (one per layer; one for a folder),
    solve it and write the outputs (TempLattice.dat, kappa.json, ...) into the stage
    directory; the summary holds κ_eff (W/mK), iterations, convergence and wall time (s).
    ``monitor`` (a :class:`bte.monitor.Monitor`) is told about every iteration."""
    import bte
    from workflows.geometries import prepare_folder_case, write_case

    inputs = {"tables": [t.key for t in tables], "case": asdict(case)}
    paths = [band_table_path(t) for t in tables]

    def build(d: Path) -> dict:
        s = case.bte
        if case.kind == "folder":
            prepare_folder_case(case.path, d, paths[0], n_bands, s.get("ntheta"),
                                s.get("nphi"))
        else:
            write_case(d, case.kind, case.thickness, paths, n_bands, width=case.width,
                       n_cells=s["n_cells"], grading=s["grading"], ntheta=s["ntheta"],
                       nphi=s["nphi"], specularity=case.specularity,
                       residual_temp=s["residual_temp"], residual_flux=s["residual_flux"],
                       max_iter=s["max_iter"])
        result = bte.solve(bte.read_input_folder(d), monitor=monitor)
        bte.write_outputs(result, d)
        return {"kappa_W_mK": result.kappa_effective, "iterations": result.iterations,
                "converged": bool(result.converged), "wall_s": float(result.wall_time)}

    return run_stage(root, "bte", inputs, build)


def strained_structure_stage(root: Path, structure: Stage, strain: np.ndarray,
                             potential_id: str, calculator: Callable) -> Stage:
    """The structure with its cell strained by the (3, 3) ``strain`` tensor and the internal
    coordinates relaxed with the potential (phonons.strain_cell); the unstrained structure
    itself when the strain is zero."""
    from ase.io import write

    import phonons

    strain = np.asarray(strain, dtype=np.float64)
    if not strain.any():
        return structure
    inputs = {"structure": structure.key, "strain": strain.round(12).tolist(),
              "potential": potential_id}

    def build(d: Path) -> dict:
        atoms = phonons.strain_cell(read_structure(structure), strain, calculator())
        write(d / "structure.extxyz", atoms)
        return {"cell_A": np.asarray(atoms.cell).tolist(), "strain": strain.tolist()}

    return run_stage(root, "strained", inputs, build)
