"""Compiled sequence kernels: the numpy backend's fast path for the LSTM, RNN, GRU, IndRNN and orthogonal
(modReLU) cores and the momentum rules.

These modules name NumPy and numba directly, on purpose: they ARE the numpy backend's compiled path (the
cells call them only when the backend is numpy, :func:`available` is True and :func:`enabled` is True;
otherwise the cells run their own backend-generic loop, which gives the same results). numba is the
optional extra ``rnnlab[fast]``.

The switch: ``with rnnlab.cells.kernels.disabled(): ...`` (or the environment variable ``RNNLAB_KERNELS=0``)
makes every cell run its readable per-step loop instead (``fused.py`` and the cores in ``lstm.py``, ``rnn.py``,
``gru.py``, ``indrnn.py``, ``momentum_rules.py``), so that whoever edits a loop runs the code they edited.
``rnnlab train --no-kernels`` and ``rnnlab gradcheck --no-kernels`` use it.

Contract (NumPy arrays in and out, float32 or float64, one dtype for all, time-major). Every entry starts from
the input x (the projection x_t W_ih + b inside the kernel); the cores' ``fast_forward`` / ``fast_backward``
(in ``lstm.py``, ``rnn.py``, ... one folder up) are their only callers:

* ``lstm_forward(x, W_ih, W_hh, b, h0, c0) -> (hs, c_T, cache)``: x (T, B, D), W_ih (D, 4H), W_hh (H, 4H),
  b (4H,), h0 and c0 (B, H); gate order i, f, g, o; c_t = f c_{t-1} + i g, h_t = o tanh(c_t); hs (T, B, H).
* ``lstm_backward(cache, dhs, dhT, dcT) -> (dx, dW_ih, dW_hh, db, dh0, dc0)``: dhs (T, B, H) = dL/dhs,
  dhT and dcT (B, H) gradients of the final h and c; any of the three may be None (zero).
* ``rnn_forward(x, W_ih, W_hh, b, h0, nonlinearity) -> (hs, cache)``: h_t = phi(x_t W_ih + h_{t-1} W_hh + b),
  phi 'tanh' or 'relu'; ``rnn_backward(cache, dhs, dhT) -> (dx, dW_ih, dW_hh, db, dh0)``.
* ``modrelu_rnn_forward(x, W_ih, W_hh, b, c, h0) -> (hs, cache)`` / ``modrelu_rnn_backward(cache, dhs, dhT)
  -> (dx, dW_ih, dW_hh, db, dc, dh0)``: the orthogonal RNNs' cell, h_t = modReLU(x_t W_ih + b + h_{t-1} W_hh)
  with modReLU(z) = sign(z) relu(|z| + c), c (H,).
* ``gru_forward_input(x, W_ih, b_ih, W_hh, b_hh, h0) -> (hs, cache)`` / ``gru_backward_input(cache, dhs, dhT)
  -> (dx, dW_ih, db_ih, dW_hh, db_hh, dh0)``: PyTorch's GRU, gate order r, z, n.
* ``indrnn_forward_input(x, W_ih, b, u, h0) -> (hs, cache)`` / ``indrnn_backward_input(cache, dhs, dhT) ->
  (dx, dW_ih, db, du, dh0)``: h_t = relu(x_t W_ih + b + u h_{t-1}), u (H,).
* ``momentum_lstm_forward(x, W_ih, b_ih, W_hh, b_hh, h0, c0, v0, mus, s, m0=None, beta, eps) -> (hs, c_T,
  v_T, m_T, cache)`` / ``momentum_lstm_backward(cache, dhs, dhT, dcT, dvT, dmT=None) -> (dx, dW_ih, db_ih,
  dW_hh, db_hh, dh0, dc0, dv0, dm0)``: the momentum LSTMs (heavy ball, or Adam when m0 is given) with the
  rule inside the LSTM's time loop; mus (T,) the coefficient of each step. ``momentum_rnn_forward(x, W_ih, b_ih,
  W_hh, b_hh, h0, v0, mus, s, m0=None, beta, eps, nonlinearity) -> (hs, v_T, m_T, cache)`` /
  ``momentum_rnn_backward(cache, dhs, dhT, dvT, dmT=None) -> (dx, dW_ih, db_ih, dW_hh, db_hh, dh0, dv0, dm0)``:
  the same around the plain RNN (the momentum RNNs). ``momentum_modrelu_rnn_forward(x, W_ih, b_ih, W_hh, b_hh,
  c, h0, v0, mus, s, m0=None, beta, eps)`` / ``momentum_modrelu_rnn_backward(...) -> (dx, dW_ih, db_ih, dW_hh,
  db_hh, dc, dh0, dv0, dm0)``: the same around the modReLU core (the momentum orthogonal RNNs).

Caches are not modified by a backward pass, so one may serve several. The returned ``hs`` is read-only (the
cache holds it). float64 results equal a plain NumPy evaluation of the same equations to rounding; float32
uses a rational tanh (absolute error < ``TANH32_MAX_ERROR``). Values of magnitude below
``flush_threshold(dtype)`` are flushed to zero in every backward pass so that vanishing gradients never
become (slow) denormal floats: see ``activations.py``. When an LSTM cache is freed, its gate and cell-state
buffers are kept for the next forward pass of the same shape (``buffers.py``; ``buffers.clear()``).
"""
from __future__ import annotations

import contextlib
import contextvars
import os

__all__ = ["available", "disabled", "enabled", "gru_backward_input", "gru_forward_input", "indrnn_backward_input",
           "indrnn_forward_input", "lstm_backward", "lstm_forward", "modrelu_rnn_backward", "modrelu_rnn_forward",
           "momentum_lstm_backward", "momentum_lstm_forward", "momentum_modrelu_rnn_backward",
           "momentum_modrelu_rnn_forward", "momentum_rnn_backward", "momentum_rnn_forward", "rnn_backward",
           "rnn_forward", "unavailable_reason"]

ENV_SWITCH = "RNNLAB_KERNELS"
"""The environment variable that switches the kernels off when set to 0 (1 or unset: on)."""

_status: dict = {}
_off = contextvars.ContextVar("rnnlab_kernels_off", default=False)


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


def enabled() -> bool:
    """False inside :func:`disabled` or when ``RNNLAB_KERNELS=0``: the cells then run their readable loops."""
    value = os.environ.get(ENV_SWITCH, "1").strip()
    if value not in ("0", "1", ""):
        raise ValueError(f"{ENV_SWITCH} must be 0 (readable loops) or 1 (compiled kernels), got {value!r}")
    return value != "0" and not _off.get()


@contextlib.contextmanager
def disabled():
    """``with kernels.disabled():`` every fused sequence inside runs the readable per-step loop."""
    token = _off.set(True)
    try:
        yield
    finally:
        _off.reset(token)


try:    # numba is optional (rnnlab[fast]): without it these names are absent and available() is False
    from .gru import gru_backward_input, gru_forward_input
    from .indrnn import indrnn_backward_input, indrnn_forward_input
    from .lstm import lstm_backward, lstm_forward
    from .momentum_cores import (momentum_lstm_backward, momentum_lstm_forward, momentum_modrelu_rnn_backward,
                                 momentum_modrelu_rnn_forward, momentum_rnn_backward, momentum_rnn_forward)
    from .rnn import modrelu_rnn_backward, modrelu_rnn_forward, rnn_backward, rnn_forward
except ImportError as _error:     # each entry then says how to get numba
    _missing = f"{type(_error).__name__}: {_error}"

    def _needs_numba(name: str):
        def entry(*args, **kwargs):
            raise RuntimeError(f"rnnlab.cells.kernels.{name}: the compiled kernels need numba, which is not usable "
                               f"here ({_missing}); pip install 'rnnlab[fast]', or use "
                               "the cells' own loop (check kernels.available() first)")
        entry.__name__ = name
        return entry

    for _name in __all__:
        globals().setdefault(_name, _needs_numba(_name))
