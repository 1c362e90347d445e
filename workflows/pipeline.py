"""The end-to-end pipeline: potential → fc2/fc3 → modes → band table → BTE per geometry.

``run_pipeline("study.toml")`` (or a :class:`~workflows.config.PipelineConfig`) runs every stage
of :mod:`workflows.stages` under ``<output>/stages`` (cached by a hash of its inputs) and writes

* ``results.csv``: one row per BTE case (:class:`KappaRow`: geometry, thickness m, width m of
  a wire/ribbon, κ W/mK, κ/κ_bulk, the almaBTE reference of REFERENCES §1.5 at that thickness
  where there is one);
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
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from workflows import references as ref
from workflows.calculators import calculator_fingerprint, lazy_calculator
from workflows.config import PipelineConfig, load_config
from workflows.stages import (
    CaseSpec,
    Stage,
    band_table_path,
    bte_stage,
    phonon_stages,
    read_modes,
    structure_stage,
)


@dataclass
class KappaRow:
    """One BTE case: geometry name and kind, thickness of a film or wire/ribbon (its height; m,
    None for a folder), width of a wire/ribbon (m, None otherwise), wall specularity, κ_eff and
    the band table's bulk κ (W/mK), their ratio, the almaBTE κ and ratio at this thickness
    (NaN where REFERENCES §1.5 has none), solver iterations, convergence, wall time (s),
    whether the case came from the cache, and its directory."""

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


def almabte_reference(kind: str, specularity: float, thickness: float | None) -> float:
    """almaBTE κ (W/mK) of REFERENCES §1.5 for this film, NaN where there is none."""
    table = {("cross-plane", 0.0): ref.ALMABTE_CROSS_PLANE,
             ("in-plane", 0.5): ref.ALMABTE_IN_PLANE_P05}.get((kind, specularity), {})
    for length, kappa in table.items():
        if thickness is not None and math.isclose(length, thickness, rel_tol=1e-6):
            return kappa
    return math.nan


def write_rows_csv(rows: list, row_type: type, path: str | Path) -> Path:
    """A table of dataclass rows as CSV, one column per field of ``row_type``."""
    path = Path(path)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(row_type)])
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
    return path


def summary_table(rows: list[KappaRow]) -> str:
    """A short terminal table: geometry, size (nm: thickness, or width x thickness), κ,
    κ/κ_bulk, almaBTE ratio."""
    lines = [f"{'geometry':<22} {'size (nm)':>11} {'kappa (W/mK)':>13} {'k/k_bulk':>9} "
             f"{'almaBTE k/k_b':>14} {'iter':>5}"]
    for r in rows:
        length = _size_label(r)
        kappa = "n/a" if r.kappa_W_mK is None else f"{r.kappa_W_mK:.2f}"
        reference = "" if math.isnan(r.reference_ratio) else f"{r.reference_ratio:.3f}"
        flag = "" if r.converged else " (not converged)"
        lines.append(f"{r.geometry:<22} {length:>11} {kappa:>13} {r.ratio:>9.3f} "
                     f"{reference:>14} {r.iterations:>5}{flag}")
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


def run_pipeline(config_or_path: PipelineConfig | str | Path, *, progress: bool = True,
                 plots: bool = True) -> PipelineResult:
    """Run the study (a TOML path or a parsed config); see the module docstring.  Progress
    bars and the summary table go to the terminal when ``progress``."""
    from tqdm.auto import tqdm

    config = config_or_path if isinstance(config_or_path, PipelineConfig) \
        else load_config(config_or_path)
    out = Path(config.output)
    root = out / "stages"
    root.mkdir(parents=True, exist_ok=True)
    potential_id = calculator_fingerprint(config.potential, config.base)
    calculator = lazy_calculator(config.potential, config.base)

    ph = config.phonons
    log: list[Stage] = []
    bar = tqdm(total=4, desc="phonons", unit="stage", disable=not progress)

    def step(stage: Stage) -> Stage:
        log.append(stage)
        bar.set_postfix_str(f"{stage.name} {'cached' if stage.cached else 'done'}")
        bar.update()
        return stage

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'where' used without 'out'")
        structure = step(structure_stage(root, config.structure, config.lattice_constant,
                                         config.potential, potential_id, calculator))
        modes, table = phonon_stages(root, structure, potential_id, calculator, ph,
                                     on_stage=step)
    bar.close()
    kappa_bands = table.summary["kappa_W_mK"]

    rows = []
    cases = _cases(config)
    for name, case in tqdm(cases, desc="BTE", unit="case", disable=not progress):
        stage = bte_stage(root, [table], ph.n_bands, case)
        log.append(stage)
        kappa = stage.summary["kappa_W_mK"]
        reference = almabte_reference(case.kind, case.specularity, case.thickness)
        rows.append(KappaRow(
            geometry=name, kind=case.kind, thickness_m=case.thickness, width_m=case.width,
            specularity=case.specularity, kappa_W_mK=kappa, kappa_bulk_W_mK=kappa_bands,
            ratio=math.nan if kappa is None else kappa / kappa_bands,
            reference_W_mK=reference, reference_ratio=reference / ref.ALMABTE_BULK,
            iterations=stage.summary["iterations"], converged=stage.summary["converged"],
            wall_s=stage.summary["wall_s"], cached=stage.cached,
            case_dir=str(stage.directory)))

    files = [write_rows_csv(rows, KappaRow, out / "results.csv"),
             Path(shutil.copyfile(band_table_path(table), out / "band_table.dat"))]
    bulk = {"structure": structure.summary, "potential": config.potential,
            "temperature_K": ph.temperature, "mesh": list(ph.mesh),
            "kappa_bulk_W_mK": modes.summary["kappa_W_mK"],
            "kappa_tensor_W_mK": modes.summary["kappa_tensor_W_mK"], "method": ph.method,
            "band_table_kappa_W_mK": kappa_bands, "n_bands": ph.n_bands,
            "warnings": modes.summary["warnings"]}
    (out / "bulk.json").write_text(json.dumps(bulk, indent=1))
    files.append(out / "bulk.json")
    if plots:
        files += _plots(config, rows, kappa_bands, read_modes(modes), out)
    result = PipelineResult(rows=rows, kappa_bulk=modes.summary["kappa_W_mK"],
                            kappa_bands=kappa_bands, output=out, files=files,
                            stages_run=[f"{s.name}-{s.key}" for s in log if not s.cached],
                            stages_cached=[f"{s.name}-{s.key}" for s in log if s.cached])
    if progress:
        print(f"bulk kappa {result.kappa_bulk:.2f} W/mK ({ph.method.upper()}, "
              f"{'x'.join(map(str, ph.mesh))}), band table {kappa_bands:.2f} W/mK, "
              f"potential {config.potential}")
        print(summary_table(rows))
        print(f"stages: {len(result.stages_run)} run, {len(result.stages_cached)} cached; "
              f"outputs in {out}")
    return result


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

