"""The momentum cells' sequence kernels: the momentum rule run inside the core's time loop (LSTM or plain
RNN), one step at a time, so that no (T, B, G) drive or gradient array is written out and read back between
the rule and the core.

With a_t = x_t W_ih + b_ih (B, G), G = 4H for the LSTM and H for the RNN (the projection fused into the
step when D = 1):

    heavy ball (Momentum, Nesterov):  v_t = mu_t v_{t-1} + s a_t;                       drive_t = v_t
    Adam (RMSProp: mu = 0):           v_t = mu v_{t-1} + s a_t;  m_t = beta m_{t-1} + (1 - beta) a_t^2;
                                      drive_t = v_t r_t,  r_t = (m_t + eps)^(-1/2)
    z_t = drive_t + h_{t-1} W_hh + b_hh, then the core's step: the LSTM step of ``lstm.py``, or
    h_t = phi(z_t) (``rnn.py``, phi = tanh or relu, or modReLU with its bias c for the orthogonal cells)

BPTT, t = T-1 down to 0: the core's step gives g_t = dL/ddrive_t = dz_t, then, with carries
dv' = mu_{t+1} dv_{t+1} (dL/dv_T at the start) and dm' = beta dm_{t+1}:

    heavy ball:  dv = dv' + g_t;          dA_t = s dv;                                  dv' = mu_t dv
    Adam:        dv = dv' + g_t r_t;      dm = dm' - g_t v_t r_t^3 / 2;
                 dA_t = s dv + 2 (1 - beta) a_t dm;                                     dv' = mu dv, dm' = beta dm

and dx_t = dA_t W_ih^T, dW_ih = sum_t x_t^T dA_t, db_ih = sum dA_t (per step when D = 1, else GEMMs over
``CHUNK`` steps); dW_hh and db_hh from dz as in the core's own kernel. The rule adds one pass over a (B, G)
block per step, which stays in cache. The heavy ball's backward needs nothing beyond the core's own cache.
Adam's needs v_t and r_t: instead of two (T, B, G) arrays written in the forward and read back (memory
traffic that cost more than the arithmetic), the forward keeps (v, m) at the start of each backward chunk
and the backward recomputes the chunk's v_t, r_t from there (the rule is pointwise and cheap; the chunk
stays in cache). Every backward value is flushed below ``flush_threshold``.

One time loop (``_forward``, ``_backward``) serves both cores; what differs, the core's step and what it
keeps for BPTT, is in ``LSTMSteps`` and ``RNNSteps``. They call the cores' step kernels with fuse_input
False (z = drive + h W_hh + b_hh: the projection is the rule's), so the kernels' own projection arguments
get placeholders of the right type.
"""
from __future__ import annotations

import numpy as np

from . import buffers, checks
from .activations import flush, flush_arrays, flush_threshold, fused_input_row_backward, jit
from .lstm import CHUNK, add_matmul, lstm_step_backward, lstm_step_forward, previous_rows, read_only
from .rnn import MODRELU, rnn_step_backward, rnn_step_forward, step_kind


@jit
def rule_step_forward(x, w, xw, fuse, b_ih, mu, s, adam, beta, eps, v, m, keep, V, R, drive):
    """One step of the rule on a = x[r] w + b_ih (``fuse``, D = 1) or a = xw + b_ih: updates v (B, G) (and m).
    The heavy ball's drive is v itself. Adam writes drive = v r (r = 1 / sqrt(m + eps)), or, when ``keep``
    (the backward's recompute of a chunk), V = v and R = r instead; one pass over each row either way."""
    B, G = v.shape
    one = v.dtype.type(1.0)
    for r in range(B):
        p, q = (x[r], w) if fuse else (one, xw[r])      # a = p * q + b_ih on both paths
        if adam and keep:
            for j in range(G):
                a = p * q[j] + b_ih[j]
                vj = mu * v[r, j] + s * a
                mj = beta * m[r, j] + (one - beta) * (a * a)
                v[r, j], m[r, j] = vj, mj
                V[r, j] = vj
                R[r, j] = one / np.sqrt(mj + eps)
        elif adam:
            for j in range(G):
                a = p * q[j] + b_ih[j]
                vj = mu * v[r, j] + s * a
                mj = beta * m[r, j] + (one - beta) * (a * a)
                v[r, j], m[r, j] = vj, mj
                drive[r, j] = vj / np.sqrt(mj + eps)
        else:
            for j in range(G):
                v[r, j] = mu * v[r, j] + s * (p * q[j] + b_ih[j])


@jit
def rule_step_backward(dz, x, w, xw, fuse, b_ih, mu, s, adam, beta, V, R, dv, dm, dA, db_ih, dx, dw, threshold):
    """One step of the rule's BPTT (module docstring) from dz (B, G) = dL/ddrive_t: updates the carries dv, dm
    (B, G), writes dA (B, G), adds to db_ih (G,) and, when ``fuse``, writes dx (B,) and adds to dw (G,)."""
    B, G = dz.shape
    one = dz.dtype.type(1.0)
    half = dz.dtype.type(0.5)
    two = dz.dtype.type(2.0)
    for r in range(B):
        if adam:
            p, q = (x[r], w) if fuse else (one, xw[r])
            for j in range(G):
                g, rr = dz[r, j], R[r, j]
                d_v = dv[r, j] + g * rr
                d_m = dm[r, j] - half * g * V[r, j] * rr * rr * rr
                d_a = flush(s * d_v + two * (one - beta) * (p * q[j] + b_ih[j]) * d_m, threshold)
                dA[r, j] = d_a
                db_ih[j] += d_a
                dv[r, j] = flush(mu * d_v, threshold)
                dm[r, j] = flush(beta * d_m, threshold)
        else:
            for j in range(G):
                d_v = dv[r, j] + dz[r, j]
                d_a = flush(s * d_v, threshold)
                dA[r, j] = d_a
                db_ih[j] += d_a
                dv[r, j] = flush(mu * d_v, threshold)
        if fuse:
            dx[r] = fused_input_row_backward(dA[r], x[r], w, dw)


class LSTMSteps:
    """The LSTM core in the rule's loop: keeps the gates (T, B, 4H) and the cell states (T, B, H), in buffers
    that go back to :mod:`.buffers` with the cache; carries dc through the backward."""

    gates, family, final_names = 4, "momentum_lstm", ("dcT",)

    def __init__(self, T, B, H, dtype, c0):
        self.act, self.cs, self.c0 = buffers.take((T, B, 4 * H), dtype), buffers.take((T, B, H), dtype), c0
        self.tc_row = np.empty(H, dtype)        # the backward's scratch row of tanh(c)

    def forward(self, t, drive, hw, b_hh, hs):
        c_prev = self.cs[t - 1] if t > 0 else self.c0
        lstm_step_forward(drive, hw, b_hh, drive[0], b_hh, False, c_prev, self.act[t], self.cs[t], hs[t])

    def finals(self):
        return (self.cs[-1].copy(),)

    def param_grads(self, H, dtype):
        """Zeros for the gradients of the core's own parameters beyond W_hh and b_hh: none."""
        return ()

    def backward(self, t, dh_out, dh_rec, dz_t, db_hh, threshold, hs, carries, param_grads):
        c_prev = self.cs[t - 1] if t > 0 else self.c0
        lstm_step_backward(dh_out, dh_rec, self.act[t], self.cs[t], c_prev, carries[0], dz_t, db_hh, threshold,
                           False, dh_out[0], db_hh, dh_out[0], db_hh, self.tc_row)

    def release(self, give=buffers.give):
        give(self.act, self.cs)


class RNNSteps:
    """The plain RNN core in the rule's loop, h_t = phi(z_t): keeps nothing beyond hs. For modReLU (the
    orthogonal cells) it holds the bias c (H,), whose gradient is the one core parameter beyond W_hh, b_hh."""

    gates, final_names = 1, ()

    def __init__(self, kind, c=None):
        self.kind, self.c = kind, c
        self.family = "momentum_modrelu_rnn" if kind == MODRELU else "momentum_rnn"

    def forward(self, t, drive, hw, b_hh, hs):
        rnn_step_forward(drive, hw, b_hh, drive[0], b_hh, False, self.kind, b_hh if self.c is None else self.c,
                         hs[t])

    def finals(self):
        return ()

    def param_grads(self, H, dtype):
        """Zeros for dc (modReLU), or nothing."""
        return (np.zeros(H, dtype),) if self.kind == MODRELU else ()

    def backward(self, t, dh_out, dh_rec, dz_t, db_hh, threshold, hs, carries, param_grads):
        dc = param_grads[0] if param_grads else db_hh     # db_hh stands in, untouched, for tanh and relu
        rnn_step_backward(dh_out, dh_rec, hs[t], self.kind, dz_t, db_hh, dc, threshold, False, dh_out[0], db_hh,
                          dh_out[0], db_hh)

    def release(self):
        pass


class MomentumCache:
    """What the backward needs: the inputs, the rule's coefficients, hs (T, B, H), the core's steps (with what
    they keep), and for Adam (v, m) at the start of each backward chunk (``starts`` (n,), ``v_at``, ``m_at``
    (n, B, G)), eps and, when D > 1, the projection xw. The core's buffers are released with the cache."""

    __slots__ = ("W_hh", "W_ih", "adam", "b_ih", "beta", "core", "eps", "h0", "hs", "m_at", "mus", "s", "starts",
                 "v_at", "x", "xw", "__weakref__")

    def __del__(self):
        try:
            self.core.release()
        except (AttributeError, TypeError):  # interpreter shutdown: module state already torn down
            pass


def momentum_lstm_forward(x, W_ih, b_ih, W_hh, b_hh, h0, c0, v0, mus, s, m0=None, beta=0.9, eps=1e-8):
    """Run a momentum LSTM over x (T, B, D): W_ih (D, 4H), b_ih (4H,) (inside the momentum), W_hh (H, 4H),
    b_hh (4H,) (outside it), h0, c0 (B, H), v0 (B, 4H); mus (T,) the coefficient mu_t of each step; s > 0.
    With m0 (B, 4H) given, the Adam rule with ``beta`` and ``eps`` (RMSProp: mus all 0); else the heavy ball.

    Returns (hs (T, B, H) read-only, c_T, v_T, m_T (None for the heavy ball), cache).
    """
    fn = "momentum_lstm_forward"
    x, W_ih, W_hh, b_hh, states = checks.sequence_inputs(fn, 4, x, W_ih, W_hh, b_hh, {"h0": h0, "c0": c0})
    T, B, _ = x.shape
    core = LSTMSteps(T, B, W_hh.shape[0], x.dtype, states["c0"])
    hs, finals, v, m, cache = _forward(fn, core, x, W_ih, b_ih, W_hh, b_hh, states["h0"], v0, mus, s, m0, beta, eps)
    return (hs, *finals, v, m, cache)


def momentum_rnn_forward(x, W_ih, b_ih, W_hh, b_hh, h0, v0, mus, s, m0=None, beta=0.9, eps=1e-8,
                         nonlinearity="tanh"):
    """Run a momentum RNN over x (T, B, D): h_t = phi(drive_t + h_{t-1} W_hh + b_hh), W_ih (D, H), b_ih (H,)
    (inside the momentum), W_hh (H, H), b_hh (H,), h0 (B, H), v0 (B, H); mus, s, m0, beta, eps as
    :func:`momentum_lstm_forward`; nonlinearity 'tanh' or 'relu'.

    Returns (hs (T, B, H) read-only, v_T, m_T (None for the heavy ball), cache).
    """
    fn = "momentum_rnn_forward"
    core = RNNSteps(step_kind(fn, nonlinearity))
    x, W_ih, W_hh, b_hh, states = checks.sequence_inputs(fn, 1, x, W_ih, W_hh, b_hh, {"h0": h0})
    hs, _, v, m, cache = _forward(fn, core, x, W_ih, b_ih, W_hh, b_hh, states["h0"], v0, mus, s, m0, beta, eps)
    return hs, v, m, cache


def momentum_modrelu_rnn_forward(x, W_ih, b_ih, W_hh, b_hh, c, h0, v0, mus, s, m0=None, beta=0.9, eps=1e-8):
    """Run a momentum orthogonal RNN over x (T, B, D): h_t = modReLU(drive_t + h_{t-1} W_hh + b_hh), modReLU(z)
    = sign(z) relu(|z| + c), c (H,); the other arguments as :func:`momentum_rnn_forward` (W_hh is the cell's B).

    Returns (hs (T, B, H) read-only, v_T, m_T (None for the heavy ball), cache).
    """
    fn = "momentum_modrelu_rnn_forward"
    x, W_ih, W_hh, b_hh, states = checks.sequence_inputs(fn, 1, x, W_ih, W_hh, b_hh, {"h0": h0})
    core = RNNSteps(MODRELU, checks.vector(fn, "c", c, W_hh.shape[0], x, "x"))
    hs, _, v, m, cache = _forward(fn, core, x, W_ih, b_ih, W_hh, b_hh, states["h0"], v0, mus, s, m0, beta, eps)
    return hs, v, m, cache


def _forward(fn, core, x, W_ih, b_ih, W_hh, b_hh, h0, v0, mus, s, m0, beta, eps):
    """The time loop of both cores (inputs already checked but the rule's)."""
    T, B, D = x.shape
    G = W_hh.shape[1]
    dtype = x.dtype
    width = "4H" if core.gates == 4 else "H"
    b_ih = _rule_array(fn, "b_ih", b_ih, (G,), dtype, f"({width},)")
    v = _rule_array(fn, "v0", v0, (B, G), dtype, f"(B, {width})").copy()
    adam = m0 is not None
    m = _rule_array(fn, "m0", m0, (B, G), dtype, f"(B, {width})").copy() if adam else np.zeros((1, 1), dtype)
    mus = _rule_array(fn, "mus", np.asarray(mus, dtype=dtype), (T,), dtype, f"(T,) = ({T},)")
    c = dtype.type
    cache = MomentumCache()
    cache.core, cache.x, cache.W_ih, cache.b_ih, cache.W_hh, cache.h0 = core, x, W_ih, b_ih, W_hh, h0
    cache.mus, cache.s, cache.adam, cache.beta, cache.eps = mus, c(s), adam, c(beta), c(eps)
    fuse = D == 1
    x_rows, w = (x.reshape(T, B), W_ih[0]) if fuse else (np.zeros((T, 1), dtype), b_ih)
    xw = None if fuse else np.matmul(x.reshape(T * B, D), W_ih).reshape(T, B, G)
    cache.xw = xw if adam else None      # only Adam's backward reads a_t
    hs = cache.hs = np.empty((T, B, W_hh.shape[0]), dtype)
    cache.starts = starts = chunk_starts(T)
    cache.v_at = cache.m_at = None
    if adam:
        cache.v_at, cache.m_at = np.empty((len(starts), B, G), dtype), np.empty((len(starts), B, G), dtype)
    none2 = np.zeros((1, 1), dtype)
    drive = np.empty((B, G), dtype) if adam else v      # the forward keeps no v_t, r_t (the backward recomputes)
    hw = np.empty((B, G), dtype)
    h_prev = h0
    k = 0
    for t in range(T):
        if adam and k < len(starts) and t == starts[k]:
            cache.v_at[k], cache.m_at[k] = v, m
            k += 1
        rule_step_forward(x_rows[t], w, none2 if fuse else xw[t], fuse, b_ih, mus[t], c(s), adam, c(beta),
                          c(eps), v, m, False, none2, none2, drive)
        np.matmul(h_prev, W_hh, out=hw)
        core.forward(t, drive, hw, b_hh, hs)
        h_prev = hs[t]
    return read_only(hs), core.finals(), v, m if adam else None, cache


def momentum_lstm_backward(cache, dhs, dhT, dcT, dvT, dmT=None):
    """BPTT of :func:`momentum_lstm_forward`: dhs (T, B, H), dhT, dcT (B, H), dvT (and dmT for Adam) (B, 4H)
    the gradients of the outputs and final states (None: zero).

    Returns (dx (T, B, D), dW_ih, db_ih, dW_hh, db_hh, dh0, dc0, dv0, dm0 (None for the heavy ball)), flushed.
    The cache is not modified.
    """
    return _backward("momentum_lstm_backward", LSTMSteps, cache, dhs, dhT, (dcT,), dvT, dmT)


def momentum_rnn_backward(cache, dhs, dhT, dvT, dmT=None):
    """BPTT of :func:`momentum_rnn_forward`: dhs (T, B, H), dhT (B, H), dvT (and dmT for Adam) (B, H) the
    gradients of the outputs and final states (None: zero).

    Returns (dx (T, B, D), dW_ih, db_ih, dW_hh, db_hh, dh0, dv0, dm0 (None for the heavy ball)), flushed.
    The cache is not modified.
    """
    return _backward("momentum_rnn_backward", RNNSteps, cache, dhs, dhT, (), dvT, dmT)


def momentum_modrelu_rnn_backward(cache, dhs, dhT, dvT, dmT=None):
    """BPTT of :func:`momentum_modrelu_rnn_forward`, gradients as :func:`momentum_rnn_backward`.

    Returns (dx (T, B, D), dW_ih, db_ih, dW_hh, db_hh, dc (H,), dh0, dv0, dm0 (None for the heavy ball)),
    flushed. The cache is not modified.
    """
    return _backward("momentum_modrelu_rnn_backward", RNNSteps, cache, dhs, dhT, (), dvT, dmT)


def _backward(fn, kind, cache, dhs, dhT, dcore, dvT, dmT):
    family = fn[:-len("_backward")]     # each backward is named {family}_backward after its forward
    if not isinstance(cache, MomentumCache) or not isinstance(cache.core, kind) or cache.core.family != family:
        raise TypeError(f"{fn}: cache must be the MomentumCache that {family}_forward returned, got "
                        f"{type(cache).__name__}" + (f" from {cache.core.family}_forward"
                                                      if isinstance(cache, MomentumCache) else ""))
    core, x, W_ih, W_hh, hs = cache.core, cache.x, cache.W_ih, cache.W_hh, cache.hs
    T, B, H = hs.shape
    D, G, dtype = x.shape[2], W_hh.shape[1], hs.dtype
    width = "4H" if core.gates == 4 else "H"
    dhs, dh_rec, *carries = checks.incoming(fn, T, B, H, dtype, dhs, dhT=dhT,
                                            **dict(zip(core.final_names, dcore)))
    dv = _carry(fn, "dvT", dvT, (B, G), dtype, width)
    dm = _carry(fn, "dmT", dmT, (B, G), dtype, width) if cache.adam else np.zeros((1, 1), dtype)
    threshold = flush_threshold(dtype)
    zeros = np.zeros((B, H), dtype)
    none2 = np.zeros((1, 1), dtype)
    db_hh, db_ih = np.zeros(G, dtype), np.zeros(G, dtype)
    param_grads = core.param_grads(H, dtype)
    dW_hh, dW_ih = np.zeros((H, G), dtype), np.zeros((D, G), dtype)
    dW_part = np.empty((max(H, D), G), dtype)
    n_chunk = min(T, CHUNK)
    dz, dA = np.empty((n_chunk, B, G), dtype), np.empty((n_chunk, B, G), dtype)
    dx = np.empty((T, B, D), dtype)
    fuse = D == 1
    x_rows, w, dx_rows, dw = ((x.reshape(T, B), W_ih[0], dx.reshape(T, B), dW_ih[0]) if fuse
                              else (np.zeros((T, 1), dtype), db_ih, np.zeros((T, 1), dtype), db_ih))
    W_hh_T = np.ascontiguousarray(W_hh.T)
    W_ih_T = np.ascontiguousarray(W_ih.T)
    xw = cache.xw
    V, R = (np.empty((n_chunk, B, G), dtype), np.empty((n_chunk, B, G), dtype)) if cache.adam else (none2, none2)
    k = len(cache.starts)
    for t1 in range(T, 0, -CHUNK):
        t0 = max(t1 - CHUNK, 0)
        k -= 1
        if cache.adam:      # this chunk's v_t, r_t again, from (v, m) before its first step
            _recompute(cache, k, t0, t1, x_rows, w, xw, fuse, V, R)
        for t in range(t1 - 1, t0 - 1, -1):
            dz_t, dA_t = dz[t - t0], dA[t - t0]
            core.backward(t, zeros if dhs is None else dhs[t], dh_rec, dz_t, db_hh, threshold, hs, carries,
                          param_grads)
            rule_step_backward(dz_t, x_rows[t], w, none2 if fuse or not cache.adam else xw[t], fuse, cache.b_ih,
                               cache.mus[t], cache.s, cache.adam, cache.beta, V[t - t0] if cache.adam else none2,
                               R[t - t0] if cache.adam else none2, dv, dm, dA_t, db_ih, dx_rows[t], dw, threshold)
            np.matmul(dz_t, W_hh_T, out=dh_rec)
        n = t1 - t0
        add_matmul(dW_hh, dW_part[:H], previous_rows(hs, t0 - 1, t1 - 1, cache.h0).T, dz[:n].reshape(n * B, G))
        if not fuse:
            dA2 = dA[:n].reshape(n * B, G)
            add_matmul(dW_ih, dW_part[:D], x[t0:t1].reshape(n * B, D).T, dA2)
            np.matmul(dA2, W_ih_T, out=dx[t0:t1].reshape(n * B, D))
    grads = (dx, dW_ih, db_ih, dW_hh, db_hh, *param_grads, dh_rec, *carries)
    flush_arrays(grads, threshold)      # the carries dv, dm were flushed step by step
    return (*grads, dv, dm if cache.adam else None)


def chunk_starts(T: int) -> list:
    """The first step of each backward chunk, in increasing order: the backward runs [T - CHUNK, T), then
    [T - 2 CHUNK, T - CHUNK), ..., down to [0, T mod CHUNK or CHUNK)."""
    return sorted({max(t1 - CHUNK, 0) for t1 in range(T, 0, -CHUNK)})


def _recompute(cache, k, t0, t1, x_rows, w, xw, fuse, V, R):
    """Adam's v_t, r_t for t0 <= t < t1 into V, R [t - t0], from (v, m) kept before step t0 (chunk k)."""
    v, m = cache.v_at[k].copy(), cache.m_at[k].copy()
    none2 = np.zeros((1, 1), v.dtype)
    for t in range(t0, t1):
        rule_step_forward(x_rows[t], w, none2 if fuse else xw[t], fuse, cache.b_ih, cache.mus[t], cache.s, True,
                          cache.beta, cache.eps, v, m, True, V[t - t0], R[t - t0], none2)


def _rule_array(fn, name, a, shape, dtype, layout):
    a = checks.as_float_array(fn, name, a, len(shape), layout)
    checks.expect_shape(fn, name, a, shape, layout)
    if a.dtype != dtype:
        raise TypeError(f"{fn}: {name} must have the dtype of x ({dtype}), got {a.dtype}")
    return a


def _carry(fn, name, g, shape, dtype, width):
    g = checks.output_gradient(fn, name, g, shape, dtype, f"(B, {width})")
    return np.zeros(shape, dtype) if g is None else g.copy()
