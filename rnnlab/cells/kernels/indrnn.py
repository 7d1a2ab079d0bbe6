"""The IndRNN sequence kernel (Li et al. 2018): the whole forward and the whole BPTT as one compiled loop
each, since the recurrence is pointwise (no recurrent GEMM).

Given the drive D (T, B, H) (D_t = x_t W_ih + b, hoisted by the caller) and u (H,):

    h_t = relu(D_t + u * h_{t-1})

BPTT, from t = T-1 down to 0, with dh_t = dL/dh_t from the outputs plus ``carry`` from step t+1:

    delta_t = dh_t * 1[h_t > 0];   carry = delta_t * u;   du = sum_{t,b} delta_t * h_{t-1};   dD_t = delta_t

Every stored backward value below ``flush_threshold`` is flushed to zero.
"""
from __future__ import annotations

import numpy as np

from . import checks
from .activations import flush, flush_arrays, flush_threshold
from .jit import jit
from .lstm import read_only


@jit
def indrnn_loop_forward(D, u, h0, hs):
    """hs[t] = relu(D[t] + u * hs[t-1]) for every t (hs[-1] being h0). D, hs (T, B, H); u (H,); h0 (B, H)."""
    T, B, H = D.shape
    zero = hs.dtype.type(0.0)
    for t in range(T):
        prev = h0 if t == 0 else hs[t - 1]
        for r in range(B):
            for j in range(H):
                hs[t, r, j] = max(D[t, r, j] + u[j] * prev[r, j], zero)


@jit
def indrnn_loop_backward(dhs, use_dhs, hs, h0, u, carry, dD, du, threshold):
    """The BPTT loop: carry (B, H) holds dL/dh_{T-1} from beyond on entry and dL/dh0 on exit; writes dD
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
    """What :func:`indrnn_backward` needs: u, h0 and hs."""

    __slots__ = ("h0", "hs", "u", "__weakref__")

    def __init__(self, u, h0, hs):
        self.u, self.h0, self.hs = u, h0, hs


def indrnn_forward(D, u, h0, overwrite_drive=False):
    """Run the IndRNN over the drive D (T, B, H): u (H,), h0 (B, H). Returns (hs, cache), hs read-only.
    ``overwrite_drive``: D is the caller's private buffer, which then holds hs."""
    D, u, _, states = checks.drive_inputs("indrnn_forward", 0, D, u, None, {"h0": h0})
    hs = D if overwrite_drive else np.empty(D.shape, D.dtype)
    indrnn_loop_forward(D, u, states["h0"], hs)
    return read_only(hs), IndRNNCache(u, states["h0"], hs)


def indrnn_backward(cache, dhs, dhT):
    """BPTT: dhs (T, B, H), dhT (B, H) (None: zero). Returns (dD (T, B, H), du (H,), dh0 (B, H)), flushed."""
    fn = "indrnn_backward"
    hs = checks.cache_of(fn, cache, IndRNNCache, "indrnn").hs
    T, B, H = hs.shape
    dhs, carry = checks.incoming(fn, T, B, H, hs.dtype, dhs, dhT=dhT)
    threshold = flush_threshold(hs.dtype)
    dD = np.empty((T, B, H), hs.dtype)
    du = np.zeros(H, hs.dtype)
    indrnn_loop_backward(hs if dhs is None else dhs, dhs is not None, hs, cache.h0, cache.u, carry, dD, du,
                         threshold)
    flush_arrays((du,), threshold)
    return dD, du, carry
