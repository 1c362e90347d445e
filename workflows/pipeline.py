"""The end-to-end pipeline: potential → fc2/fc3 → modes → band table → BTE per geometry.

``run_pipeline("study.toml")`` (or a :class:`~workflows.config.PipelineConfig`) runs every stage
of :mod:`workflows.stages` under ``<output>/stages`` (cached by a hash of its inputs) and writes

* ``results.csv``: one row per BTE case (:class:`KappaRow`: geometry, thickness m, width m of
  a wire/ribbon, κ W/mK, κ/κ_bulk, and a reference κ and ratio with its source: for cross-plane
  films almaBTE's first-principles values of REFERENCES §1.5 at that thickness where there is
  one, for in-plane films of any specularity the exact per-mode Fuchs–Sondheimer κ of this
  study's own modes over solid-angle cells (:mod:`workflows.film_reference`; almaBTE's in-plane
  values take the bare q-grid directions, leave modes with v_z = 0 unsuppressed and are no
  reference, REFERENCES §1.5));
* ``bulk.json``: structure, potential, bulk κ (phono3py, and of the band table);
* ``band_table.dat``: the GiftBTE band table every BTE case uses (each case folder under
  ``stages/bte-*/input`` holds its PHONON pointing at it);
* ``kappa_vs_thickness.png`` (films, wires and ribbons), ``accumulation.png`` (κ accumulation
  vs MFP and frequency), ``temperature_map.png`` (lattice temperature of one case), or
  ``heat_flux_map.png`` (axial heat flux over the section) when that case is a wire/ribbon.

Units: thickness and width m (nm on plots and the terminal), κ W m^-1 K^-1, temperature K,
wall time s.
"""
from __future__ import annotations

import csv
import json
import math
import shutil
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from time import monotonic
from typing import TYPE_CHECKING

import numpy as np

from mtscore import atomic_path, remove_stale_temporaries, write_files_atomically
from workflows import references as ref
from workflows.config import PipelineConfig, load_config
from workflows.film_reference import in_plane_film_kappa
from workflows.stages import CaseSpec, Stage, read_modes
from workflows.study import StudyRunner

if TYPE_CHECKING:
    from phonons import ModeSet


@dataclass
class KappaRow:
    """One BTE case: geometry name and kind, thickness of a film or wire/ribbon (its height; m,
    None for a folder), width of a wire/ribbon (m, None otherwise), wall specularity, κ_eff and
    the band table's bulk κ (W/mK), their ratio, the reference κ (W/mK) and its ratio to the
    reference's own bulk κ (NaN where there is none) and its source (:data:`REFERENCE_SOURCES`,
    "" where none), solver iterations, convergence, wall time (s), whether the case came from
    the cache, and its directory."""

    geometry: str
    kind: str
    thickness_m: float | None
    width_m: float | None
    specularity: float
    kappa_W_mK: float | None
    kappa_bulk_W_mK: float
    ratio: float
    reference_W_mK: float
    reference_ratio: float
    reference: str
    iterations: int
    converged: bool
    wall_s: float
    cached: bool
    case_dir: str


@dataclass
class PipelineResult:
    """Rows of the results table, bulk κ (W/mK) of phono3py and of the band table, the output
    folder, the written files, and the stages run / read from the cache (``name-key``)."""

    rows: list[KappaRow]
    kappa_bulk: float
    kappa_bands: float
    output: Path
    files: list[Path]
    stages_run: list[str]
    stages_cached: list[str]


#: the reference of each film kind, as results.csv names it
REFERENCE_SOURCES = {
    "cross-plane": "almaBTE cross-plane",
    "in-plane": "per-mode Fuchs-Sondheimer, solid-angle cells"}
#: the summary's note on the references
REFERENCE_NOTE = (
    "reference: cross-plane films almaBTE first-principles (REFERENCES 1.5, ratio to its bulk "
    "135.28 W/mK); in-plane films the exact per-mode Fuchs-Sondheimer kappa of this study's "
    "modes,\n  each spread over its solid-angle cell (ratio to their bulk kappa_xx); almaBTE's "
    "in-plane values leave modes with v_z = 0 unsuppressed and are no reference")


class ModeFilmReference:
    """In-plane film κ of a study's own modes (a :class:`phonons.ModeSet`), heat along x between
    walls normal to y as the BTE's in-plane films, each mode spread over its polar cell of the
    BTE's direction set with ``ntheta`` polar directions per hemisphere
    (:func:`workflows.film_reference.in_plane_film_kappa`).  κ in W/mK, thickness m."""

    def __init__(self, modes: ModeSet, ntheta: int) -> None:
        star = modes.expand_star()
        self.velocity = star.group_velocity.reshape(-1, 3)
        self.heat_capacity = (star.weights[:, None] * star.heat_capacity).ravel()
        self.tau = star.lifetime.ravel()
        self.ntheta = ntheta
        #: bulk κ_xx of the modes (W/mK)
        self.bulk_W_mK = float(np.sum(self.heat_capacity * self.velocity[:, 0] ** 2 * self.tau))

    def kappa(self, thickness: float, specularity: float) -> float:
        """In-plane κ_xx (W/mK) of a film of ``thickness`` m with wall specularity p."""
        return in_plane_film_kappa(thickness, specularity, self.velocity, self.heat_capacity,
                                   self.tau, transport=0, normal=1, ntheta=self.ntheta)


def film_reference(kind: str, specularity: float, thickness: float | None,
                   modes: ModeFilmReference) -> tuple[float, float, str]:
    """The reference of a case: (κ W/mK, κ over the reference's bulk κ, source), almaBTE for
    cross-plane films at its thicknesses, the per-mode Fuchs–Sondheimer κ of ``modes`` for
    in-plane films; (NaN, NaN, "") for anything else."""
    if kind == "in-plane" and thickness is not None:
        kappa = modes.kappa(thickness, specularity)
        return kappa, kappa / modes.bulk_W_mK, REFERENCE_SOURCES[kind]
    if kind == "cross-plane":
        kappa = almabte_reference(kind, specularity, thickness)
        if not math.isnan(kappa):
            return kappa, kappa / ref.ALMABTE_BULK, REFERENCE_SOURCES[kind]
    return math.nan, math.nan, ""


def almabte_reference(kind: str, specularity: float, thickness: float | None) -> float:
    """almaBTE κ (W/mK) of REFERENCES §1.5 for this film, NaN where there is none (its in-plane
    p = 0.5 values are listed there as no valid reference; :func:`film_reference` uses the
    cross-plane ones only)."""
    table = {("cross-plane", 0.0): ref.ALMABTE_CROSS_PLANE,
             ("in-plane", 0.5): ref.ALMABTE_IN_PLANE_P05}.get((kind, specularity), {})
    for length, kappa in table.items():
        if thickness is not None and math.isclose(length, thickness, rel_tol=1e-6):
            return kappa
    return math.nan


def _csv_cell(name: str, value: object) -> object:
    """A CSV field: empty for a missing value (None, NaN), sizes (``*_m``) to 12 significant
    digits (30 nm is 3e-08, not 3.0000000000000004e-08), wall times to ms."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and name.endswith("_m"):
        return f"{value:.12g}"
    if isinstance(value, float) and name == "wall_s":
        return f"{value:.3f}"
    return value


def write_rows_csv(rows: list, row_type: type, path: str | Path) -> Path:
    """A table of dataclass rows as CSV, one column per field of ``row_type`` (missing values
    empty), written atomically."""
    path = Path(path)
    names = [f.name for f in fields(row_type)]
    with atomic_path(path) as tmp, tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=names)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(k, v) for k, v in asdict(row).items()})
    return path


def summary_table(rows: list[KappaRow]) -> str:
    """A short terminal table: geometry, size (nm: thickness, or width x thickness), κ,
    κ/κ_bulk, the reference's ratio, iterations; a note on the references under it when a
    row has one."""
    lines = [f"{'geometry':<22} {'size (nm)':>11} {'kappa (W/mK)':>13} {'k/k_bulk':>9} "
             f"{'ref. k/k_b':>11} {'iter':>5}"]
    for r in rows:
        length = _size_label(r)
        kappa = "n/a" if r.kappa_W_mK is None else f"{r.kappa_W_mK:.2f}"
        reference = "" if math.isnan(r.reference_ratio) else f"{r.reference_ratio:.3f}"
        flag = "" if r.converged else " (not converged)"
        lines.append(f"{r.geometry:<22} {length:>11} {kappa:>13} {r.ratio:>9.3f} "
                     f"{reference:>11} {r.iterations:>5}{flag}")
    if any(r.reference for r in rows):
        lines.append(REFERENCE_NOTE)
    return "\n".join(lines)


def _size_label(row: KappaRow) -> str:
    """"-" for a folder, the thickness in nm for a film, "width x thickness" nm for a bar."""
    if row.thickness_m is None:
        return "-"
    if row.width_m is None:
        return f"{row.thickness_m * 1e9:g}"
    return f"{row.width_m * 1e9:g}x{row.thickness_m * 1e9:g}"


def _cases(config: PipelineConfig) -> list[tuple[str, CaseSpec]]:
    bte = asdict(config.bte)
    out = []
    for g in config.geometries:
        if g.kind == "folder":
            angles = {"ntheta": config.bte.ntheta, "nphi": config.bte.nphi}
            out.append((g.name, CaseSpec("folder", None, 0.0, str(g.path), angles)))
        else:
            out += [(g.name, CaseSpec(g.kind, t, g.specularity, None, bte))
                    for t in g.thicknesses]
            out += [(g.name, CaseSpec(g.kind, t, g.specularity, None, bte, width=w))
                    for w, t in g.sections]
    return out


class _BarMonitor:
    """A bte Monitor showing a case's iteration and residuals on the pipeline's BTE bar (at most
    every 0.2 s), so a long case visibly moves."""

    def __init__(self, bar, name: str):
        self.bar, self.name, self.last = bar, name, 0.0

    def iteration(self, step: int, time: float | None, err_t: float, err_q: float) -> None:
        now = monotonic()
        if now - self.last >= 0.2:
            self.last = now
            self.bar.set_postfix_str(f"{self.name}: iteration {step}, err_T {err_t:.1e}, "
                                     f"err_q {err_q:.1e}")


def run_pipeline(config_or_path: PipelineConfig | str | Path, *, progress: bool = True,
                 plots: bool = True, summary: bool | None = None) -> PipelineResult:
    """Run the study (a TOML path or a parsed config); see the module docstring.  Progress
    bars go to the terminal when ``progress``, the summary table when ``summary`` (default:
    as ``progress``)."""
    from tqdm.auto import tqdm

    config = config_or_path if isinstance(config_or_path, PipelineConfig) \
        else load_config(config_or_path)
    out = Path(config.output)
    ph = config.phonons
    with tqdm(total=4, desc="phonons", unit="stage", disable=not progress) as bar:
        def step(stage: Stage) -> None:
            if stage.name != "bte":
                bar.set_postfix_str(f"{stage.name} {'cached' if stage.cached else 'done'}")
                bar.update()

        runner = StudyRunner(out / "stages", config.potential, config.base, on_stage=step,
                             progress=progress)
        remove_stale_temporaries(out)
        structure = runner.structure(config.structure, config.lattice_constant)
        phonons = runner.phonons(structure, ph)
    runner.on_stage = None
    kappa_bands = phonons.kappa_bands_W_mK
    modes = read_modes(phonons.modes)
    mode_reference = ModeFilmReference(modes, config.bte.ntheta)

    rows = []
    cases = tqdm(_cases(config), desc="BTE", unit="case", disable=not progress)
    for name, case in cases:
        cases.set_postfix_str(name)
        solved = runner.case([phonons], ph.n_bands, case, _BarMonitor(cases, name))
        kappa = solved.kappa_W_mK
        reference, reference_ratio, source = film_reference(
            case.kind, case.specularity, case.thickness, mode_reference)
        rows.append(KappaRow(
            geometry=name, kind=case.kind, thickness_m=case.thickness, width_m=case.width,
            specularity=case.specularity, kappa_W_mK=kappa, kappa_bulk_W_mK=kappa_bands,
            ratio=math.nan if kappa is None else kappa / kappa_bands,
            reference_W_mK=reference, reference_ratio=reference_ratio, reference=source,
            iterations=solved.iterations, converged=solved.converged,
            wall_s=solved.wall_s, cached=solved.cached, case_dir=str(solved.directory)))

    bulk = {"structure": structure.summary, "potential": config.potential,
            "temperature_K": ph.temperature, "mesh": list(ph.mesh),
            "kappa_bulk_W_mK": phonons.kappa_W_mK,
            "kappa_tensor_W_mK": [list(row) for row in phonons.kappa_tensor_W_mK],
            "method": ph.method, "band_table_kappa_W_mK": kappa_bands, "n_bands": ph.n_bands,
            "warnings": list(phonons.warnings)}
    files = write_files_atomically(out, [
        ("results.csv", lambda path: write_rows_csv(rows, KappaRow, path)),
        ("band_table.dat", lambda path: shutil.copyfile(phonons.band_table, path)),
        ("bulk.json", lambda path: path.write_text(json.dumps(bulk, indent=1)))])
    if plots:
        files += _plots(config, rows, kappa_bands, modes, out)
    log = runner.log
    result = PipelineResult(rows=rows, kappa_bulk=phonons.kappa_W_mK,
                            kappa_bands=kappa_bands, output=out, files=files,
                            stages_run=[f"{s.name}-{s.key}" for s in log if not s.cached],
                            stages_cached=[f"{s.name}-{s.key}" for s in log if s.cached])
    if progress if summary is None else summary:
        print(pipeline_summary(result, config))
    return result


def pipeline_summary(result: PipelineResult, config: PipelineConfig) -> str:
    """The lines printed at the end of a run: bulk κ, the results table, the stage counts."""
    ph = config.phonons
    return (f"bulk kappa {result.kappa_bulk:.2f} W/mK ({ph.method.upper()}, "
            f"{'x'.join(map(str, ph.mesh))}), band table {result.kappa_bands:.2f} W/mK, "
            f"potential {config.potential}\n{summary_table(result.rows)}\n"
            f"stages: {len(result.stages_run)} run, {len(result.stages_cached)} cached; "
            f"outputs in {result.output}")


def _plots(config: PipelineConfig, rows: list[KappaRow], kappa_bands: float, modes,
           out: Path) -> list[Path]:
    from phonons.plots import plot_accumulation
    from workflows.geometries import SECTION_KINDS
    from workflows.plots import plot_cell_field, plot_kappa_vs_thickness

    files = [plot_kappa_vs_thickness(rows, kappa_bands, out / "kappa_vs_thickness.png"),
             plot_accumulation(modes, out / "accumulation.png")]
    folders = [r for r in rows if r.kind == "folder"]
    chosen = ([r for r in rows if r.geometry == config.temperature_map] if
              config.temperature_map else folders) or rows
    row = chosen[0]
    length = "" if row.thickness_m is None else f", {_size_label(row)} nm"
    if row.kind in SECTION_KINDS:     # T is the axial profile only: map the heat flux
        files.append(plot_cell_field(row.case_dir, out / "heat_flux_map.png",
                                     f"{row.geometry}{length}: heat flux along the axis",
                                     "heat_flux_x"))
    else:
        files.append(plot_cell_field(row.case_dir, out / "temperature_map.png",
                                     f"{row.geometry}{length}: lattice temperature"))
    return files

