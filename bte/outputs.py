"""Output files of a BTE run: GiftBTE's text files at full precision, kappa.json, a .vtu.

Transient runs (bte.transient) write Tempcell.dat, HeatFlux.dat, TTG.dat, TDTR.dat (TDTR mode),
kappa.json, result.vtu and a result_<step>.vtu series indexed by result.pvd instead (see
:func:`write_outputs`).  Steady runs:

Files written by :func:`write_outputs` (all lengths in m, temperatures in K, heat flux in W m^-2,
conductivity in W m^-1 K^-1):

* ``TempLattice.dat``  x y z T_lattice, one line per cell (cell centroids);
* ``Temperature.dat``  x y z T_energy (sum(e)/sum(C));
* ``Tempband.dat``     band(1-based) x y z T_b: all cells of band 1, then band 2, ...;
* ``HeatFlux.dat``     x y z q_x q_y q_z;
* ``kappa.json``       effective conductivity, convergence history, settings (see
  :func:`kappa_record`);
* ``result.vtu``       the mesh with cell data for ParaView (see :func:`write_vtu`).

The columns are GiftBTE's (spec section 3) but every float is written as its Python repr (the
shortest decimal that reads back, with ``np.loadtxt``, to the identical float64).  Writing is
atomic per run: everything goes into a temporary directory inside the output directory first and
is moved into place only when all files are complete.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np

from mtscore.atomic import write_files_atomically

from .result import RunFields

#: Schema version of kappa.json (bump when a field changes meaning).
KAPPA_JSON_VERSION = 1

#: Above this many bands no per-band cell data goes into the .vtu (it would bloat the file).
MAX_VTU_BANDS = 32

#: Prefix of the temporary directory created inside the output directory while writing.

#: VTK cell type id -> (meshio cell type name, number of nodes).
VTK_CELL_TYPES: dict[int, tuple[str, int]] = {
    1: ("vertex", 1),
    3: ("line", 2),
    5: ("triangle", 3),
    8: ("pixel", 4),
    9: ("quad", 4),
    10: ("tetra", 4),
    11: ("voxel", 8),
    12: ("hexahedron", 8),
    13: ("wedge", 6),
    14: ("pyramid", 5),
}

_CHUNK_ROWS = 65536


# --------------------------------------------------------------------------------------------
# text tables
# --------------------------------------------------------------------------------------------

def _format_column(values: np.ndarray) -> list[str]:
    """Strings of a 1-D column: integers as integers, floats as repr (shortest round-trip)."""
    if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
        return list(map(str, values.astype(np.int64).tolist()))
    return list(map(repr, values.astype(np.float64).tolist()))


def _write_table(path: Path, columns: Sequence[np.ndarray]) -> None:
    """Write 1-D columns of equal length as whitespace-separated text, one row per line.

    Float columns are written with Python's repr of each float64 (the shortest text that reads
    back to the identical value, e.g. ``5e-09``, ``300.3333333333333``); integer columns as
    integers.  Formatting is done a column and a chunk at a time with C-level map/join (no Python
    loop per line).
    """
    cols = [np.asarray(c) for c in columns]
    n = cols[0].shape[0] if cols else 0
    for c in cols:
        if c.ndim != 1 or c.shape[0] != n:
            raise ValueError(f"{path.name}: columns must be 1-D of equal length, "
                             f"got shapes {[x.shape for x in cols]}")
    with open(path, "w", encoding="ascii", newline="\n") as fh:
        for start in range(0, n, _CHUNK_ROWS):
            parts = [_format_column(c[start:start + _CHUNK_ROWS]) for c in cols]
            fh.write("\n".join(map(" ".join, zip(*parts))))
            fh.write("\n")


def _xyz(result: RunFields) -> np.ndarray:
    """Cell centroids as an (n_cells, 3) array in m (missing axes filled with 0)."""
    c = np.asarray(result.problem.geometry.centroid, dtype=np.float64)
    if c.ndim == 1:
        c = c[:, None]
    if c.shape[1] < 3:
        c = np.hstack([c, np.zeros((c.shape[0], 3 - c.shape[1]))])
    return c[:, :3]


def _check_shapes(result: RunFields) -> tuple[int, int]:
    """Validate the field shapes of ``result``; return (n_cells, n_bands)."""
    n = int(np.asarray(result.problem.geometry.centroid).shape[0])
    tb = np.asarray(result.temperature_band)
    checks = [
        ("temperature_lattice", np.shape(result.temperature_lattice), (n,)),
        ("temperature_energy", np.shape(result.temperature_energy), (n,)),
        ("heat_flux", np.shape(result.heat_flux), (n, 3)),
    ]
    for name, got, want in checks:
        if tuple(got) != want:
            raise ValueError(f"Result.{name} has shape {tuple(got)}, expected {want}")
    if tb.ndim != 2 or tb.shape[1] != n:
        raise ValueError(f"Result.temperature_band has shape {tb.shape}, expected (n_bands, {n})")
    return n, int(tb.shape[0])


def write_temp_lattice(result: RunFields, path: Path) -> None:
    """TempLattice.dat: x y z (m) T_lattice (K) per cell."""
    _write_table(path, [*_xyz(result).T, np.asarray(result.temperature_lattice, np.float64)])


def write_temperature(result: RunFields, path: Path) -> None:
    """Temperature.dat: x y z (m) T_energy (K) per cell."""
    _write_table(path, [*_xyz(result).T, np.asarray(result.temperature_energy, np.float64)])


def write_tempband(result: RunFields, path: Path) -> None:
    """Tempband.dat: band (1-based) x y z (m) T_b (K); all cells of band 1, then band 2, ..."""
    tb = np.asarray(result.temperature_band, dtype=np.float64)
    n_bands, n = tb.shape
    xyz = np.tile(_xyz(result), (n_bands, 1))
    _write_table(path, [np.repeat(np.arange(1, n_bands + 1), n), *xyz.T, tb.ravel()])


def write_heat_flux(result: RunFields, path: Path) -> None:
    """HeatFlux.dat: x y z (m) q_x q_y q_z (W m^-2) per cell."""
    _write_table(path, [*_xyz(result).T, *np.asarray(result.heat_flux, np.float64).T])


# --------------------------------------------------------------------------------------------
# kappa.json
# --------------------------------------------------------------------------------------------

def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays, paths, tuples and non-finite floats to strict JSON values.

    NaN and +-inf become null (strict JSON has no such numbers).
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (np.bool_,)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, np.ndarray):
        return [_jsonable(v) for v in value.tolist()]
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    return str(value)


def _package_version() -> str | None:
    try:
        from importlib.metadata import version
        return version("mts")
    except Exception:  # not installed (running from a source tree)
        return None


#: a TTG run's grating-amplitude time series (t s, amplitude K)
TTG_AMPLITUDE_FILE = "TTGAmplitude.dat"

#: kappa_method of a transient run's kappa.json
TRANSIENT_KAPPA_METHOD = "transient run (no effective conductivity)"


def kappa_record(result: RunFields, directory: str | Path | None = None) -> dict[str, Any]:
    """The content of kappa.json as a dict of plain JSON values.

    Keys: version (schema), mts_version, kappa_effective (W m^-1 K^-1 or None),
    kappa_direction (unit vector or None), kappa_method, iterations, converged,
    residual_history ([[err_T, err_q], ...]), final_residual, wall_time_s (s), n_cells, n_bands,
    n_directions (when the solver put it in settings), settings, run_directory (the input
    folder), output_directory, warnings (from the problem), peak_temperature_rise_K ({"bte",
    "fourier"} hot-spot rise above the coldest wall, K, for heated problems; else None).
    A transient result has no κ: kappa_effective and kappa_direction are None there; it adds
    stability and, for TTG runs, grating_amplitude_{file,initial_K,final_K} (see
    :func:`_transient_record`); its warnings include the run's own (result.warnings).
    """
    problem = result.problem
    steady = hasattr(result, "kappa_effective")
    settings = dict(result.settings or {})
    history = [[_jsonable(t), _jsonable(q)] for t, q in (result.residual_history or [])]
    n_dir = settings.get("n_directions")
    return {
        "version": KAPPA_JSON_VERSION,
        "mts_version": _package_version(),
        "kappa_effective": _jsonable(result.kappa_effective) if steady else None,
        "kappa_unit": "W/mK",
        "kappa_direction": _jsonable(result.kappa_direction) if steady else None,
        "kappa_method": result.kappa_method if steady else TRANSIENT_KAPPA_METHOD,
        "iterations": int(result.iterations),
        "converged": bool(result.converged),
        "residual_history": history,
        "final_residual": history[-1] if history else None,
        "wall_time_s": _jsonable(result.wall_time),
        "n_cells": int(np.shape(result.temperature_lattice)[0]),
        "n_bands": int(np.shape(result.temperature_band)[0]),
        "n_directions": _jsonable(n_dir),
        "settings": _jsonable(settings),
        "run_directory": _jsonable(getattr(problem, "root", None)),
        "output_directory": None if directory is None else os.fspath(Path(directory).resolve()),
        "warnings": [str(w) for w in (getattr(problem, "warnings", None) or [])]
        + [str(w) for w in (getattr(result, "warnings", None) or [])],
        "peak_temperature_rise_K": result.peak_temperature_rise() if steady else None,
    } | ({} if steady else _transient_record(result))


def _transient_record(result) -> dict[str, Any]:
    """kappa.json's transient keys: stability (bte.transient.explicit_stability: dt_limit s,
    cfl, dt_over_tau, growth), and for a TTG run (1D periodic) the grating amplitude (K) at the
    start and the end with the file holding its time series."""
    record: dict[str, Any] = {"stability": _jsonable(dict(result.stability or {}))}
    amplitude = getattr(result, "grating_amplitude", None)
    if amplitude is not None and len(amplitude):
        record.update(grating_amplitude_file=TTG_AMPLITUDE_FILE,
                      grating_amplitude_initial_K=_jsonable(float(amplitude[0])),
                      grating_amplitude_final_K=_jsonable(float(amplitude[-1])))
    return record


def write_kappa_json(result: RunFields, path: Path, directory: str | Path | None = None) -> None:
    """kappa.json: see :func:`kappa_record` (strict JSON, one key per line)."""
    record = kappa_record(result, directory)
    # one key per line, each value compact (a long residual history stays one line)
    body = ",\n".join(f"  {json.dumps(key)}: {json.dumps(value, allow_nan=False)}"
                      for key, value in record.items())
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("{\n" + body + "\n}\n")


# --------------------------------------------------------------------------------------------
# .vtu
# --------------------------------------------------------------------------------------------

def mesh_cell_blocks(mesh) -> tuple[list[tuple[str, np.ndarray]], np.ndarray]:
    """Group the CSR cells of ``mesh`` by VTK type for meshio.

    Returns (blocks, order): blocks is a list of (meshio type name, (n_k, nodes) int array) in
    order of first appearance of each type; ``order`` is the permutation of cell indices such
    that ``field[order]`` lists a cell field block after block (cell data must be permuted with
    it so values stay matched to their cells).
    """
    types = np.asarray(mesh.cell_types, dtype=np.int64)
    offsets = np.asarray(mesh.cell_offsets, dtype=np.int64)
    nodes = np.asarray(mesh.cell_nodes, dtype=np.int64)
    if offsets.shape != (types.size + 1,):
        raise ValueError(f"mesh.cell_offsets has {offsets.size} entries for {types.size} cells")
    counts = np.diff(offsets)
    _, first = np.unique(types, return_index=True)
    blocks: list[tuple[str, np.ndarray]] = []
    order_parts: list[np.ndarray] = []
    for t in types[np.sort(first)]:
        if int(t) not in VTK_CELL_TYPES:
            raise ValueError(f"VTK cell type {int(t)} is not supported in the .vtu output")
        name, nn = VTK_CELL_TYPES[int(t)]
        idx = np.flatnonzero(types == t)
        if np.any(counts[idx] != nn):
            bad = int(idx[np.flatnonzero(counts[idx] != nn)[0]])
            raise ValueError(f"cell {bad} has VTK type {int(t)} ({name}) but "
                             f"{int(counts[bad])} nodes instead of {nn}")
        conn = nodes[offsets[idx][:, None] + np.arange(nn)[None, :]]
        blocks.append((name, conn))
        order_parts.append(idx)
    order = np.concatenate(order_parts) if order_parts else np.zeros(0, dtype=np.int64)
    return blocks, order


def write_vtu(result: RunFields, path: Path) -> None:
    """result.vtu (via meshio; ``result`` may also be a bte.transient.Snapshot, which has the
    same field attributes): mesh points in m, cells grouped by type, and cell data
    TempLattice (K), Temperature (K), HeatFlux (W m^-2, 3-vector), Region (0-based int) and
    TempBand_<b> (K, b 1-based as in Tempband.dat) when n_bands <= MAX_VTU_BANDS.
    """
    import meshio

    mesh = result.problem.mesh
    points = np.asarray(mesh.points, dtype=np.float64)
    if points.ndim == 1:
        points = points[:, None]
    if points.shape[1] < 3:
        points = np.hstack([points, np.zeros((points.shape[0], 3 - points.shape[1]))])
    blocks, order = mesh_cell_blocks(mesh)
    sizes = [len(conn) for _, conn in blocks]
    splits = np.cumsum(sizes)[:-1]

    def split(field: np.ndarray) -> list[np.ndarray]:
        return np.split(np.ascontiguousarray(np.asarray(field)[order]), splits)

    region = np.asarray(result.problem.geometry.region, dtype=np.int32)
    cell_data: dict[str, list[np.ndarray]] = {
        "TempLattice": split(np.asarray(result.temperature_lattice, dtype=np.float64)),
        "Temperature": split(np.asarray(result.temperature_energy, dtype=np.float64)),
        "HeatFlux": split(np.asarray(result.heat_flux, dtype=np.float64)),
        "Region": split(region),
    }
    tb = np.asarray(result.temperature_band, dtype=np.float64)
    if tb.shape[0] <= MAX_VTU_BANDS:
        for b in range(tb.shape[0]):
            cell_data[f"TempBand_{b + 1}"] = split(tb[b])
    out = meshio.Mesh(points, blocks, cell_data=cell_data)
    meshio.write(str(path), out, file_format="vtu")


# --------------------------------------------------------------------------------------------
# atomic driver
# --------------------------------------------------------------------------------------------

#: Names of the files written by write_outputs, in the order they are written.
OUTPUT_FILES: tuple[str, ...] = ("TempLattice.dat", "Temperature.dat", "Tempband.dat",
                                 "HeatFlux.dat", "kappa.json", "result.vtu")


def _steady_writers(result: RunFields, directory: Path) -> list[tuple[str, Callable[[Path], None]]]:
    """(file name, writer) of a steady run, in the order of :data:`OUTPUT_FILES`."""
    return [("TempLattice.dat", lambda p: write_temp_lattice(result, p)),
            ("Temperature.dat", lambda p: write_temperature(result, p)),
            ("Tempband.dat", lambda p: write_tempband(result, p)),
            ("HeatFlux.dat", lambda p: write_heat_flux(result, p)),
            ("kappa.json", lambda p: write_kappa_json(result, p, directory)),
            ("result.vtu", lambda p: write_vtu(result, p))]


def _transient_writers(result, directory: Path) -> list[tuple[str, Callable[[Path], None]]]:
    """(file name, writer) of a transient run (bte.transient.TransientResult): Tempcell.dat
    (final lattice temperature, TempLattice.dat's columns), HeatFlux.dat, TTG.dat, TDTR.dat (TDTR
    mode), TTGAmplitude.dat (TTG runs: the grating amplitude), kappa.json (run record),
    result.vtu (final fields), and with snapshots
    result_<step>.vtu per saved level plus their index result.pvd."""
    writers = [("Tempcell.dat", lambda p: write_temp_lattice(result, p)),
               ("HeatFlux.dat", lambda p: write_heat_flux(result, p)),
               ("TTG.dat", lambda p: write_ttg(result, p))]
    if result.grating_amplitude is not None:
        writers.append((TTG_AMPLITUDE_FILE, lambda p: write_grating_amplitude(result, p)))
    if result.tdtr_signal is not None:
        writers.append(("TDTR.dat", lambda p: write_tdtr(result, p)))
    writers += [("kappa.json", lambda p: write_kappa_json(result, p, directory)),
                ("result.vtu", lambda p: write_vtu(result, p))]
    series = [(snap.time, f"result_{snap.step:07d}.vtu") for snap in result.snapshots]
    for snap, (_, name) in zip(result.snapshots, series):
        writers.append((name, lambda p, snap=snap: write_vtu(snap, p)))
    if series:
        writers.append(("result.pvd", lambda p: write_pvd(series, p)))
    return writers


def write_ttg(result, path: Path) -> None:
    """TTG.dat: t (s) and the lattice temperature (K) of the cell nearest the origin, one line
    per time level from t = 0 (GiftBTE's columns)."""
    _write_table(path, [np.asarray(result.times, np.float64),
                        np.asarray(result.probe_temperature, np.float64)])


def write_grating_amplitude(result, path: Path) -> None:
    """TTGAmplitude.dat: t (s) and the signed amplitude (K) of the initial grating's Fourier
    mode, one line per time level from t = 0 (its decay rate gives the thermal diffusivity)."""
    _write_table(path, [np.asarray(result.times, np.float64),
                        np.asarray(result.grating_amplitude, np.float64)])


def write_tdtr(result, path: Path) -> None:
    """TDTR.dat: step index (0 = initial level) and the probe-averaged surface temperature (K)
    (GiftBTE's columns; the time of step n is n·TimeStep, also in TTG.dat)."""
    signal = np.asarray(result.tdtr_signal, np.float64)
    _write_table(path, [np.arange(len(signal)), signal])


def write_pvd(entries: Sequence[tuple[float, str]], path: Path) -> None:
    """ParaView collection file indexing a .vtu time series: entries are (t in s, file name
    relative to the .pvd)."""
    lines = ['<?xml version="1.0"?>',
             '<VTKFile type="Collection" version="0.1" byte_order="LittleEndian">',
             "  <Collection>"]
    lines += [f'    <DataSet timestep="{t!r}" group="" part="0" file="{name}"/>'
              for t, name in entries]
    lines += ["  </Collection>", "</VTKFile>", ""]
    Path(path).write_text("\n".join(lines), encoding="ascii")


def write_outputs(result: RunFields, directory: str | Path) -> list[Path]:
    """Write all output files of ``result`` into ``directory`` (created if missing), atomically.

    Steady run: TempLattice.dat, Temperature.dat, Tempband.dat, HeatFlux.dat (GiftBTE columns,
    floats as repr, exact on reading back; lengths m, temperatures K, flux W m^-2), kappa.json
    (W m^-1 K^-1, see :func:`kappa_record`) and result.vtu (:data:`OUTPUT_FILES`).  Transient run
    (a result with ``snapshots``): see :func:`_transient_writers`.  All are first written into a
    temporary directory ``directory/.mts-tmp-XXXX`` and then moved into place with os.replace;
    if anything fails the temporary directory is removed, files moved so far are rolled back, and
    ``directory`` is left as it was (previous outputs untouched, no new or partial file).
    Returns the written paths in the order written.
    """
    directory = Path(directory)
    _check_shapes(result)
    transient = hasattr(result, "snapshots")
    writers = (_transient_writers if transient else _steady_writers)(result, directory)
    return write_files_atomically(directory, writers)


__all__ = ["write_outputs", "kappa_record", "write_vtu", "write_pvd", "write_ttg", "write_tdtr",
           "write_grating_amplitude", "TTG_AMPLITUDE_FILE",
           "mesh_cell_blocks", "OUTPUT_FILES", "KAPPA_JSON_VERSION", "MAX_VTU_BANDS"]
