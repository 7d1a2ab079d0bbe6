"""Bad input to the kernels raises an error naming the function, the argument and what was expected; so
does a missing numba, and the tanh approximation stays within its stated error."""
import sys

import numpy as np
import pytest

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import lstm_inputs, rnn_inputs

from rnnlab.cells.kernels import activations

T, B, D, H = 3, 2, 2, 4


def _lstm(**change):
    names = ("x", "W_ih", "W_hh", "b", "h0", "c0")
    args = dict(zip(names, lstm_inputs(np.random.default_rng(0), T, B, D, H)))
    args.update(change)
    return args


def _rnn(**change):
    names = ("x", "W_ih", "W_hh", "b", "h0")
    args = dict(zip(names, rnn_inputs(np.random.default_rng(0), T, B, D, H)), nonlinearity="tanh")
    args.update(change)
    return args


FORWARD_ERRORS = [
    (kernels.lstm_forward, _lstm(x=[[[1.0]]]), TypeError, r"lstm_forward: x must be a NumPy array \(T, B, D\)"),
    (kernels.lstm_forward, _lstm(x=np.ones((T, B, D), np.int64)), TypeError,
     "lstm_forward: x must have dtype float32 or float64, got int64"),
    (kernels.lstm_forward, _lstm(x=np.ones((T, B))), ValueError, r"lstm_forward: x must be 3-D \(T, B, D\)"),
    (kernels.lstm_forward, _lstm(x=np.ones((0, B, D))), ValueError, r"lstm_forward: x must hold at least one "
     r"time step \(T >= 1\)"),
    (kernels.lstm_forward, _lstm(W_hh=np.ones((H, 3 * H))), ValueError,
     r"lstm_forward: W_hh must have shape \(H, 4H\) = \(4, 16\), got \(4, 12\)"),
    (kernels.lstm_forward, _lstm(W_ih=np.ones((D + 1, 4 * H))), ValueError,
     r"lstm_forward: W_ih must have shape \(D, 4H\) with D = x.shape\[2\]"),
    (kernels.lstm_forward, _lstm(b=np.ones(4 * H + 1)), ValueError, r"lstm_forward: b must have shape \(4H,\)"),
    (kernels.lstm_forward, _lstm(c0=np.ones((B + 1, H))), ValueError,
     r"lstm_forward: c0 must have shape \(B, H\) with B = x.shape\[1\]"),
    (kernels.lstm_forward, _lstm(h0=np.ones((B, H), np.float32)), TypeError,
     "lstm_forward: all arrays must have the same dtype; x is float64 but h0 is float32"),
    (kernels.rnn_forward, _rnn(W_hh=np.ones((H, H + 1))), ValueError,
     r"rnn_forward: W_hh must have shape \(H, H\) = \(4, 4\), got \(4, 5\)"),
    (kernels.rnn_forward, _rnn(h0=np.ones(H)), ValueError, r"rnn_forward: h0 must be 2-D \(B, H\)"),
    (kernels.rnn_forward, _rnn(nonlinearity="sigmoid"), ValueError,
     "rnn_forward: nonlinearity must be one of 'tanh', 'relu', got 'sigmoid'"),
]


@pytest.mark.parametrize("fn, args, error, message", FORWARD_ERRORS)
def test_forward_kernels_reject_bad_input_naming_function_and_argument(fn, args, error, message):
    with pytest.raises(error, match=message):
        fn(**args)


def test_lstm_backward_rejects_bad_gradients_and_foreign_caches():
    hs, cT, cache = kernels.lstm_forward(**_lstm())
    with pytest.raises(TypeError, match="lstm_backward: cache must be the LSTMCache that lstm_forward returned"):
        kernels.lstm_backward("cache", None, None, None)
    with pytest.raises(ValueError, match=r"lstm_backward: dhs must have shape \(T, B, H\) = \(3, 2, 4\)"):
        kernels.lstm_backward(cache, np.ones((T, B, H + 1)), None, None)
    with pytest.raises(TypeError, match=r"lstm_backward: dcT must have the dtype of the forward pass \(float64\)"):
        kernels.lstm_backward(cache, None, None, np.ones((B, H), np.float32))


def test_rnn_backward_rejects_bad_gradients_and_foreign_caches():
    hs, cache = kernels.rnn_forward(**_rnn())
    with pytest.raises(TypeError, match="rnn_backward: cache must be the RNNCache that rnn_forward returned"):
        kernels.rnn_backward(None, None, None)
    with pytest.raises(ValueError, match=r"rnn_backward: dhT must be 2-D \(B, H\)"):
        kernels.rnn_backward(cache, None, np.ones(H))


def test_without_numba_available_is_false_and_kernels_raise_an_install_hint(monkeypatch):
    for name in [m for m in sys.modules if m.startswith("rnnlab.cells.kernels")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "numba", None)
    import rnnlab.cells as cells_package
    monkeypatch.setattr(cells_package, "kernels", kernels)   # the re-import rebinds it: restored afterwards
    import rnnlab.cells.kernels as without     # imported afresh, with numba missing
    assert without is not kernels
    assert without.available() is False
    assert "numba" in without.unavailable_reason()
    with pytest.raises(RuntimeError, match=r"rnnlab.cells.kernels.lstm_forward: the compiled kernels need numba.*"
                                           r"pip install 'rnnlab\[fast\]'"):
        without.lstm_forward(**_lstm())


def test_float32_tanh_and_sigmoid_stay_within_stated_error_over_a_dense_grid():
    x = np.concatenate([np.linspace(-12, 12, 2_000_001), [0.0, 1e-30, -1e-30, 1e30, -1e30]]).astype(np.float32)
    out = np.empty_like(x)
    activations.tanh_array(x, out)
    exact = np.tanh(x.astype(np.float64))
    assert np.max(np.abs(out - exact)) < activations.TANH32_MAX_ERROR
    assert np.all(np.abs(out) <= 1) and out[np.argmin(np.abs(x))] == 0
    activations.sigmoid_array(x, out)
    exact = 0.5 * (1 + np.tanh(x.astype(np.float64) / 2))
    assert np.max(np.abs(out - exact)) < activations.TANH32_MAX_ERROR / 2 + np.finfo(np.float32).eps / 2


def test_float64_tanh_and_sigmoid_are_exact_to_rounding():
    x = np.linspace(-30, 30, 10_001)
    out = np.empty_like(x)
    activations.tanh_array(x, out)
    np.testing.assert_allclose(out, np.tanh(x), rtol=1e-15, atol=1e-16)
    activations.sigmoid_array(x, out)
    np.testing.assert_allclose(out, 1 / (1 + np.exp(-x)), rtol=1e-15, atol=1e-16)
