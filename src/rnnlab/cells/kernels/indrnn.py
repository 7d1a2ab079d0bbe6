"""The IndRNN sequence kernel (Li et al. 2018): the whole forward and the whole BPTT as one compiled loop
each, since the recurrence is pointwise (no recurrent GEMM).

With the drive a_t = x_t W_ih + b (T, B, H) and u (H,):

    h_t = relu(a_t + u * h_{t-1})

BPTT, from t = T-1 down to 0, with dh_t = dL/dh_t from the outputs plus ``carry`` from step t+1:

    delta_t = dh_t * 1[h_t > 0];   carry = delta_t * u;   du = sum_{t,b} delta_t * h_{t-1};   da_t = delta_t
    dW_ih = sum_t x_t^T delta_t,   db = sum_{t,b} delta_t,   dx_t = delta_t W_ih^T

One entry, from the input x (``indrnn_forward_input``: with one input feature the projection is a multiply
inside the loop; otherwise one GEMM before it, and the weight gradients are GEMMs over CHUNK steps at a
time, so no (T, B, H) delta is kept).
Every stored backward value below ``flush_threshold`` is flushed to zero.
"""
from __future__ import annotations

import numpy as np

from . import checks
from .activations import flush, flush_arrays, flush_threshold, jit
from .lstm import CHUNK, read_only


@jit
def indrnn_loop_forward(xw, x_rows, w, fuse_input, b, u, h0, hs):
    """hs[t] = relu(a_t + u * hs[t-1]) for every t (hs[-1] being h0), a_t = xw[t] + b, or x_rows[t, r] w + b
    when ``fuse_input`` (D = 1). xw, hs (T, B, H) (xw may be hs itself); x_rows (T, B); w, b, u (H,)."""
    T, B, H = hs.shape
    zero = hs.dtype.type(0.0)
    for t in range(T):
        prev = h0 if t == 0 else hs[t - 1]
        for r in range(B):
            if fuse_input:
                s = x_rows[t, r]
                for j in range(H):
                    hs[t, r, j] = max(s * w[j] + b[j] + u[j] * prev[r, j], zero)
            else:
                for j in range(H):
                    hs[t, r, j] = max(xw[t, r, j] + b[j] + u[j] * prev[r, j], zero)


@jit
def indrnn_loop_backward(dhs, use_dhs, hs, h0, u, carry, dD, du, threshold):
    """The BPTT loop over the steps of ``hs`` (a chunk or the whole sequence; h0 the state before its first
    step): carry (B, H) holds dL/dh of the last step from beyond on entry and dL/dh0 on exit; writes dD
    (T, B, H); du (H,) += sum delta_t * h_{t-1}."""
    T, B, H = hs.shape
    zero = hs.dtype.type(0.0)
    for t in range(T - 1, -1, -1):
        prev = h0 if t == 0 else hs[t - 1]
        for r in range(B):
            for j in range(H):
                dh = carry[r, j] + (dhs[t, r, j] if use_dhs else zero)
                d = flush(dh if hs[t, r, j] > zero else zero, threshold)
                dD[t, r, j] = d
                du[j] += d * prev[r, j]
                carry[r, j] = flush(d * u[j], threshold)


class IndRNNCache:
    """What the backward pass needs: x, W_ih, u, h0 and hs."""

    __slots__ = ("W_ih", "h0", "hs", "u", "x", "__weakref__")

    def __init__(self, x, W_ih, u, h0, hs):
        self.x, self.W_ih, self.u, self.h0, self.hs = x, W_ih, u, h0, hs


def indrnn_forward_input(x, W_ih, b, u, h0):
    """Run the IndRNN over the input x (T, B, D): W_ih (D, H), b (H,), u (H,), h0 (B, H).

    Returns (hs (T, B, H) read-only, cache) for :func:`indrnn_backward_input`.
    """
    fn = "indrnn_forward_input"
    x = checks.as_float_array(fn, "x", x, 3, "(T, B, D)")
    W_ih = checks.as_float_array(fn, "W_ih", W_ih, 2, "(D, H)")
    _, u, b, states = checks.drive_inputs(fn, 0, x, u, b, {"h0": h0}, x_name="x", W_ih=W_ih)
    if b is None:
        raise TypeError(f"{fn}: b must be a NumPy array (H,), got None")
    checks.expect_shape(fn, "W_ih", W_ih, (x.shape[2], u.shape[0]), "(D, H) with D = x.shape[2] and H = u.shape[0]")
    T, B, D = x.shape
    hs = np.empty((T, B, u.shape[0]), x.dtype)
    if D == 1:      # fused into the loop
        indrnn_loop_forward(hs, x.reshape(T, B), W_ih[0], True, b, u, states["h0"], hs)
    else:
        np.matmul(x.reshape(T * B, D), W_ih, out=hs.reshape(T * B, -1))
        indrnn_loop_forward(hs, np.zeros((T, 1), x.dtype), b, False, b, u, states["h0"], hs)
    return read_only(hs), IndRNNCache(x, W_ih, u, states["h0"], hs)


def indrnn_backward_input(cache, dhs, dhT):
    """BPTT of :func:`indrnn_forward_input`: dhs (T, B, H), dhT (B, H) (None: zero). Returns (dx (T, B, D),
    dW_ih (D, H), db (H,), du (H,), dh0 (B, H)), flushed. delta is kept CHUNK steps at a time."""
    fn = "indrnn_backward_input"
    checks.cache_of(fn, cache, IndRNNCache, "indrnn", suffixes=("", "_input"))
    x, W_ih, hs, h0 = cache.x, cache.W_ih, cache.hs, cache.h0
    T, B, H = hs.shape
    D = x.shape[2]
    dtype = hs.dtype
    dhs, carry = checks.incoming(fn, T, B, H, dtype, dhs, dhT=dhT)
    threshold = flush_threshold(dtype)
    delta = np.empty((min(T, CHUNK), B, H), dtype)
    du, db = np.zeros(H, dtype), np.zeros(H, dtype)
    dW_ih, dW_part = np.zeros((D, H), dtype), np.empty((D, H), dtype)
    dx = np.empty((T, B, D), dtype)
    W_ih_T = np.ascontiguousarray(W_ih.T)
    for t1 in range(T, 0, -CHUNK):
        t0 = max(t1 - CHUNK, 0)
        n = t1 - t0
        d = delta[:n]
        indrnn_loop_backward(hs[t0:t1] if dhs is None else dhs[t0:t1], dhs is not None, hs[t0:t1],
                             hs[t0 - 1] if t0 > 0 else h0, cache.u, carry, d, du, threshold)
        d2 = d.reshape(n * B, H)
        np.matmul(x[t0:t1].reshape(n * B, D).T, d2, out=dW_part)
        dW_ih += dW_part
        db += d2.sum(axis=0)
        np.matmul(d2, W_ih_T, out=dx[t0:t1].reshape(n * B, D))
    grads = (dx, dW_ih, db, du, carry)
    flush_arrays(grads, threshold)
    return grads

