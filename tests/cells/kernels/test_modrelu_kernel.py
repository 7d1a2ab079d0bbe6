"""The orthogonal cells' core kernel, h_t = modReLU(x_t W_ih + b + h_{t-1} W_hh): equal to autodiff through the
engine's modReLU (float64, 1e-10) with or without b, dhs and dhT (fed D_t through x_t = D_t, W_ih = I, so that
dL/dx is dL/dD); caches of the tanh/relu entry and of this one are refused by each other's backward, naming
the right one; a vanishing case creates no denormals where unflushed float32 does."""
import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import modrelu_reference
from tests.cells.kernels.test_denormal_flush import Spy, assert_same_up_to_flush, count_denormals

from rnnlab.cells.kernels import rnn

close = dict(rtol=1e-10, atol=1e-12)


def forward_from_drive(D, W, b, c, h0):
    """The x entry run on a drive: x = D (T, B, H), W_ih = I, so z_t = D_t + b + h_{t-1} W."""
    H = W.shape[0]
    return kernels.modrelu_rnn_forward(D, np.eye(H, dtype=D.dtype), W, b, c, h0)


def backward_to_drive(cache, dhs, dhT):
    """(dD, dW_hh, db, dc, dh0) of :func:`forward_from_drive` (dD = dL/dx)."""
    dx, _, dW, db, dc, dh0 = kernels.modrelu_rnn_backward(cache, dhs, dhT)
    return dx, dW, db, dc, dh0


def _inputs(rng, T, B, H, dtype=np.float64, scale=1.0, c_scale=0.5):
    r = lambda *shape, s=1.0: (s * rng.standard_normal(shape)).astype(dtype)
    return r(T, B, H), r(H, H, s=scale / np.sqrt(H)), r(H, s=0.5), r(H, s=c_scale), r(B, H, s=0.5)


@given(T=st.integers(1, 20), B=st.integers(1, 3), H=st.integers(1, 5), seed=st.integers(0, 2**32 - 1),
       with_b=st.booleans(), with_dhs=st.booleans(), with_dhT=st.booleans())
def test_modrelu_kernel_equals_autodiff_through_the_engine(T, B, H, seed, with_b, with_dhs, with_dhT):
    assume(with_dhs or with_dhT)
    rng = np.random.default_rng(seed)
    D, W, b, c, h0 = _inputs(rng, T, B, H)
    b = b if with_b else np.zeros(H)
    dhs = rng.standard_normal((T, B, H)) if with_dhs else None
    dhT = rng.standard_normal((B, H)) if with_dhT else None
    ref_hs, ref = modrelu_reference(D, W, b, c, h0, np.zeros((T, B, H)) if dhs is None else dhs, dhT)
    hs, cache = forward_from_drive(D, W, b, c, h0)
    grads = backward_to_drive(cache, dhs, dhT)
    np.testing.assert_allclose(hs, ref_hs, **close)
    assert len(grads) == 5
    for name, g, r in zip(("dD", "dW_hh", "db", "dc", "dh0"), grads, ref):
        np.testing.assert_allclose(g, r, **close, err_msg=name)
    again = backward_to_drive(cache, dhs, dhT)     # the cache serves a second backward
    assert all(np.array_equal(a, g) for a, g in zip(again, grads))


def test_each_backward_refuses_the_other_entrys_cache_naming_the_right_one():
    rng = np.random.default_rng(0)
    D, W, b, c, h0 = _inputs(rng, 3, 2, 4)
    _, modrelu_cache = forward_from_drive(D, W, b, c, h0)
    _, tanh_cache = kernels.rnn_forward(D, np.eye(4), W, b, h0, "tanh")
    with pytest.raises(TypeError, match="rnn_backward: this cache is from modrelu_rnn_forward; pass it "
                                        "to modrelu_rnn_backward"):
        kernels.rnn_backward(modrelu_cache, None, h0)
    with pytest.raises(TypeError, match="modrelu_rnn_backward: this cache is from rnn_forward; pass it "
                                        "to rnn_backward"):
        kernels.modrelu_rnn_backward(tanh_cache, None, h0)
    with pytest.raises(TypeError, match="modrelu_rnn_backward: cache must be the RNNCache that "
                                        "modrelu_rnn_forward returned, got str"):
        kernels.modrelu_rnn_backward("cache", None, h0)


@pytest.mark.parametrize("c, error, message", [
    (np.ones(5), ValueError, r"modrelu_rnn_forward: c must have shape \(H,\) = \(4,\), got \(5,\)"),
    (np.ones((4, 1)), ValueError, r"modrelu_rnn_forward: c must be 1-D \(H,\)"),
    (np.ones(4, np.float32), TypeError, "modrelu_rnn_forward: all arrays must have the same dtype; x is "
                                        "float64 but c is float32"),
    ([0.0] * 4, TypeError, r"modrelu_rnn_forward: c must be a NumPy array \(H,\)"),
])
def test_a_bad_modrelu_bias_is_refused_naming_it(c, error, message):
    D, W, b, _, h0 = _inputs(np.random.default_rng(0), 3, 2, 4)
    with pytest.raises(error, match=message):
        forward_from_drive(D, W, b, c, h0)


@given(seed=st.integers(0, 2**32 - 1), B=st.integers(1, 4), H=st.integers(2, 8))
def test_modrelu_backward_creates_no_denormals_where_unflushed_float32_does(seed, B, H):
    """Recurrent weights of norm about 0.02 and c = 1 (every unit on): dL/dh_t shrinks by about 1e-2 per step
    backwards, through the weights (the kernel takes any W_hh; the cells' orthogonal B never shrinks it)."""
    T = 40
    rng = np.random.default_rng(seed)
    D, W, b, c, h0 = _inputs(rng, T, B, H, np.float32, scale=0.02)
    c[:] = 1.0
    dhT = rng.standard_normal((B, H)).astype(np.float32)
    _, ref = modrelu_reference(D, W, b, c, h0, np.zeros((T, B, H), np.float32), dhT)
    assume(count_denormals(ref[0]) > 0)      # only cases whose unflushed reference passes through denormals

    spy = Spy(rnn.rnn_step_backward, read=("dh_out", "dh_rec"), written=("dz", "dc"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(rnn, "rnn_step_backward", spy)
        _, cache = forward_from_drive(D, W, b, c, h0)
        grads = backward_to_drive(cache, None, dhT)
    assert spy.calls == T
    assert spy.found == 0
    assert sum(count_denormals(g) for g in grads) == 0
    assert_same_up_to_flush(grads[0], ref[0])

