"""Electron trapping at chalcogen vacancies of a MoS2-like monolayer, the ML-descriptor NA-MD way.

    python examples/namd/run_trapping.py [OUT]          # default OUT: examples/namd/output
    python examples/namd/run_trapping.py OUT --quick    # smaller and shorter (about 2 minutes)

The chain (Liu, Wang, Wu, Vasenko, Prezhdo, PNAS 121, e2403497121 (2024), with a tight-binding
model instead of DFT):

1. Langevin MD at 300 K of 12x12 and 24x24 cells with one S vacancy (harmonic force field);
2. direct tight binding along those trajectories: trap and CBM energies, overlap NACs;
3. SOAP descriptors of the atoms around each vacancy; per-atom kernel models of the trap depth
   and of the trap–CBM coupling, trained on the small cells;
4. MD of a 48x48 cell with 1, 2 and 4 vacancies, ML vibronic Hamiltonians (and, for one vacancy,
   the direct-TB reference on the same trajectory);
5. DISH in the classical path approximation with detailed balance (the published convention:
   intervals of one pure-dephasing time; see examples/namd/README.md for its known deviation):
   the electron starts in the CBM; exponential fits give the trapping time vs concentration.

Outputs in OUT: results.json, populations.png, trapping_vs_concentration.png,
parity_depth.png, parity_coupling.png.  The same chain runs as ``mts namd trapping``.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

from nad.pipeline import describe_case_time, trapping_study


def main(argv: list[str]) -> None:
    quick = "--quick" in argv
    args = [a for a in argv[1:] if a != "--quick"]
    out = Path(args[0]) if args else Path(__file__).parent / "output"
    settings = dict(sizes=(12, 24), trajectories=(3, 2), nframes=300, large=48,
                    large_frames=200, vacancies=(1, 2, 4), nsteps=300_000, nreal=20)
    if quick:
        settings.update(trajectories=(2, 1), nframes=200, large=36, large_frames=120,
                        vacancies=(1, 4), nsteps=100_000, nreal=10)
    start = time.perf_counter()
    with threadpool_limits(limits=1):
        results = trapping_study(out, progress=lambda s: print(
            f"[{time.perf_counter() - start:6.0f} s] {s}", flush=True), **settings)
    for case in results["cases"]:
        taus = [f"tau_{src.upper()} = {describe_case_time(case, src)}"
                for src in ("ml", "tb") if f"tau_{src}_fs" in case]
        print(f"c = {100 * case['concentration']:.4f} %: " + ", ".join(taus))
    print(f"wrote {out}")


if __name__ == "__main__":
    main(sys.argv)
