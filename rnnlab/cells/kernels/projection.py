"""The input projection's gradients for one batch row when D = 1 (the projection fused into a step kernel):
a_t = x_t w + b gives dL/dx_t = da_t . w and dL/dw += x_t da_t. Inlined into the RNN's, LSTM's, GRU's and
momentum rule's backward steps."""
from __future__ import annotations

from .jit import jit


@jit(inline="always")
def fused_input_row_backward(d, xv, w, dw):
    """Return d . w and add xv * d to dw; d, w, dw (G,), xv the row's scalar input."""
    total = d.dtype.type(0.0)
    for j in range(d.shape[0]):
        total += d[j] * w[j]
    for j in range(d.shape[0]):
        dw[j] += xv * d[j]
    return total
