"""The vanilla RNN sequence kernel: forward over all steps, and BPTT written out, with per-step pointwise
work compiled by numba and the matrix products left to BLAS.

    h_t = phi(z_t),  z_t = x_t W_ih + h_{t-1} W_hh + b,   phi = tanh or relu        (B, H)

BPTT, from t = T-1 down to 0, with dh_t = dL/dh_t from the outputs plus dz_{t+1} W_hh^T:

    dz_t = dh_t * phi'(z_t),  phi' = 1 - h_t^2 (tanh) or [h_t > 0] (relu)
    dh_{t-1} += dz_t W_hh^T
    dW_ih = sum_t x_t^T dz_t,   dW_hh = sum_t h_{t-1}^T dz_t,   db = sum_{t,b} dz_t,   dx_t = dz_t W_ih^T

Speed: as the LSTM kernel: hoisted input projection (fused into the pointwise kernel when D = 1), one GEMM
and one compiled pointwise kernel per step, dW_hh and dW_ih as one GEMM each after the loop.
"""
from __future__ import annotations

import numpy as np

from . import checks
from .activations import flush, flush_arrays, flush_threshold, tanh
from .jit import jit

NONLINEARITIES = ("tanh", "relu")


@jit
def rnn_step_forward(xw, hw, bias, x, w, fuse_input, relu, h):
    """h = phi(xw + hw + b), or phi(x[r] w + hw + b) when ``fuse_input`` (D = 1).

    xw (B, H) the hoisted x_t W_ih (it may be ``h`` itself), hw (B, H) = h_{t-1} W_hh, bias, w (H,), x (B,).
    Rows are indexed, not sliced: a view per row costs reference counting.
    """
    B, H = hw.shape
    one = h.dtype.type(1.0)
    zero = h.dtype.type(0.0)
    for r in range(B):
        s = x[r] if fuse_input else one
        for j in range(H):
            h[r, j] = (s * w[j] if fuse_input else xw[r, j]) + hw[r, j] + bias[j]
        if relu:
            for j in range(H):
                h[r, j] = max(h[r, j], zero)
        else:
            for j in range(H):
                h[r, j] = tanh(h[r, j])


@jit
def rnn_step_backward(dh_out, dh_rec, h, relu, dz, db, threshold, fuse_input, x, w, dx, dw):
    """dz = (dh_out + dh_rec) * phi'(z) from h = phi(z), flushed; db += column sums of dz; when
    ``fuse_input`` (D = 1) also dx (B,) = dz w and dw (H,) += x^T dz. All (B, H) but the vectors."""
    B, H = h.shape
    one = h.dtype.type(1.0)
    zero = h.dtype.type(0.0)
    for r in range(B):
        if relu:
            for j in range(H):
                dz[r, j] = flush((dh_out[r, j] + dh_rec[r, j]) if h[r, j] > zero else zero, threshold)
        else:
            for j in range(H):
                dz[r, j] = flush((dh_out[r, j] + dh_rec[r, j]) * (one - h[r, j] * h[r, j]), threshold)
        for j in range(H):
            db[j] += dz[r, j]
        if fuse_input:
            total = zero
            for j in range(H):
                total += dz[r, j] * w[j]
            dx[r] = total
            for j in range(H):
                dw[j] += x[r] * dz[r, j]


class RNNCache:
    """What ``rnn_backward`` needs from ``rnn_forward`` (it may be used for several backward passes)."""

    __slots__ = ("W_hh", "W_ih", "h0", "hs", "relu", "x")

    def __init__(self, x, W_ih, W_hh, h0, hs, relu):
        self.x, self.W_ih, self.W_hh, self.h0, self.hs, self.relu = x, W_ih, W_hh, h0, hs, relu


def rnn_forward(x, W_ih, W_hh, b, h0, nonlinearity="tanh"):
    """Run the RNN over a sequence: x (T, B, D), W_ih (D, H), W_hh (H, H), b (H,), h0 (B, H), nonlinearity
    'tanh' or 'relu'. Returns (hs, cache): hs (T, B, H) every h_t (read-only: the cache holds it)."""
    fn = "rnn_forward"
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{fn}: nonlinearity must be one of {', '.join(map(repr, NONLINEARITIES))}, "
                         f"got {nonlinearity!r}")
    x, W_ih, W_hh, b, states = checks.sequence_inputs(fn, 1, x, W_ih, W_hh, b, {"h0": h0})
    h0 = states["h0"]
    T, B, D = x.shape
    H = W_hh.shape[0]
    dtype = x.dtype
    relu = nonlinearity == "relu"
    hs = np.empty((T, B, H), dtype)
    hw = np.empty((B, H), dtype)
    fuse = D == 1
    if fuse:
        x_rows, w = x.reshape(T, B), W_ih[0]
    else:
        np.matmul(x.reshape(T * B, D), W_ih, out=hs.reshape(T * B, H))
        x_rows, w = np.zeros((T, 1), dtype), b
    h_prev = h0
    for t in range(T):
        np.matmul(h_prev, W_hh, out=hw)
        rnn_step_forward(hs[t], hw, b, x_rows[t], w, fuse, relu, hs[t])
        h_prev = hs[t]
    view = hs.view()
    view.flags.writeable = False
    return view, RNNCache(x, W_ih, W_hh, h0, hs, relu)


def rnn_backward(cache, dhs, dhT):
    """BPTT through a whole sequence. dhs (T, B, H) = dL/dh_t from the outputs (None: zero), dhT (B, H) =
    dL/dh_{T-1} from beyond the sequence (None: zero).

    Returns (dx (T, B, D), dW_ih (D, H), dW_hh (H, H), db (H,), dh0 (B, H)), every value of magnitude below
    ``flush_threshold(dtype)`` flushed to zero.
    """
    fn = "rnn_backward"
    if not isinstance(cache, RNNCache):
        raise TypeError(f"{fn}: cache must be the RNNCache that rnn_forward returned, got {type(cache).__name__}")
    x, W_ih, W_hh, hs = cache.x, cache.W_ih, cache.W_hh, cache.hs
    T, B, D = x.shape
    H = W_hh.shape[0]
    dtype = x.dtype
    dhs = checks.output_gradient(fn, "dhs", dhs, (T, B, H), dtype, "(T, B, H)")
    dhT = checks.output_gradient(fn, "dhT", dhT, (B, H), dtype, "(B, H)")
    threshold = flush_threshold(dtype)
    dh_rec = np.zeros((B, H), dtype) if dhT is None else dhT.copy()
    zeros = np.zeros((B, H), dtype)
    dz = np.empty((T, B, H), dtype)
    db = np.zeros(H, dtype)
    fuse = D == 1
    if fuse:
        x_rows, w = x.reshape(T, B), W_ih[0]
        dx = np.empty((T, B, 1), dtype)
        dx_rows, dw = dx.reshape(T, B), np.zeros(H, dtype)
    else:
        x_rows = dx_rows = np.zeros((T, 1), dtype)
        w = dw = db
    W_hh_T = np.ascontiguousarray(W_hh.T)    # BLAS was up to 2x slower on the transposed view
    for t in range(T - 1, -1, -1):
        rnn_step_backward(zeros if dhs is None else dhs[t], dh_rec, hs[t], cache.relu, dz[t], db, threshold,
                          fuse, x_rows[t], w, dx_rows[t], dw)
        np.matmul(dz[t], W_hh_T, out=dh_rec)
    dW_hh = cache.h0.T @ dz[0]
    if T > 1:
        dW_hh += hs[:-1].reshape((T - 1) * B, H).T @ dz[1:].reshape((T - 1) * B, H)
    if fuse:
        dW_ih = dw.reshape(1, H)
    else:
        dz2 = dz.reshape(T * B, H)
        dW_ih = x.reshape(T * B, D).T @ dz2
        dx = (dz2 @ W_ih.T).reshape(T, B, D)
    grads = (dx, dW_ih, dW_hh, db, dh_rec)
    flush_arrays(grads, threshold)
    return grads
