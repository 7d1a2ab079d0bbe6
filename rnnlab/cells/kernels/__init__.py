"""Compiled sequence kernels: the numpy backend's fast path for the LSTM and the vanilla RNN.

These modules name NumPy and numba directly, on purpose: they ARE the numpy backend's compiled path (the
cells call them only when the backend is numpy and :func:`available` is True; otherwise the cells run their
own backend-generic loop, which gives the same results). numba is the optional extra ``rnnlab[fast]``.

Contract (NumPy arrays in and out, float32 or float64, one dtype for all, time-major):

* ``lstm_forward(x, W_ih, W_hh, b, h0, c0) -> (hs, c_T, cache)``: x (T, B, D), W_ih (D, 4H), W_hh (H, 4H),
  b (4H,), h0 and c0 (B, H); gate order i, f, g, o; c_t = f c_{t-1} + i g, h_t = o tanh(c_t); hs (T, B, H).
* ``lstm_backward(cache, dhs, dhT, dcT) -> (dx, dW_ih, dW_hh, db, dh0, dc0)``: dhs (T, B, H) = dL/dhs,
  dhT and dcT (B, H) gradients of the final h and c; any of the three may be None (zero). The cache is
  not modified, so it may serve several backward passes.
* ``rnn_forward(x, W_ih, W_hh, b, h0, nonlinearity) -> (hs, cache)``: h_t = phi(x_t W_ih + h_{t-1} W_hh + b),
  phi 'tanh' or 'relu'; W_ih (D, H), W_hh (H, H), b (H,).
* ``rnn_backward(cache, dhs, dhT) -> (dx, dW_ih, dW_hh, db, dh0)``.

The returned ``hs`` is read-only (the cache holds it). float64 results equal a plain NumPy evaluation of the
same equations to rounding; float32 uses a rational tanh (absolute error < ``TANH32_MAX_ERROR``). Values of
magnitude below ``flush_threshold(dtype)`` are flushed to zero in the backward pass so that vanishing
gradients never become (slow) denormal floats: see ``activations.py``. When an LSTM cache is freed, its
gate and cell-state buffers are kept for the next forward pass of the same shape (``buffers.py``;
``buffers.clear()`` releases them).
"""
from __future__ import annotations

__all__ = ["available", "lstm_backward", "lstm_forward", "rnn_backward", "rnn_forward", "unavailable_reason"]

_status: dict = {}


def available() -> bool:
    """True when numba is importable and a compiled kernel runs; the first call imports and checks."""
    if "ok" not in _status:
        try:
            import numpy as np

            from .activations import flush_array, flush_threshold
            probe = np.array([1e-40, 1.0], dtype=np.float32)
            flush_array(probe, flush_threshold(np.float32))
            if probe[0] != 0 or probe[1] != 1:
                raise RuntimeError(f"the flush kernel returned {probe.tolist()} for [1e-40, 1.0]")
            _status["ok"], _status["reason"] = True, ""
        except Exception as exc:  # ImportError without numba; anything numba raises when it cannot compile
            _status["ok"], _status["reason"] = False, f"{type(exc).__name__}: {exc}"
    return _status["ok"]


def unavailable_reason() -> str:
    """Why :func:`available` is False ('' when it is True)."""
    available()
    return _status["reason"]


def _require(fn: str) -> None:
    if not available():
        raise RuntimeError(f"rnnlab.cells.kernels.{fn}: the compiled kernels need numba, which is not usable "
                           f"here ({_status['reason']}); pip install 'rnnlab[fast]', or use the cells' "
                           "own loop (check kernels.available() first)")


def lstm_forward(x, W_ih, W_hh, b, h0, c0):
    """See :func:`rnnlab.cells.kernels.lstm.lstm_forward` (equations, shapes, errors)."""
    _require("lstm_forward")
    from .lstm import lstm_forward as run
    return run(x, W_ih, W_hh, b, h0, c0)


def lstm_backward(cache, dhs, dhT, dcT):
    """See :func:`rnnlab.cells.kernels.lstm.lstm_backward` (equations, shapes, errors)."""
    _require("lstm_backward")
    from .lstm import lstm_backward as run
    return run(cache, dhs, dhT, dcT)


def rnn_forward(x, W_ih, W_hh, b, h0, nonlinearity="tanh"):
    """See :func:`rnnlab.cells.kernels.rnn.rnn_forward` (equations, shapes, errors)."""
    _require("rnn_forward")
    from .rnn import rnn_forward as run
    return run(x, W_ih, W_hh, b, h0, nonlinearity)


def rnn_backward(cache, dhs, dhT):
    """See :func:`rnnlab.cells.kernels.rnn.rnn_backward` (equations, shapes, errors)."""
    _require("rnn_backward")
    from .rnn import rnn_backward as run
    return run(cache, dhs, dhT)

