"""Benchmark of the nad package (not a test).

    python benchmarks/bench_nad.py            # both benchmarks
    python benchmarks/bench_nad.py tully      # FSSH on Tully model 1 only
    python benchmarks/bench_nad.py vibronic   # ML vs direct-TB vibronic Hamiltonian only

1. FSSH on Tully model 1 (k = 20 a.u., 2000 trajectories, the numba kernel after a JIT warm-up):
   CPU time per trajectory (time.process_time), against a pure-Python per-trajectory loop of
   the same algorithm (same time step, same 2x2 propagator and hopping rule) timed in this run on
   a few trajectories.  Target (issue): <= 2 ms per trajectory (mudslide, pure Python: ~80 ms).
2. Vibronic Hamiltonian of a 48x48 cell with one vacancy, per MD step: direct TB (build the
   sparse Hamiltonian, shift-invert eigensolve of the trap and the CBM, overlaps → NAC) against
   the ML model (SOAP descriptors of the vacancy's local atoms, trap depth and coupling
   predictions).  The model is trained on 12x12 cells with the default training size (800
   structures), which sets the prediction cost.  Target: ML >= 20x faster per step.
"""
from __future__ import annotations

import math
import random
import sys
import time

from threadpoolctl import threadpool_limits


def python_tully_trajectory(k0: float, rng: random.Random, dt: float) -> int:
    """Pure-Python FSSH on Tully model 1 (same algorithm as the numba kernel)."""
    a, b, c, d, mass = 0.01, 1.6, 0.005, 1.0, 2000.0

    def adiabatic(x):
        if x >= 0:
            v11, dv11 = a * (1 - math.exp(-b * x)), a * b * math.exp(-b * x)
        else:
            v11, dv11 = -a * (1 - math.exp(b * x)), a * b * math.exp(b * x)
        v12 = c * math.exp(-d * x * x)
        dv12 = -2 * d * x * v12
        root = math.sqrt(v11 * v11 + v12 * v12)
        droot = (v11 * dv11 + v12 * dv12) / root
        dtheta = 0.5 * (dv12 * v11 - v12 * dv11) / (root * root)
        return -root, root, -droot, droot, dtheta

    x, v, active = -10.5, k0 / mass, 0
    c0, c1 = 1 + 0j, 0j
    e0, e1, g0, g1, d01 = adiabatic(x)
    force = -g0
    while True:
        vh = v + 0.5 * dt * force / mass
        e0o, e1o, d01o, vo = e0, e1, d01, v
        x += dt * vh
        e0, e1, g0, g1, d01 = adiabatic(x)
        force = -(g0 if active == 0 else g1)
        v = vh + 0.5 * dt * force / mass
        em0, em1 = 0.5 * (e0 + e0o), 0.5 * (e1 + e1o)
        coup = 0.5 * (v * d01 + vo * d01o)
        hz, hy = 0.5 * (em0 - em1), coup
        h = math.sqrt(hz * hz + hy * hy)
        ph = complex(math.cos(-0.5 * (em0 + em1) * dt), math.sin(-0.5 * (em0 + em1) * dt))
        cs, sn = math.cos(h * dt), math.sin(h * dt) / h
        n0 = ph * ((cs - 1j * sn * hz) * c0 - sn * hy * c1)
        n1 = ph * (sn * hy * c0 + (cs + 1j * sn * hz) * c1)
        f = 0.5 * ((c0.conjugate() * c1).real + (n0.conjugate() * n1).real)
        pa = abs(c0) ** 2 if active == 0 else abs(c1) ** 2
        g = (2 if active == 0 else -2) * coup * f * dt / max(pa, 1e-300)
        c0, c1 = n0, n1
        if g > 0 and rng.random() < g:
            de = (e1 - e0) if active == 0 else (e0 - e1)
            if 0.5 * mass * v * v >= de:
                v = math.copysign(math.sqrt(v * v - 2 * de / mass), v)
                active = 1 - active
                force = -(g0 if active == 0 else g1)
        if x > 10.5:
            return 1 + 2 * active
        if x < -10.5 and v < 0:
            return 2 * active


def bench_tully() -> None:
    from nad.tully import run_tully

    k, ntraj = 20.0, 2000
    run_tully(1, k, 10)                                           # JIT warm-up
    t0 = time.process_time()
    result = run_tully(1, k, ntraj, seed=3)
    numba_ms = (time.process_time() - t0) / ntraj * 1e3
    dt = min(2.0, 0.02 / (k / 2000.0))
    rng = random.Random(0)
    nbase = 20
    t0 = time.process_time()
    for _ in range(nbase):
        python_tully_trajectory(k, rng, dt)
    python_ms = (time.process_time() - t0) / nbase * 1e3
    print("FSSH, Tully model 1, k = 20 a.u.")
    print(f"  numba kernel      {numba_ms:8.3f} ms CPU per trajectory ({ntraj} trajectories; "
          f"T1 = {result.t1:.3f}, exact 0.492)")
    print(f"  pure-Python loop  {python_ms:8.3f} ms CPU per trajectory ({nbase} trajectories)")
    print(f"  speed-up          {python_ms / numba_ms:8.1f}x;  target <= 2 ms: "
          f"{'met' if numba_ms <= 2.0 else 'NOT met'}")


def bench_vibronic() -> None:
    from nad.dataset import simulate_cell, trap_window_shift
    from nad.descriptors import make_descriptor
    from nad.md import run_md
    from nad.ml import HamiltonianModel
    from nad.pipeline import training_set
    from nad.tight_binding import TightBinding
    from nad.trajectory import align, eigenstates_near, overlap_nac

    t0 = time.perf_counter()
    train = training_set(sizes=(12,), trajectories=(3,), nframes=300, seed=0)
    model = HamiltonianModel(max_train=800).fit(train.data)
    print(f"\nvibronic Hamiltonian of a 48x48 cell (training on 12x12: "
          f"{time.perf_counter() - t0:.0f} s)")
    cell, _ = simulate_cell(48, 2, vacancies=1, seed=11)
    traj = run_md(cell.atoms, 21, equilibration=200, seed=12)
    tb = TightBinding(cell.atoms)
    sigma = trap_window_shift(tb, traj.positions[0], 2)
    nsteps = traj.positions.shape[0] - 1

    t0 = time.perf_counter()
    _, prev = eigenstates_near(tb.hamiltonian(traj.positions[0]), sigma, 2)
    for f in range(1, nsteps + 1):
        _, vec = eigenstates_near(tb.hamiltonian(traj.positions[f]), sigma, 2)
        vec, _ = align(prev, vec, track=False)
        overlap_nac(prev, vec, traj.dt)
        prev = vec
    tb_ms = (time.perf_counter() - t0) / nsteps * 1e3

    desc = make_descriptor("soap")
    t0 = time.perf_counter()
    q = cell.descriptors(traj, desc)
    model.vibronic(q, traj.dt, cell.ncells)
    ml_ms = (time.perf_counter() - t0) / nsteps * 1e3
    print(f"  direct TB (sparse shift-invert, {len(cell.atoms)} sites)  {tb_ms:8.2f} ms per step")
    print(f"  ML (SOAP + kernel models, {len(cell.environments[0].local)} local atoms)"
          f"        {ml_ms:8.2f} ms per step")
    print(f"  speed-up          {tb_ms / ml_ms:8.1f}x;  target >= 20x: "
          f"{'met' if tb_ms / ml_ms >= 20 else 'NOT met'}")


def main(argv: list[str]) -> None:
    which = argv[1:] or ["tully", "vibronic"]
    with threadpool_limits(limits=1):
        if "tully" in which:
            bench_tully()
        if "vibronic" in which:
            bench_vibronic()


if __name__ == "__main__":
    main(sys.argv)
