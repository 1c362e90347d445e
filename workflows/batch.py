"""Batch κ runs on Dask distributed: a grid of materials × film thicknesses × temperatures ×
strains, one job per grid point, each job the pipeline's stages for one film.

    name = "si-grid"
    output = "runs/si-grid"            # relative to the working directory
    [potential]
    calculator = "tersoff"
    [phonons]                          # as in the study file (temperature comes from the grid)
    mesh = [11, 11, 11]
    [bte]                              # as in the study file
    [grid]
    materials = ["builtin:si"]         # built-in Si or structure files (relative to this file)
    lattice_constant = 5.432           # Å for builtin:si (omit to relax with the potential)
    kind = "cross-plane"               # film kind of every job
    specularity = 0.0
    thickness_nm = [10, 100, 1000]
    temperatures = [300.0]             # K
    strains = [0.0, 0.01]              # strain magnitude (0.01 = 1 %)
    strain_kind = "hydrostatic"        # hydrostatic | uniaxial | biaxial (normal z)

Jobs share the stage cache ``<output>/stages`` (stages are written atomically, so two workers
computing the same stage is harmless) and each finished job writes ``<output>/jobs/<id>.json``;
a rerun skips those jobs.  A job that raises is reported in its row (``error``) and the others
finish; a worker that dies mid-job has its job rescheduled by Dask on another worker.  Workers
need the output folder on a shared filesystem (true for a LocalCluster and for SLURM/PBS
clusters on a shared home; see README "Batch runs").

Units: thickness m, temperature K, κ W m^-1 K^-1.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from mtscore import InputError, atomic_path, remove_stale_temporaries
from workflows.config import (
    BUILTIN_SI,
    MAX_LATTICE_CONSTANT_A,
    MAX_SIZE_NM,
    MAX_TEMPERATURE_K,
    BTESettings,
    PhononSettings,
    _bte,
    _phonons,
    _Section,
    potential_calculator,
    read_toml,
)
from workflows.geometries import KINDS
from workflows.pipeline import write_rows_csv
from workflows.stages import CaseSpec, stage_key

MAX_STRAIN = 0.2                   # strain magnitudes beyond ±20 % are refused
MAX_SPECULARITY = 0.999


@dataclass(frozen=True)
class BatchJob:
    """One grid point: material ("builtin:si" or a structure file), film kind, thickness m,
    specularity, temperature K, strain magnitude and kind."""

    material: str
    kind: str
    thickness_m: float
    specularity: float
    temperature: float
    strain: float
    strain_kind: str

    @property
    def job_id(self) -> str:
        """Readable and unique: material stem, thickness nm, T, strain, and a hash."""
        stem = Path(self.material.split(":")[-1]).stem
        return (f"{stem}_{self.kind}_{self.thickness_m * 1e9:g}nm_{self.temperature:g}K_"
                f"{self.strain_kind[:4]}{self.strain:+g}_"
                f"{stage_key('job', asdict(self))[:8]}")


@dataclass(frozen=True)
class BatchConfig:
    """A batch (see the module docstring): output folder, potential spec, lattice constant Å
    (None: relax), phonon and BTE settings, the jobs, and the directory of the batch file."""

    name: str
    output: Path
    potential: str
    lattice_constant: float | None
    phonons: PhononSettings
    bte: BTESettings
    jobs: tuple[BatchJob, ...]
    base: Path = Path(".")


@dataclass
class BatchRow:
    """One job's result: the job's grid values, κ_eff and the band table's bulk κ (W/mK, None
    when it failed), the error message (empty on success) and whether it came from an earlier
    run's result file."""

    job_id: str
    material: str
    kind: str
    thickness_m: float
    temperature: float
    strain: float
    strain_kind: str
    kappa_W_mK: float | None
    kappa_bulk_W_mK: float | None
    error: str
    cached: bool


def parse_batch_config(data: dict, source: str = "<batch>", base: str | Path = ".") -> BatchConfig:
    """A :class:`BatchConfig` from parsed TOML; errors name ``source``, the key and the
    problem."""
    base = Path(base)
    top = _Section(data, "", source)
    name = top.get("name", str, "batch")
    output = Path(top.get("output", str, f"runs/{name}"))
    calculator = potential_calculator(top, source, base)
    phonons = _phonons(_Section(top.get("phonons", dict, {}), "phonons", source))
    bte = _bte(_Section(top.get("bte", dict, {}), "bte", source))
    grid = _Section(top.get("grid", dict, required=True), "grid", source)
    grid.used.add("materials")
    materials = grid.data.get("materials", [BUILTIN_SI])
    if not isinstance(materials, list) or not materials or \
            not all(isinstance(m, str) for m in materials):
        raise grid.fail("materials", f"expected a non-empty list of strings, got {materials!r}")
    materials = tuple(m if m.startswith("builtin:") else str((base / m).resolve())
                      for m in materials)
    lattice = grid.get("lattice_constant", (int, float), positive=True,
                       maximum=MAX_LATTICE_CONSTANT_A)
    kind = grid.get("kind", str, "cross-plane", choices=KINDS)
    specularity = float(grid.get("specularity", (int, float), 0.0, minimum=0.0,
                                 maximum=MAX_SPECULARITY))
    thicknesses = grid.get("thickness_nm", list, required=True, positive=True,
                           maximum=MAX_SIZE_NM)
    temperatures = grid.get("temperatures", list, (phonons.temperature,), positive=True,
                            maximum=MAX_TEMPERATURE_K)
    strains = grid.get("strains", list, (0.0,), minimum=-MAX_STRAIN, maximum=MAX_STRAIN)
    strain_kind = grid.get("strain_kind", str, "hydrostatic",
                           choices=("hydrostatic", "uniaxial", "biaxial"))
    grid.check_unknown()
    top.check_unknown()
    jobs = tuple(BatchJob(m, kind, float(t) * 1e-9, specularity, float(temp), float(s),
                          strain_kind)
                 for m in materials for t in thicknesses for temp in temperatures
                 for s in strains)
    return BatchConfig(name=name, output=output, potential=calculator,
                       lattice_constant=None if lattice is None else float(lattice),
                       phonons=phonons, bte=bte, jobs=jobs, base=base)


def load_batch_config(path: str | Path) -> BatchConfig:
    """Read and check a batch TOML file (see the module docstring)."""
    path = Path(path)
    return parse_batch_config(read_toml(path), str(path), path.resolve().parent)


def run_job(config: BatchConfig, job: BatchJob) -> BatchRow:
    """Run one job in this process (a Dask worker): stages → κ_eff; writes
    ``<output>/jobs/<id>.json`` on success.  Exceptions are returned in the row's ``error``
    ("ExceptionType: message", or the message alone for bad input), never raised."""
    from phonons import strain_tensor
    from workflows.study import StudyRunner

    values = dict(job_id=job.job_id, material=job.material, kind=job.kind,
                  thickness_m=job.thickness_m, temperature=job.temperature, strain=job.strain,
                  strain_kind=job.strain_kind)
    try:
        if not job.material.startswith("builtin:") and not Path(job.material).is_file():
            raise FileNotFoundError(f"no such structure file: {job.material}")
        if job.material.startswith("builtin:") and job.material != BUILTIN_SI:
            raise ValueError(f"unknown built-in material {job.material!r} (have {BUILTIN_SI})")
        runner = StudyRunner(Path(config.output) / "stages", config.potential, config.base)
        lattice = config.lattice_constant if job.material == BUILTIN_SI else None
        structure = runner.strained(runner.structure(job.material, lattice),
                                    strain_tensor(job.strain_kind, job.strain))
        phonons = runner.phonons(structure, config.phonons, job.temperature)
        case = CaseSpec(job.kind, job.thickness_m, job.specularity, None, asdict(config.bte))
        solved = runner.case([phonons], config.phonons.n_bands, case)
        row = BatchRow(**values, kappa_W_mK=solved.kappa_W_mK,
                       kappa_bulk_W_mK=phonons.kappa_bands_W_mK, error="", cached=False)
    except Exception as exc:                           # reported in the table, never raised
        return BatchRow(**values, kappa_W_mK=None, kappa_bulk_W_mK=None,
                        error=error_message(exc), cached=False)
    jobs_dir = Path(config.output) / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    with atomic_path(jobs_dir / f"{job.job_id}.json") as tmp:
        tmp.write_text(json.dumps(asdict(row), indent=1))
    return row


def error_message(exc: BaseException) -> str:
    """One line for a failed job: bad input as its own message (it names the file and key),
    anything else as "ExceptionType: message"."""
    text = " ".join(str(exc).split())
    if isinstance(exc, InputError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _finished(config: BatchConfig, job: BatchJob) -> BatchRow | None:
    path = Path(config.output) / "jobs" / f"{job.job_id}.json"
    if not path.is_file():
        return None
    return BatchRow(**{**json.loads(path.read_text()), "cached": True})


def run_batch(config: BatchConfig | str | Path, *, scheduler: str | None = None,
              n_workers: int = 2, progress: bool = True) -> list[BatchRow]:
    """Run every job of ``config`` not finished before on Dask: on the scheduler at address
    ``scheduler`` (e.g. "tcp://10.0.0.5:8786", or a dask-jobqueue cluster's), else on a new
    ``LocalCluster`` of ``n_workers`` single-threaded worker processes.  Returns the rows in
    grid order (failed jobs carry ``error``) and writes ``<output>/results.csv``."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm.auto import tqdm

    if not isinstance(config, BatchConfig):
        config = load_batch_config(config)
    out = Path(config.output)
    out.mkdir(parents=True, exist_ok=True)
    for folder in (out, out / "jobs"):
        remove_stale_temporaries(folder)
    rows: dict[str, BatchRow] = {}
    todo = []
    for job in config.jobs:
        done = _finished(config, job)
        if done is None:
            todo.append(job)
        else:
            rows[job.job_id] = done
    if todo:
        cluster = None if scheduler else LocalCluster(
            n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=None)
        with Client(scheduler or cluster) as client:
            futures = [client.submit(run_job, config, job, key=f"mts-{job.job_id}", pure=False)
                       for job in todo]
            bar = tqdm(total=len(config.jobs), initial=len(rows), desc="jobs", unit="job",
                       disable=not progress)
            for future in as_completed(futures):
                if future.status == "error":       # the worker died too often (KilledWorker)
                    job = todo[futures.index(future)]
                    exc = future.exception()
                    row = BatchRow(job.job_id, job.material, job.kind, job.thickness_m,
                                   job.temperature, job.strain, job.strain_kind, None, None,
                                   error_message(exc), False)
                else:
                    row = future.result()
                rows[row.job_id] = row
                bar.update()
            bar.close()
        if cluster is not None:
            cluster.close()
    table = [rows[job.job_id] for job in config.jobs]
    write_rows_csv(table, BatchRow, out / "results.csv")
    if progress:
        ok = sum(not r.error for r in table)
        print(f"{ok}/{len(table)} jobs finished ({sum(r.cached for r in table)} from earlier "
              f"runs); results in {out / 'results.csv'}")
    return table
