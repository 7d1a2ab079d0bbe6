"""The compiled LSTM kernel equals the same equations differentiated by rnnlab's engine (float64, 1e-10),
finite differences, and, in float32, the float64 result within the stated tolerance."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import directional_derivative, lstm_inputs, lstm_reference

from rnnlab.cells.kernels import lstm as lstm_module

NAMES = ("dx", "dW_ih", "dW_hh", "db", "dh0", "dc0")
FLOAT32_RTOL, FLOAT32_ATOL = 1e-4, 1e-4
"""float32 against float64, relative to the largest magnitude of each compared array (sizes as generated)."""

sizes = st.fixed_dictionaries({"T": st.integers(1, 6), "B": st.integers(1, 4), "D": st.integers(1, 4),
                               "H": st.integers(1, 6), "seed": st.integers(0, 2**32 - 1),
                               "with_dhs": st.booleans(), "with_dhT": st.booleans(), "with_dcT": st.booleans()})


def _case(s, dtype=np.float64):
    rng = np.random.default_rng(s["seed"])
    T, B, H = s["T"], s["B"], s["H"]
    inputs = lstm_inputs(rng, T, B, s["D"], H, dtype)
    dhs = rng.standard_normal((T, B, H)).astype(dtype) if s["with_dhs"] else None
    dhT = rng.standard_normal((B, H)).astype(dtype) if s["with_dhT"] else None
    dcT = rng.standard_normal((B, H)).astype(dtype) if s["with_dcT"] else None
    return inputs, dhs, dhT, dcT


def _run(inputs, dhs, dhT, dcT):
    hs, cT, cache = kernels.lstm_forward(*inputs)
    return hs, cT, kernels.lstm_backward(cache, dhs, dhT, dcT)


@given(sizes)
def test_lstm_kernel_float64_matches_engine_autodiff_to_1e_10(s):
    inputs, dhs, dhT, dcT = _case(s)
    hs, cT, grads = _run(inputs, dhs, dhT, dcT)
    ref_hs, ref_cT, ref_grads = lstm_reference(*inputs, np.zeros_like(hs) if dhs is None else dhs, dhT, dcT)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-10, atol=1e-12, err_msg="hs")
    np.testing.assert_allclose(cT, ref_cT, rtol=1e-10, atol=1e-12, err_msg="c_T")
    for name, g, ref in zip(NAMES, grads, ref_grads):
        assert g.shape == ref.shape, name
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-12, err_msg=name)


@given(sizes, st.integers(lstm_module.CHUNK - 1, 3 * lstm_module.CHUNK + 1))
def test_lstm_kernel_float64_matches_engine_autodiff_across_backward_chunks(s, T):
    """Sequences longer than the backward's weight-gradient chunk (several chunks, ragged last one)."""
    inputs, dhs, dhT, dcT = _case(dict(s, T=T, B=min(s["B"], 2), H=min(s["H"], 3), with_dhs=True))
    hs, cT, grads = _run(inputs, dhs, dhT, dcT)
    _, _, ref_grads = lstm_reference(*inputs, dhs, dhT, dcT)
    for name, g, ref in zip(NAMES, grads, ref_grads):
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-12, err_msg=name)


@given(sizes)
def test_lstm_kernel_gradients_match_finite_differences(s):
    inputs, dhs, dhT, dcT = _case(s)
    rng = np.random.default_rng(s["seed"] + 1)
    v = rng.standard_normal(inputs[0].shape[:2] + (inputs[2].shape[0],))

    def loss(*arrays):
        hs, cT, _ = kernels.lstm_forward(*arrays)
        return float(np.sum(hs * v) + np.sum(cT))

    hs, cT, cache = kernels.lstm_forward(*inputs)
    grads = kernels.lstm_backward(cache, v, None, np.ones_like(cT))
    for k, (name, g) in enumerate(zip(NAMES, grads)):
        u = rng.standard_normal(inputs[k].shape)
        numeric = directional_derivative(loss, inputs, k, u)
        assert abs(np.sum(g * u) - numeric) <= 1e-7 * (1 + abs(numeric)), name


@given(sizes)
def test_lstm_kernel_float32_is_within_stated_tolerance_of_float64(s):
    inputs64, dhs, dhT, dcT = _case(s)
    as32 = lambda a: None if a is None else a.astype(np.float32)
    hs32, cT32, grads32 = _run(tuple(map(as32, inputs64)), as32(dhs), as32(dhT), as32(dcT))
    hs64, cT64, grads64 = _run(inputs64, dhs, dhT, dcT)
    for name, a, ref in zip(("hs", "c_T") + NAMES, (hs32, cT32) + grads32, (hs64, cT64) + grads64):
        assert a.dtype == np.float32, name
        scale = np.max(np.abs(ref), initial=0.0)
        np.testing.assert_allclose(a, ref, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL * max(scale, 1.0), err_msg=name)


def test_lstm_kernel_fused_input_path_equals_hoisted_gemm_path():
    """D = 1 fuses x_t W_ih into the pointwise kernel; padding x with a zero column takes the GEMM path."""
    rng = np.random.default_rng(7)
    x, W_ih, W_hh, b, h0, c0 = lstm_inputs(rng, 5, 3, 1, 4)
    dhs = rng.standard_normal((5, 3, 4))
    hs1, cT1, g1 = _run((x, W_ih, W_hh, b, h0, c0), dhs, None, None)
    x2 = np.concatenate([x, np.zeros_like(x)], axis=2)
    W2 = np.concatenate([W_ih, rng.standard_normal(W_ih.shape)], axis=0)
    hs2, cT2, g2 = _run((x2, W2, W_hh, b, h0, c0), dhs, None, None)
    np.testing.assert_allclose(hs1, hs2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g1[0][..., 0], g2[0][..., 0], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g1[1][0], g2[1][0], rtol=1e-12, atol=1e-14)
    for a, b_ in zip(g1[2:], g2[2:]):
        np.testing.assert_allclose(a, b_, rtol=1e-12, atol=1e-14)


@given(sizes)
def test_lstm_kernel_backward_leaves_cache_intact_so_a_second_pass_gives_the_same_gradients(s):
    inputs, dhs, dhT, dcT = _case(s)
    _, _, cache = kernels.lstm_forward(*inputs)
    first = kernels.lstm_backward(cache, dhs, dhT, dcT)
    second = kernels.lstm_backward(cache, dhs, dhT, dcT)
    for name, a, b in zip(NAMES, first, second):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_lstm_kernel_returns_read_only_hs_shared_with_cache():
    hs, _, cache = kernels.lstm_forward(*lstm_inputs(np.random.default_rng(0), 2, 2, 2, 3))
    with pytest.raises(ValueError, match="read-only"):
        hs[0, 0, 0] = 1.0
