"""Issue 23, item 14: κ_eff is the heat rate per real cross-section, not per bounding box.  A
circular wire (a 16-gon disc extruded along z in prisms) carrying a uniform flux q0 along its axis
between walls ΔT = 1 K apart over L has κ = q0 L / ΔT exactly (Fourier's law for a uniform
gradient); dividing by the bounding box would give (area / (2R)²) of that, ≈ π/4."""
from __future__ import annotations

import numpy as np
from bte_cases import MATERIALS

import bte
from bte import BoundaryCondition, Material, Mesh, Settings
from bte import BoundaryKind as Kind
from bte.solver import _kappa_effective

SI15 = MATERIALS / "DATABASE" / "Si" / "Si_15.dat"
RADIUS, LENGTH, SIDES, LAYERS = 5e-8, 2e-7, 16, 4


def wire_mesh() -> Mesh:
    """Prisms (VTK wedge 13) of a fan-triangulated regular 16-gon of radius RADIUS, LAYERS layers
    along z in [0, LENGTH]; boundaries 1 z = 0, 2 z = LENGTH, 3 the side."""
    angle = 2 * np.pi * np.arange(SIDES) / SIDES
    disc = np.vstack([[0.0, 0.0], RADIUS * np.column_stack([np.cos(angle), np.sin(angle)])])
    per = len(disc)
    zs = np.linspace(0.0, LENGTH, LAYERS + 1)
    points = np.vstack([np.column_stack([disc, np.full(per, z)]) for z in zs])
    tris = [(0, 1 + k, 1 + (k + 1) % SIDES) for k in range(SIDES)]
    cells = [[a + l * per, b + l * per, c + l * per, a + (l + 1) * per, b + (l + 1) * per,
              c + (l + 1) * per] for l in range(LAYERS) for a, b, c in tris]
    bnd = ([(list(t), 1) for t in tris] + [([v + LAYERS * per for v in t], 2) for t in tris]
           + [([1 + k + l * per, 1 + (k + 1) % SIDES + l * per,
                1 + (k + 1) % SIDES + (l + 1) * per, 1 + k + (l + 1) * per], 3)
              for l in range(LAYERS) for k in range(SIDES)])
    sizes = [len(nodes) for nodes, _ in bnd]
    return Mesh(dim=3, points=points,
                cell_offsets=np.arange(len(cells) + 1, dtype=np.int64) * 6,
                cell_nodes=np.array(cells, dtype=np.int64).ravel(),
                cell_types=np.full(len(cells), 13), cell_region=np.zeros(len(cells), np.int64),
                bnd_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
                bnd_nodes=np.concatenate([nodes for nodes, _ in bnd]).astype(np.int64),
                bnd_index=np.array([index for _, index in bnd], dtype=np.int64))


def test_wire_kappa_uses_the_real_cross_section():
    v, tau, c, lattice, heat = np.loadtxt(SI15, usecols=range(5)).T
    material = Material("Si_15", v, tau, c, lattice / lattice.sum(), heat)
    walls = [BoundaryCondition(1, Kind.THERMALIZING, 301.0),
             BoundaryCondition(2, Kind.THERMALIZING, 300.0),
             BoundaryCondition(3, Kind.DIFFUSE)]
    problem = bte.build_problem(wire_mesh(), [material], walls, Settings(ntheta=2, nphi=2))
    area = SIDES / 2 * RADIUS**2 * np.sin(2 * np.pi / SIDES)          # the 16-gon
    np.testing.assert_allclose(problem.geometry.volume.sum(), area * LENGTH, rtol=1e-12)
    q0 = 3.0e9                                                          # W m^-2 along +z
    flux = np.tile([0.0, 0.0, q0], (problem.geometry.n_cells, 1))
    kappa, direction, how = _kappa_effective(problem, flux)
    np.testing.assert_allclose(direction, [0.0, 0.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(kappa, q0 * LENGTH / 1.0, rtol=1e-12)    # not x area/(2R)^2
    assert "area" in how
