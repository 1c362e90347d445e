"""Speed of the shipped silicon potential (plain python; prints times and ratios).

    python benchmarks/bench_potentials.py [--threads N] [--repeat R]

* energy + forces + stress of a 64- and a 512-atom Si supercell through the ASE calculator,
  float64 and float32 (targets: <= 15 ms and <= 120 ms on 2 cores);
* the 111 displaced 64-atom supercells of the phono3py fc3 set: ``evaluate_batch`` (one batched
  graph) against the baseline of calling the ASE calculator on them one by one, measured in the
  same run (targets: <= 2 s and >= 3x faster);
* for scale, matscipy's Tersoff on the 64-atom cell (same run).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from ase import Atoms
from ase.build import bulk

import potentials

DATA = Path(__file__).resolve().parents[1] / "potentials" / "data"


def best_time(function, repeat: int) -> float:
    """Best wall time (s) of ``repeat`` calls after one warm-up call."""
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def single_point(calculator, atoms: Atoms):
    """Energy, forces and stress of ``atoms`` through the ASE interface (cache cleared first)."""
    calculator.reset()
    atoms.calc = calculator
    atoms.get_potential_energy()
    atoms.get_forces()
    atoms.get_stress()


def fc3_supercells() -> list[Atoms]:
    import phono3py

    ph3 = phono3py.load(str(DATA / "phono3py_disp.yaml"), produce_fc=False, log_level=0)
    return [Atoms(c.symbols, positions=c.positions, cell=c.cell, pbc=True)
            for c in ph3.supercells_with_displacements]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (best is kept)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, device cpu")

    unit = bulk("Si", "diamond", a=5.43356, cubic=True)
    cells = {64: unit.repeat(2), 512: unit.repeat(4)}
    targets = {64: 0.015, 512: 0.120}
    for dtype in (torch.float64, torch.float32):
        calculator = potentials.pretrained_calculator("si", device="cpu", dtype=dtype)
        for n, atoms in cells.items():
            seconds = best_time(lambda c=calculator, a=atoms: single_point(c, a), args.repeat)
            verdict = "ok" if seconds <= targets[n] else "MISSED"
            print(f"E+F+S {n:4d} atoms {str(dtype):14s} {1000 * seconds:8.1f} ms "
                  f"(target {1000 * targets[n]:.0f} ms: {verdict})")

    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C,
        TersoffBrenner,
    )

    tersoff = Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))
    seconds_tersoff = best_time(lambda: single_point(tersoff, cells[64]), args.repeat)
    print(f"E+F+S   64 atoms matscipy Tersoff  {1000 * seconds_tersoff:8.1f} ms (reference)")

    supercells = fc3_supercells()
    for dtype in (torch.float64, torch.float32):
        calculator = potentials.pretrained_calculator("si", device="cpu", dtype=dtype)
        batched = best_time(lambda c=calculator: c.evaluate_batch(supercells),
                            max(1, args.repeat // 2))
        one_by_one = best_time(lambda c=calculator: [single_point(c, a) for a in supercells], 1)
        print(f"{len(supercells)} fc3 supercells {str(dtype):14s} evaluate_batch {batched:6.2f} s, "
              f"one by one {one_by_one:6.2f} s, speed-up {one_by_one / batched:4.1f}x "
              f"(targets <= 2 s, >= 3x: "
              f"{'ok' if batched <= 2.0 and one_by_one >= 3 * batched else 'MISSED'})")


if __name__ == "__main__":
    np.set_printoptions(precision=4)
    main()
