"""Second- and third-order force constants through phono3py, from any ASE calculator.

Units: lengths and positions Å, forces eV/Å, masses amu, fc2 eV/Å², fc3 eV/Å³.

:func:`compute_force_constants` builds phono3py's displacement set (finite displacements with an
optional pair cutoff, or random displacements fitted with symfc), evaluates the displaced
supercells with an ASE calculator (all at once through ``calculator.evaluate_batch`` when the
calculator has one), caches the forces of every displacement on disk so an interrupted run
resumes, and returns symmetrised force constants.  :func:`load_force_constants` does the same from
an existing ``phono3py_disp.yaml`` plus ``FORCES_FC3``.  :meth:`ForceConstants.write` writes
``phono3py_disp.yaml``, ``fc2.hdf5`` and ``fc3.hdf5`` that the phono3py command line reads.
"""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import spglib
from ase import Atoms
from ase.calculators.calculator import Calculator
from phono3py import Phono3py
from phonopy import Phonopy
from phonopy.structure.atoms import PhonopyAtoms

from mtscore import atomic_path
from mtscore.symmetry import symmetry_search

from .nac import NacParams, resolve_nac

DEFAULT_DISPLACEMENT = 0.03          # Å, phono3py's default finite displacement


class SymmetryError(ValueError):
    """The crystal symmetry search (spglib) failed for a structure."""


class ForceEvaluationError(RuntimeError):
    """The calculator failed on one displaced supercell.

    ``kind`` is "fc3" or "fc2" (which displacement set), ``index`` the 0-based displacement
    number, ``n_total`` the size of that set and ``forces`` a dict index -> (n_atoms, 3) array of
    the forces (eV/Å) computed before the failure (they are also in the cache directory, if any).
    """

    def __init__(self, message: str, kind: str, index: int, n_total: int,
                 forces: dict[int, np.ndarray]):
        super().__init__(message)
        self.kind = kind
        self.index = index
        self.n_total = n_total
        self.forces = forces


def phonopy_atoms(atoms: Atoms) -> PhonopyAtoms:
    """The ASE structure as phonopy's PhonopyAtoms (cell Å, masses amu from ``atoms``)."""
    return PhonopyAtoms(symbols=atoms.get_chemical_symbols(), cell=np.array(atoms.cell),
                        scaled_positions=atoms.get_scaled_positions(), masses=atoms.get_masses())


def ase_atoms(cell: PhonopyAtoms) -> Atoms:
    """A phonopy structure as periodic ASE Atoms (same positions Å and masses amu)."""
    return Atoms(symbols=cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions,
                 masses=cell.masses, pbc=True)


def check_symmetry(atoms: Atoms, symprec: float = 1e-5) -> spglib.SpglibDataset:
    """spglib's symmetry dataset of ``atoms``; SymmetryError when the search fails (overlapping
    atoms, a singular cell, ...), naming the reason spglib gives."""
    dataset, reason = symmetry_search(np.array(atoms.cell), atoms.get_scaled_positions(),
                                      atoms.numbers, symprec)
    if dataset is None:
        raise SymmetryError(f"symmetry search failed for {atoms.get_chemical_formula()} "
                            f"({len(atoms)} atoms, symprec = {symprec:g} Å): {reason}; check "
                            "for overlapping atoms, a degenerate cell or wrong units")
    return dataset


@dataclass
class ForceConstants:
    """Symmetrised harmonic and cubic force constants with the cells they belong to.

    unitcell: the crystal (ASE Atoms, Å, masses amu); supercell_matrix: (3, 3) int, the fc3
    supercell; phonon_supercell_matrix: (3, 3) int, the fc2 supercell (equal to supercell_matrix
    unless a larger fc2 supercell was used); primitive_matrix: (3, 3), primitive axes in units of
    the unit-cell axes; fc2: (n_prim, n_super_fc2, 3, 3) eV/Å² (phono3py's compact layout);
    fc3: (n_prim, n_super, n_super, 3, 3, 3) eV/Å³; dataset / phonon_dataset: phono3py's
    displacement datasets with forces (eV/Å), phonon_dataset None without a separate fc2 set;
    symprec: symmetry tolerance, Å; nac: Born charges (e) and dielectric tensor of a polar
    crystal (:class:`~phonons.nac.NacParams`), applied to every phonopy/phono3py object built
    from these force constants (non-analytic correction), None without the correction.
    """

    unitcell: Atoms
    supercell_matrix: np.ndarray
    phonon_supercell_matrix: np.ndarray
    primitive_matrix: np.ndarray
    fc2: np.ndarray
    fc3: np.ndarray
    dataset: dict
    phonon_dataset: dict | None = None
    symprec: float = 1e-5
    nac: NacParams | None = None

    def to_phono3py(self, *, with_dataset: bool = False, log_level: int = 0) -> Phono3py:
        """A Phono3py object holding these force constants (and the datasets if asked)."""
        ph3 = _new_phono3py(self.unitcell, self.supercell_matrix, self.primitive_matrix,
                            self.phonon_supercell_matrix, self.symprec, log_level)
        ph3.fc2 = self.fc2
        ph3.fc3 = self.fc3
        if self.nac is not None:
            ph3.nac_params = self.nac.as_phonopy()
        if with_dataset:
            ph3.dataset = self.dataset
            if self.phonon_dataset is not None:
                ph3.phonon_dataset = self.phonon_dataset
        return ph3

    def to_phonopy(self) -> Phonopy:
        """A Phonopy object with fc2 (harmonic phonons: bands, DOS)."""
        ph = Phonopy(phonopy_atoms(self.unitcell), supercell_matrix=self.phonon_supercell_matrix,
                     primitive_matrix=self.primitive_matrix, symprec=self.symprec)
        ph.force_constants = self.fc2
        if self.nac is not None:
            ph.nac_params = self.nac.as_phonopy()
        return ph

    def write(self, directory: str | Path) -> list[Path]:
        """Write phono3py_disp.yaml (structure, displacements, forces, Born charges and dielectric
        tensor when set), fc2.hdf5 and fc3.hdf5 into
        ``directory`` (created if needed) in phono3py's formats; returns the paths."""
        from phono3py.file_IO import write_fc2_to_hdf5, write_fc3_to_hdf5

        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        ph3 = self.to_phono3py(with_dataset=True)
        paths = [directory / "phono3py_disp.yaml", directory / "fc2.hdf5",
                 directory / "fc3.hdf5"]
        ph3.save(paths[0])
        write_fc2_to_hdf5(self.fc2, filename=str(paths[1]),
                          p2s_map=ph3.phonon_primitive.p2s_map)
        write_fc3_to_hdf5(self.fc3, filename=str(paths[2]), p2s_map=ph3.primitive.p2s_map)
        return paths


def _new_phono3py(unitcell: Atoms, supercell_matrix, primitive_matrix, phonon_supercell_matrix,
                  symprec: float, log_level: int = 0) -> Phono3py:
    with warnings.catch_warnings():      # "auto" is asked for explicitly here
        warnings.filterwarnings("ignore", message="primitive_matrix defaulted")
        return Phono3py(phonopy_atoms(unitcell), supercell_matrix=supercell_matrix,
                        primitive_matrix=primitive_matrix,
                        phonon_supercell_matrix=phonon_supercell_matrix, symprec=symprec,
                        log_level=log_level)


def _matrix(value) -> np.ndarray:
    """(3,) or (3, 3) supercell specification -> (3, 3) int."""
    m = np.asarray(value, dtype=np.int64)
    return np.diag(m) if m.shape == (3,) else m.reshape(3, 3)


def _from_phono3py(ph3: Phono3py, unitcell: Atoms, symprec: float,
                   nac: NacParams | None = None) -> ForceConstants:
    """Always symmetrise fc3 and fc2 of ``ph3`` and wrap them in a ForceConstants."""
    ph3.symmetrize_fc3()
    ph3.symmetrize_fc2()
    separate_fc2 = ph3.phonon_supercell_matrix is not None
    return ForceConstants(
        unitcell=unitcell, supercell_matrix=np.array(ph3.supercell_matrix),
        phonon_supercell_matrix=np.array(ph3.phonon_supercell_matrix if separate_fc2
                                         else ph3.supercell_matrix),
        primitive_matrix=np.array(ph3.primitive_matrix), fc2=np.array(ph3.fc2),
        fc3=np.array(ph3.fc3), dataset=ph3.dataset,
        phonon_dataset=ph3.phonon_dataset if separate_fc2 else None, symprec=symprec, nac=nac)


def _produce(ph3: Phono3py, unitcell: Atoms, fc_calculator: str | None,
             symprec: float, nac: NacParams | None = None) -> ForceConstants:
    """fc3 and fc2 from the forces in ``ph3`` (phono3py's solver or symfc), symmetrised."""
    ph3.produce_fc3(fc_calculator=fc_calculator)
    ph3.produce_fc2(fc_calculator=fc_calculator)
    return _from_phono3py(ph3, unitcell, symprec, nac)


def force_constants_from_forces(ph3: Phono3py, forces: np.ndarray,
                                fc_calculator: str | None = None) -> ForceConstants:
    """Symmetrised fc2/fc3 of the displacement set of ``ph3`` (a Phono3py object, e.g. from
    ``phono3py.load``) from the forces (eV/Å) on its displaced supercells, [n_displacements,
    n_atoms, 3] in the set's order.  fc_calculator: None (phono3py's finite-difference solver)
    or "symfc".  The NAC parameters of ``ph3`` (if any) are kept."""
    ph3.forces = np.asarray(forces, dtype=np.float64)
    nac = None if ph3.nac_params is None else NacParams.from_phonopy(ph3.nac_params)
    return _produce(ph3, ase_atoms(ph3.unitcell), fc_calculator, ph3.symmetry.tolerance, nac)


# ------------------------------------------------------------------------------------------------
# force evaluation with a per-displacement cache
# ------------------------------------------------------------------------------------------------

def _cache_file(cache_dir: Path | None, kind: str, index: int) -> Path | None:
    return None if cache_dir is None else cache_dir / kind / f"disp-{index + 1:05d}.npz"


def _read_cached(path: Path | None, atoms: Atoms) -> np.ndarray | None:
    """Cached forces for exactly this displaced supercell (same cell, numbers, positions)."""
    if path is None or not path.is_file():
        return None
    with np.load(path) as data:
        same = (data["numbers"].shape == atoms.numbers.shape
                and np.array_equal(data["numbers"], atoms.numbers)
                and np.allclose(data["cell"], atoms.cell, atol=1e-10)
                and np.allclose(data["positions"], atoms.positions, atol=1e-10))
        return np.array(data["forces"]) if same else None


def _write_cached(path: Path | None, atoms: Atoms, forces: np.ndarray) -> None:
    """Write one cache entry atomically.  Batch workers may compute the same displacement at
    once, so each writes its own temporary file; a cache directory removed while we write (a
    worker that finished the same stage cleans it up) only means this entry is not kept."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path, ".npz") as tmp:
            np.savez(tmp, numbers=atoms.numbers, cell=np.array(atoms.cell),
                     positions=atoms.positions, forces=forces)
    except FileNotFoundError:
        pass


def _forces_one(atoms: Atoms, calculator: Calculator) -> np.ndarray:
    atoms = atoms.copy()
    atoms.calc = calculator
    return np.array(atoms.get_forces(), dtype=np.float64)


def evaluate_forces(supercells: Sequence[Atoms | None], calculator: Calculator, *,
                    kind: str = "fc3", cache_dir: str | Path | None = None,
                    batch_size: int = 32, progress: bool = False) -> np.ndarray:
    """Forces (n_disp, n_atoms, 3) eV/Å on the displaced supercells.

    ``None`` entries (pairs beyond a cutoff) get zero forces.  Forces found in
    ``cache_dir/kind/disp-NNNNN.npz`` for the same positions are reused; every new result is
    written there at once.  A calculator with ``evaluate_batch(atoms_list) -> list of dicts``
    (keys energy, forces, stress) is called with ``batch_size`` structures at a time; a failing
    batch is retried one structure at a time to find the culprit.  Raises ForceEvaluationError
    naming the failing displacement (1-based in the message) and holding the forces computed so
    far.
    """
    cache = None if cache_dir is None else Path(cache_dir)
    n_total = len(supercells)
    n_atoms = next(len(a) for a in supercells if a is not None)
    forces = np.zeros((n_total, n_atoms, 3))
    done: dict[int, np.ndarray] = {}
    todo = []
    for i, atoms in enumerate(supercells):
        if atoms is None:
            continue
        cached = _read_cached(_cache_file(cache, kind, i), atoms)
        if cached is None:
            todo.append(i)
        else:
            forces[i] = done[i] = cached
    batched = callable(getattr(calculator, "evaluate_batch", None))
    step = max(1, batch_size) if batched else 1
    chunks = [todo[k:k + step] for k in range(0, len(todo), step)]
    if progress:
        from tqdm import tqdm
        chunks = tqdm(chunks, desc=f"{kind} forces", unit="batch")

    def fail(i: int, exc: Exception) -> ForceEvaluationError:
        where = f" (cached in {cache / kind})" if cache is not None else ""
        return ForceEvaluationError(
            f"calculator {type(calculator).__name__} failed on {kind} displacement {i + 1} of "
            f"{n_total} (supercell with displacement index {i}): {type(exc).__name__}: {exc}; "
            f"forces of the {len(done)} displacements evaluated so far are kept{where}",
            kind, i, n_total, dict(done))

    for chunk in chunks:
        results = None
        if batched and len(chunk) > 1:
            try:
                results = [np.asarray(r["forces"], dtype=np.float64)
                           for r in calculator.evaluate_batch([supercells[i] for i in chunk])]
            except Exception:      # find the failing structure one by one below
                results = None
        if results is None:
            results = []
            for i in chunk:
                try:
                    if batched:
                        f = calculator.evaluate_batch([supercells[i]])[0]["forces"]
                    else:
                        f = _forces_one(supercells[i], calculator)
                    f = np.asarray(f, dtype=np.float64)
                    if f.shape != (n_atoms, 3) or not np.all(np.isfinite(f)):
                        raise ValueError(f"forces of shape {f.shape} with non-finite values"
                                         if f.shape == (n_atoms, 3) else
                                         f"forces of shape {f.shape}, expected {(n_atoms, 3)}")
                except Exception as exc:
                    raise fail(i, exc) from exc
                forces[i] = done[i] = f
                _write_cached(_cache_file(cache, kind, i), supercells[i], f)
            continue
        for i, f in zip(chunk, results):
            forces[i] = done[i] = f
            _write_cached(_cache_file(cache, kind, i), supercells[i], f)
    return forces


# ------------------------------------------------------------------------------------------------
# public constructors
# ------------------------------------------------------------------------------------------------

def _wrapped(atoms: Atoms, tol: float = 1e-10) -> Atoms:
    """A copy (no calculator) with fractional coordinates in [0, 1) and values within ``tol`` of
    1 set to 0: phonopy wraps a coordinate of 1 − 1e-17 differently after a yaml round trip, which
    reorders the supercell atoms and scrambles force constants read back from fc2/fc3.hdf5."""
    cell = atoms.copy()
    cell.calc = None
    frac = cell.get_scaled_positions(wrap=False)
    frac -= np.floor(frac)
    frac[frac > 1.0 - tol] = 0.0
    cell.set_scaled_positions(frac)
    return cell


def compute_force_constants(atoms: Atoms, calculator: Calculator,
                            supercell_matrix: Sequence[int] | np.ndarray = (2, 2, 2), *,
                            phonon_supercell_matrix: Sequence[int] | np.ndarray | None = None,
                            primitive_matrix: str | np.ndarray = "auto",
                            displacement: float = DEFAULT_DISPLACEMENT,
                            cutoff_pair_distance: float | None = None,
                            n_random: int | None = None, random_seed: int = 0,
                            cache_dir: str | Path | None = None, batch_size: int = 32,
                            symprec: float = 1e-5, progress: bool = False,
                            born: str | Path | NacParams | None = None,
                            nac: bool | None = None) -> ForceConstants:
    """fc2 and fc3 of ``atoms`` (unit cell, Å) from forces of ``calculator`` (any ASE calculator).

    supercell_matrix: fc3 supercell, (3,) or (3, 3); phonon_supercell_matrix: a separate, larger
    fc2 supercell (None: the fc3 one).  displacement: Å.  Finite displacements (phono3py's
    symmetry-reduced set; ``cutoff_pair_distance`` Å skips pairs farther apart, their forces are
    not computed) unless ``n_random`` is given: then that many supercells with every atom
    displaced by ``displacement`` in a random direction (seed ``random_seed``), fitted with symfc.
    cache_dir: per-displacement force cache (see :func:`evaluate_forces`); a rerun with the same
    arguments resumes from it.  The force constants are always symmetrised
    (``symmetrize_fc3``/``symmetrize_fc2``).  born: Born charges and dielectric tensor (a phonopy
    BORN file or :class:`~phonons.nac.NacParams`) for the non-analytic correction; nac: False
    runs a polar material without it on purpose, True requires it.  Raises SymmetryError when
    the symmetry search fails, PolarMaterialError (before any force is computed) for a polar
    material without Born charges, and ForceEvaluationError naming a displacement the
    calculator failed on.
    """
    check_symmetry(atoms, symprec)
    unitcell = _wrapped(atoms)
    fc2_matrix = None if phonon_supercell_matrix is None else _matrix(phonon_supercell_matrix)
    ph3 = _new_phono3py(unitcell, _matrix(supercell_matrix), primitive_matrix, fc2_matrix,
                        symprec)
    nac_params = resolve_nac(unitcell.get_chemical_symbols(), ph3.primitive, born=born, nac=nac,
                             symprec=symprec)
    if n_random is None:
        ph3.generate_displacements(distance=displacement,
                                   cutoff_pair_distance=cutoff_pair_distance)
        if fc2_matrix is not None:
            ph3.generate_fc2_displacements(distance=displacement)
        fc_calculator = None
    else:
        ph3.generate_displacements(distance=displacement, number_of_snapshots=n_random,
                                   random_seed=random_seed)
        if fc2_matrix is not None:
            ph3.generate_fc2_displacements(distance=displacement, number_of_snapshots=n_random,
                                           random_seed=random_seed)
        fc_calculator = "symfc"

    def cells(phonopy_cells) -> list[Atoms | None]:
        return [None if c is None else ase_atoms(c) for c in phonopy_cells]

    options = dict(cache_dir=cache_dir, batch_size=batch_size, progress=progress)
    ph3.forces = evaluate_forces(cells(ph3.supercells_with_displacements), calculator,
                                 kind="fc3", **options)
    if fc2_matrix is not None:
        ph3.phonon_forces = evaluate_forces(cells(ph3.phonon_supercells_with_displacements),
                                            calculator, kind="fc2", **options)
    return _produce(ph3, unitcell, fc_calculator, symprec, nac_params)


def load_force_constants(phono3py_yaml: str | Path, forces_fc3: str | Path | None = None, *,
                         forces_fc2: str | Path | None = None,
                         phono3py_yaml_fc2: str | Path | None = None,
                         born: str | Path | NacParams | None = None, nac: bool | None = None,
                         fc_calculator: str | None = None,
                         symprec: float = 1e-5) -> ForceConstants:
    """Force constants from an existing phono3py displacement yaml.

    Without ``forces_fc3``, ``fc2.hdf5`` and ``fc3.hdf5`` beside the yaml (as
    :meth:`ForceConstants.write` leaves them) are read when present; otherwise the force
    constants are produced from the forces in ``forces_fc3`` (phono3py's FORCES_FC3 file, may be
    xz/gz/bz2-compressed) or in the yaml itself.  fc2 comes from the same displacement set, or
    from a separate fc2 set: ``forces_fc2`` (FORCES_FC2) with the yaml's own fc2 supercell, or
    with the displacements of ``phono3py_yaml_fc2`` (another phono3py yaml whose
    ``phonon_supercell_matrix`` and fc2 displacements are used).  fc_calculator: None
    (phono3py's finite-difference solver) or "symfc".  Always symmetrised.

    Non-analytic correction: ``born`` (a BORN file or NacParams), else the yaml's
    ``nac_params``, else a ``BORN`` file beside the yaml; ``nac=False`` switches it off on
    purpose, ``nac=True`` requires it.  A polar material without Born charges raises
    :class:`~phonons.nac.PolarMaterialError` naming the yaml.
    """
    import phono3py

    phono3py_yaml = Path(phono3py_yaml)
    if not phono3py_yaml.is_file():
        raise FileNotFoundError(f"{phono3py_yaml}: no such phono3py yaml file")
    fc2_set = None
    if phono3py_yaml_fc2 is not None:
        fc2_set = _fc2_displacements(Path(phono3py_yaml_fc2), forces_fc2)
    ph3 = phono3py.load(phono3py_yaml, forces_fc3_filename=forces_fc3,
                        forces_fc2_filename=None if fc2_set else forces_fc2,
                        produce_fc=False, is_nac=False, symprec=symprec, log_level=0)
    unitcell = ase_atoms(ph3.unitcell)
    if fc2_set is not None:            # the same fc3 set, the fc2 set of the other yaml
        dataset = ph3.dataset
        ph3 = _new_phono3py(unitcell, ph3.supercell_matrix, ph3.primitive_matrix, fc2_set[0],
                            symprec)
        ph3.dataset = dataset
        ph3.phonon_dataset = fc2_set[1]
    check_symmetry(unitcell, symprec)
    nac_params = resolve_nac(unitcell.get_chemical_symbols(), ph3.primitive, born=born, nac=nac,
                             embedded=_yaml_nac(phono3py_yaml), data_dir=phono3py_yaml.parent,
                             file=phono3py_yaml, symprec=symprec)
    fc2_file = phono3py_yaml.with_name("fc2.hdf5")
    fc3_file = phono3py_yaml.with_name("fc3.hdf5")
    have_fc = fc2_file.is_file() and fc3_file.is_file()
    if forces_fc3 is None and (have_fc or not _has_forces(ph3.dataset)):
        if not have_fc:
            raise FileNotFoundError(f"{phono3py_yaml} holds no forces; give FORCES_FC3 or put "
                                    "fc2.hdf5 and fc3.hdf5 beside it")
        from phono3py.file_IO import read_fc2_from_hdf5, read_fc3_from_hdf5
        ph3.fc3 = read_fc3_from_hdf5(fc3_file, p2s_map=ph3.primitive.p2s_map)
        ph3.fc2 = read_fc2_from_hdf5(fc2_file, p2s_map=ph3.phonon_primitive.p2s_map)
        return _from_phono3py(ph3, unitcell, symprec, nac_params)
    return _produce(ph3, unitcell, fc_calculator, symprec, nac_params)


def _yaml_nac(phono3py_yaml: Path) -> NacParams | None:
    """The ``nac_params`` (Born charges, dielectric tensor) stored in a phono3py yaml, if any."""
    from phono3py.interface.phono3py_yaml import Phono3pyYaml

    reader = Phono3pyYaml()
    reader.read(phono3py_yaml)
    return None if reader.nac_params is None else NacParams.from_phonopy(reader.nac_params)


def _fc2_displacements(yaml_fc2: Path, forces_fc2: str | Path | None) -> tuple[np.ndarray, dict]:
    """(phonon_supercell_matrix, fc2 displacement dataset with forces) of a phono3py yaml that
    holds a separate fc2 set; the forces from ``forces_fc2`` (FORCES_FC2) or the yaml."""
    from phono3py.file_IO import parse_FORCES_FC2
    from phono3py.interface.phono3py_yaml import Phono3pyYaml

    if not yaml_fc2.is_file():
        raise FileNotFoundError(f"{yaml_fc2}: no such phono3py yaml file")
    reader = Phono3pyYaml()
    reader.read(yaml_fc2)
    if reader.phonon_supercell_matrix is None or not reader.phonon_dataset:
        raise ValueError(f"{yaml_fc2}: phonon_supercell_matrix: no separate fc2 displacement "
                         "set in this yaml")
    dataset = reader.phonon_dataset
    if forces_fc2 is not None:
        parse_FORCES_FC2(dataset, filename=str(forces_fc2))
    elif not _has_forces(dataset):
        raise ValueError(f"{yaml_fc2}: phonon_displacements: no fc2 forces; give FORCES_FC2")
    return np.array(reader.phonon_supercell_matrix), dataset


def _has_forces(dataset: dict | None) -> bool:
    """Whether a phono3py displacement dataset (type 1 or type 2) carries forces."""
    if not dataset:
        return False
    if "forces" in dataset:
        return True
    first = dataset.get("first_atoms") or [{}]
    return "forces" in first[0]
