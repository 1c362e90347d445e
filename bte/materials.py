"""Phonon material data for the BTE: GiftBTE band tables, ShengBTE and ALAMODE mode data,
direction-resolved mode data (``modes.npz``), the binning of phonon modes into bands, and the
per-(band, direction) tables the solver runs on.

A material is either N_b isotropic bands (see :class:`bte.problem.Material`): group velocity v
(m/s), relaxation time tau (s), volumetric heat capacity C (J m^-3 K^-1), lattice ratio
(C/tau)/sum(C/tau) and heat ratio C/sum(C); or modes with velocity vectors
(:class:`bte.problem.ModeMaterial`, anisotropic).  :func:`bin_modes` is the single place where
phonon modes (plain arrays: angular frequency rad/s, |v| m/s, tau s, C J m^-3 K^-1 per mode)
become isotropic bands; the ShengBTE and ALAMODE readers and the ``phonons`` package all go
through it.  :func:`pair_table` turns either kind into per-(band, direction) arrays, the only
form the solver sees (isotropic bands are the special case of equal values over directions).
"""
from __future__ import annotations

import re
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import constants

from .angles import AngularSet, direction_cells
from .orientation import rotate_vectors, symmetry_dataset
from .problem import BTEInputError, Material, ModeMaterial

BINNING_METHODS = ("giftbte", "frequency", "mfp")
RATIO_TOLERANCE = 1e-6        # GiftBTE's tolerance on the sum of the lattice-ratio column

_SPEED_OF_LIGHT_CM = constants.c * 100.0   # cm/s, for ALAMODE's cm^-1 frequencies

Warn = Callable[[str], None]


def _default_warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def band_table_from_text(lines: Sequence[str], source: str | Path, first_line: int, n_bands: int,
                         *, name: str | None = None, warn: Warn | None = None) -> Material:
    """Read a GiftBTE band table (an inline PHONON table or a DATABASE file).

    lines: the text lines holding the table (blank lines are skipped); lines[0] is line
    ``first_line`` (1-based) of ``source``, the file named in errors.  Each non-blank line holds
    five numbers: v (m/s), tau (s), C (J m^-3 K^-1), lattice ratio, heat ratio; text after the five
    numbers is ignored.  Exactly ``n_bands`` rows are required.  The lattice-ratio column must sum
    to 1 within 1e-6 (as GiftBTE checks) and is then rescaled to sum to 1 exactly: the
    collision term conserves energy only then, and a table rounded to a few digits (Si_15.dat
    sums to 1 − 7.3e-8) would otherwise leak energy in proportion to the absolute temperature
    (a 10 mK sag at the centre of a 1 µm film at 300 K).  A heat-ratio sum off by more than
    1e-6 is only reported through ``warn`` (GiftBTE does not check it; the shipped Ge_ran.dat
    sums to 1.004).
    """
    warn = warn or _default_warn
    rows: list[list[float]] = []
    row_lines: list[int] = []
    for k, text in enumerate(lines):
        tokens = text.split()
        if not tokens:
            continue
        lineno = first_line + k
        if len(tokens) < 5 or not all(_is_number(t) for t in tokens[:5]):
            raise BTEInputError(
                f"band-table row {len(rows) + 1} of {n_bands}: expected 5 numbers "
                f"(v, tau, C, lattice ratio, heat ratio), got {text.strip()!r}",
                source, lineno, "band table")
        if len(tokens) > 5 and _is_number(tokens[5]):
            raise BTEInputError(f"band-table row has more than 5 numbers: {text.strip()!r}",
                                source, lineno, "band table")
        rows.append([float(t) for t in tokens[:5]])
        row_lines.append(lineno)
    if len(rows) != n_bands:
        raise BTEInputError(f"the table has {len(rows)} bands but BandNumber is {n_bands}",
                            source, row_lines[-1] if row_lines else first_line, "BandNumber")
    table = np.array(rows, dtype=np.float64).reshape(n_bands, 5)
    columns = ("velocity", "tau", "heat capacity", "lattice ratio", "heat ratio")
    bad = ~np.isfinite(table) | (table < 0)
    bad[:, 1] |= table[:, 1] == 0.0
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise BTEInputError(f"{columns[col]} = {table[row, col]!r} is not a finite "
                            f"{'positive' if col == 1 else 'non-negative'} number",
                            source, row_lines[row], "band table")
    lattice_sum = table[:, 3].sum()
    if abs(lattice_sum - 1.0) > RATIO_TOLERANCE:
        raise BTEInputError(f"the lattice-ratio column (4) sums to {lattice_sum:.9g}, not 1 "
                            f"(energy conservation); tolerance {RATIO_TOLERANCE:g}",
                            source, row_lines[0], "lattice ratio")
    heat_sum = table[:, 4].sum()
    if abs(heat_sum - 1.0) > RATIO_TOLERANCE:
        warn(f"{source}:{row_lines[0]}: heat ratio: the heat-ratio column (5) sums to "
             f"{heat_sum:.9g}, not 1 (GiftBTE does not check this; the table is used as given)")
    return Material(name=name if name is not None else Path(str(source)).stem,
                    velocity=table[:, 0].copy(), tau=table[:, 1].copy(),
                    heat_capacity=table[:, 2].copy(), lattice_ratio=table[:, 3] / lattice_sum,
                    heat_ratio=table[:, 4].copy())


def read_band_table(path: str | Path, n_bands: int, *, warn: Warn | None = None) -> Material:
    """Read a GiftBTE DATABASE band-table file (see :func:`band_table_from_text`)."""
    path = Path(path)
    text = path.read_text(errors="replace").splitlines()
    return band_table_from_text(text, path, 1, n_bands, name=path.stem, warn=warn)


def _checked_modes(frequency, velocity, tau, heat_capacity, n_bands: int, method: str,
                   name: str, source) -> list[np.ndarray]:
    """The four per-mode arrays as flat float64, after the checks bin_modes and mode_material
    share (equal lengths, known method, enough modes, finite non-negative values);
    ``velocity`` may be speeds (n,) or vectors (n, 3)."""
    arrays = [np.asarray(a, dtype=np.float64) for a in (frequency, velocity, tau, heat_capacity)]
    arrays = [a.reshape(len(a), -1) if k == 1 and a.ndim else a.ravel()
              for k, a in enumerate(arrays)]
    n_modes = len(arrays[0])
    if any(len(a) != n_modes for a in arrays):
        raise BTEInputError(f"{name}: frequency, velocity, tau and heat capacity differ in length "
                            f"({', '.join(str(len(a)) for a in arrays)})", source, None, "modes")
    if method not in BINNING_METHODS:
        raise BTEInputError(f"unknown binning method {method!r}; use one of {BINNING_METHODS}",
                            source, None, "binning")
    if n_bands < 1 or n_modes < n_bands:
        raise BTEInputError(f"{name}: cannot make {n_bands} bands from {n_modes} modes "
                            "(empty bands)", source, None, "BandNumber")
    _, vel, tau_m, cap = arrays
    invalid = ~(np.isfinite(vel).all(1) & np.isfinite(tau_m) & np.isfinite(cap)) \
        | (tau_m < 0) | (cap < 0)
    if vel.shape[1] == 1:
        invalid |= vel[:, 0] < 0
    if invalid.any():
        i = int(np.argmax(invalid))
        shown = vel[i, 0] if vel.shape[1] == 1 else vel[i].tolist()
        raise BTEInputError(f"{name}: mode {i} has v = {shown!r} m/s, tau = {tau_m[i]!r} s, "
                            f"C = {cap[i]!r} J/m^3K (need finite, non-negative values)",
                            source, None, "modes")
    return arrays


def band_of_modes(frequency: np.ndarray, mfp: np.ndarray, n_bands: int,
                  method: str) -> np.ndarray:
    """0-based band of each mode, for ``n_bands`` bands (see :func:`bin_modes` for the methods);
    frequency and mfp (m) per mode."""
    n_modes = len(frequency)
    if method == "giftbte":
        order = np.arange(n_modes)
        bounds = np.arange(n_bands + 1) * (n_modes // n_bands)
        bounds[-1] = n_modes
    else:
        order = np.argsort(frequency if method == "frequency" else mfp, kind="stable")
        bounds = np.arange(n_bands + 1) * n_modes // n_bands
    band = np.empty(n_modes, dtype=np.int64)
    band[order] = np.repeat(np.arange(n_bands), np.diff(bounds))
    return band


def bin_modes(frequency: np.ndarray, velocity: np.ndarray, tau: np.ndarray,
              heat_capacity: np.ndarray, n_bands: int, method: str = "giftbte", *,
              name: str = "modes", source: str | Path | None = None) -> Material:
    """Group phonon modes into ``n_bands`` isotropic bands.

    Per mode: frequency (angular, rad/s), velocity |v_g| (m/s), tau (s), heat_capacity
    (J m^-3 K^-1, the mode's share of the volumetric heat capacity, so sum C v^2 tau / 3 is the
    bulk conductivity in W m^-1 K^-1).

    method: "giftbte" keeps the modes in the given order and cuts them into N_b consecutive
    chunks of floor(N/N_b) modes, the last chunk taking the remainder (GiftBTE's ShengBTE/ALAMODE
    binning; reproduces its numbers when the modes come in file order).  "frequency" and "mfp"
    sort the modes by frequency or by mean free path v*tau first and cut them into N_b chunks
    whose sizes differ by at most one.

    Per band: C_b = sum C, v_b = sum(C v)/C_b, tau_b = sum(C v^2 tau)/(C_b v_b^2), so that each
    band keeps its conductivity contribution exactly; lattice ratio (C_b/tau_b)/sum(C/tau) and
    heat ratio C_b/sum(C_b).  Raises BTEInputError for invalid modes, more bands than modes, or a
    band without heat capacity, velocity or relaxation time.
    """
    freq, vel, tau_m, cap = _checked_modes(frequency, velocity, tau, heat_capacity, n_bands,
                                           method, name, source)
    vel = vel[:, 0]
    band = band_of_modes(freq, vel * tau_m, n_bands, method)
    c_band = np.bincount(band, cap, n_bands)
    cv_band = np.bincount(band, cap * vel, n_bands)
    kappa_band = np.bincount(band, cap * vel**2 * tau_m, n_bands)
    with np.errstate(divide="ignore", invalid="ignore"):
        v_band = cv_band / c_band
        tau_band = kappa_band / (c_band * v_band**2)
    good = np.isfinite(v_band) & np.isfinite(tau_band) & (c_band > 0) & (v_band > 0) \
        & (tau_band > 0)
    if not good.all():
        b = int(np.argmin(good))
        raise BTEInputError(f"{name}: band {b + 1} ({np.count_nonzero(band == b)} modes after "
                            f"{method!r} ordering) has C = {c_band[b]:g} J/m^3K, "
                            f"v = {v_band[b]:g} m/s, tau = {tau_band[b]:g} s; every band needs "
                            "positive heat capacity, velocity and relaxation time (use fewer "
                            "bands or another binning)", source, None, "BandNumber")
    c_over_tau = c_band / tau_band
    return Material(name=name, velocity=v_band, tau=tau_band, heat_capacity=c_band,
                    lattice_ratio=c_over_tau / c_over_tau.sum(), heat_ratio=c_band / c_band.sum())


def mode_material(frequency: np.ndarray, velocity: np.ndarray, tau: np.ndarray,
                  heat_capacity: np.ndarray, n_bands: int, method: str = "frequency", *,
                  band: np.ndarray | None = None, name: str = "modes",
                  source: str | Path | None = None, rotation: np.ndarray | None = None,
                  keep_tensor: bool = False) -> ModeMaterial:
    """Anisotropic material from modes with group-velocity vectors.

    Per mode: frequency (angular, rad/s), velocity (n, 3) m/s in the mesh axes, or in the
    crystal's Cartesian axes when ``rotation`` R (3, 3, from
    :func:`bte.orientation.orientation_matrix`) is given, then turned to mesh axes as R v;
    tau (s), heat_capacity (J m^-3 K^-1, q-point weight included).  Modes with tau = 0 are
    dropped (the modes phono3py leaves out, acoustic at Γ); they carry no heat.  Bands:
    ``band`` (0-based per mode) if given, else ``n_bands`` bands by :func:`band_of_modes` with
    ``method`` ("frequency" or "mfp"; "giftbte" chunks in file order).  ``keep_tensor``: see
    :class:`bte.problem.ModeMaterial`.  Raises BTEInputError for invalid modes or a band
    without heat capacity.
    """
    freq, vel, tau_m, cap = _checked_modes(frequency, velocity, tau, heat_capacity, n_bands,
                                           method, name, source)
    if vel.shape[1] != 3:
        raise BTEInputError(f"{name}: velocity must be (n, 3) vectors, got {vel.shape[1]} "
                            "components per mode", source, None, "velocity")
    if rotation is not None:
        rotation = np.asarray(rotation, dtype=np.float64)
        if rotation.shape != (3, 3) or not np.allclose(rotation @ rotation.T, np.eye(3),
                                                       rtol=0, atol=1e-9):
            raise BTEInputError(f"{name}: rotation must be an orthonormal 3 x 3 matrix",
                                source, None, "orientation")
        vel = rotate_vectors(rotation, vel)
    if band is None:
        band = band_of_modes(freq, np.linalg.norm(vel, axis=1) * tau_m, n_bands, method)
    band = np.asarray(band, dtype=np.int64).ravel()
    if band.shape != freq.shape or band.min(initial=0) < 0 or band.max(initial=0) >= n_bands:
        raise BTEInputError(f"{name}: band must give a band in 0..{n_bands - 1} for each of the "
                            f"{len(freq)} modes", source, None, "band")
    keep = tau_m > 0
    c_band = np.bincount(band[keep], cap[keep], n_bands)
    if not (c_band > 0).all():
        b = int(np.argmin(c_band > 0))
        raise BTEInputError(f"{name}: band {b + 1} has no heat capacity (modes with tau > 0 "
                            "and C > 0); use fewer bands", source, None, "BandNumber")
    return ModeMaterial(name=name, frequency=freq[keep], velocity=vel[keep], tau=tau_m[keep],
                        heat_capacity=cap[keep], band=band[keep],
                        source="" if source is None else str(source), keep_tensor=keep_tensor)


MODE_DATA_FIELDS = ("frequency", "velocity", "heat_capacity", "tau", "weight")


def read_mode_data(path: str | Path, n_bands: int, method: str = "frequency", *,
                   rotation: np.ndarray | None = None) -> ModeMaterial:
    """Anisotropic material from a ``modes.npz`` as ``phonons.write_mode_data`` writes it.

    Fields (one row per mode): frequency THz (ordinary), velocity (n, 3) m/s Cartesian in the
    crystal's axes, turned to mesh axes by ``rotation`` (see :func:`mode_material`; None: the
    crystal axes are the mesh axes),
    heat_capacity J m^-3 K^-1 per mesh q-point, tau s, weight (mesh q-points the row stands
    for); the mode heat capacity is weight * heat_capacity.  Bands and checks as in
    :func:`mode_material`.  Raises BTEInputError naming the file and the field at fault.
    """
    path = Path(path)
    if not path.is_file():
        raise BTEInputError("mode data file not found", path, None, "MODES")
    try:
        data = dict(np.load(path, allow_pickle=False))
    except (OSError, ValueError) as exc:
        raise BTEInputError(f"cannot read as a .npz mode file: {exc}", path, None,
                            "MODES") from None
    for key in MODE_DATA_FIELDS:
        if key not in data:
            raise BTEInputError(f"missing field (the file has {sorted(data)}; phonons."
                                "write_mode_data writes frequency THz, velocity m/s, "
                                "heat_capacity J/m^3K, tau s, weight)", path, None, key)
        if not np.issubdtype(data[key].dtype, np.number):
            raise BTEInputError(f"not numeric (dtype {data[key].dtype})", path, None, key)
    n = len(data["frequency"])
    for key in MODE_DATA_FIELDS:
        shape = (n, 3) if key == "velocity" else (n,)
        if data[key].shape != shape:
            raise BTEInputError(f"shape {data[key].shape}, expected {shape} (n = {n} modes from "
                                "frequency)", path, None, key)
    weight = data["weight"].astype(np.float64)
    if not (np.isfinite(weight) & (weight >= 0)).all():
        i = int(np.argmin(np.isfinite(weight) & (weight >= 0)))
        raise BTEInputError(f"mode {i} has weight {weight[i]!r} (need finite, >= 0)", path,
                            None, "weight")
    binning = "frequency" if method == "giftbte" else method
    return mode_material(2.0 * np.pi * 1e12 * data["frequency"], data["velocity"], data["tau"],
                         weight * data["heat_capacity"], n_bands, binning, name=path.stem,
                         source=path, rotation=rotation)


@dataclass
class PairTable:
    """One material's transport data per (band b, direction k) pair, (n_bands, n_dir) each.

    The velocity of pair (b, k) is speed[b, k] s_k (m/s); cap[b, k] (J m^-3 K^-1) is its heat
    capacity per unit angular weight, C_bk / w_k, so the solver's intensities keep GiftBTE's
    normalisation (equilibrium e = cap T, band energy Σ_k w_k e); tau (s); heat[b, k]: share of
    a volumetric heat source per unit weight (Σ_bk w_k heat = 1); lattice[b, k] (m^3 K J^-1):
    weight of w_k e_bk in the energy-conserving lattice temperature T = Σ_bk w_k lattice e;
    band_capacity (n_bands,) J m^-3 K^-1 = Σ_k w_k cap.  A pair without modes has cap = speed
    = heat = lattice = 0 (and a finite tau, so the kernels need no special case).
    """

    cap: np.ndarray
    speed: np.ndarray
    tau: np.ndarray
    heat: np.ndarray
    lattice: np.ndarray
    band_capacity: np.ndarray


def pair_table(material: Material | ModeMaterial, angles: AngularSet) -> PairTable:
    """Per-(band, direction) data of ``material`` on the direction set ``angles``.

    Isotropic bands: every direction of band b gets the band's C_b, |v_b|, tau_b, heat ratio
    and lattice ratio / C_b (GiftBTE's model).  Modes: each mode is given to the solid-angle
    cell(s) holding its group velocity (bte.angles.direction_cells) in its band; per pair
    C = Σ C_m, speed = Σ C_m |v_m| / C, tau = Σ C_m |v_m|² tau_m / (C speed²) (the pair keeps
    its modes' share of trace κ, as bin_modes does per band; pairs of zero-velocity modes take
    the C-weighted mean tau), heat share C / ΣC and lattice weight (1/tau) / Σ(C/tau).  Each
    mode thus stands for its whole cell, with the cell's quadrature direction: a mode moving
    parallel to a wall is suppressed like the cell around it, not left unscattered.  A
    ModeMaterial with keep_tensor has each band's pair τ scaled by :func:`_tensor_factors` so
    that the pairs also keep the modes' whole κ tensor (a periodic box gives Σ C v_a v_a τ per
    axis, not the cell-binned value, which is off by the cell size).
    """
    nd, w = angles.n_dir, angles.weights
    if isinstance(material, Material):
        c = material.heat_capacity
        with np.errstate(divide="ignore", invalid="ignore"):
            lattice = np.where(c > 0, material.lattice_ratio / c, 0.0)

        def spread(x: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.repeat(np.asarray(x, dtype=np.float64)[:, None], nd, 1))
        return PairTable(spread(c), spread(material.velocity), spread(material.tau),
                         spread(material.heat_ratio), spread(lattice), c.astype(np.float64))
    nb = material.n_bands
    cells = direction_cells(angles, material.velocity).tocoo()
    key = material.band[cells.row] * nd + cells.col
    speed = np.linalg.norm(material.velocity, axis=1)

    def pair_sum(per_mode: np.ndarray) -> np.ndarray:
        return np.bincount(key, cells.data * per_mode[cells.row], nb * nd).reshape(nb, nd)
    cap = material.heat_capacity
    c = pair_sum(cap)
    cv, cv2tau, ctau = (pair_sum(cap * speed), pair_sum(cap * speed**2 * material.tau),
                        pair_sum(cap * material.tau))
    full = c > 0
    mean_speed = np.divide(cv, c, out=np.zeros_like(c), where=full)
    tau = np.full_like(c, material.tau.max())
    moving = full & (cv2tau > 0)
    tau[moving] = cv2tau[moving] / (c[moving] * mean_speed[moving] ** 2)
    tau[full & ~moving] = ctau[full & ~moving] / c[full & ~moving]
    if material.keep_tensor:
        tau *= _tensor_factors(material, angles, c * mean_speed**2 * tau)
    rate = np.where(full, 1.0 / tau, 0.0)
    return PairTable(cap=c / w, speed=mean_speed, tau=tau, heat=c / c.sum() / w,
                     lattice=rate / (c * rate).sum(), band_capacity=c.sum(1))


TENSOR_FACTOR_RANGE = (0.5, 2.0)   # bounds on the pair-τ factors of _tensor_factors


def _tensor_factors(material: ModeMaterial, angles: AngularSet,
                    pair_kappa: np.ndarray) -> np.ndarray:
    """Factors (n_bands, n_dir) on the pairs' τ that make each band's pair tensor
    Σ_k w_k C_bk v_bk² τ_bk s_k s_k^T equal its modes' Σ C v v^T τ.

    Binning a mode into its solid-angle cell keeps its C |v|² τ but moves it onto the cell's
    direction: the per-axis κ of a periodic box is then off by the cell size (1-10 % for the
    GaN ShengBTE modes on 32 to 512 directions).  Per band the factor is 1 + s_k^T M_b s_k, M_b
    symmetric, solved (least squares over the components the set spans) from the six
    components of the tensor; M_b = 0 for modes on quadrature directions and for isotropic
    sets.  ``pair_kappa`` (n_bands, n_dir): Σ C_m (weight w_k included) times v² τ of each
    pair as binned, W m^-1 K^-1.  Factors
    outside TENSOR_FACTOR_RANGE (a direction set too coarse for the modes) raise BTEInputError.
    """
    s = angles.directions
    basis = np.stack([s[:, 0]**2, s[:, 1]**2, s[:, 2]**2, s[:, 0] * s[:, 1],
                      s[:, 0] * s[:, 2], s[:, 1] * s[:, 2]], axis=1)        # tensor components
    features = basis * np.array([1.0, 1.0, 1.0, 2.0, 2.0, 2.0])          # s^T M s = f . m
    weight = material.heat_capacity * material.tau
    factors = np.ones_like(pair_kappa)
    for b in range(material.n_bands):
        v = material.velocity[material.band == b]
        modes = np.einsum("n,ni,nj->ij", weight[material.band == b], v, v)
        target = modes[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
        k = pair_kappa[b]
        design = (basis * k[:, None]).T @ features
        scale = np.abs(design).max()
        if scale == 0.0:
            continue
        m = np.linalg.lstsq(design / scale, (target - basis.T @ k) / scale, rcond=1e-10)[0]
        factors[b] = 1.0 + features @ m
    low, high = TENSOR_FACTOR_RANGE
    if factors.min() < low or factors.max() > high:
        raise BTEInputError(f"{material.name}: the direction set ({angles.n_dir} directions) is "
                            "too coarse for the modes' velocity directions (a pair τ would be "
                            f"scaled by {factors.min():.3g} to {factors.max():.3g} to keep the κ "
                            "tensor); use more directions (Ntheta, Nphi)", material.source or None,
                            None, "Ntheta")
    return factors


def _load_columns(path: Path, min_columns: int, what: str) -> np.ndarray:
    """Whole-file numeric table (2-D float64); BTEInputError naming the file on failure."""
    if not path.is_file():
        raise BTEInputError(f"missing {what} file", path, None, what)
    try:
        data = np.loadtxt(path, dtype=np.float64, comments="#", ndmin=2)
    except ValueError as exc:
        raise BTEInputError(f"cannot read {what} as a numeric table: {exc}", path, None,
                            what) from None
    if data.shape[1] < min_columns:
        raise BTEInputError(f"{what} has {data.shape[1]} columns, expected at least "
                            f"{min_columns}", path, None, what)
    return data


_FORTRAN_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eEdD][-+]?\d+)?"


def _fortran_floats(text: str) -> list[float]:
    return [float(t.replace("d", "e").replace("D", "e"))
            for t in re.findall(_FORTRAN_NUMBER, text)]


def _read_shengbte_control(path: Path) -> tuple[np.ndarray, float, np.ndarray, float]:
    """ngrid (3 ints), lfactor (nm), lattvec (3x3, rows = lattice vectors, units of lfactor), T (K)
    from a ShengBTE CONTROL namelist file."""
    if not path.is_file():
        raise BTEInputError("missing ShengBTE CONTROL file", path, None, "CONTROL")
    found: dict[str, tuple[list[float], int]] = {}
    lattvec: dict[int, tuple[list[float], int]] = {}
    for lineno, raw in enumerate(path.read_text(errors="replace").splitlines(), start=1):
        line = raw.split("!")[0]
        for match in re.finditer(r"(ngrid|lfactor|lattvec|T)\s*(\([^)]*\))?\s*=\s*"
                                 rf"((?:{_FORTRAN_NUMBER}[\s,]*)+)", line):
            key, index, values = match.group(1), match.group(2), _fortran_floats(match.group(3))
            if key == "T":
                start = match.start()
                # GiftBTE skips lines containing TRUE/True when looking for T (and requires T to
                # be indented; both column-0 and indented T are accepted here).
                if "TRUE" in raw or "True" in raw or (start > 0 and (line[start - 1].isalnum()
                                                                     or line[start - 1] == "_")):
                    continue
            if key == "lattvec":
                column = re.fullmatch(r"\(\s*:\s*,\s*([123])\s*\)", index or "")
                if column is None:
                    raise BTEInputError("expected lattvec(:,k) = x y z", path, lineno, "lattvec")
                lattvec[int(column.group(1))] = (values, lineno)
            else:
                found[key] = (values, lineno)
    need = {"ngrid": 3, "lfactor": 1, "T": 1}
    for key, count in need.items():
        if key not in found:
            raise BTEInputError(f"no {key} in the ShengBTE CONTROL file", path, None, key)
        if len(found[key][0]) < count:
            raise BTEInputError(f"{key} needs {count} number(s)", path, found[key][1], key)
    if sorted(lattvec) != [1, 2, 3] or any(len(v) < 3 for v, _ in lattvec.values()):
        raise BTEInputError("need lattvec(:,1), lattvec(:,2) and lattvec(:,3), 3 numbers each",
                            path, None, "lattvec")
    ngrid = np.array(found["ngrid"][0][:3], dtype=np.int64)
    lattice = np.array([lattvec[k][0][:3] for k in (1, 2, 3)], dtype=np.float64)
    return ngrid, found["lfactor"][0][0], lattice, found["T"][0][0]


def _shengbte_name(folder: Path) -> str:
    """GaN for .../GaN and for GiftBTE's default-set layout .../GaN/ShengBTEFile."""
    return folder.parent.name if folder.name == "ShengBTEFile" else folder.name


def _read_shengbte_atoms(path: Path) -> tuple[np.ndarray, list[int]]:
    """Fractional positions (natoms, 3) and 1-based species types from a ShengBTE CONTROL."""
    text = path.read_text(errors="replace")
    columns: dict[int, list[float]] = {}
    types: list[int] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("!")[0]
        match = re.search(r"positions\s*\(\s*:\s*,\s*(\d+)\s*\)\s*=(.*)", line)
        if match:
            values = _fortran_floats(match.group(2))
            if len(values) < 3:
                raise BTEInputError("positions(:,k) needs 3 numbers", path, lineno, "positions")
            columns[int(match.group(1))] = values[:3]
        match = re.search(r"\btypes\s*=(.*)", line)
        if match:
            types = [int(t) for t in re.findall(r"\d+", match.group(1))]
    if not columns or sorted(columns) != list(range(1, len(columns) + 1)) \
            or len(types) != len(columns):
        raise BTEInputError(f"need positions(:,1..n) and types = n integers (found "
                            f"{len(columns)} positions, {len(types)} types) to rotate the "
                            "BTE.v vectors over the full q grid", path, None, "positions")
    return np.array([columns[k] for k in sorted(columns)]), types


def _full_grid_velocities(lattice: np.ndarray, positions: np.ndarray, types: Sequence[int],
                          q_full: np.ndarray, irreducible: np.ndarray, v_irr: np.ndarray,
                          source: Path) -> np.ndarray:
    """Velocity vectors (n_branch, n_q, 3) on the full grid from the irreducible ones
    (n_branch, n_irr, 3): the representative of each irreducible point is its first full-grid
    point (ShengBTE's order); a full point q = S q_rep (S a crystal rotation of spglib's, or
    −S, time reversal) gets v = S v_rep (−S v_rep), Cartesian."""
    rotations = symmetry_dataset(lattice, positions, types, source=source.parent / "CONTROL",
                                 key="positions").rotations
    to_cart = lattice.T                                  # x_cart = L^T x_frac
    recip = np.linalg.inv(lattice)                       # q_cart = recip @ q_frac (no 2π)
    rot_cart = np.array([to_cart @ w @ np.linalg.inv(to_cart) for w in rotations])
    rot_cart = np.concatenate([rot_cart, -rot_cart])     # time reversal: v(-q) = -v(q)
    rot_q = np.linalg.inv(recip) @ rot_cart @ recip      # on fractional q
    first = np.full(irreducible.max() + 1, -1)
    first[irreducible[::-1]] = np.arange(len(irreducible))[::-1]
    q_rep = q_full[first[irreducible]]                   # (n_q, 3)
    images = np.einsum("sij,qj->sqi", rot_q, q_rep)
    offset = images - q_full[None]
    match = (np.abs(offset - np.round(offset)) < 1e-5).all(axis=2)      # (n_ops, n_q)
    found = match.any(axis=0)
    if not found.all():
        i = int(np.argmin(found))
        raise BTEInputError(f"full-grid q-point {i + 1} {q_full[i].tolist()} is no symmetry "
                            f"image of its irreducible point {q_rep[i].tolist()}", source, None,
                            "BTE.qpoints_full")
    op = np.argmax(match, axis=0)
    return np.einsum("qij,bqj->bqi", rot_cart[op], v_irr[:, irreducible])


def read_shengbte(folder: str | Path, n_bands: int, binning: str = "giftbte", *,
                  vectors: bool = False, rotation: np.ndarray | None = None,
                  keep_tensor: bool = True) -> Material | ModeMaterial:
    """Bands from a ShengBTE output folder (CONTROL, BTE.omega, BTE.qpoints_full, BTE.v,
    BTE.w_final), binned by :func:`bin_modes` (GiftBTE's |v| bands, the default); with
    ``vectors`` the modes keep their velocity vectors (an anisotropic :class:`ModeMaterial`
    from :func:`mode_material`, bands by ``binning``, turned to mesh axes by ``rotation``, see
    :func:`bte.orientation.orientation_matrix`; ``keep_tensor`` as there, on by default: a
    periodic box then gives the modes' κ per axis on any direction set fine enough).

    Units in the files: lfactor nm, omega rad/ps, v km/s (Cartesian), scattering rate 1/ps, T K.
    Modes are taken branch-major over the full q grid (column 2 of BTE.qpoints_full is the
    1-based irreducible index; BTE.v and BTE.w_final rows are branch-major over irreducible q).
    BTE.v holds the velocity at each irreducible point; for vectors it is carried to the full
    grid by the crystal's rotations (CONTROL positions and types, spglib), see
    :func:`_full_grid_velocities`.  The mode heat capacity is
    C = k_B x^2 e^x/(e^x-1)^2 / (V N_q), x = hbar omega/(k_B T), in J m^-3 K^-1,
    with CODATA constants (GiftBTE's rounded k_B, hbar differ by < 1e-4 relative).  Modes whose
    C v^2 tau is NaN, infinite or negative are dropped (Gamma acoustic modes, as GiftBTE does).
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BTEInputError("ShengBTE folder not found", folder, None, "ShengBTE")
    ngrid, lfactor, lattice, temperature = _read_shengbte_control(folder / "CONTROL")
    # Cell volume |det(lattvec)| lfactor^3, nm^3 -> m^3.  GiftBTE's hand-written determinant has a
    # typo (lattvec[0][1]^2 where lattvec[0][1]*lattvec[1][0] belongs), harmless only when that
    # element is 0 (the shipped cells); the correct determinant is used here.
    volume = abs(np.linalg.det(lattice)) * lfactor**3 * 1e-27
    n_q = int(np.prod(ngrid))

    omega_irr = _load_columns(folder / "BTE.omega", 1, "BTE.omega")
    n_irr, n_branch = omega_irr.shape
    qpoints = _load_columns(folder / "BTE.qpoints_full", 2, "BTE.qpoints_full")
    v_rows = _load_columns(folder / "BTE.v", 3, "BTE.v")
    w_rows = _load_columns(folder / "BTE.w_final", 2, "BTE.w_final")
    if len(qpoints) != n_q:
        raise BTEInputError(f"{len(qpoints)} q-points but ngrid = {ngrid.tolist()} gives {n_q}",
                            folder / "BTE.qpoints_full", None, "BTE.qpoints_full")
    irreducible = qpoints[:, 1].astype(np.int64) - 1
    if irreducible.min() < 0 or irreducible.max() >= n_irr:
        raise BTEInputError(f"irreducible q index outside 1..{n_irr} (the rows of BTE.omega)",
                            folder / "BTE.qpoints_full", None, "BTE.qpoints_full")
    for rows, file in ((v_rows, "BTE.v"), (w_rows, "BTE.w_final")):
        if len(rows) != n_irr * n_branch:
            raise BTEInputError(f"{len(rows)} rows, expected {n_irr} irreducible q x {n_branch} "
                                "branches (from BTE.omega)", folder / file, None, file)

    def full_grid(per_irreducible: np.ndarray) -> np.ndarray:
        """(branch, irreducible q) values -> modes branch-major over the full grid."""
        return per_irreducible.reshape(n_branch, n_irr)[:, irreducible].ravel()

    omega = full_grid(omega_irr.T) * 1e12                          # rad/s
    velocity = full_grid(np.linalg.norm(v_rows[:, :3], axis=1)) * 1e3   # m/s
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        tau = 1e-12 / full_grid(w_rows[:, 1])                      # s
        half_x = constants.hbar * omega / (2.0 * constants.k * temperature)
        heat_capacity = constants.k * (half_x / np.sinh(half_x))**2 / (volume * n_q)
        kappa = heat_capacity * velocity**2 * tau
    keep = np.isfinite(kappa) & (kappa >= 0)
    name = _shengbte_name(folder)
    if not vectors:
        return bin_modes(omega[keep], velocity[keep], tau[keep], heat_capacity[keep], n_bands,
                         binning, name=name, source=folder)
    positions, types = _read_shengbte_atoms(folder / "CONTROL")
    v_full = _full_grid_velocities(lattice, positions, types, qpoints[:, 2:5], irreducible,
                                   v_rows[:, :3].reshape(n_branch, n_irr, 3) * 1e3,
                                   folder / "BTE.qpoints_full").reshape(-1, 3)
    return mode_material(omega[keep], v_full[keep], tau[keep], heat_capacity[keep], n_bands,
                         binning, name=name, source=folder, rotation=rotation,
                         keep_tensor=keep_tensor)


def read_alamode_tau(path: str | Path, n_bands: int, binning: str = "giftbte") -> Material:
    """Bands from ALAMODE's ``analyze_phonons.py --calc tau`` output, binned by :func:`bin_modes`.

    Header lines "# kpoint range a b" and "# mode range c d" give the expected row count; each row:
    ik, is, frequency (cm^-1), lifetime (ps), |v| (m/s), MFP (nm), multiplicity, 9 kappa
    components (W m^-1 K^-1).  As GiftBTE: per-mode kappa = (kxx+kyy+kzz)*multiplicity and
    C = kappa/(v^2 tau) in J m^-3 K^-1 (0 when v or tau is 0); modes kept in file order.
    """
    path = Path(path)
    if not path.is_file():
        raise BTEInputError("ALAMODE tau file not found", path, None, "ALAMODE")
    with path.open(errors="replace") as handle:
        header = [line for _, line in zip(range(20), handle) if line.lstrip().startswith("#")]
    ranges = {}
    for line in header:
        match = re.search(r"(kpoint|mode)\s+range\s+(\d+)\s+(\d+)", line)
        if match:
            ranges[match.group(1)] = int(match.group(3)) - int(match.group(2)) + 1
    data = _load_columns(path, 16, "ALAMODE tau")
    if len(ranges) == 2 and len(data) != ranges["kpoint"] * ranges["mode"]:
        raise BTEInputError(f"{len(data)} mode rows, but the header announces "
                            f"{ranges['kpoint']} k-points x {ranges['mode']} modes", path, None,
                            "ALAMODE")
    omega = 2.0 * np.pi * _SPEED_OF_LIGHT_CM * data[:, 2]     # rad/s
    tau = data[:, 3] * 1e-12                                   # s
    velocity = data[:, 4]                                      # m/s
    kappa = (data[:, 7] + data[:, 11] + data[:, 15]) * data[:, 6]
    denominator = velocity**2 * tau
    heat_capacity = np.zeros_like(kappa)
    nonzero = denominator != 0
    heat_capacity[nonzero] = kappa[nonzero] / denominator[nonzero]
    return bin_modes(omega, velocity, tau, heat_capacity, n_bands, binning, name=path.stem,
                     source=path)


def write_band_table(material: Material, path: str | Path) -> Path:
    """Write ``material`` as a GiftBTE DATABASE band-table file (the format
    :func:`read_band_table` reads): one row per band, v (m/s), tau (s), C (J m^-3 K^-1), lattice
    ratio, heat ratio, in 17 significant digits so a round trip is exact.  Returns the path."""
    path = Path(path)
    table = np.column_stack([material.velocity, material.tau, material.heat_capacity,
                             material.lattice_ratio, material.heat_ratio])
    np.savetxt(path, table, fmt="%.16e")
    return path
