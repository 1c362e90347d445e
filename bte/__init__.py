"""GiftBTE-compatible deterministic non-gray phonon BTE solver (numba kernels, no torch).

Public API: read_input_folder(path) -> Problem, or build_problem(mesh, materials, boundaries,
settings) -> Problem in Python; solve(problem) -> Result (steady, with κ) or
bte.transient.TransientResult; write_outputs(result, directory).  Progress: a
bte.monitor.Monitor (monitor.iteration(step, time, err_T, err_q)) for both solvers.
"""
from .problem import (
    BoundaryCondition,
    BoundaryKind,
    BTEInputError,
    Control,
    Geometry,
    Material,
    Mesh,
    ModeMaterial,
    Problem,
    Settings,
    SolverDivergedError,
)
from .result import Result


def build_problem(mesh, materials, boundaries, settings=None, **kwargs):
    """A validated Problem built in Python (mesh, materials, boundary conditions, Settings);
    see bte.build.build_problem."""
    from .build import build_problem as _build
    return _build(mesh, materials, boundaries, settings, **kwargs)


def read_input_folder(path, **kwargs):
    """Read a GiftBTE run directory (holding input/CONTROL, GEOMETRY, PHONON); see bte.giftbte."""
    from .giftbte.reader import read_input_folder as _read
    return _read(path, **kwargs)


def solve(problem, **kwargs):
    """Solve the BTE: the steady solver (bte.solver.solve), or the transient one
    (bte.transient.solve_transient: scheme="explicit"|"implicit", save_every, ...) when CONTROL
    says State=Transient.  Both take monitor= (bte.monitor.Monitor) or their older callback=
    (steady: callback(iteration, err_T, err_q); transient: callback(step, t, err_T, err_q))."""
    if problem.control.state == "Transient":
        from .transient import solve_transient
        return solve_transient(problem, **kwargs)
    from .solver import solve as _solve
    return _solve(problem, **kwargs)


def write_outputs(result, directory, **kwargs):
    """Write GiftBTE's output files, kappa.json and a .vtu; see bte.outputs."""
    from .outputs import write_outputs as _write
    return _write(result, directory, **kwargs)


__all__ = ["BTEInputError", "BoundaryCondition", "BoundaryKind", "Control", "Geometry", "Material",
           "Mesh", "ModeMaterial", "Problem", "Result", "Settings", "SolverDivergedError",
           "build_problem", "read_input_folder", "solve", "write_outputs"]
