"""Radial basis of the edge features: Bessel functions times a smooth polynomial cutoff envelope.

All distances are in Å.  The envelope has a zero of high order at the cutoff, so the energy and
its first ``smoothness`` derivatives with respect to the positions (forces, force constants of
2nd and 3rd order, ...) are continuous when a neighbour crosses the cutoff sphere.
"""
from __future__ import annotations

import math

import numpy as np
import torch


def envelope_coefficients(p: int, smoothness: int) -> np.ndarray:
    """Coefficients a_k of u(d) = 1 + sum_k a_k d^(p+k), k = 0..smoothness.

    They solve u(1) = 0 and d^m u/dd^m (1) = 0 for m = 1..smoothness, so u is 1 - O(d^p) near
    d = 0 and vanishes with all derivatives up to ``smoothness`` at d = r/r_cut = 1.
    (p = 6, smoothness = 2 is the usual NequIP/DimeNet envelope.)
    """
    if p < 2 or smoothness < 0:
        raise ValueError(f"envelope needs p >= 2 and smoothness >= 0, got p={p}, "
                         f"smoothness={smoothness}")
    n = smoothness + 1
    matrix = np.zeros((n, n))
    for m in range(n):  # m-th derivative of d^(p+k) at d = 1 is the falling factorial
        for k in range(n):
            matrix[m, k] = math.perm(p + k, m)
    rhs = np.zeros(n)
    rhs[0] = -1.0
    return np.linalg.solve(matrix, rhs)


class PolynomialEnvelope(torch.nn.Module):
    """Smooth cutoff u(r) = 1 + sum_k a_k (r/r_cut)^(p+k) for r < r_cut, 0 beyond
    (dimensionless)."""

    def __init__(self, cutoff: float, p: int = 6, smoothness: int = 4):
        super().__init__()
        self.cutoff = float(cutoff)
        self.p = int(p)
        self.coefficients = [float(c) for c in envelope_coefficients(p, smoothness)]

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        # the large alternating coefficients cancel: evaluate in float64 whatever the model dtype,
        # as d^p (a_0 + d (a_1 + d (a_2 + ...))) with d^p by repeated squaring (torch.pow of a
        # tensor to an integer power is several times slower than a few multiplications)
        d = r.to(torch.float64) / self.cutoff
        series = torch.full_like(d, self.coefficients[-1])
        for coefficient in reversed(self.coefficients[:-1]):
            series = series * d + coefficient
        power, square, exponent = None, d, self.p
        while exponent:
            if exponent & 1:
                power = square if power is None else power * square
            exponent >>= 1
            if exponent:
                square = square * square
        u = 1.0 + power * series
        return torch.where(d < 1.0, u, torch.zeros_like(u)).to(r.dtype)


class BesselBasis(torch.nn.Module):
    """sqrt(2/r_cut) sin(n pi r / r_cut) / r, n = 1..num_basis (r in Å, output in Å^-3/2)."""

    def __init__(self, cutoff: float, num_basis: int = 8):
        super().__init__()
        self.cutoff = float(cutoff)
        self.register_buffer("frequencies",
                             math.pi / self.cutoff * torch.arange(1, num_basis + 1,
                                                                  dtype=torch.get_default_dtype()))

    def forward(self, r: torch.Tensor) -> torch.Tensor:
        r = r.unsqueeze(-1)
        return math.sqrt(2.0 / self.cutoff) * torch.sin(self.frequencies * r) / r
