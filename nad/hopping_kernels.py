"""Numba kernels of surface hopping (all compiled loops of ``nad`` live here).

Two families:

* classical-path (CPA) kernels: the electronic Hamiltonian along one precomputed trajectory is
  shared by every stochastic realisation, so the per-step propagators ``U[k]`` (complex
  ``(nsteps, n, n)``, from time k·dt to (k+1)·dt) are built once in Python
  (:mod:`nad.hopping`) and the kernels only multiply amplitudes and draw random numbers.
  Units: energies eV, time fs, NACs 1/fs, k_B·T eV.
* full FSSH with back-reaction for one-dimensional two-state models (Tully's models), atomic
  units (hartree, bohr, a.u. of time, mass in electron masses).

Method codes: 0 = FSSH, 1 = DISH (decoherence-induced surface hopping).
"""
from __future__ import annotations

import numpy as np
from numba import njit

FSSH = 0
DISH = 1


@njit(cache=True)
def _choose(weights: np.ndarray, xi: float) -> int:
    """Index drawn from non-negative ``weights`` (need not be normalised) with uniform ``xi``."""
    total = weights.sum()
    acc = 0.0
    for j in range(weights.shape[0]):
        acc += weights[j]
        if xi * total < acc:
            return j
    return weights.shape[0] - 1


@njit(cache=True)
def _accept_hop(e_old: float, e_new: float, kt: float) -> bool:
    """Detailed balance: hops up in energy (eV) pass with probability exp(-ΔE/k_BT); kt <= 0 off."""
    if kt <= 0.0 or e_new <= e_old:
        return True
    return np.random.random() < np.exp(-(e_new - e_old) / kt)


@njit(cache=True)
def cpa_surface_hopping(propagators: np.ndarray, energies: np.ndarray, couplings: np.ndarray,
                        hbar: float, dt: float, starts: np.ndarray, nreal: int, nsteps: int,
                        initial_state: int, method: int, kt: float, decoherence_rates: np.ndarray,
                        seed: int, block_of: np.ndarray):
    """Surface hopping in the classical path approximation over many realisations.

    propagators: (ntraj, n, n) complex step propagators; energies: (ntraj, n) eV entering the
    Boltzmann factor of upward hops at each step; couplings: (ntraj, n, n) off-diagonal
    Hermitian couplings (eV) over each step, -iħd_ij for NACs d_ij; hbar: ħ in eV·fs; dt: fs;
    starts: trajectory indices used as time origins; nreal realisations per origin; nsteps NA-MD
    steps (the trajectory is reused cyclically); kt: k_B·T in eV (<= 0: no Boltzmann factor);
    decoherence_rates: (n, n) 1/τ_ij in 1/fs (DISH only); block_of: (len(starts), nreal) block
    index of each realisation (independent groups for error estimates).

    Returns (sh_pop, se_pop): (nblocks, nsteps + 1, n) active-state occupations averaged within
    each block, and (nsteps + 1, n) |c_i|² averaged over all realisations.
    """
    np.random.seed(seed)
    ntraj = propagators.shape[0]
    n = propagators.shape[1]
    nblocks = block_of.max() + 1
    in_block = np.zeros(nblocks)
    for s in range(starts.shape[0]):
        for r in range(nreal):
            in_block[block_of[s, r]] += 1.0
    sh_pop = np.zeros((nblocks, nsteps + 1, n))
    se_pop = np.zeros((nsteps + 1, n))
    c = np.zeros(n, dtype=np.complex128)
    c_new = np.zeros(n, dtype=np.complex128)
    clock = np.zeros(n)
    weights = np.zeros(n)
    norm = 1.0 / (starts.shape[0] * nreal)
    for s in range(starts.shape[0]):
        for r in range(nreal):
            b = block_of[s, r]
            bnorm = 1.0 / in_block[b]
            c[:] = 0.0
            c[initial_state] = 1.0
            active = initial_state
            clock[:] = 0.0
            k = starts[s] % ntraj
            sh_pop[b, 0, active] += bnorm
            for i in range(n):
                se_pop[0, i] += norm * (c[i].real ** 2 + c[i].imag ** 2)
            for step in range(nsteps):
                u = propagators[k]
                for i in range(n):
                    acc = 0.0j
                    for j in range(n):
                        acc += u[i, j] * c[j]
                    c_new[i] = acc
                if method == FSSH:
                    pa = c[active].real ** 2 + c[active].imag ** 2
                    if pa > 1e-300:
                        for j in range(n):
                            weights[j] = 0.0
                            if j != active:
                                h = couplings[k, j, active]
                                f0 = (np.conj(c[j]) * h * c[active]).imag
                                f1 = (np.conj(c_new[j]) * h * c_new[active]).imag
                                g = (f0 + f1) * dt / (hbar * pa)
                                if g > 0.0:
                                    weights[j] = g
                        xi = np.random.random()
                        total = weights.sum()
                        if xi < total:
                            target = _choose(weights, xi / total)
                            if _accept_hop(energies[k, active], energies[k, target], kt):
                                active = target
                    c[:] = c_new
                else:
                    c[:] = c_new
                    for i in range(n):
                        clock[i] += dt
                    for i in range(n):
                        rate = 0.0
                        for j in range(n):
                            if j != i:
                                rate += (c[j].real ** 2 + c[j].imag ** 2) * decoherence_rates[i, j]
                        if clock[i] * rate < 1.0:
                            continue
                        pi = c[i].real ** 2 + c[i].imag ** 2
                        if np.random.random() < pi:  # collapse onto i: a hop if i is not active
                            if i != active and _accept_hop(energies[k, active], energies[k, i], kt):
                                active = i
                            c[:] = 0.0
                            c[active] = 1.0
                            clock[:] = 0.0
                        else:  # project i out
                            c[i] = 0.0
                            rest = 0.0
                            for j in range(n):
                                rest += c[j].real ** 2 + c[j].imag ** 2
                            if rest <= 1e-300:
                                c[active] = 1.0
                                rest = 1.0
                            c /= np.sqrt(rest)
                            clock[i] = 0.0
                            if i == active:
                                for j in range(n):
                                    weights[j] = c[j].real ** 2 + c[j].imag ** 2
                                target = _choose(weights, np.random.random())
                                if _accept_hop(energies[k, active], energies[k, target], kt):
                                    active = target
                                else:
                                    c[:] = 0.0
                                    c[active] = 1.0
                k += 1
                if k == ntraj:
                    k = 0
                sh_pop[b, step + 1, active] += bnorm
                for i in range(n):
                    se_pop[step + 1, i] += norm * (c[i].real ** 2 + c[i].imag ** 2)
    return sh_pop, se_pop


# --------------------------------------------------------------------------------------------
# Tully's one-dimensional two-state models, full FSSH with back-reaction (atomic units)
# --------------------------------------------------------------------------------------------

@njit(cache=True)
def _tully_diabatic(model: int, x: float, p: np.ndarray):
    """Diabatic V11, V22, V12 (hartree) and their x-derivatives for Tully model 1, 2 or 3."""
    a, b, c, d = p[0], p[1], p[2], p[3]
    if model == 1:
        if x >= 0.0:
            v11 = a * (1.0 - np.exp(-b * x))
            dv11 = a * b * np.exp(-b * x)
        else:
            v11 = -a * (1.0 - np.exp(b * x))
            dv11 = a * b * np.exp(b * x)
        v22, dv22 = -v11, -dv11
        v12 = c * np.exp(-d * x * x)
        dv12 = -2.0 * d * x * v12
    elif model == 2:
        v11, dv11 = 0.0, 0.0
        v22 = -a * np.exp(-b * x * x) + p[4]
        dv22 = 2.0 * a * b * x * np.exp(-b * x * x)
        v12 = c * np.exp(-d * x * x)
        dv12 = -2.0 * d * x * v12
    else:
        v11, dv11 = a, 0.0
        v22, dv22 = -a, 0.0
        if x < 0.0:
            v12 = b * np.exp(c * x)
            dv12 = b * c * np.exp(c * x)
        else:
            v12 = b * (2.0 - np.exp(-c * x))
            dv12 = b * c * np.exp(-c * x)
    return v11, v22, v12, dv11, dv22, dv12


@njit(cache=True)
def _tully_adiabatic(model: int, x: float, p: np.ndarray):
    """Adiabatic energies (E_0 <= E_1), their gradients and the NAC d_01 = <0|d/dx 1> (1/bohr)."""
    v11, v22, v12, dv11, dv22, dv12 = _tully_diabatic(model, x, p)
    mean = 0.5 * (v11 + v22)
    half = 0.5 * (v11 - v22)
    root = np.sqrt(half * half + v12 * v12)
    dmean = 0.5 * (dv11 + dv22)
    dhalf = 0.5 * (dv11 - dv22)
    droot = (half * dhalf + v12 * dv12) / root
    # mixing angle 2θ = atan2(V12, half); NAC between the adiabatic states is dθ/dx
    dtheta = 0.5 * (dv12 * half - v12 * dhalf) / (root * root)
    return mean - root, mean + root, dmean - droot, dmean + droot, dtheta


#: Tully-model decoherence codes: plain FSSH, energy-based decoherence (Granucci–Persico),
#: augmented FSSH (Subotnik–Shenvi 2011 collapse rate with the Landry–Subotnik 2012 reset).
TULLY_PLAIN = 0
TULLY_EDC = 1
TULLY_AFSSH = 2


@njit(cache=True)
def _tully_one(model: int, p: np.ndarray, mass: float, k0: float, x0: float, dt: float,
               xmax: float, method: int, decoherence_c: float, max_steps: int) -> int:
    """One FSSH trajectory on the lower adiabatic state with momentum k0 (a.u.) from x0.

    method TULLY_PLAIN: plain FSSH; TULLY_EDC: energy-based decoherence (Granucci–Persico),
    τ = (ħ/ΔE)(1 + C/E_kin), C = decoherence_c hartree; TULLY_AFSSH: augmented FSSH.  A-FSSH
    carries the position and momentum moments δR, δP (bohr, a.u.) of the inactive state's
    wave packet relative to the active trajectory, dδR/dt = δP/M, dδP/dt = F_n - F_λ, and
    collapses the inactive amplitude with probability dt/τ per step,
    1/τ = (F_n - F_λ)δR/(2ħ) - 2|F_λn δR|/ħ (F_λn = -(E_n - E_λ) d_λn the off-diagonal force);
    the moments are reset with probability -dt(F_n - F_λ)δR/(2ħ), after a collapse and after
    every hop.
    Returns 0 (R0), 1 (T0), 2 (R1), 3 (T1) or -1 (unfinished).
    """
    x = x0
    v = k0 / mass
    active = 0
    c0 = 1.0 + 0.0j
    c1 = 0.0 + 0.0j
    dr = 0.0
    dp = 0.0
    e0, e1, g0, g1, d01 = _tully_adiabatic(model, x, p)
    force = -(g0 if active == 0 else g1)
    for _ in range(max_steps):
        # nuclear velocity Verlet on the active surface
        v_half = v + 0.5 * dt * force / mass
        v_old = v
        e0o, e1o, d01o = e0, e1, d01
        x = x + dt * v_half
        e0, e1, g0, g1, d01 = _tully_adiabatic(model, x, p)
        force = -(g0 if active == 0 else g1)
        v = v_half + 0.5 * dt * force / mass
        # electrons: exact 2x2 propagator of H_eff = [[E0, -i v d], [i v d, E1]] at the midpoint
        em0 = 0.5 * (e0 + e0o)
        em1 = 0.5 * (e1 + e1o)
        coup = 0.5 * (v * d01 + v_old * d01o)
        hz = 0.5 * (em0 - em1)
        hy = coup
        h = np.sqrt(hz * hz + hy * hy)
        ph = np.exp(-0.5j * (em0 + em1) * dt)
        cs = np.cos(h * dt)
        sn = np.sin(h * dt) / h if h > 0.0 else dt
        # exp(-i dt (hy σy + hz σz)) = cos - i sin (hy σy + hz σz)/h
        u00 = ph * (cs - 1j * sn * hz)
        u11 = ph * (cs + 1j * sn * hz)
        u01 = ph * (-sn * hy)
        u10 = ph * (sn * hy)
        n0 = u00 * c0 + u01 * c1
        n1 = u10 * c0 + u11 * c1
        # hop probability: flux out of the active state (trapezoid over the step)
        f_old = (c0.conjugate() * c1).real
        f_new = (n0.conjugate() * n1).real
        if active == 0:
            pa = abs(c0) ** 2
            g = 2.0 * coup * 0.5 * (f_old + f_new) * dt / max(pa, 1e-300)
        else:
            pa = abs(c1) ** 2
            g = -2.0 * coup * 0.5 * (f_old + f_new) * dt / max(pa, 1e-300)
        c0, c1 = n0, n1
        if g > 0.0 and np.random.random() < g:
            target = 1 - active
            de = (e1 - e0) if target == 1 else (e0 - e1)
            ekin = 0.5 * mass * v * v
            if ekin >= de:  # rescale the momentum along the NAC (1D: along x)
                v = np.sign(v) * np.sqrt(v * v - 2.0 * de / mass)
                active = target
                force = -(g0 if active == 0 else g1)
                dr = 0.0
                dp = 0.0
        if method == TULLY_EDC:
            ekin = 0.5 * mass * v * v
            tau = (1.0 + decoherence_c / max(ekin, 1e-300)) / max(e1 - e0, 1e-300)
            damp = np.exp(-dt / tau)
            if active == 0:
                c1 *= damp
                rest = abs(c1) ** 2
                c0 *= np.sqrt(max(1.0 - rest, 0.0)) / max(abs(c0), 1e-300)
            else:
                c0 *= damp
                rest = abs(c0) ** 2
                c1 *= np.sqrt(max(1.0 - rest, 0.0)) / max(abs(c1), 1e-300)
        elif method == TULLY_AFSSH:
            dforce = (g0 - g1) if active == 0 else (g1 - g0)  # F_n - F_λ
            dr += dt * (dp + 0.5 * dt * dforce) / mass
            dp += dt * dforce
            off = abs((e1 - e0) * d01 * dr)  # |F_λn δR|, the same for either active state
            rate = 0.5 * dforce * dr - 2.0 * off
            xi = np.random.random()
            if xi < dt * rate:  # collapse onto the active state
                if active == 0:
                    c0 = c0 / max(abs(c0), 1e-300) if abs(c0) > 0.0 else 1.0 + 0.0j
                    c1 = 0.0 + 0.0j
                else:
                    c1 = c1 / max(abs(c1), 1e-300) if abs(c1) > 0.0 else 1.0 + 0.0j
                    c0 = 0.0 + 0.0j
                dr = 0.0
                dp = 0.0
            elif xi < -0.5 * dt * dforce * dr:
                dr = 0.0
                dp = 0.0
        if x > xmax:
            return 1 + 2 * active
        if x < -xmax and v < 0.0:
            return 2 * active
    return -1


@njit(cache=True)
def tully_fssh(model: int, params: np.ndarray, mass: float, k0: float, x0: float, dt: float,
               xmax: float, ntraj: int, method: int, decoherence_c: float, seed: int,
               max_steps: int) -> np.ndarray:
    """Counts of outcomes [R0, T0, R1, T1, unfinished] over ``ntraj`` FSSH trajectories."""
    np.random.seed(seed)
    counts = np.zeros(5, dtype=np.int64)
    for _ in range(ntraj):
        r = _tully_one(model, params, mass, k0, x0, dt, xmax, method, decoherence_c, max_steps)
        counts[r if r >= 0 else 4] += 1
    return counts
