"""What the compiled kernels share: numba's settings (``jit``), tanh, the logistic sigmoid, the denormal flush,
and the input projection's row gradient (``fused_input_row_backward``). An ImportError here means no numba.

Compilation: every kernel is compiled with ``cache=True`` (machine code is stored next to the source, so the 2-5 s of
compilation is paid once per machine, not once per process), ``error_model="numpy"`` (no Python
ZeroDivisionError checks, which stop loops from vectorizing) and two fast-math flags: ``contract`` (fused
multiply-add) and ``reassoc`` (lets the compiler vectorize sums such as a row's dot product). Neither
changes results by more than a few units of rounding. No ``parallel=True``: numba's threads and the BLAS
library's threads oversubscribed the cores on the machines we measured. Nor threads over batch rows (each
share of the batch running its own time loop with a single-threaded BLAS, the rows' recurrences being
independent): on the 2-core machine we measured, two such threads ran an LSTM step no faster than one
thread with two-threaded BLAS, because two concurrent single-threaded products had the throughput of one
two-threaded product.

Maintainers: numba's cache is keyed on the file of each compiled function only. After editing
this file (its helpers are inlined into the others), delete ``__pycache__/*.nbi`` and
``*.nbc`` in this folder so that the kernels in the other files are recompiled.

float64 uses the exact library functions, so the kernels match a NumPy reference to rounding (1e-10 is
checked). float32 uses a rational approximation of tanh, arithmetic that the compiler vectorizes, where
numba's ``math.tanh`` calls the scalar C library once per element (about 45x slower without SVML):

    tanh(x) ~ x p(x^2) / q(x^2),  x clamped to [-7.99881172, 7.99881172],
    p of degree 6 and q of degree 3 (the coefficients of Eigen's ``generic_fast_tanh_float``).

Its largest absolute error against the exact tanh is below ``TANH32_MAX_ERROR`` = 4e-7 (measured: 2.9e-7,
checked over a dense grid by the tests). The float32 sigmoid is sigma(x) = (1 + tanh(x / 2)) / 2, so its
absolute error is at most half that.

Denormals: a float below the smallest normal number (``finfo.tiny``: 1.2e-38 in float32) is stored
without its leading bit, and arithmetic on it, in our loops or inside BLAS, is 5-7x slower on the CPUs we
measured. As gradients vanish over hundreds of BPTT steps they pass through that range. The kernels
therefore flush every value they store whose magnitude is below

    FLUSH(dtype) = finfo(dtype).tiny / finfo(dtype).eps    (9.9e-32 in float32, 1.0e-292 in float64)

to zero. The margin of 1/eps above ``tiny`` keeps the products of a surviving value with any weight of
magnitude >= eps normal too, so the GEMMs that consume the flushed values do not create denormals either.
NaN is not flushed (the comparison is false for NaN), so a NaN still shows.
"""
from __future__ import annotations

import functools
import math

import numba
import numpy as np
from numba import types
from numba.extending import overload

jit = functools.partial(numba.njit, cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
"""``@jit``: numba's ``njit`` with this package's settings."""

TANH32_MAX_ERROR = 4e-7
"""Bound on |tanh32(x) - tanh(x)| for every float32 x (the tests check it)."""

_CLAMP = np.float32(7.99881172180175781)
_A1, _A3, _A5 = np.float32(4.89352455891786e-03), np.float32(6.37261928875436e-04), np.float32(1.48572235717979e-05)
_A7, _A9 = np.float32(5.12229709037114e-08), np.float32(-8.60467152213735e-11)
_A11, _A13 = np.float32(2.00018790482477e-13), np.float32(-2.76076847742355e-16)
_B0, _B2 = np.float32(4.89352518554385e-03), np.float32(2.26843463243900e-03)
_B4, _B6 = np.float32(1.18534705686654e-04), np.float32(1.19825839466702e-06)
_HALF32 = np.float32(0.5)
_ONE64 = 1.0


def flush_threshold(dtype) -> float:
    """FLUSH(dtype) = finfo.tiny / finfo.eps: stored magnitudes below it become 0 (see the module docstring)."""
    info = np.finfo(dtype)
    return info.dtype.type(info.tiny / info.eps)


@jit(inline="always")
def tanh32(x):
    """The float32 rational approximation of tanh (absolute error < TANH32_MAX_ERROR)."""
    x = min(max(x, -_CLAMP), _CLAMP)
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    return x * p / q


def tanh(x):
    """tanh(x): exact in float64, ``tanh32`` in float32 (callable from compiled code only)."""
    raise NotImplementedError("tanh is for numba-compiled kernels")


def sigmoid(x):
    """sigma(x) = 1 / (1 + exp(-x)): exact in float64, (1 + tanh32(x/2)) / 2 in float32 (compiled code only)."""
    raise NotImplementedError("sigmoid is for numba-compiled kernels")


@overload(tanh, inline="always")
def _tanh_impl(x):
    if x == types.float32:
        return lambda x: tanh32(x)
    return lambda x: math.tanh(x)


@overload(sigmoid, inline="always")
def _sigmoid_impl(x):
    if x == types.float32:
        return lambda x: _HALF32 + _HALF32 * tanh32(_HALF32 * x)
    return lambda x: _ONE64 / (_ONE64 + math.exp(-x))


@jit(inline="always")
def flush(v, threshold):
    """0 where |v| < threshold, else v (NaN passes through)."""
    return v - v if abs(v) < threshold else v


@jit
def flush_array(a, threshold):
    """Flush a 1-D array in place: a[|a| < threshold] = 0 (pass ``array.reshape(-1)`` for others)."""
    for j in range(a.shape[0]):
        a[j] = flush(a[j], threshold)


def flush_arrays(arrays, threshold) -> None:
    """Flush each array of ``arrays`` in place (any shape; the compiled loop for C-contiguous ones)."""
    for a in arrays:
        if a.flags.c_contiguous:
            flush_array(a.reshape(-1), threshold)
        else:
            a[np.abs(a) < threshold] = 0


@jit
def tanh_array(x, out):
    """out = tanh(x) elementwise with the kernels' tanh (1-D arrays); exposed so the tests can measure it."""
    for j in range(x.shape[0]):
        out[j] = tanh(x[j])


@jit
def sigmoid_array(x, out):
    """out = sigma(x) elementwise with the kernels' sigmoid (1-D arrays)."""
    for j in range(x.shape[0]):
        out[j] = sigmoid(x[j])


# the input projection's gradients for one batch row when D = 1 (the projection fused into a step kernel):
# a_t = x_t w + b gives dL/dx_t = da_t . w and dL/dw += x_t da_t; inlined into the backward steps
@jit(inline="always")
def fused_input_row_backward(d, xv, w, dw):
    """Return d . w and add xv * d to dw; d, w, dw (G,), xv the row's scalar input."""
    total = d.dtype.type(0.0)
    for j in range(d.shape[0]):
        total += d[j] * w[j]
    for j in range(d.shape[0]):
        dw[j] += xv * d[j]
    return total
