"""Benchmark of the phonons chain: Si, 2x2x2 conventional supercell (64 atoms), fc2 + fc3 from
a calculator + κ_RTA on an 11³ q-mesh at 300 K.

Calculator: the shipped ML model (``potentials.pretrained_calculator("si")``) when it loads,
otherwise matscipy's Tersoff.  Baseline measured in the same run: phono3py on its own from the
stored DFT forces (load yaml + FORCES_FC3, produce and symmetrise fc, κ_RTA 11³), i.e. the same
phono3py work without any force evaluation.  Prints the times, the share of the force
evaluations and the ratio (ours / baseline).  Target: total ≤ 60 s on 2 cores.

    python benchmarks/bench_phonons.py
"""
from __future__ import annotations

import time
import warnings
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "phonons"


def calculator():
    try:
        import potentials
        return "ML (pretrained si)", potentials.pretrained_calculator("si")
    except Exception as exc:
        print(f"ML model unavailable ({type(exc).__name__}: {exc}); using matscipy Tersoff")
    from matscipy.calculators.manybody import Manybody
    from matscipy.calculators.manybody.explicit_forms import TersoffBrenner
    from matscipy.calculators.manybody.explicit_forms.tersoff_brenner import (
        Tersoff_PRB_39_5566_Si_C,
    )
    return "matscipy Tersoff", Manybody(**TersoffBrenner(Tersoff_PRB_39_5566_Si_C))


def baseline() -> tuple[float, float]:
    import phono3py
    start = time.perf_counter()
    ph3 = phono3py.load(DATA / "phono3py_disp.yaml", forces_fc3_filename=DATA / "FORCES_FC3",
                        produce_fc=True, log_level=0)
    ph3.symmetrize_fc3()
    ph3.symmetrize_fc2()
    ph3.mesh_numbers = [11, 11, 11]
    ph3.init_phph_interaction()
    ph3.run_thermal_conductivity(temperatures=[300.0], log_level=0)
    return time.perf_counter() - start, float(np.mean(ph3.thermal_conductivity.kappa[0, 0, :3]))


def ours(name: str, calc) -> dict[str, float]:
    from ase.io import read

    from phonons import bulk_kappa, compute_force_constants, evaluate_forces, force_constants

    unitcell = read(DATA / "POSCAR-unitcell", format="vasp")
    # force evaluation alone, timed on the same displacement set
    ph3 = force_constants._new_phono3py(unitcell, np.diag([2, 2, 2]), "auto", None, 1e-5)
    ph3.generate_displacements(distance=0.03)
    cells = [force_constants.ase_atoms(c) for c in ph3.supercells_with_displacements]
    start = time.perf_counter()
    evaluate_forces(cells, calc)
    t_forces = time.perf_counter() - start

    start = time.perf_counter()
    fc = compute_force_constants(unitcell, calc, (2, 2, 2), displacement=0.03)
    t_fc = time.perf_counter() - start
    start = time.perf_counter()
    kappa = bulk_kappa(fc, (11, 11, 11), [300.0]).kappa_average[0]
    t_kappa = time.perf_counter() - start
    return {"forces": t_forces, "fc": t_fc, "kappa": t_kappa, "total": t_fc + t_kappa,
            "kappa_value": kappa, "n_displacements": len(cells)}


def main() -> None:
    warnings.filterwarnings("ignore", message="'where' used without 'out'")
    name, calc = calculator()
    t_base, k_base = baseline()
    res = ours(name, calc)
    print(f"calculator           {name}")
    print(f"baseline (phono3py, DFT forces, fc + kappa 11^3): {t_base:7.2f} s  "
          f"kappa {k_base:.2f} W/mK")
    print(f"ours: fc2+fc3 ({res['n_displacements']} supercells) {res['fc']:7.2f} s, "
          f"of which forces {res['forces']:.2f} s; kappa 11^3 {res['kappa']:.2f} s "
          f"({res['kappa_value']:.2f} W/mK)")
    print(f"total {res['total']:.2f} s (target <= 60 s); force evaluations "
          f"{100 * res['forces'] / res['total']:.1f} % of it")
    print(f"ratio ours / baseline = {res['total'] / t_base:.2f}")


if __name__ == "__main__":
    main()
