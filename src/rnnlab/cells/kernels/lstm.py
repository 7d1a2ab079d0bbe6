"""The LSTM sequence kernel: forward over all steps, and BPTT written out, with per-step pointwise work
compiled by numba and the matrix products left to BLAS.

Gate order i, f, g, o (columns [0:H], [H:2H], [2H:3H], [3H:4H] of W_ih, W_hh and b):

    z_t = x_t W_ih + h_{t-1} W_hh + b                       (B, 4H)
    i = sigma(z_i),  f = sigma(z_f),  g = tanh(z_g),  o = sigma(z_o)
    c_t = f * c_{t-1} + i * g,      h_t = o * tanh(c_t)      (B, H)

BPTT, from t = T-1 down to 0, with dh_t = dL/dh_t from the outputs plus dz_{t+1} W_hh^T:

    dc_t += dh_t * o * (1 - tanh(c_t)^2)          (dc_t arrives from step t+1 as dL/dc_t through c_{t+1})
    dz_o = dh_t * tanh(c_t) * o (1 - o),   dz_i = dc_t * g * i (1 - i)
    dz_g = dc_t * i * (1 - g^2),           dz_f = dc_t * c_{t-1} * f (1 - f)
    dc_{t-1} = dc_t * f,                   dh_{t-1} += dz_t W_hh^T
    dW_ih = sum_t x_t^T dz_t,   dW_hh = sum_t h_{t-1}^T dz_t,   db = sum_{t,b} dz_t,   dx_t = dz_t W_ih^T

Speed: the input projection of all steps is one GEMM before the loop (or, when D = 1, a multiply fused
into the pointwise kernel); each step is one GEMM plus one compiled pointwise kernel; the weight gradients
are GEMMs over CHUNK steps at a time, while that chunk's dz is still in cache (memory bandwidth, not
arithmetic, was what a (T, B, 4H) dz written out and read back cost); buffers are allocated once per call,
and the two largest are reused from one call to the next (``buffers.py``).
"""
from __future__ import annotations

import numpy as np

from . import buffers, checks
from .activations import flush, flush_arrays, flush_threshold, fused_input_row_backward, jit, sigmoid, tanh

CHUNK = 8
"""Backward steps per weight-gradient GEMM: their dz (CHUNK x B x 4H, 2 MiB at B = H = 128 in float32) is
still in cache when dW_hh += h^T dz runs, instead of a (T, B, 4H) dz written out and read back once."""


@jit
def lstm_step_forward(xw, hw, bias, x, w, fuse_input, c_prev, act, c, h):
    """One step's pointwise work: z = xw + hw + b, or z = x[r] w + hw + b when ``fuse_input`` (D = 1).

    xw (B, 4H) is the hoisted input projection x_t W_ih (it may be ``act`` itself), hw (B, 4H) =
    h_{t-1} W_hh, bias and w (4H,), x (B,). Writes act (B, 4H) = [i, f, g, o], c and h (B, H).
    """
    B, G = hw.shape
    H = G // 4
    one = act.dtype.type(1.0)
    # gates addressed as [row, gate, unit] so that every loop runs over j = 0..H-1 of one gate (this
    # vectorizes), without slicing views per row (their reference counting cost ~40% of the kernel)
    a3, h3, p3 = act.reshape(B, 4, H), hw.reshape(B, 4, H), xw.reshape(B, 4, H)
    b2, w2 = bias.reshape(4, H), w.reshape(4, H)
    for r in range(B):
        s, p = (x[r], w2) if fuse_input else (one, p3[r])    # z = s * p + hw + b on both paths
        for j in range(H):
            a3[r, 0, j] = sigmoid(s * p[0, j] + h3[r, 0, j] + b2[0, j])
        for j in range(H):
            a3[r, 1, j] = sigmoid(s * p[1, j] + h3[r, 1, j] + b2[1, j])
        for j in range(H):
            a3[r, 2, j] = tanh(s * p[2, j] + h3[r, 2, j] + b2[2, j])
        for j in range(H):
            a3[r, 3, j] = sigmoid(s * p[3, j] + h3[r, 3, j] + b2[3, j])
        for j in range(H):
            c[r, j] = a3[r, 1, j] * c_prev[r, j] + a3[r, 0, j] * a3[r, 2, j]
        for j in range(H):
            h[r, j] = a3[r, 3, j] * tanh(c[r, j])


@jit
def lstm_step_backward(dh_out, dh_rec, act, c, c_prev, dc, dz, db, threshold, fuse_input, x, w, dx, dw, tc_row):
    """One step of BPTT's pointwise work (equations in the module docstring), flushing tiny values.

    dh_out (B, H) dL/dh_t from the outputs; dh_rec (B, H) = dz_{t+1} W_hh^T; act (B, 4H) [i, f, g, o];
    c, c_prev (B, H); dc (B, H) dL/dc_t on entry, dL/dc_{t-1} on exit; writes dz (B, 4H); db (4H,) += the
    column sums of dz. When ``fuse_input`` (D = 1): dx (B,) = dz w and dw (4H,) += x^T dz. tc_row (H,) scratch.
    """
    B, H = c.shape
    one = tc_row.dtype.type(1.0)
    a3 = act.reshape(B, 4, H)
    z3 = dz.reshape(B, 4, H)
    for r in range(B):
        for j in range(H):
            tc_row[j] = tanh(c[r, j])
        for j in range(H):
            dh = flush(dh_out[r, j] + dh_rec[r, j], threshold)
            o = a3[r, 3, j]
            dc[r, j] += dh * o * (one - tc_row[j] * tc_row[j])
            z3[r, 3, j] = flush(dh * tc_row[j] * o * (one - o), threshold)
        for j in range(H):    # one output per loop: two stores into one array stop vectorization
            i = a3[r, 0, j]
            z3[r, 0, j] = flush(dc[r, j] * a3[r, 2, j] * i * (one - i), threshold)
        for j in range(H):
            g = a3[r, 2, j]
            z3[r, 2, j] = flush(dc[r, j] * a3[r, 0, j] * (one - g * g), threshold)
        for j in range(H):
            f = a3[r, 1, j]
            z3[r, 1, j] = flush(dc[r, j] * c_prev[r, j] * f * (one - f), threshold)
        for j in range(H):
            dc[r, j] = flush(dc[r, j] * a3[r, 1, j], threshold)
        for j in range(4 * H):
            db[j] += dz[r, j]
        if fuse_input:
            dx[r] = fused_input_row_backward(dz[r], x[r], w, dw)


class LSTMCache:
    """What the backward passes need from a forward pass: the inputs x and W_ih, the
    gates (T, B, 4H) = [i, f, g, o], the cell states and the hidden states hs (T, B, H). The gate and
    cell-state buffers are private: when the cache is freed they go back to :mod:`.buffers`."""

    __slots__ = ("W_hh", "W_ih", "_act", "_cs", "c0", "h0", "hs", "x", "__weakref__")

    def __init__(self, x, W_ih, W_hh, h0, c0, act, cs, hs):
        self.x, self.W_ih, self.W_hh, self.h0, self.c0 = x, W_ih, W_hh, h0, c0
        self._act, self._cs, self.hs = act, cs, hs

    def __del__(self, give=buffers.give):
        # the gates and cell states were never handed out (c_T is a copy): the next forward may reuse them
        try:
            give(self._act, self._cs)
        except (AttributeError, TypeError):  # interpreter shutdown: module state already torn down
            pass


def read_only(a: np.ndarray) -> np.ndarray:
    """A read-only view of ``a`` (the kernels return their caches' arrays this way)."""
    view = a.view()
    view.flags.writeable = False
    return view


def lstm_forward(x, W_ih, W_hh, b, h0, c0):
    """Run the LSTM over a sequence: x (T, B, D), W_ih (D, 4H), W_hh (H, 4H), b (4H,), h0, c0 (B, H).

    Returns (hs, c_T, cache): hs (T, B, H) every h_t (read-only: the cache holds it), c_T (B, H) the final
    cell state, and the cache for :func:`lstm_backward`. float32 or float64, one dtype for all.
    """
    x, W_ih, W_hh, b, states = checks.sequence_inputs("lstm_forward", 4, x, W_ih, W_hh, b, {"h0": h0, "c0": c0})
    T, B, D = x.shape
    act = buffers.take((T, B, W_hh.shape[1]), x.dtype)
    if D == 1:      # fused into the pointwise kernel
        return _forward(act, x.reshape(T, B), W_ih[0], True, x, W_ih, W_hh, b, states)
    np.matmul(x.reshape(T * B, D), W_ih, out=act.reshape(T * B, -1))
    return _forward(act, np.zeros((T, 1), x.dtype), b, False, x, W_ih, W_hh, b, states)


def _forward(xw, x_rows, w, fuse, x, W_ih, W_hh, b, states):
    """The time loop: z_t = xw_t + h_{t-1} W_hh + b, or x_rows[t] w + ... when ``fuse``; the gates go into xw."""
    h0, c0 = states["h0"], states["c0"]
    T, B = x_rows.shape[0], h0.shape[0]
    H = W_hh.shape[0]
    dtype = h0.dtype
    act = xw
    cs = buffers.take((T, B, H), dtype)
    hs = np.empty((T, B, H), dtype)
    hw = np.empty((B, 4 * H), dtype)
    h_prev, c_prev = h0, c0
    for t in range(T):
        np.matmul(h_prev, W_hh, out=hw)
        lstm_step_forward(xw[t], hw, b, x_rows[t], w, fuse, c_prev, act[t], cs[t], hs[t])
        h_prev, c_prev = hs[t], cs[t]
    return read_only(hs), cs[T - 1].copy(), LSTMCache(x, W_ih, W_hh, h0, c0, act, cs, hs)


def lstm_backward(cache, dhs, dhT, dcT):
    """BPTT through a whole sequence. dhs (T, B, H) = dL/dh_t from the outputs (None: zero), dhT, dcT (B, H)
    = dL/dh_{T-1}, dL/dc_{T-1} from beyond the sequence (None: zero).

    Returns (dx (T, B, D), dW_ih (D, 4H), dW_hh (H, 4H), db (4H,), dh0 (B, H), dc0 (B, H)), every value of
    magnitude below ``flush_threshold(dtype)`` flushed to zero. The cache is not modified (it may serve
    several backward passes).
    """
    fn = "lstm_backward"
    checks.cache_of(fn, cache, LSTMCache, "lstm")
    x, W_ih, W_hh, act, cs, hs, h0 = cache.x, cache.W_ih, cache.W_hh, cache._act, cache._cs, cache.hs, cache.h0
    T, B, H = hs.shape
    D = x.shape[2]
    G = 4 * H
    dtype = hs.dtype
    dhs, dh_rec, dc = checks.incoming(fn, T, B, H, dtype, dhs, dhT=dhT, dcT=dcT)
    threshold = flush_threshold(dtype)
    zeros = np.zeros((B, H), dtype)
    db = np.zeros(G, dtype)
    dW_hh = np.zeros((H, G), dtype)
    dW_ih = np.zeros((D, G), dtype)
    dW_part = np.empty((max(H, D), G), dtype)
    dz = np.empty((min(T, CHUNK), B, G), dtype)     # one chunk's dz at a time
    tc_row = np.empty(H, dtype)
    dx = np.empty((T, B, D), dtype)
    fuse = D == 1
    if fuse:
        x_rows, w, dx_rows, dw = x.reshape(T, B), W_ih[0], dx.reshape(T, B), dW_ih[0]
    else:
        x_rows = dx_rows = np.zeros((T, 1), dtype)
        w = dw = db
    W_hh_T = np.ascontiguousarray(W_hh.T)    # BLAS was up to 2x slower on the transposed view
    W_ih_T = np.ascontiguousarray(W_ih.T)
    for t1 in range(T, 0, -CHUNK):
        t0 = max(t1 - CHUNK, 0)
        for t in range(t1 - 1, t0 - 1, -1):
            c_prev = cs[t - 1] if t > 0 else cache.c0
            dz_t = dz[t - t0]
            lstm_step_backward(zeros if dhs is None else dhs[t], dh_rec, act[t], cs[t], c_prev, dc, dz_t, db,
                               threshold, fuse, x_rows[t], w, dx_rows[t], dw, tc_row)
            np.matmul(dz_t, W_hh_T, out=dh_rec)
        # the chunk's dz is still in cache: its weight gradients now, as GEMMs over (t1 - t0) * B rows
        n = t1 - t0
        dz2 = dz[:n].reshape(n * B, G)
        add_matmul(dW_hh, dW_part[:H], previous_rows(hs, t0 - 1, t1 - 1, h0).T, dz2)
        if not fuse:
            add_matmul(dW_ih, dW_part[:D], x[t0:t1].reshape(n * B, D).T, dz2)
            np.matmul(dz2, W_ih_T, out=dx[t0:t1].reshape(n * B, D))
    grads = (dx, dW_ih, dW_hh, db, dh_rec, dc)
    flush_arrays(grads, threshold)
    return grads


def previous_rows(hs, start, stop, h0):
    """h_{start}, ..., h_{stop-1} as one (rows, H) array, h_{-1} being h0 (a view unless start = -1)."""
    if start >= 0:
        return hs[start:stop].reshape(-1, hs.shape[2])
    return np.concatenate([h0, hs[:stop].reshape(-1, hs.shape[2])], axis=0)


def add_matmul(out, part, a, b):
    """out += a @ b, through the preallocated ``part`` (same shape as out)."""
    np.matmul(a, b, out=part)
    out += part
