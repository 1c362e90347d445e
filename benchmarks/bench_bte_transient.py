"""Benchmark: TTG 2πKn = 1 (examples/giftbte/examples/TTG/2pikn=1: 500 cells, gray Si, 8×8
Gauss = 512 directions) from t = 0 to t = 10τ (τ = 39.9 ps).

GiftBTE needs 3990 explicit steps (Δt = 0.1 ps), about 10 min on 2 cores.  Runs, in one process:
the explicit scheme at the example's Δt (GiftBTE's algorithm, the baseline) and the implicit
scheme at 10× that Δt; prints wall times (s), their ratio and the largest deviation of each
normalised grating amplitude from analytical_result/kk1.txt.  Target: ≤ 30 s on 2 cores.

    python benchmarks/bench_bte_transient.py [--skip-explicit]
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import bte  # noqa: E402

CASE = REPO / "examples" / "giftbte" / "examples" / "TTG" / "2pikn=1"
KK1 = REPO / "examples" / "giftbte" / "examples" / "TTG" / "analytical_result" / "kk1.txt"


def run(problem, scheme: str, time_step: float) -> tuple[float, float]:
    """(wall time s, max |A/A0 − kk1| up to 10τ) of one run."""
    tau = float(problem.materials[0].tau[0])
    bte.solve(problem, scheme=scheme, time_step=time_step, total_time=2 * time_step)  # compile
    start = time.perf_counter()
    result = bte.solve(problem, scheme=scheme, time_step=time_step, total_time=10 * tau,
                       early_stop=False)
    wall = time.perf_counter() - start
    ref = np.loadtxt(KK1)
    amp = result.grating_amplitude / result.grating_amplitude[0]
    error = float(np.abs(np.interp(ref[:, 0], result.times / tau, amp) - ref[:, 1]).max())
    print(f"{scheme:8s} dt {time_step:.2e} s  steps {result.iterations:5d}  wall {wall:7.2f} s  "
          f"max|A - kk1| {error:.4f}")
    return wall, error


def main() -> None:
    problem = bte.read_input_folder(CASE)
    dt = problem.control.time_step
    implicit, _ = run(problem, "implicit", 10 * dt)
    if "--skip-explicit" not in sys.argv:
        explicit, _ = run(problem, "explicit", dt)
        print(f"explicit (baseline) / implicit wall-time ratio: {explicit / implicit:.2f}")


if __name__ == "__main__":
    main()
