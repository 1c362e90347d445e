"""A BTE problem built in Python alone (mesh arrays, a band material, boundary conditions,
settings; no files) is the problem of the equivalent GiftBTE input folder: same κ to round-off.
The mesh, material and walls are made here with numpy from their definitions (a column of quads,
the Si_15 band table's columns), independently of the readers."""
from __future__ import annotations

import numpy as np
import pytest
from bte_cases import MATERIALS

import bte
from bte import BoundaryCondition, Control, Material, Mesh, Settings
from bte import BoundaryKind as Kind

SI15 = MATERIALS / "DATABASE" / "Si" / "Si_15.dat"
THICKNESS = 1e-7          # m
N_CELLS = 24
CONTROL = {"ResidualTemp": 1e-9, "ResidualFlux": 1e-9, "MaxNumIter": 400}


def column_mesh(ys: np.ndarray, width: float) -> Mesh:
    """Quads of a 1 x len(ys)-1 column [0, width] x ys (m), boundaries numbered as a COMSOL
    rectangle: 1 x = 0, 2 y = 0, 3 y = top, 4 x = width."""
    n = len(ys) - 1
    left = np.arange(n + 1) * 2                      # vertex (0, y_j) = 2j, (width, y_j) = 2j+1
    points = np.zeros((2 * (n + 1), 3))
    points[0::2, 1] = points[1::2, 1] = ys
    points[1::2, 0] = width
    cells = np.stack([left[:-1], left[:-1] + 1, left[1:] + 1, left[1:]], axis=1)  # VTK quad
    edges = ([(left[j], left[j + 1], 1) for j in range(n)] + [(0, 1, 2)]
             + [(left[n], left[n] + 1, 3)] + [(left[j] + 1, left[j + 1] + 1, 4) for j in range(n)])
    bnd = np.array(edges, dtype=np.int64)
    return Mesh(dim=2, points=points, cell_offsets=np.arange(n + 1, dtype=np.int64) * 4,
                cell_nodes=cells.ravel().astype(np.int64), cell_types=np.full(n, 9),
                cell_region=np.zeros(n, dtype=np.int64),
                bnd_offsets=np.arange(len(bnd) + 1, dtype=np.int64) * 2,
                bnd_nodes=bnd[:, :2].ravel(), bnd_index=bnd[:, 2])


def si15() -> Material:
    v, tau, c, lattice, heat = np.loadtxt(SI15, usecols=range(5)).T
    return Material("Si_15", v, tau, c, lattice / lattice.sum(), heat)


CROSS_PLANE = [BoundaryCondition(1, Kind.SPECULAR),
               BoundaryCondition(2, Kind.THERMALIZING, 301.0),
               BoundaryCondition(3, Kind.THERMALIZING, 300.0),
               BoundaryCondition(4, Kind.SPECULAR)]


def python_problem(**changes) -> bte.Problem:
    control = Control(residual_temp=1e-9, residual_flux=1e-9, max_num_iter=400,
                      iterative_scheme="Synthetic")
    settings = Settings(**{"control": control, "ntheta": 4, "nphi": 4, **changes})
    mesh = column_mesh(np.linspace(0.0, THICKNESS, N_CELLS + 1), THICKNESS)
    return bte.build_problem(mesh, [si15()], CROSS_PLANE, settings)


def test_python_problem_matches_input_folder(case_factory):
    """Cross-plane film, Si_15, 1 x 24 column: the κ of the Python-built problem equals that of
    the same case written as a GiftBTE folder (COMSOL mesh, BC file, PHONON, CONTROL)."""
    run = case_factory("cross-plane/1e-7", "film",
                       mesh=("rect", [0.0, 1.0], np.linspace(0.0, 1.0, N_CELLS + 1)),
                       bc=[(1, Kind.SPECULAR, 0), (2, Kind.THERMALIZING, 301),
                           (3, Kind.THERMALIZING, 300), (4, Kind.SPECULAR, 0)],
                       geometry={"ScaleX": THICKNESS, "ScaleY": THICKNESS},
                       phonon={"Ntheta": 4, "Nphi": 4}, control=CONTROL)
    from_files = bte.solve(bte.read_input_folder(run))
    in_python = bte.solve(python_problem())
    assert from_files.converged and in_python.converged
    assert in_python.problem.root is None and in_python.problem.warnings == []
    assert in_python.kappa_effective == pytest.approx(from_files.kappa_effective, rel=1e-10)
    np.testing.assert_allclose(np.sort(in_python.temperature_lattice),
                               np.sort(from_files.temperature_lattice), rtol=1e-12)


@pytest.mark.parametrize("changes,key", [
    (dict(ntheta=0), "Ntheta"), (dict(material_dimension=1), "MaterialDimension"),
    (dict(region_material=[1]), "GeometryMaterialType"),
    (dict(heat_source=np.ones(3)), "HeatFile"),
    (dict(control=Control(state="Transient")), "TimeStep")])
def test_builder_errors_name_the_setting(changes, key):
    with pytest.raises(bte.BTEInputError) as info:
        python_problem(**changes)
    assert info.value.key == key and info.value.file is None and info.value.line is None


def test_builder_boundary_errors():
    mesh = column_mesh(np.linspace(0.0, 1e-7, 3), 1e-7)
    walls = {1: BoundaryCondition(1, Kind.PERIODIC, 1.0, partner=4),
             4: BoundaryCondition(4, Kind.DIFFUSE)}
    with pytest.raises(bte.BTEInputError, match="point back") as info:
        bte.build_problem(mesh, [si15()], walls)
    assert info.value.key == "BoundaryType" and info.value.file is None
    with pytest.raises(bte.BTEInputError, match="boundary 2 .* no boundary condition"):
        bte.build_problem(mesh, [si15()], [BoundaryCondition(1, Kind.DIFFUSE)])
    with pytest.raises(bte.BTEInputError, match="unknown boundary type 8") as info:
        BoundaryCondition(2, 8)
    assert info.value.key == "BoundaryType"
    with pytest.raises(bte.BTEInputError, match="specularity") as info:
        bte.build_problem(mesh, [si15()],
                          CROSS_PLANE[:3] + [BoundaryCondition(4, Kind.PARTIALLY_SPECULAR, 1.5)])
    assert info.value.key == "BoundaryValue"


def test_reader_locates_builder_errors(case_factory):
    """An error only the builder checks (a mesh boundary without a condition) comes back from
    the reader naming the file the setting belongs in (the BC file)."""
    run = case_factory("cross-plane/1e-7", "unlisted",
                       mesh=("rect", [0.0, 1.0], np.linspace(0.0, 1.0, 3)),
                       bc=[(1, Kind.SPECULAR, 0), (2, Kind.THERMALIZING, 301),
                           (3, Kind.THERMALIZING, 300)])
    with pytest.raises(bte.BTEInputError, match="boundary 4") as info:
        bte.read_input_folder(run)
    assert info.value.file.endswith("test_bc.dat") and info.value.key == "BoundaryIndex"


def test_walls_at_zero_kelvin_are_a_level_and_say_so():
    """Issue 23 item 8: a thermalizing wall at <= 0 K (GiftBTE's examples use 0 K walls) is kept,
    as a level of the linear problem, with a warning that says so; positive walls give none."""
    mesh = column_mesh(np.linspace(0.0, THICKNESS, N_CELLS + 1), THICKNESS)
    walls = [BoundaryCondition(1, Kind.SPECULAR), BoundaryCondition(2, Kind.THERMALIZING, 1.0),
             BoundaryCondition(3, Kind.THERMALIZING, 0.0), BoundaryCondition(4, Kind.SPECULAR)]
    seen: list[str] = []
    problem = bte.build_problem(mesh, [si15()], walls, Settings(ntheta=2, nphi=2), warn=seen.append)
    assert seen == problem.warnings and len(seen) == 1
    assert "boundaries [3] are at <= 0 K" in seen[0] and "relative" in seen[0]
    assert bte.build_problem(mesh, [si15()], CROSS_PLANE, Settings(ntheta=2, nphi=2),
                             warn=seen.append).warnings == []
