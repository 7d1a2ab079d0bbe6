"""The compiled RNN kernel equals the same equations differentiated by rnnlab's engine (float64, 1e-10),
finite differences, and, in float32, the float64 result within the stated tolerance; tanh and relu."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import directional_derivative, rnn_inputs, rnn_reference

NAMES = ("dx", "dW_ih", "dW_hh", "db", "dh0")
FLOAT32_RTOL, FLOAT32_ATOL = 1e-4, 1e-4
"""float32 against float64, relative to the largest magnitude of each compared array (sizes as generated)."""

sizes = st.fixed_dictionaries({"T": st.integers(1, 6), "B": st.integers(1, 4), "D": st.integers(1, 4),
                               "H": st.integers(1, 6), "seed": st.integers(0, 2**32 - 1),
                               "nonlinearity": st.sampled_from(["tanh", "relu"]),
                               "with_dhs": st.booleans(), "with_dhT": st.booleans()})


def _case(s, dtype=np.float64):
    rng = np.random.default_rng(s["seed"])
    T, B, H = s["T"], s["B"], s["H"]
    inputs = rnn_inputs(rng, T, B, s["D"], H, dtype)
    dhs = rng.standard_normal((T, B, H)).astype(dtype) if s["with_dhs"] else None
    dhT = rng.standard_normal((B, H)).astype(dtype) if s["with_dhT"] else None
    return inputs, dhs, dhT


def _run(inputs, nonlinearity, dhs, dhT):
    hs, cache = kernels.rnn_forward(*inputs, nonlinearity)
    return hs, kernels.rnn_backward(cache, dhs, dhT)


@given(sizes)
def test_rnn_kernel_float64_matches_engine_autodiff_to_1e_10(s):
    inputs, dhs, dhT = _case(s)
    hs, grads = _run(inputs, s["nonlinearity"], dhs, dhT)
    ref_hs, ref_grads = rnn_reference(*inputs, s["nonlinearity"], np.zeros_like(hs) if dhs is None else dhs, dhT)
    np.testing.assert_allclose(hs, ref_hs, rtol=1e-10, atol=1e-12, err_msg="hs")
    for name, g, ref in zip(NAMES, grads, ref_grads):
        assert g.shape == ref.shape, name
        np.testing.assert_allclose(g, ref, rtol=1e-10, atol=1e-12, err_msg=name)


@given(sizes)
def test_rnn_kernel_gradients_match_finite_differences(s):
    inputs, _, _ = _case(s)
    rng = np.random.default_rng(s["seed"] + 1)
    v = rng.standard_normal(inputs[0].shape[:2] + (inputs[2].shape[0],))

    def loss(*arrays):
        hs, _ = kernels.rnn_forward(*arrays, s["nonlinearity"])
        return float(np.sum(hs * v))

    _, grads = _run(inputs, s["nonlinearity"], v, None)
    for k, (name, g) in enumerate(zip(NAMES, grads)):
        u = rng.standard_normal(inputs[k].shape)
        numeric = directional_derivative(loss, inputs, k, u)
        assert abs(np.sum(g * u) - numeric) <= 1e-7 * (1 + abs(numeric)), name


@given(sizes)
def test_rnn_kernel_float32_is_within_stated_tolerance_of_float64(s):
    inputs64, dhs, dhT = _case(s)
    as32 = lambda a: None if a is None else a.astype(np.float32)
    hs32, grads32 = _run(tuple(map(as32, inputs64)), s["nonlinearity"], as32(dhs), as32(dhT))
    hs64, grads64 = _run(inputs64, s["nonlinearity"], dhs, dhT)
    for name, a, ref in zip(("hs",) + NAMES, (hs32,) + grads32, (hs64,) + grads64):
        assert a.dtype == np.float32, name
        scale = np.max(np.abs(ref), initial=0.0)
        np.testing.assert_allclose(a, ref, rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL * max(scale, 1.0), err_msg=name)
