"""Mode-resolved phonon properties on a q-mesh (:class:`ModeSet`) from phono3py.

Units: frequency THz (ordinary), group velocity m/s, heat capacity J m^-3 K^-1, lifetime s,
mean free path m, temperature K, boundary_mfp µm (phono3py's convention).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np
from phonopy.physical_units import get_physical_units

from .force_constants import ForceConstants
from .phono3py_run import IMAGINARY_TOLERANCE, Progress, run_phono3py

_EV = 1.602176634e-19                     # J
_THZ_ANGSTROM = 100.0                     # THz*Å -> m/s


@dataclass
class ModeSet:
    """Phonon modes on a q-mesh at one temperature, as plain numpy arrays.

    n_q q-points (the irreducible ones, or a full star after :meth:`expand_star`) and n_b
    branches.  mesh: (3,) q-mesh; temperature: K; qpoints: (n_q, 3) reduced coordinates of the
    primitive reciprocal lattice; weights: (n_q,) number of mesh q-points each stands for (sum =
    mesh points); frequency: (n_q, n_b) THz; group_velocity: (n_q, n_b, 3) m/s, Cartesian;
    heat_capacity: (n_q, n_b) J m^-3 K^-1, a mode's heat capacity per crystal volume for ONE
    mesh q-point, k_B x² eˣ/(eˣ-1)² / (N_mesh V_cell), so sum(weights[:, None] * heat_capacity)
    is the volumetric heat capacity; lifetime: (n_q, n_b) s, all scattering included (0 for the
    modes phono3py ignores: frequency below its cutoff, i.e. acoustic modes at Γ); rotations:
    (n_rot, 3, 3) Cartesian point-group rotations of the crystal, used to restore the full
    tensor from irreducible q-points; lattice: (3, 3) primitive cell, rows = lattice vectors, Å.
    κ_ab = Σ_q w_q Σ_s C v_a v_b τ, symmetrised over the star.
    """

    mesh: np.ndarray
    temperature: float
    qpoints: np.ndarray
    weights: np.ndarray
    frequency: np.ndarray
    group_velocity: np.ndarray
    heat_capacity: np.ndarray
    lifetime: np.ndarray
    rotations: np.ndarray
    lattice: np.ndarray

    @property
    def speed(self) -> np.ndarray:
        """|v_g|, (n_q, n_b) m/s."""
        return np.linalg.norm(self.group_velocity, axis=-1)

    @property
    def mean_free_path(self) -> np.ndarray:
        """|v_g| τ, (n_q, n_b) m."""
        return self.speed * self.lifetime

    def mode_kappa(self) -> np.ndarray:
        """Each mode's share of trace(κ)/3, weight included: w C |v|² τ / 3, (n_q, n_b) W/mK."""
        return self.weights[:, None] * self.heat_capacity * self.speed**2 * self.lifetime / 3.0

    def kappa(self) -> np.ndarray:
        """κ tensor (3, 3) W m^-1 K^-1 in the RTA, averaged over the point group."""
        w = (self.weights[:, None] * self.heat_capacity * self.lifetime)[..., None, None]
        v = self.group_velocity
        m = np.sum(w * v[..., :, None] * v[..., None, :], axis=(0, 1))
        return np.einsum("rij,jk,rlk->il", self.rotations, m, self.rotations) \
            / len(self.rotations)

    def expand_star(self) -> ModeSet:
        """Direction-resolved modes: every q-point replaced by its images under all point-group
        rotations (velocities and q rotated), each with weight w/n_rot, so that sums over the
        returned modes give the full κ tensor without further symmetrisation."""
        n_rot = len(self.rotations)
        vel = np.einsum("rij,qbj->qrbi", self.rotations, self.group_velocity)
        lt = self.lattice.T
        reduced = np.einsum("ij,rjk,kl->ril", np.linalg.inv(lt), self.rotations, lt)
        q_rot = np.linalg.inv(reduced).transpose(0, 2, 1)        # acts on reduced q
        qred = np.einsum("rij,qj->qri", q_rot, self.qpoints)
        n_q, n_b = self.frequency.shape

        def tile(a: np.ndarray) -> np.ndarray:
            return np.repeat(a, n_rot, axis=0)

        return replace(self, qpoints=qred.reshape(-1, 3),
                       weights=tile(self.weights / n_rot),
                       frequency=tile(self.frequency),
                       group_velocity=vel.reshape(n_q * n_rot, n_b, 3),
                       heat_capacity=tile(self.heat_capacity), lifetime=tile(self.lifetime),
                       rotations=np.eye(3)[None])


def cartesian_rotations(lattice: np.ndarray, reduced: np.ndarray) -> np.ndarray:
    """Real-space point-group operations in reduced coordinates of ``lattice`` (rows = lattice
    vectors, Å) -> Cartesian rotation matrices R = Lᵀ r L⁻ᵀ."""
    lt = np.asarray(lattice).T
    return np.einsum("ij,rjk,kl->ril", lt, reduced, np.linalg.inv(lt))


def harmonic_frequencies(fc: ForceConstants, qpoints: Sequence[Sequence[float]]) -> np.ndarray:
    """Harmonic frequencies (n_q, n_b) THz from fc2 at ``qpoints`` (reduced coordinates of the
    primitive reciprocal lattice), ascending per q-point."""
    ph = fc.to_phonopy()
    ph.run_qpoints(np.asarray(qpoints, dtype=np.float64))
    return np.asarray(ph.qpoints.frequencies)


def mode_properties(fc: ForceConstants, mesh: Sequence[int] = (11, 11, 11),
                    temperature: float = 300.0, *, is_isotope: bool = False,
                    boundary_mfp: float | None = None,
                    imaginary_tolerance: float = IMAGINARY_TOLERANCE,
                    progress: Progress | bool = False) -> ModeSet:
    """Mode-resolved properties on the irreducible points of a ``mesh`` q-grid at
    ``temperature`` (K): phonon-phonon lifetimes from phono3py (RTA), plus natural-isotope
    scattering and boundary scattering with mean free path ``boundary_mfp`` (µm) if asked
    (Matthiessen's rule).  Warns (ImaginaryModeWarning) about imaginary modes.  ``progress``:
    a callback ``progress(done, total)`` after each irreducible q-point's lifetimes, or True for
    a progress bar (:func:`phonons.phono3py_run.run_phono3py`)."""
    run = run_phono3py(fc, mesh, [temperature], method="rta", is_isotope=is_isotope,
                       boundary_mfp=boundary_mfp, imaginary_tolerance=imaginary_tolerance,
                       progress=progress)
    ph3, tc = run.phono3py, run.conductivity
    units = get_physical_units()
    weights = np.asarray(tc.grid_weights, dtype=np.float64)
    frequency = np.asarray(tc.frequencies)                    # THz
    gv = np.asarray(tc.group_velocities) * _THZ_ANGSTROM                       # m/s
    volume = ph3.primitive.volume * 1e-30                                     # m^3
    heat_capacity = np.asarray(tc.mode_heat_capacities)[0] * _EV / (volume * weights.sum())
    gamma = np.asarray(tc.gamma)[0, 0].copy()                                 # THz
    if is_isotope:
        gamma += np.asarray(tc.gamma_isotope)[0]
    if boundary_mfp is not None:
        gamma += np.linalg.norm(gv, axis=-1) / (4.0 * np.pi * boundary_mfp * 1e-6) / 1e12
    valid = (frequency > tc.kappa_settings.cutoff_frequency) & (gamma > 0)
    lifetime = np.zeros_like(gamma)
    lifetime[valid] = 1.0 / (4.0 * np.pi * gamma[valid] * units.THz)          # s
    primitive = ph3.primitive
    reduced = ph3.primitive_symmetry.pointgroup_operations
    modes = ModeSet(mesh=np.array(ph3.mesh_numbers), temperature=float(temperature),
                    qpoints=np.asarray(tc.qpoints), weights=weights, frequency=frequency,
                    group_velocity=gv, heat_capacity=heat_capacity, lifetime=lifetime,
                    rotations=cartesian_rotations(primitive.cell, reduced),
                    lattice=np.array(primitive.cell))
    return modes
