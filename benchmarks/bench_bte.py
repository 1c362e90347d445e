"""Benchmark of the steady BTE solver on three shipped GiftBTE examples (not a test).

    python benchmarks/bench_bte.py                     # all three cases
    python benchmarks/bench_bte.py heat-generation/1e-6
    python benchmarks/bench_bte.py cross-plane/1e-7 --baseline-pairs 4

Per case it prints wall time (read, solve), iterations, unknowns x iterations per second, peak
memory (process peak RSS from resource.getrusage, and the tracemalloc peak of Python/numpy
allocations during the solve), and ratios against two baselines:

* GiftBTE's published/measured cost (spec §6, REFERENCES.md §1.4): heat-generation/1e-6 44 s on
  2 cores (33 iterations, 0.4 GB per rank); cross-plane 100x100 about 13 GB (one sparse LU factor
  per band and direction).
* measured in this run: the naive GiftBTE-style approach -- assemble the same first-order upwind
  operator of one (band, direction), factorise it with scipy's SuperLU and solve once -- timed for
  a few (band, direction) pairs and extrapolated to all pairs: setup = factorisations of every
  pair, per iteration = one triangular solve per pair (the residual evaluation not counted, so
  the baseline is optimistic), memory = the LU factors of every pair.

Targets (issues): heat-generation/1e-6 <= 5 s wall on 2 cores; cross-plane/1e-7 on its 100x100
mesh <= 3 min and <= 2 GB peak RSS; FinFET/1e-8 (14 442 hexahedra x 15 bands x 64 directions)
<= 15 min and <= 4 GB.  The solve runs with the shipped CONTROL settings (what GiftBTE's
numbers were measured with) after a one-iteration JIT warm-up.
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
EXAMPLES = REPO / "examples" / "giftbte" / "examples"

import bte  # noqa: E402
from bte.angles import angular_set  # noqa: E402

GIFTBTE = {  # case -> (wall s on 2 cores or None, memory GB or None, note)
    "heat-generation/1e-6": (44.0, 0.8, "GiftBTE 2 ranks: 33 iterations, 44 s, 0.4 GB per rank"),
    "cross-plane/1e-7": (None, 13.0, "GiftBTE docs: ~13 GB (LU factor per band and direction)"),
}
TARGETS = {"heat-generation/1e-6": (5.0, None), "cross-plane/1e-7": (180.0, 2.0),
           "FinFET/1e-8": (900.0, 4.0)}
DEFAULT_CASES = ["heat-generation/1e-6", "cross-plane/1e-7", "FinFET/1e-8"]


def peak_rss_gb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss      # kB on Linux
    return kb / 1024 ** 2


def current_rss_gb() -> float:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024 ** 2
    except OSError:
        pass
    return float("nan")


def upwind_matrix(problem, band: int, s: np.ndarray) -> sp.csr_matrix:
    """First-order implicit upwind operator of one (band, direction), as GiftBTE assembles it:
    (1 + tau v sum_out (s.n) A/V) e_i + tau v sum_in,interior (s.n) A/V e_nb."""
    g = problem.geometry
    mat = problem.cell_material
    vel = np.array([m.velocity[band] for m in problem.materials])[mat]
    tau = np.array([m.tau[band] for m in problem.materials])[mat]
    owner = np.repeat(np.arange(g.n_cells), np.diff(g.face_offsets))
    sn = g.face_normal @ s
    coef = (tau * vel)[owner] * sn * g.face_area / g.volume[owner]
    out = sn > 0
    diag = 1.0 + np.bincount(owner[out], weights=coef[out], minlength=g.n_cells)
    inn = (sn < 0) & (g.face_neighbor >= 0)
    rows = np.concatenate([np.arange(g.n_cells), owner[inn]])
    cols = np.concatenate([np.arange(g.n_cells), g.face_neighbor[inn]])
    vals = np.concatenate([diag, coef[inn]])
    return sp.csr_matrix((vals, (rows, cols)), shape=(g.n_cells, g.n_cells))


def naive_baseline(problem, iterations: int, n_pairs: int = 4, seed: int = 0) -> dict:
    """Time SuperLU factorisation + one solve for ``n_pairs`` (band, direction) pairs and
    extrapolate to all pairs (setup + iterations x solves); memory = factors of every pair."""
    angles = angular_set(problem.material_dimension, problem.angle_method, problem.ntheta,
                         problem.nphi)
    nb, nd = problem.n_bands, angles.n_dir
    rng = np.random.default_rng(seed)
    pairs = [(int(rng.integers(nb)), int(rng.integers(nd))) for _ in range(n_pairs)]
    t_fact, t_solve, nbytes = [], [], []
    rhs = np.ones(problem.geometry.n_cells)
    for b, k in pairs:
        A = upwind_matrix(problem, b, angles.directions[k]).tocsc()
        t0 = time.perf_counter()
        lu = spla.splu(A)                      # SuperLU, COLAMD ordering (like Eigen SparseLU)
        t1 = time.perf_counter()
        lu.solve(rhs)
        t2 = time.perf_counter()
        t_fact.append(t1 - t0)
        t_solve.append(t2 - t1)
        nbytes.append((lu.L.nnz + lu.U.nnz) * 12 + A.shape[0] * 8)   # values + row indices + perms
    n_all = nb * nd
    setup = float(np.mean(t_fact)) * n_all
    per_iter = float(np.mean(t_solve)) * n_all
    return dict(pairs=pairs, t_fact=float(np.mean(t_fact)), t_solve=float(np.mean(t_solve)),
                setup=setup, per_iter=per_iter, total=setup + iterations * per_iter,
                memory_gb=float(np.mean(nbytes)) * n_all / 1024 ** 3, n_pairs_total=n_all)


def warm_up() -> None:
    """Compile (or load the cached) numba kernels on the smallest shipped case."""
    p = bte.read_input_folder(EXAMPLES / "heat-generation" / "1e-6")
    bte.solve(p, max_iter=1)


def run_case(case: str, baseline_pairs: int) -> dict:
    run_dir = EXAMPLES / case
    t0 = time.perf_counter()
    problem = bte.read_input_folder(run_dir)
    t_read = time.perf_counter() - t0
    angles = angular_set(problem.material_dimension, problem.angle_method, problem.ntheta,
                         problem.nphi)
    unknowns = problem.geometry.n_cells * problem.n_bands * angles.n_dir
    rss_before = current_rss_gb()
    tracemalloc.start()
    t0 = time.perf_counter()
    result = bte.solve(problem)
    t_solve = time.perf_counter() - t0
    _, tm_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = peak_rss_gb()
    it = result.iterations
    base = naive_baseline(problem, it, baseline_pairs)
    return dict(case=case, cells=problem.geometry.n_cells, bands=problem.n_bands,
                dirs=angles.n_dir, unknowns=unknowns, t_read=t_read, t_solve=t_solve,
                iterations=it, converged=result.converged, kappa=result.kappa_effective,
                rate=unknowns * it / t_solve, rss_before=rss_before, rss_peak=rss_peak,
                tracemalloc_peak=tm_peak / 1024 ** 3, baseline=base)


def report(r: dict) -> None:
    case = r["case"]
    print(f"\n=== {case}: {r['cells']} cells x {r['bands']} bands x {r['dirs']} directions = "
          f"{r['unknowns']:,} unknowns")
    print(f"read            {r['t_read']:8.2f} s")
    print(f"solve           {r['t_solve']:8.2f} s   ({r['iterations']} iterations, converged="
          f"{r['converged']}, kappa_eff={r['kappa']})")
    print(f"throughput      {r['rate']:.3e} unknowns x iterations / s")
    print(f"peak RSS        {r['rss_peak']:8.3f} GB (process; {r['rss_before']:.3f} GB before "
          f"the solve)   tracemalloc peak {r['tracemalloc_peak']:.3f} GB")
    t_target, m_target = TARGETS.get(case, (None, None))
    if t_target:
        ok = "OK" if r["t_solve"] <= t_target else "MISSED"
        print(f"target wall     <= {t_target:g} s: {ok}")
    if m_target:
        ok = "OK" if r["rss_peak"] <= m_target else "MISSED"
        print(f"target memory   <= {m_target:g} GB: {ok}")
    g_time, g_mem, note = GIFTBTE.get(case, (None, None, ""))
    if note:
        print(f"GiftBTE         {note}")
    if g_time:
        print(f"  wall ratio    GiftBTE / this = {g_time / r['t_solve']:.1f}x")
    if g_mem:
        print(f"  memory ratio  GiftBTE / this = {g_mem / r['rss_peak']:.1f}x (peak RSS)")
    b = r["baseline"]
    print(f"naive LU baseline (scipy SuperLU per (band, direction), {len(b['pairs'])} of "
          f"{b['n_pairs_total']} pairs timed, extrapolated):")
    print(f"  factorise {b['t_fact'] * 1e3:.2f} ms + solve {b['t_solve'] * 1e3:.2f} ms per pair"
          f" -> setup {b['setup']:.1f} s + {r['iterations']} x {b['per_iter']:.1f} s = "
          f"{b['total']:.1f} s, LU memory {b['memory_gb']:.2f} GB")
    print(f"  wall ratio    baseline / this = {b['total'] / r['t_solve']:.1f}x; memory ratio "
          f"{b['memory_gb'] / max(r['rss_peak'], 1e-9):.1f}x")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="*", default=DEFAULT_CASES,
                    help="example run directories under examples/giftbte/examples")
    ap.add_argument("--baseline-pairs", type=int, default=4,
                    help="(band, direction) pairs timed for the naive LU baseline")
    args = ap.parse_args(argv)
    try:
        import numba
        threads = numba.get_num_threads()
    except Exception:                                       # pragma: no cover
        threads = "?"
    print(f"bte benchmark: {os.cpu_count()} CPUs, numba threads {threads}, "
          f"python {sys.version.split()[0]}")
    t0 = time.perf_counter()
    warm_up()
    print(f"JIT warm-up (compile or load cache): {time.perf_counter() - t0:.1f} s")
    for case in args.cases:
        report(run_case(case, args.baseline_pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
