"""Vanishing gradients never become denormal floats in the kernels: values below flush_threshold(dtype) are
flushed to zero inside the backward pass, so no denormal reaches the GEMMs, the carried state or the
results. Each test first shows that an unflushed float32 computation of the same case does produce
denormals (so the test can fail), then that the kernels produce none, anywhere in the BPTT loop."""
import inspect

import numpy as np
import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import lstm_inputs, lstm_reference, rnn_inputs, rnn_reference

from rnnlab.cells.kernels import activations, lstm, rnn

TINY32 = np.finfo(np.float32).tiny


def count_denormals(a) -> int:
    a = np.abs(np.asarray(a))
    return int(np.sum((a > 0) & (a < np.finfo(a.dtype).tiny)))


class Spy:
    """Wraps a step kernel; counts the denormals in the arguments it reads (names ``read``, before the call:
    GEMM outputs among them) and in those it writes (names ``written``, after the call)."""

    def __init__(self, kernel, read, written):
        names = list(inspect.signature(kernel.py_func).parameters)
        self.read = [names.index(n) for n in read]
        self.written = [names.index(n) for n in written]
        self.kernel, self.found, self.calls = kernel, 0, 0

    def __call__(self, *args):
        self.found += sum(count_denormals(args[i]) for i in self.read)
        self.kernel(*args)
        self.found += sum(count_denormals(args[i]) for i in self.written)
        self.calls += 1


def vanishing_lstm(seed, T, B, H):
    """Forget gate near 0 and small recurrent weights: dL/dh_t shrinks by about 1e-2 per step backwards."""
    rng = np.random.default_rng(seed)
    x, W_ih, W_hh, b, h0, c0 = lstm_inputs(rng, T, B, 2, H, np.float32, scale=0.1)
    b[H:2 * H] = -5.0
    dhT = rng.standard_normal((B, H)).astype(np.float32)
    return (x, W_ih, W_hh, b, h0, c0), dhT


def vanishing_rnn(seed, T, B, H):
    """Recurrent weights of norm about 0.02: dL/dh_t shrinks by about 1e-2 per step backwards."""
    rng = np.random.default_rng(seed)
    inputs = rnn_inputs(rng, T, B, 2, H, np.float32, scale=0.02)
    inputs[3][:] = 1.0   # b: keeps relu units on, so the gradient shrinks through the weights, not by gating
    dhT = rng.standard_normal((B, H)).astype(np.float32)
    return inputs, dhT


@given(seed=st.integers(0, 2**32 - 1), B=st.integers(1, 4), H=st.integers(2, 8))
@example(seed=40457540, B=1, H=2)    # its reference starts at only 2.7e-4 at the last step: not drawn
def test_lstm_backward_creates_no_denormals_where_unflushed_float32_does(seed, B, H):
    T = 40
    inputs, dhT = vanishing_lstm(seed, T, B, H)
    _, _, ref_grads = lstm_reference(*inputs, np.zeros((T, B, H), np.float32), dhT, None)
    # only cases whose unflushed reference really vanishes, from a gradient of normal size to zero
    assume(count_denormals(ref_grads[0]) > 0)
    assume(np.abs(ref_grads[0][-1]).max() > 1e-3 and np.abs(ref_grads[0][0]).max() == 0)

    spy = Spy(lstm.lstm_step_backward, read=("dh_out", "dh_rec", "dc"), written=("dc", "dz"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(lstm, "lstm_step_backward", spy)
        hs, cT, cache = kernels.lstm_forward(*inputs)
        grads = kernels.lstm_backward(cache, None, dhT, None)
    assert spy.calls == T
    assert spy.found == 0
    assert sum(count_denormals(g) for g in grads) == 0
    assert_same_up_to_flush(grads[0], ref_grads[0])
    first, last = np.abs(grads[0][0]).max(), np.abs(grads[0][-1]).max()
    assert last > 1e-3 and first == 0, "the gradient reaching t = 0 was flushed to zero"


def assert_same_up_to_flush(dx, ref_dx):
    """dx equals the unflushed float32 reference to float32 accuracy (1e-3 of each step's largest entry: the
    kernels' tanh is approximated), plus the few thresholds that dropping terms below the threshold can move
    a sum by."""
    threshold = activations.flush_threshold(np.float32)
    scale = np.abs(ref_dx).max(axis=(1, 2), keepdims=True)
    assert np.all(np.abs(dx - ref_dx) <= 1e-3 * scale + 10 * threshold)


@given(seed=st.integers(0, 2**32 - 1), B=st.integers(1, 4), H=st.integers(2, 8),
       nonlinearity=st.sampled_from(["tanh", "relu"]))
def test_rnn_backward_creates_no_denormals_where_unflushed_float32_does(seed, B, H, nonlinearity):
    T = 40
    inputs, dhT = vanishing_rnn(seed, T, B, H)
    _, ref_grads = rnn_reference(*inputs, nonlinearity, np.zeros((T, B, H), np.float32), dhT)
    assume(count_denormals(ref_grads[0]) > 0)     # only cases whose unflushed reference passes through denormals

    spy = Spy(rnn.rnn_step_backward, read=("dh_out", "dh_rec"), written=("dz",))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rnn, "rnn_step_backward", spy)
        hs, cache = kernels.rnn_forward(*inputs, nonlinearity)
        grads = kernels.rnn_backward(cache, None, dhT)
    assert spy.calls == T
    assert spy.found == 0
    assert sum(count_denormals(g) for g in grads) == 0
    assert_same_up_to_flush(grads[0], ref_grads[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_flush_threshold_is_tiny_over_eps_and_flush_zeroes_below_it_only_in_any_layout(dtype):
    info = np.finfo(dtype)
    threshold = activations.flush_threshold(dtype)
    assert threshold == info.dtype.type(info.tiny / info.eps)
    values = [threshold, -threshold, threshold * 0.5, -info.smallest_subnormal, 1.0, np.nan, -np.inf]
    contiguous = np.array([values, values], dtype=dtype)
    strided = np.array([values, values], dtype=dtype).T     # not C-contiguous: the NumPy fallback
    activations.flush_arrays([contiguous, strided], threshold)
    for a in (contiguous[0], strided[:, 1]):
        np.testing.assert_array_equal(a[:5], np.array([threshold, -threshold, 0, 0, 1.0], dtype=dtype))
        assert np.isnan(a[5]) and a[6] == -np.inf, "NaN and infinities are not flushed"
