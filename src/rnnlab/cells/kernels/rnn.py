"""The vanilla RNN sequence kernel: forward over all steps, and BPTT written out, with per-step pointwise
work compiled by numba and the matrix products left to BLAS.

    h_t = phi(z_t),  z_t = x_t W_ih + h_{t-1} W_hh + b,   phi = tanh or relu        (B, H)

BPTT, from t = T-1 down to 0, with dh_t = dL/dh_t from the outputs plus dz_{t+1} W_hh^T:

    dz_t = dh_t * phi'(z_t),  phi' = 1 - h_t^2 (tanh) or [h_t > 0] (relu)
    dh_{t-1} += dz_t W_hh^T
    dW_ih = sum_t x_t^T dz_t,   dW_hh = sum_t h_{t-1}^T dz_t,   db = sum_{t,b} dz_t,   dx_t = dz_t W_ih^T

The orthogonal RNNs' cell (``modrelu_rnn_forward``) is the
same loop with phi = modReLU, which has a bias c (H,) of its own:

    h_t = modReLU(z_t) = sign(z_t) relu(|z_t| + c),   z_t = x_t W_ih + h_{t-1} W_hh + b
    dz_t = dh_t [h_t != 0],   dc = sum_{t,b} dz_t sign(h_t)

(h_t != 0 exactly where |z_t| + c > 0 and z_t != 0, and there sign(h_t) = sign(z_t): the backward needs
only hs, as for tanh and relu).

Speed: as the LSTM kernel: hoisted input projection (fused into the pointwise kernel when D = 1), one GEMM
and one compiled pointwise kernel per step, dW_hh and dW_ih as one GEMM each after the loop.
"""
from __future__ import annotations

import numpy as np

from . import checks
from .activations import flush, flush_arrays, flush_threshold, fused_input_row_backward, jit, tanh

NONLINEARITIES = ("tanh", "relu")
TANH, RELU, MODRELU = 0, 1, 2
"""The ``kind`` of pointwise function the step kernels apply (modReLU only through the orthogonal entries)."""


@jit
def rnn_step_forward(xw, hw, bias, x, w, fuse_input, kind, c, h):
    """h = phi(xw + hw + b), or phi(x[r] w + hw + b) when ``fuse_input`` (D = 1); phi by ``kind``: tanh,
    relu, or modReLU with its bias c (H,) (read for modReLU only).

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
        if kind == RELU:
            for j in range(H):
                h[r, j] = max(h[r, j], zero)
        elif kind == MODRELU:
            for j in range(H):
                z = h[r, j]
                m = max(abs(z) + c[j], zero)
                h[r, j] = m if z > zero else (-m if z < zero else z * m)   # z * m: 0 at 0, NaN stays NaN
        else:
            for j in range(H):
                h[r, j] = tanh(h[r, j])


@jit
def rnn_step_backward(dh_out, dh_rec, h, kind, dz, db, dc, threshold, fuse_input, x, w, dx, dw):
    """dz = (dh_out + dh_rec) * phi'(z) from h = phi(z), flushed; db += column sums of dz; for modReLU also
    dc (H,) += column sums of dz sign(h) (dc is not touched otherwise); when ``fuse_input`` (D = 1) also
    dx (B,) = dz w and dw (H,) += x^T dz. All (B, H) but the vectors."""
    B, H = h.shape
    one = h.dtype.type(1.0)
    zero = h.dtype.type(0.0)
    for r in range(B):
        if kind == RELU:
            for j in range(H):
                dz[r, j] = flush((dh_out[r, j] + dh_rec[r, j]) if h[r, j] > zero else zero, threshold)
        elif kind == MODRELU:
            for j in range(H):
                g = flush((dh_out[r, j] + dh_rec[r, j]) if h[r, j] != zero else zero, threshold)
                dz[r, j] = g
                dc[j] += g if h[r, j] > zero else -g
        else:
            for j in range(H):
                dz[r, j] = flush((dh_out[r, j] + dh_rec[r, j]) * (one - h[r, j] * h[r, j]), threshold)
        for j in range(H):
            db[j] += dz[r, j]
        if fuse_input:
            dx[r] = fused_input_row_backward(dz[r], x[r], w, dw)


class RNNCache:
    """What the backward passes need from a forward pass (c the modReLU
    bias, None for tanh and relu); it may serve several backward passes."""

    __slots__ = ("W_hh", "W_ih", "c", "h0", "hs", "kind", "x", "__weakref__")

    def __init__(self, x, W_ih, W_hh, h0, hs, kind, c=None):
        self.x, self.W_ih, self.W_hh, self.h0, self.hs, self.kind, self.c = x, W_ih, W_hh, h0, hs, kind, c


def step_kind(fn: str, nonlinearity) -> int:
    """The step kernels' ``kind`` for 'tanh' or 'relu'; a ValueError naming ``fn`` otherwise."""
    if nonlinearity not in NONLINEARITIES:
        raise ValueError(f"{fn}: nonlinearity must be one of {', '.join(map(repr, NONLINEARITIES))}, "
                         f"got {nonlinearity!r}")
    return RELU if nonlinearity == "relu" else TANH


def rnn_forward(x, W_ih, W_hh, b, h0, nonlinearity="tanh"):
    """Run the RNN over a sequence: x (T, B, D), W_ih (D, H), W_hh (H, H), b (H,), h0 (B, H), nonlinearity
    'tanh' or 'relu'. Returns (hs, cache): hs (T, B, H) every h_t (read-only: the cache holds it)."""
    fn = "rnn_forward"
    return _forward_from_x(fn, x, W_ih, W_hh, b, None, h0, step_kind(fn, nonlinearity))


def modrelu_rnn_forward(x, W_ih, W_hh, b, c, h0):
    """The orthogonal RNNs' cell over a sequence: h_t = modReLU(x_t W_ih + b + h_{t-1} W_hh), modReLU(z) =
    sign(z) relu(|z| + c); x (T, B, D), W_ih (D, H), W_hh (H, H) (the cell's B), b (H,), c (H,) the modReLU
    bias, h0 (B, H). Returns (hs (T, B, H) read-only, cache) for :func:`modrelu_rnn_backward`."""
    return _forward_from_x("modrelu_rnn_forward", x, W_ih, W_hh, b, c, h0, MODRELU)


def _forward_from_x(fn, x, W_ih, W_hh, b, c, h0, kind):
    x, W_ih, W_hh, b, states = checks.sequence_inputs(fn, 1, x, W_ih, W_hh, b, {"h0": h0})
    T, B, D = x.shape
    H = W_hh.shape[0]
    c = checks.vector(fn, "c", c, H, x, "x") if kind == MODRELU else None
    hs = np.empty((T, B, H), x.dtype)
    if D == 1:      # fused into the pointwise kernel
        return _forward(hs, x.reshape(T, B), W_ih[0], True, x, W_ih, W_hh, b, states["h0"], kind, c, hs)
    np.matmul(x.reshape(T * B, D), W_ih, out=hs.reshape(T * B, -1))
    return _forward(hs, np.zeros((T, 1), x.dtype), b, False, x, W_ih, W_hh, b, states["h0"], kind, c, hs)


def _forward(xw, x_rows, w, fuse, x, W_ih, W_hh, b, h0, kind, c, hs):
    hw = np.empty(h0.shape, h0.dtype)
    c_arg = b if c is None else c       # b stands in, unread, for tanh and relu
    h_prev = h0
    for t in range(hs.shape[0]):
        np.matmul(h_prev, W_hh, out=hw)
        rnn_step_forward(xw[t], hw, b, x_rows[t], w, fuse, kind, c_arg, hs[t])
        h_prev = hs[t]
    view = hs.view()
    view.flags.writeable = False
    return view, RNNCache(x, W_ih, W_hh, h0, hs, kind, c)


def rnn_backward(cache, dhs, dhT):
    """BPTT through a whole sequence. dhs (T, B, H) = dL/dh_t from the outputs (None: zero), dhT (B, H) =
    dL/dh_{T-1} from beyond the sequence (None: zero).

    Returns (dx (T, B, D), dW_ih (D, H), dW_hh (H, H), db (H,), dh0 (B, H)), every value of magnitude below
    ``flush_threshold(dtype)`` flushed to zero.
    """
    return _backward("rnn_backward", cache, dhs, dhT)


def modrelu_rnn_backward(cache, dhs, dhT):
    """BPTT of :func:`modrelu_rnn_forward`: dhs (T, B, H) and dhT (B, H) as :func:`rnn_backward` (None: zero).
    Returns (dx (T, B, D), dW_ih (D, H), dW_hh, db (H,), dc (H,), dh0), flushed."""
    return _backward("modrelu_rnn_backward", cache, dhs, dhT, modrelu=True)


def _backward(fn, cache, dhs, dhT, modrelu=False):
    if isinstance(cache, RNNCache) and (cache.kind == MODRELU) != modrelu:
        made = f"{'modrelu_rnn' if cache.kind == MODRELU else 'rnn'}_forward"
        raise TypeError(f"{fn}: this cache is from {made}; pass it to {made.replace('forward', 'backward')}")
    checks.cache_of(fn, cache, RNNCache, "modrelu_rnn" if modrelu else "rnn")
    x, W_ih, W_hh, hs = cache.x, cache.W_ih, cache.W_hh, cache.hs
    T, B, H = hs.shape
    D = x.shape[2]
    dtype = hs.dtype
    dhs, dh_rec = checks.incoming(fn, T, B, H, dtype, dhs, dhT=dhT)
    threshold = flush_threshold(dtype)
    zeros = np.zeros((B, H), dtype)
    dz = np.empty((T, B, H), dtype)
    db = np.zeros(H, dtype)
    dc = np.zeros(H, dtype) if modrelu else db     # db stands in, untouched, for tanh and relu
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
        rnn_step_backward(zeros if dhs is None else dhs[t], dh_rec, hs[t], cache.kind, dz[t], db, dc, threshold,
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
    grads = (dx, dW_ih, dW_hh, db, *((dc,) if modrelu else ()), dh_rec)
    flush_arrays(grads, threshold)
    return grads
