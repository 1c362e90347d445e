"""Input for the BTE from a :class:`~phonons.modes.ModeSet`.

The band-table format belongs to ``bte``: the modes are binned by ``bte.materials.bin_modes``
and written by ``bte.materials.write_band_table``; nothing here knows the file layout.  Bands are
isotropic, so a mode enters with its speed |v| (m/s) and its weighted heat capacity, and the
table keeps Σ C_b v_b² τ_b / 3 = Σ_modes w C |v|² τ / 3 = trace(κ_RTA)/3 (cubic crystals: κ).
For a non-cubic crystal a transport ``direction`` d (unit vector, Cartesian axes of the crystal)
makes a mode enter with √3 |v·d| over the full star of each q-point, so the table keeps
Σ C_b v_b² τ_b / 3 = Σ w C (v·d)² τ = κ_dd, the tensor component along d.  For direction-resolved
(anisotropic) input, :func:`write_mode_data` writes the ``modes.npz`` that a GiftBTE-style
PHONON file reads with ``MaterialFile 1 MODES`` (``bte.materials.read_mode_data``).
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .modes import ModeSet


def _unit(direction: Sequence[float]) -> np.ndarray:
    d = np.asarray(direction, dtype=np.float64)
    norm = np.linalg.norm(d) if d.shape == (3,) else 0.0
    if not np.isfinite(norm) or norm == 0.0:
        raise ValueError(f"transport direction must be a non-zero 3-vector, not {direction!r}")
    return d / norm


def band_material(modes: ModeSet, n_bands: int, method: str = "frequency", *,
                  name: str = "phonons", direction: Sequence[float] | None = None):
    """Bin the modes into ``n_bands`` isotropic bands (``bte.problem.Material``: v m/s, tau s,
    C J m^-3 K^-1 per band).  method: "frequency", "mfp" or "giftbte" (see
    ``bte.materials.bin_modes``).  direction: transport axis (Cartesian, any length) whose
    κ_dd the bands keep; None: the speed |v| (κ = trace/3, as for cubic crystals)."""
    from bte.materials import bin_modes

    if direction is None:
        speed = modes.speed
    else:
        modes = modes.expand_star()
        speed = np.sqrt(3.0) * np.abs(modes.group_velocity @ _unit(direction))
    omega = 2.0 * np.pi * 1e12 * modes.frequency                      # rad/s
    capacity = modes.weights[:, None] * modes.heat_capacity            # J m^-3 K^-1 per mode
    return bin_modes(omega.ravel(), speed.ravel(), modes.lifetime.ravel(),
                     capacity.ravel(), n_bands, method, name=name)


def write_band_table(modes: ModeSet, path: str | Path, n_bands: int,
                     method: str = "frequency", *,
                     direction: Sequence[float] | None = None):
    """Write a GiftBTE DATABASE band table of ``n_bands`` bands binned by ``method`` to
    ``path``; returns the ``bte.problem.Material`` written.  direction: transport axis
    (Cartesian) for a non-cubic crystal, the table then keeps κ_dd (see
    :func:`band_material`); None: |v| and trace(κ)/3."""
    from bte.materials import write_band_table as write_table

    path = Path(path)
    material = band_material(modes, n_bands, method, name=path.stem, direction=direction)
    write_table(material, path)
    return material


def write_mode_data(modes: ModeSet, path: str | Path) -> Path:
    """Direction-resolved mode data for an anisotropic BTE, as a plain ``.npz``.

    The irreducible modes are expanded over the point group (:meth:`ModeSet.expand_star`) and
    flattened to one row per mode: frequency (THz), velocity (n, 3) m/s Cartesian,
    heat_capacity (J m^-3 K^-1 per mesh q-point), tau (s), weight (mesh q-points the row stands
    for; Σ weight C v_a v_b τ = κ_ab), qpoint (n, 3) reduced; plus mesh, temperature (K) and the
    primitive lattice (Å).
    """
    path = Path(path)
    full = modes.expand_star()
    n_b = full.frequency.shape[1]
    np.savez(path, frequency=full.frequency.ravel(), velocity=full.group_velocity.reshape(-1, 3),
             heat_capacity=full.heat_capacity.ravel(), tau=full.lifetime.ravel(),
             weight=np.repeat(full.weights, n_b), qpoint=np.repeat(full.qpoints, n_b, axis=0),
             mesh=full.mesh, temperature=full.temperature, lattice=full.lattice,
             units="frequency THz; velocity m/s; heat_capacity J m^-3 K^-1 per mesh q-point; "
                   "tau s; weight mesh q-points; lattice Angstrom")
    return path
