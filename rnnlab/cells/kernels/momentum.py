"""The momentum rules' scans (``rnnlab.cells.momentum_rules``) compiled: elementwise recurrences over the
projection A (T, B, G), each step one pass over its B * G entries instead of several NumPy operations.

Heavy ball (Momentum, Nesterov), mu_t one coefficient per step:

    v_t = mu_t v_{t-1} + s A_t;   backward: dv = dv + dV_t,  dA_t = s dv,  dv = mu_t dv   (t = T-1..0)

Adam (RMSProp: mu = 0), r_t = (m_t + eps)^(-1/2):

    v_t = mu v_{t-1} + s A_t;   m_t = beta m_{t-1} + (1 - beta) A_t^2;   out_t = v_t r_t
    backward, g_t = dL/dout_t:  dv = dv' + g_t r_t;  dm = dm' - g_t v_t r_t^3 / 2;
                                dA_t = s dv + 2 (1 - beta) A_t dm;  dv' = mu dv;  dm' = beta dm

Every backward value stored is flushed below ``flush_threshold`` (see ``activations.py``).
"""
from __future__ import annotations

import math

import numpy as np

from . import checks
from .activations import flush, flush_threshold
from .jit import jit


@jit
def heavy_ball_loop(A, mus, s, v, V):
    """V[t] = mus[t] v + s A[t], v <- V[t]; A, V (T, N); v (N,) holds v_0 on entry (unchanged)."""
    T, N = A.shape
    for j in range(N):
        V[0, j] = mus[0] * v[j] + s * A[0, j]
    for t in range(1, T):
        mu = mus[t]
        for j in range(N):
            V[t, j] = mu * V[t - 1, j] + s * A[t, j]


@jit
def heavy_ball_loop_backward(dV, mus, s, dv, dA, threshold):
    """dA (T, N) from dV (T, N); dv (N,) holds dL/dv_T on entry and dL/dv_0 on exit."""
    T, N = dV.shape
    for t in range(T - 1, -1, -1):
        mu = mus[t]
        for j in range(N):
            d = dv[j] + dV[t, j]
            dA[t, j] = flush(s * d, threshold)
            dv[j] = flush(mu * d, threshold)


@jit
def adam_loop(A, mu, s, beta, eps, v, m, out, V, R):
    """out, V, R (T, N) as in the module docstring; v, m (N,) hold v_0, m_0 on entry and v_T, m_T on exit."""
    T, N = A.shape
    one = A.dtype.type(1.0)
    for t in range(T):
        for j in range(N):
            a = A[t, j]
            v[j] = mu * v[j] + s * a
            m[j] = beta * m[j] + (one - beta) * (a * a)
            r = one / math.sqrt(m[j] + eps)
            V[t, j] = v[j]
            R[t, j] = r
            out[t, j] = v[j] * r


@jit
def adam_loop_backward(A, V, R, dout, mu, s, beta, dv, dm, dA, threshold):
    """dA (T, N); dv, dm (N,) hold dL/dv_T, dL/dm_T on entry and dL/dv_0, dL/dm_0 on exit."""
    T, N = A.shape
    one = A.dtype.type(1.0)
    half = A.dtype.type(0.5)
    two = A.dtype.type(2.0)
    for t in range(T - 1, -1, -1):
        for j in range(N):
            g, r = dout[t, j], R[t, j]
            dv_t = dv[j] + g * r
            dm_t = dm[j] - half * g * V[t, j] * r * r * r
            dA[t, j] = flush(s * dv_t + two * (one - beta) * A[t, j] * dm_t, threshold)
            dv[j] = flush(mu * dv_t, threshold)
            dm[j] = flush(beta * dm_t, threshold)


def _steps(fn: str, A):
    A = checks.as_float_array(fn, "A", A, 3, "(T, B, G)")
    if A.shape[0] < 1:
        raise ValueError(f"{fn}: A must hold at least one time step (T >= 1), got shape {A.shape}")
    return A, A.reshape(A.shape[0], -1)


def _state(fn: str, name: str, a, A, zero_if_none: bool = False):
    """A (B, G) state or gradient as a fresh flat (B*G,) work array of A's dtype (None: zeros when allowed)."""
    if a is None and zero_if_none:
        return np.zeros(A.shape[1] * A.shape[2], A.dtype)
    a = checks.output_gradient(fn, name, a, A.shape[1:], A.dtype, "(B, G)")
    return a.reshape(-1).copy()


def heavy_ball_scan(A, mus, s, v0, overwrite=False):
    """V (T, B, G) with V_t = mus[t] V_{t-1} + s A_t (V_{-1} = v0 (B, G)); mus a length-T sequence.

    Returns (V, v_T): v_T is a copy of V[T-1]. ``overwrite``: A is the caller's private buffer; V is written
    into it.
    """
    fn = "heavy_ball_scan"
    A, A2 = _steps(fn, A)
    mus = np.asarray(mus, dtype=A.dtype)
    if mus.shape != (A.shape[0],):
        raise ValueError(f"{fn}: mus must hold one coefficient per step, {A.shape[0]}, got shape {mus.shape}")
    V = A if overwrite else np.empty_like(A)
    heavy_ball_loop(A2, mus, A.dtype.type(s), _state(fn, "v0", v0, A), V.reshape(A2.shape))
    return V, V[-1].copy()


def heavy_ball_scan_backward(mus, s, dV, dvT, overwrite=False):
    """(dA (T, B, G), dv0 (B, G)) from dV (T, B, G) = dL/dV and dvT (B, G) = dL/dv_T (None: zero).
    ``overwrite``: dV is the caller's private buffer; dA is written into it."""
    fn = "heavy_ball_scan_backward"
    dV, dV2 = _steps(fn, dV)
    mus = np.asarray(mus, dtype=dV.dtype)
    dv = _state(fn, "dvT", dvT, dV, zero_if_none=True)
    dA = dV if overwrite else np.empty_like(dV)
    heavy_ball_loop_backward(dV2, mus, dV.dtype.type(s), dv, dA.reshape(dV2.shape), flush_threshold(dV.dtype))
    return dA, dv.reshape(dV.shape[1:])


class AdamCache:
    """What :func:`adam_scan_backward` needs: A, V, R (T, B, G) and the hyperparameters."""

    __slots__ = ("A", "R", "V", "beta", "mu", "s", "__weakref__")

    def __init__(self, A, V, R, mu, s, beta):
        self.A, self.V, self.R, self.mu, self.s, self.beta = A, V, R, mu, s, beta


def adam_scan(A, mu, s, beta, eps, v0, m0):
    """The Adam rule over A (T, B, G) from v0, m0 (B, G). Returns (out (T, B, G), v_T, m_T, cache)."""
    fn = "adam_scan"
    A, A2 = _steps(fn, A)
    c = A.dtype.type
    v, m = _state(fn, "v0", v0, A), _state(fn, "m0", m0, A)
    out, V, R = np.empty_like(A), np.empty_like(A), np.empty_like(A)
    adam_loop(A2, c(mu), c(s), c(beta), c(eps), v, m, out.reshape(A2.shape), V.reshape(A2.shape),
              R.reshape(A2.shape))
    shape = A.shape[1:]
    return out, v.reshape(shape), m.reshape(shape), AdamCache(A, V, R, c(mu), c(s), c(beta))


def adam_scan_backward(cache, dout, dvT, dmT, overwrite=False):
    """(dA (T, B, G), dv0, dm0 (B, G)) from dout = dL/dout (T, B, G) and dvT, dmT (B, G) (None: zero).
    ``overwrite``: dout is the caller's private buffer; dA is written into it."""
    fn = "adam_scan_backward"
    if not isinstance(cache, AdamCache):
        raise TypeError(f"{fn}: cache must be the AdamCache that adam_scan returned, got {type(cache).__name__}")
    A = cache.A
    dout = checks.output_gradient(fn, "dout", dout, A.shape, A.dtype, "(T, B, G)")
    dv, dm = _state(fn, "dvT", dvT, A, zero_if_none=True), _state(fn, "dmT", dmT, A, zero_if_none=True)
    dA = dout if overwrite else np.empty_like(A)
    flat = (A.shape[0], -1)
    adam_loop_backward(A.reshape(flat), cache.V.reshape(flat), cache.R.reshape(flat), dout.reshape(flat),
                       cache.mu, cache.s, cache.beta, dv, dm, dA.reshape(flat), flush_threshold(A.dtype))
    shape = A.shape[1:]
    return dA, dv.reshape(shape), dm.reshape(shape)
