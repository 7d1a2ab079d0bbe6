"""The GRU sequence kernel (PyTorch's convention: gate order r, z, n; the reset applied after W_hn), forward
and BPTT, with per-step pointwise work compiled by numba and the matrix products left to BLAS.

With the drive D (T, B, 3H) (D_t = x_t W_ih + b_ih, the projection hoisted out of the loop), blocks [r | z | n]:

    e_t = h_{t-1} W_hh + b_hh                                  (B, 3H), blocks [e_r | e_z | e_n]
    r = sigma(D_r + e_r),  z = sigma(D_z + e_z),  n = tanh(D_n + r * e_n)
    h_t = (1 - z) * n + z * h_{t-1}

BPTT, from t = T-1 down to 0, with dh_t = dL/dh_t from the outputs + dz... of step t+1 (both terms below):

    da_n = dh_t (1 - z)(1 - n^2),  da_r = da_n e_n r (1 - r),  da_z = dh_t (h_{t-1} - n) z (1 - z)
    dD_t = [da_r, da_z, da_n],   dE_t = [da_r, da_z, da_n r]
    dh_{t-1} = dh_t z + dE_t W_hh^T;   dW_hh = sum_t h_{t-1}^T dE_t (one GEMM after the loop);
    db_hh = sum_{t,b} dE_t

One entry, from the input x (``gru_forward_input``: D_t = x_t W_ih + b_ih inside, dx, dW_ih, db_ih out).

Speed: one GEMM and one compiled pointwise kernel per step, forward and backward; from x the projection is
one GEMM before the loop, or, when D = 1, a multiply fused into the step (and its gradients into the
backward step); the weight gradients are GEMMs over ``CHUNK`` steps while their dE is still in cache, as in
the LSTM kernel. Every stored backward value below ``flush_threshold`` is flushed to zero.
"""
from __future__ import annotations

import numpy as np

from . import checks
from .activations import flush, flush_arrays, flush_threshold, fused_input_row_backward, jit, sigmoid, tanh
from .lstm import CHUNK, add_matmul, previous_rows, read_only


@jit
def gru_step_forward(d, x, w, fuse, b_ih, e, b, h_prev, act, e_n, h):
    """e (B, 3H) = h_{t-1} W_hh, b (3H,) = b_hh; the drive is d + b_ih, or x[r] w + b_ih when ``fuse``
    (D = 1; then d is unused). Writes act (B, 3H) = [r, z, n], e_n (B, H) = e_n + b_n (the backward needs it)
    and h (B, H). act may be d itself."""
    B, G = e.shape
    H = G // 3
    d3, e3, a3, b2, c2 = d.reshape(B, 3, H), e.reshape(B, 3, H), act.reshape(B, 3, H), b.reshape(3, H), \
        b_ih.reshape(3, H)
    w2 = w.reshape(3, H)
    one = h.dtype.type(1.0)
    for r in range(B):
        s, p = (x[r], w2) if fuse else (one, d3[r])      # drive = s * p + b_ih on both paths
        for j in range(H):
            a3[r, 0, j] = sigmoid(s * p[0, j] + c2[0, j] + e3[r, 0, j] + b2[0, j])
        for j in range(H):
            a3[r, 1, j] = sigmoid(s * p[1, j] + c2[1, j] + e3[r, 1, j] + b2[1, j])
        for j in range(H):
            e_n[r, j] = e3[r, 2, j] + b2[2, j]
        for j in range(H):
            a3[r, 2, j] = tanh(s * p[2, j] + c2[2, j] + a3[r, 0, j] * e_n[r, j])
        for j in range(H):
            z = a3[r, 1, j]
            h[r, j] = (one - z) * a3[r, 2, j] + z * h_prev[r, j]


@jit
def gru_step_backward(dh_out, dh_rec, carry, act, e_n, h_prev, dd, de, db, threshold, fuse, x, w, dx, dw, db_ih):
    """dh = dh_out + dh_rec + carry (carry = dh_{t+1} z_{t+1} on entry, dh_t z_t on exit); writes
    dd = dL/dD_t and de = dL/de_t (B, 3H); db (3H,) += the column sums of de, db_ih (3H,) += those of dd.
    When ``fuse`` (D = 1): dx (B,) = dd w and dw (3H,) += x^T dd. All flushed."""
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
        for j in range(3 * H):
            db_ih[j] += dd[r, j]
        if fuse:
            dx[r] = fused_input_row_backward(dd[r], x[r], w, dw)


class GRUCache:
    """What the backward pass needs: x, W_ih, W_hh, h0, the gates (T, B, 3H) = [r, z, n], e_n (T, B, H), hs."""

    __slots__ = ("W_hh", "W_ih", "act", "e_n", "h0", "hs", "x", "__weakref__")

    def __init__(self, x, W_ih, W_hh, h0, act, e_n, hs):
        self.x, self.W_ih, self.W_hh, self.h0, self.act, self.e_n, self.hs = x, W_ih, W_hh, h0, act, e_n, hs


def gru_forward_input(x, W_ih, b_ih, W_hh, b_hh, h0):
    """Run the GRU over the input x (T, B, D): W_ih (D, 3H), b_ih (3H,), W_hh (H, 3H), b_hh (3H,), h0 (B, H).

    Returns (hs, cache): hs (T, B, H) every h_t (read-only: the cache holds it), and the cache for
    :func:`gru_backward_input`.
    """
    fn = "gru_forward_input"
    x, W_ih, W_hh, b_hh, states = checks.sequence_inputs(fn, 3, x, W_ih, W_hh, b_hh, {"h0": h0})
    b_ih = checks.as_float_array(fn, "b_ih", b_ih, 1, "(3H,)")
    checks.expect_shape(fn, "b_ih", b_ih, b_hh.shape, "(3H,)")
    checks.same_dtype(fn, {"x": x, "b_ih": b_ih})
    T, B, D = x.shape
    act = np.empty((T, B, W_hh.shape[1]), x.dtype)
    if D == 1:      # fused into the pointwise kernel
        return _forward(act, x.reshape(T, B), W_ih[0], True, b_ih, x, W_ih, W_hh, b_hh, states["h0"], act)
    np.matmul(x.reshape(T * B, D), W_ih, out=act.reshape(T * B, -1))
    return _forward(act, np.zeros((T, 1), x.dtype), b_ih, False, b_ih, x, W_ih, W_hh, b_hh, states["h0"], act)


def _forward(d, x_rows, w, fuse, b_ih, x, W_ih, W_hh, b_hh, h0, act):
    T, B = x_rows.shape[0], h0.shape[0]
    H = W_hh.shape[0]
    dtype = h0.dtype
    e_n = np.empty((T, B, H), dtype)
    hs = np.empty((T, B, H), dtype)
    e = np.empty((B, 3 * H), dtype)
    h_prev = h0
    for t in range(T):
        np.matmul(h_prev, W_hh, out=e)
        gru_step_forward(d[t], x_rows[t], w, fuse, b_ih, e, b_hh, h_prev, act[t], e_n[t], hs[t])
        h_prev = hs[t]
    return read_only(hs), GRUCache(x, W_ih, W_hh, h0, act, e_n, hs)


def gru_backward_input(cache, dhs, dhT):
    """BPTT of :func:`gru_forward_input`: returns (dx (T, B, D), dW_ih, db_ih, dW_hh, db_hh, dh0), flushed."""
    return _backward("gru_backward_input", cache, dhs, dhT)


def _backward(fn, cache, dhs, dhT):
    checks.cache_of(fn, cache, GRUCache, "gru", suffixes=("", "_input"))
    x, W_ih, W_hh, hs, h0 = cache.x, cache.W_ih, cache.W_hh, cache.hs, cache.h0
    T, B, H = hs.shape
    D = x.shape[2]
    G = 3 * H
    dtype = hs.dtype
    dhs, carry = checks.incoming(fn, T, B, H, dtype, dhs, dhT=dhT)
    threshold = flush_threshold(dtype)
    dh_rec = np.zeros((B, H), dtype)
    zeros = np.zeros((B, H), dtype)
    n_chunk = min(T, CHUNK)
    dD = np.empty((n_chunk, B, G), dtype)
    dE = np.empty((n_chunk, B, G), dtype)
    db, db_ih = np.zeros(G, dtype), np.zeros(G, dtype)
    dW_hh, dW_ih = np.zeros((H, G), dtype), np.zeros((D, G), dtype)
    dW_part = np.empty((max(H, D), G), dtype)
    dx = np.empty((T, B, D), dtype)
    fuse = D == 1
    x_rows, w, dx_rows, dw = ((x.reshape(T, B), W_ih[0], dx.reshape(T, B), dW_ih[0]) if fuse
                              else (np.zeros((T, 1), dtype), db_ih, np.zeros((T, 1), dtype), db_ih))
    W_hh_T = np.ascontiguousarray(W_hh.T)
    W_ih_T = np.ascontiguousarray(W_ih.T)
    for t1 in range(T, 0, -CHUNK):
        t0 = max(t1 - CHUNK, 0)
        for t in range(t1 - 1, t0 - 1, -1):
            h_prev = hs[t - 1] if t > 0 else h0
            gru_step_backward(zeros if dhs is None else dhs[t], dh_rec, carry, cache.act[t], cache.e_n[t], h_prev,
                              dD[t - t0], dE[t - t0], db, threshold, fuse, x_rows[t], w, dx_rows[t], dw, db_ih)
            np.matmul(dE[t - t0], W_hh_T, out=dh_rec)
        n = t1 - t0
        add_matmul(dW_hh, dW_part[:H], previous_rows(hs, t0 - 1, t1 - 1, h0).T, dE[:n].reshape(n * B, G))
        if not fuse:
            dD2 = dD[:n].reshape(n * B, G)
            add_matmul(dW_ih, dW_part[:D], x[t0:t1].reshape(n * B, D).T, dD2)
            np.matmul(dD2, W_ih_T, out=dx[t0:t1].reshape(n * B, D))
    dh0 = dh_rec + carry
    grads = (dx, dW_ih, db_ih, dW_hh, db, dh0)
    flush_arrays(grads, threshold)
    return grads
