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
import os
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

from workflows.config import (
    BUILTIN_SI,
    BTESettings,
    PhononSettings,
    _bte,
    _phonons,
    _Section,
    read_toml,
)
from workflows.geometries import KINDS
from workflows.pipeline import write_rows_csv
from workflows.stages import stage_key


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
    potential = _Section(top.get("potential", dict, required=True), "potential", source)
    calculator = potential.get("calculator", str, required=True)
    potential.check_unknown()
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
    lattice = grid.get("lattice_constant", (int, float), positive=True)
    kind = grid.get("kind", str, "cross-plane", choices=KINDS)
    specularity = float(grid.get("specularity", (int, float), 0.0))
    thicknesses = grid.get("thickness_nm", list, required=True, positive=True)
    temperatures = grid.get("temperatures", list, (phonons.temperature,), positive=True)
    strains = grid.get("strains", list, (0.0,))
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
    ("ExceptionType: message"), never raised."""
    import warnings

    from phonons import strain_tensor
    from workflows.calculators import calculator_fingerprint, lazy_calculator
    from workflows.stages import (
        CaseSpec,
        bte_stage,
        phonon_stages,
        strained_structure_stage,
        structure_stage,
    )

    root = Path(config.output) / "stages"
    values = dict(job_id=job.job_id, material=job.material, kind=job.kind,
                  thickness_m=job.thickness_m, temperature=job.temperature, strain=job.strain,
                  strain_kind=job.strain_kind)
    try:
        if not job.material.startswith("builtin:") and not Path(job.material).is_file():
            raise FileNotFoundError(f"no such structure file: {job.material}")
        if job.material.startswith("builtin:") and job.material != BUILTIN_SI:
            raise ValueError(f"unknown built-in material {job.material!r} (have {BUILTIN_SI})")
        potential_id = calculator_fingerprint(config.potential, config.base)
        calculator = lazy_calculator(config.potential, config.base)

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="'where' used without 'out'")
            lattice = config.lattice_constant if job.material == BUILTIN_SI else None
            structure = structure_stage(root, job.material, lattice, config.potential,
                                        potential_id, calculator)
            structure = strained_structure_stage(
                root, structure, strain_tensor(job.strain_kind, job.strain), potential_id,
                calculator)
            _, table = phonon_stages(root, structure, potential_id, calculator,
                                     config.phonons, job.temperature)
        case = CaseSpec(job.kind, job.thickness_m, job.specularity, None, asdict(config.bte))
        result = bte_stage(root, [table], config.phonons.n_bands, case)
        row = BatchRow(**values, kappa_W_mK=result.summary["kappa_W_mK"],
                       kappa_bulk_W_mK=table.summary["kappa_W_mK"], error="", cached=False)
    except Exception as exc:                           # reported in the table, never raised
        message = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
        return BatchRow(**values, kappa_W_mK=None, kappa_bulk_W_mK=None, error=message,
                        cached=False)
    jobs_dir = Path(config.output) / "jobs"
    jobs_dir.mkdir(parents=True, exist_ok=True)
    tmp = jobs_dir / f".{job.job_id}.{os.getpid()}-{uuid.uuid4().hex[:8]}.json.tmp"
    tmp.write_text(json.dumps(asdict(row), indent=1))
    tmp.replace(jobs_dir / f"{job.job_id}.json")
    return row


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
                                   f"{type(exc).__name__}: {exc}", False)
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
