"""The l_p norm of a list of arrays taken together, safe from overflow and underflow."""
from __future__ import annotations

import math

from . import backend


def max_abs(arrays):
    """max_i |a_i| over every element of every array (a 0-d array; 0 when all are empty)."""
    xp = backend.get_namespace(*arrays)
    m = None
    for a in arrays:
        if a.size:
            am = xp.max(xp.abs(a))
            m = am if m is None else xp.maximum(m, am)
    if m is None:
        return xp.zeros((), dtype=arrays[0].dtype, **backend.device_kwargs(arrays[0]))
    return m


def safe_divisor(xp, x):
    """``x`` >= 0 with its zeros, Infs and NaNs replaced by ones: a divisor that leaves 0 / 0 at 0 and warns
    of nothing (a non-finite x then shows in the numerator's result instead)."""
    return xp.where(xp.logical_and(x > 0, xp.isfinite(x)), x, xp.ones_like(x))


def lp_norm(arrays, p: float = 2.0):
    """||(a_1, ..., a_n)||_p = (Σ_i Σ_j |a_ij|^p)^(1/p) as a 0-d array; p = inf gives max |a_ij|.

    Every element is divided by the largest |a_ij| before it is raised to the power p, so float32
    gradients of size 1e20 or 1e-30 give their norm instead of inf or 0.
    """
    xp = backend.get_namespace(*arrays)
    m = max_abs(arrays)
    if p == math.inf:
        return m
    scale = safe_divisor(xp, m)
    total = None
    for a in arrays:
        u = xp.abs(a) / scale
        part = xp.sum(u if p == 1 else (u * u if p == 2 else u ** p))
        total = part if total is None else total + part
    if total is None:
        return m
    return m * (total if p == 1 else (xp.sqrt(total) if p == 2 else total ** (1.0 / p)))
