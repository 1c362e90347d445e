"""The main job as a new user runs it: a fresh clone of this repository, a new virtual
environment, and the README's first command (install, then ``mts pipeline
examples/silicon/pipeline.toml``), timed from the first ``pip install`` to the summary table.

Checks: wall time ≤ 10 min on 2 cores, and the cross-plane κ/κ_bulk at 100 nm and 1 µm within
15 % of almaBTE's first-principles ratios (REFERENCES §1.5: 37.82/135.28 and 84.21/135.28).
Baseline measured in the same run: the same ``mts pipeline`` run again in the clone, which
finds every stage cached (the time that is not computation).  Needs network access to PyPI.

    python benchmarks/bench_main_job.py [--keep DIR]
"""
from __future__ import annotations

import argparse
import csv
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from workflows.references import ALMABTE_BULK, ALMABTE_CROSS_PLANE

REPO = Path(__file__).resolve().parents[1]
ALMABTE_RATIO = {t: ALMABTE_CROSS_PLANE[t] / ALMABTE_BULK for t in (1e-7, 1e-6)}
TOLERANCE = 0.15
TARGET_S = 600.0


def readme_main_command() -> str:
    """The first ```bash block of the README (the main job)."""
    match = re.search(r"```bash\n(.+?)\n```", (REPO / "README.md").read_text(), re.S)
    if match is None:
        raise SystemExit("README.md has no ```bash block")
    return match.group(1).strip()


def run(command: str, cwd: Path, venv: Path) -> float:
    start = time.perf_counter()
    subprocess.run(["bash", "-c", f"source {venv}/bin/activate && {command}"], cwd=cwd, check=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="mts-main-job-"))
    clone, venv = work / "clone", work / "venv"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = readme_main_command()
    print(f"README command: {command}")
    fresh = run(command, clone, venv)
    cached = run(command.split("&&")[-1].strip(), clone, venv)

    with open(clone / "runs" / "silicon-films" / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    failures = []
    print(f"\n{'thickness':>10} {'k/k_bulk':>9} {'almaBTE':>8} {'deviation':>9}")
    for thickness, reference in ALMABTE_RATIO.items():
        row = next(r for r in rows if r["geometry"] == "cross-plane"
                   and abs(float(r["thickness_m"]) - thickness) < 1e-3 * thickness)
        ratio = float(row["ratio"])
        deviation = ratio / reference - 1
        print(f"{thickness * 1e9:8.0f} nm {ratio:9.3f} {reference:8.3f} {100 * deviation:+8.1f} %")
        if abs(deviation) > TOLERANCE:
            failures.append(f"κ/κ_bulk at {thickness * 1e9:.0f} nm off by {100 * deviation:+.1f} %")
    print(f"\nfresh clone, README command: {fresh:.0f} s (target ≤ {TARGET_S:.0f} s); "
          f"rerun with every stage cached: {cached:.1f} s; ratio {fresh / cached:.0f}x")
    if fresh > TARGET_S:
        failures.append(f"{fresh:.0f} s > {TARGET_S:.0f} s")
    print("FAILED: " + "; ".join(failures) if failures else "all checks met")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
