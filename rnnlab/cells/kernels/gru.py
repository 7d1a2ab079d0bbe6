"""The GRU sequence kernel (PyTorch's convention: gate order r, z, n; the reset applied after W_hn), forward
and BPTT, with per-step pointwise work compiled by numba and the matrix products left to BLAS.

Given the drive D (T, B, 3H) (D_t = x_t W_ih + b_ih, hoisted out of the loop by the caller), blocks [r | z | n]:

    e_t = h_{t-1} W_hh + b_hh                                  (B, 3H), blocks [e_r | e_z | e_n]
    r = sigma(D_r + e_r),  z = sigma(D_z + e_z),  n = tanh(D_n + r * e_n)
    h_t = (1 - z) * n + z * h_{t-1}

BPTT, from t = T-1 down to 0, with dh_t = dL/dh_t from the outputs + dz... of step t+1 (both terms below):

    da_n = dh_t (1 - z)(1 - n^2),  da_r = da_n e_n r (1 - r),  da_z = dh_t (h_{t-1} - n) z (1 - z)
    dD_t = [da_r, da_z, da_n],   dE_t = [da_r, da_z, da_n r]
    dh_{t-1} = dh_t z + dE_t W_hh^T;   dW_hh = sum_t h_{t-1}^T dE_t (one GEMM after the loop);
    db_hh = sum_{t,b} dE_t

Speed: one GEMM and one compiled pointwise kernel per step, forward and backward; dW_hh one GEMM over all
T * B rows after the loop. Every stored backward value below ``flush_threshold`` is flushed to zero.
"""
from __future__ import annotations

import numpy as np

from . import checks
from .activations import flush, flush_arrays, flush_threshold, sigmoid, tanh
from .jit import jit
from .lstm import read_only


@jit
def gru_step_forward(d, e, b, h_prev, act, e_n, h):
    """d (B, 3H) the drive, e (B, 3H) = h_{t-1} W_hh, b (3H,) = b_hh; writes act (B, 3H) = [r, z, n],
    e_n (B, H) = e_n + b_n (the backward needs it) and h (B, H)."""
    B, G = e.shape
    H = G // 3
    d3, e3, a3, b2 = d.reshape(B, 3, H), e.reshape(B, 3, H), act.reshape(B, 3, H), b.reshape(3, H)
    one = h.dtype.type(1.0)
    for r in range(B):
        for j in range(H):
            a3[r, 0, j] = sigmoid(d3[r, 0, j] + e3[r, 0, j] + b2[0, j])
        for j in range(H):
            a3[r, 1, j] = sigmoid(d3[r, 1, j] + e3[r, 1, j] + b2[1, j])
        for j in range(H):
            e_n[r, j] = e3[r, 2, j] + b2[2, j]
        for j in range(H):
            a3[r, 2, j] = tanh(d3[r, 2, j] + a3[r, 0, j] * e_n[r, j])
        for j in range(H):
            z = a3[r, 1, j]
            h[r, j] = (one - z) * a3[r, 2, j] + z * h_prev[r, j]


@jit
def gru_step_backward(dh_out, dh_rec, carry, act, e_n, h_prev, dd, de, db, threshold):
    """dh = dh_out + dh_rec + carry (carry = dh_{t+1} z_{t+1} on entry, dh_t z_t on exit); writes
    dd = dL/dD_t and de = dL/de_t (B, 3H); db (3H,) += the column sums of de. All flushed."""
    B, H = h_prev.shape
    one = h_prev.dtype.type(1.0)
    a3, dd3, de3 = act.reshape(B, 3, H), dd.reshape(B, 3, H), de.reshape(B, 3, H)
    for r in range(B):
        for j in range(H):
            dh = flush(dh_out[r, j] + dh_rec[r, j] + carry[r, j], threshold)
            rr, z, n = a3[r, 0, j], a3[r, 1, j], a3[r, 2, j]
            da_n = flush(dh * (one - z) * (one - n * n), threshold)
            da_r = flush(da_n * e_n[r, j] * rr * (one - rr), threshold)
            da_z = flush(dh * (h_prev[r, j] - n) * z * (one - z), threshold)
            dd3[r, 0, j] = da_r
            dd3[r, 1, j] = da_z
            dd3[r, 2, j] = da_n
            de3[r, 0, j] = da_r
            de3[r, 1, j] = da_z
            de3[r, 2, j] = flush(da_n * rr, threshold)
            carry[r, j] = flush(dh * z, threshold)
        for j in range(3 * H):
            db[j] += de[r, j]


class GRUCache:
    """What :func:`gru_backward` needs: W_hh, h0, the gates (T, B, 3H) = [r, z, n], e_n (T, B, H), hs."""

    __slots__ = ("W_hh", "act", "e_n", "h0", "hs", "__weakref__")

    def __init__(self, W_hh, h0, act, e_n, hs):
        self.W_hh, self.h0, self.act, self.e_n, self.hs = W_hh, h0, act, e_n, hs


def gru_forward(D, W_hh, b_hh, h0, overwrite_drive=False):
    """Run the GRU over the drive D (T, B, 3H): W_hh (H, 3H), b_hh (3H,), h0 (B, H). ``overwrite_drive``: D is
    the caller's private buffer, which then holds the gates.

    Returns (hs, cache): hs (T, B, H) every h_t (read-only: the cache holds it), and the cache for
    :func:`gru_backward`.
    """
    D, W_hh, b_hh, states = checks.drive_inputs("gru_forward", 3, D, W_hh, b_hh, {"h0": h0})
    if b_hh is None:
        raise TypeError("gru_forward: b_hh must be a NumPy array (3H,), got None")
    h0 = states["h0"]
    T, B, G = D.shape
    H = G // 3
    act = D if overwrite_drive else np.empty((T, B, G), D.dtype)
    e_n = np.empty((T, B, H), D.dtype)
    hs = np.empty((T, B, H), D.dtype)
    e = np.empty((B, G), D.dtype)
    h_prev = h0
    for t in range(T):
        np.matmul(h_prev, W_hh, out=e)
        gru_step_forward(D[t], e, b_hh, h_prev, act[t], e_n[t], hs[t])
        h_prev = hs[t]
    return read_only(hs), GRUCache(W_hh, h0, act, e_n, hs)


def gru_backward(cache, dhs, dhT):
    """BPTT through the sequence: dhs (T, B, H) = dL/dh_t from the outputs, dhT (B, H) (None: zero).

    Returns (dD (T, B, 3H), dW_hh (H, 3H), db_hh (3H,), dh0 (B, H)), flushed below ``flush_threshold``.
    """
    fn = "gru_backward"
    checks.cache_of(fn, cache, GRUCache, "gru")
    W_hh, hs = cache.W_hh, cache.hs
    T, B, H = hs.shape
    dtype = hs.dtype
    dhs, carry = checks.incoming(fn, T, B, H, dtype, dhs, dhT=dhT)
    threshold = flush_threshold(dtype)
    dh_rec = np.zeros((B, H), dtype)
    zeros = np.zeros((B, H), dtype)
    dD = np.empty((T, B, 3 * H), dtype)
    dE = np.empty((T, B, 3 * H), dtype)
    db = np.zeros(3 * H, dtype)
    W_hh_T = np.ascontiguousarray(W_hh.T)
    for t in range(T - 1, -1, -1):
        h_prev = hs[t - 1] if t > 0 else cache.h0
        gru_step_backward(zeros if dhs is None else dhs[t], dh_rec, carry, cache.act[t], cache.e_n[t], h_prev,
                          dD[t], dE[t], db, threshold)
        np.matmul(dE[t], W_hh_T, out=dh_rec)
    dW_hh = cache.h0.T @ dE[0]
    if T > 1:
        dW_hh += hs[:-1].reshape((T - 1) * B, H).T @ dE[1:].reshape((T - 1) * B, 3 * H)
    dh0 = dh_rec + carry
    grads = (dD, dW_hh, db, dh0)
    flush_arrays(grads[1:], threshold)     # dD was flushed step by step
    return grads
