"""Orientation of a crystal in a BTE geometry: which crystal direction is the film normal and
which the transport axis, as a rotation from the crystal's Cartesian axes to the mesh axes.

Mesh convention (every geometry of ``workflows.geometries``): the film normal (thickness) lies
along mesh y, the transport (period) axis along mesh x, and z = x × y.  A cross-plane film
carries heat along the normal (y); its ``transport`` direction then only fixes the in-plane x
axis.  Directions are crystal directions [u v w] in the cell's lattice vectors (Cartesian
u a1 + v a2 + w a3), or Miller-Bravais [U V T W] for a hexagonal cell (U + V + T = 0,
a1 and a2 of equal length at 120°), converted as [U − T, V − T, W]: c-plane film normal
[0001], a-plane [11-20].  Lattices (3, 3) have the lattice vectors as rows, in Å (any unit:
only directions matter).  Velocity vectors rotate as v_mesh = R v_crystal.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mtscore.symmetry import symmetry_search

from .problem import BTEInputError

ORTHOGONALITY_TOLERANCE = 1e-3      # |cos| of the angle between normal and transport
HEXAGONAL_TOLERANCE = 1e-4          # relative, on |a1| = |a2| and cos(a1, a2) = -1/2
NORMAL_AXIS, TRANSPORT_AXIS = 1, 0  # mesh y, mesh x


def _is_hexagonal(lattice: np.ndarray) -> bool:
    a1, a2 = lattice[0], lattice[1]
    n1, n2 = np.linalg.norm(a1), np.linalg.norm(a2)
    return bool(abs(n1 - n2) <= HEXAGONAL_TOLERANCE * n1
                and abs(a1 @ a2 / (n1 * n2) + 0.5) <= HEXAGONAL_TOLERANCE)


def direction_indices(indices: Sequence[float], lattice: np.ndarray, key: str,
                      source: str | Path | None = None, line: int | None = None) -> np.ndarray:
    """Three-index [u v w] of a direction given as [u v w] or Miller-Bravais [U V T W]
    (hexagonal cells only).  BTEInputError naming ``key`` for a bad index list."""
    idx = np.asarray(indices, dtype=np.float64).ravel()
    if len(idx) not in (3, 4) or not np.isfinite(idx).all():
        raise BTEInputError(f"a direction needs 3 indices [u, v, w] or 4 Miller-Bravais "
                            f"[U, V, T, W], got {list(indices)}", source, line, key)
    if len(idx) == 4:
        u, v, t, w = idx
        if abs(u + v + t) > 1e-9:
            raise BTEInputError(f"Miller-Bravais direction {list(indices)}: U + V + T must be 0",
                                source, line, key)
        if not _is_hexagonal(np.asarray(lattice, dtype=np.float64)):
            raise BTEInputError(f"Miller-Bravais direction {list(indices)} needs a hexagonal "
                                "cell (|a1| = |a2|, 120° apart); give [u, v, w]", source, line,
                                key)
        idx = np.array([u - t, v - t, w])
    if not idx.any():
        raise BTEInputError(f"direction {list(indices)} is the zero vector", source, line, key)
    return idx


def crystal_direction(lattice: np.ndarray, indices: Sequence[float], key: str = "direction",
                      source: str | Path | None = None, line: int | None = None) -> np.ndarray:
    """Cartesian unit vector (3,) of the crystal direction ``indices`` (see the module)."""
    lattice = np.asarray(lattice, dtype=np.float64)
    vector = direction_indices(indices, lattice, key, source, line) @ lattice
    return vector / np.linalg.norm(vector)


def orientation_matrix(lattice: np.ndarray, normal: Sequence[float], transport: Sequence[float],
                       *, source: str | Path | None = None, line: int | None = None,
                       normal_key: str = "normal", transport_key: str = "transport",
                       tolerance: float = ORTHOGONALITY_TOLERANCE) -> np.ndarray:
    """Orthonormal rotation R (3, 3), det +1, from crystal Cartesian axes to mesh axes: R maps
    the ``transport`` direction onto mesh x and the ``normal`` direction onto mesh y.  The two
    must be orthogonal within ``tolerance`` (|cos angle|), else BTEInputError naming
    ``transport_key``; the small remaining angle is removed from ``transport``."""
    n = crystal_direction(lattice, normal, normal_key, source, line)
    t = crystal_direction(lattice, transport, transport_key, source, line)
    cosine = float(n @ t)
    if abs(cosine) > tolerance:
        angle = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
        raise BTEInputError(f"transport {list(transport)} is not orthogonal to normal "
                            f"{list(normal)} ({angle:.4g}° apart, |cos| {abs(cosine):.3g} > "
                            f"{tolerance:g})", source, line, transport_key)
    t = t - cosine * n
    t /= np.linalg.norm(t)
    rotation = np.empty((3, 3))
    rotation[TRANSPORT_AXIS], rotation[NORMAL_AXIS] = t, n
    rotation[2] = np.cross(t, n)
    return rotation


def rotate_vectors(rotation: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Vectors (n, 3) in crystal Cartesian axes -> mesh axes (v_mesh = R v)."""
    return np.asarray(vectors, dtype=np.float64) @ np.asarray(rotation, dtype=np.float64).T


def symmetry_dataset(lattice: np.ndarray, positions: np.ndarray, numbers: Sequence[int], *,
                     source: str | Path | None = None, key: str = "positions",
                     symprec: float = 1e-5):
    """spglib's symmetry dataset of the crystal (lattice rows, fractional positions, atomic or
    type numbers); BTEInputError naming ``source`` and ``key`` when the search fails."""
    dataset, reason = symmetry_search(lattice, positions, numbers, symprec)
    if dataset is None:
        raise BTEInputError(f"symmetry search failed ({reason}); check the cell and positions",
                            source, None, key)
    return dataset


def is_cubic(lattice: np.ndarray, positions: np.ndarray | None = None,
             numbers: Sequence[int] | None = None, symprec: float = 1e-5) -> bool:
    """True when the crystal (lattice rows Å, fractional ``positions``, atomic ``numbers``;
    lattice alone: one atom at the origin) is cubic (space group 195-230), so its κ tensor is
    isotropic and any orientation gives the same κ of the isotropic-band model."""
    if positions is None:
        positions, numbers = np.zeros((1, 3)), [1]
    return symmetry_dataset(lattice, positions, numbers, symprec=symprec).number >= 195


ORIENTATION_FILE = "ORIENTATION"      # in a case's input/ folder, next to PHONON


def write_orientation_file(path: str | Path, rotation: np.ndarray,
                           normal: Sequence[float] | None = None,
                           transport: Sequence[float] | None = None) -> Path:
    """Write a case's orientation: ``Rotation=`` and three rows of R (crystal Cartesian ->
    mesh axes, 17 significant digits), and for the record ``Normal=`` / ``Transport=`` with the
    crystal directions it was built from.  Read back by :func:`read_orientation_file`."""
    path = Path(path)
    lines = []
    for key, value in (("Normal", normal), ("Transport", transport)):
        if value is not None:
            lines += [f"{key}=", " ".join(f"{x:g}" for x in value)]
    lines.append("Rotation=")
    lines += [" ".join(f"{x:.17g}" for x in row) for row in np.asarray(rotation, dtype=float)]
    path.write_text("\n".join(lines) + "\n")
    return path


def read_orientation_file(path: str | Path, tolerance: float = 1e-9) -> np.ndarray:
    """The rotation R (3, 3) of an orientation file (see :func:`write_orientation_file`):
    the three lines after ``Rotation=``, orthonormal with det +1 within ``tolerance``.
    BTEInputError naming the file, line and key otherwise."""
    path = Path(path)
    if not path.is_file():
        raise BTEInputError("orientation file not found", path, None, "Rotation")
    lines = path.read_text(errors="replace").splitlines()
    start = next((k for k, line in enumerate(lines) if line.strip().startswith("Rotation")),
                 None)
    if start is None:
        raise BTEInputError("no Rotation= keyword", path, None, "Rotation")
    rows = []
    for k in range(start + 1, start + 4):
        try:
            row = [float(x) for x in lines[k].split()]
        except (IndexError, ValueError):
            row = []
        if len(row) != 3 or not np.isfinite(row).all():
            raise BTEInputError("expected 3 rows of 3 numbers after Rotation=", path,
                                min(k, len(lines)) + 1, "Rotation")
        rows.append(row)
    rotation = np.array(rows)
    if not (np.allclose(rotation @ rotation.T, np.eye(3), rtol=0, atol=tolerance)
            and np.linalg.det(rotation) > 0):
        raise BTEInputError("Rotation is not an orthonormal right-handed 3 x 3 matrix", path,
                            start + 2, "Rotation")
    return rotation
