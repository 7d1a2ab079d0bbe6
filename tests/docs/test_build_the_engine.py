"""Chapter 0's engine, built from the page's own code, agrees with rnnlab on drawn graphs: an RNN step with a
bias and a scale of drawn broadcasting shapes, and a scalar chain of drawn length (its walk is iterative)."""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import rnnlab
from tests.docs.doc_pages import DOCS, runnable

CHAPTER = DOCS / "00-build-the-engine.md"


@pytest.fixture(scope="module")
def page():
    """The chapter's namespace after all its blocks ran (on numpy, as the page does)."""
    namespace = {"__name__": "docs_00"}
    with rnnlab.use_backend("numpy"):
        dtype = rnnlab.engine.backend.default_dtype_name()
        for where, code in runnable(CHAPTER):
            exec(compile(code, where, "exec"), namespace)
        rnnlab.set_default_dtype(dtype)
    return namespace


def broadcast_shape(draw, B, H):
    return draw(st.sampled_from([(H,), (1, H), (B, 1), (1, 1), (B, H), ()]))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_the_pages_tensor_matches_rnnlab_on_a_broadcasting_rnn_step(page, backend_name, float64, data):
    B, D, H = (data.draw(st.integers(1, 4)) for _ in range(3))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    arrays = {"x": rng.standard_normal((B, D)), "h0": rng.standard_normal((B, H)),
              "W_ih": rng.standard_normal((D, H)), "W_hh": rng.standard_normal((H, H)),
              "b": rng.standard_normal(broadcast_shape(data.draw, B, H)),
              "scale": rng.standard_normal(broadcast_shape(data.draw, B, H))}

    def loss(t, tanh):
        h1 = tanh(t["x"] @ t["W_ih"] + t["h0"] @ t["W_hh"] + t["b"])
        return (h1 * t["scale"] * h1 + t["b"]).sum()

    mine = {k: page["Tensor"](v) for k, v in arrays.items()}
    loss(mine, page["Tensor"].tanh).backward()
    theirs = {k: rnnlab.Tensor(v, requires_grad=True) for k, v in arrays.items()}
    loss(theirs, rnnlab.tanh).backward()
    for k, v in arrays.items():
        assert mine[k].grad.shape == v.shape, k
        np.testing.assert_allclose(mine[k].grad, rnnlab.to_numpy(theirs[k].grad), rtol=1e-12, atol=1e-12,
                                   err_msg=k)


@given(steps=st.integers(1, 3000), w=st.floats(-1.5, 1.5), h0=st.floats(-1, 1))
def test_the_pages_value_matches_rnnlab_on_a_scalar_chain(page, steps, w, h0):
    Value, tanh = page["Value"], page["tanh"]
    weight, h = Value(w), Value(h0)
    for _ in range(steps):
        h = tanh(h * weight)
    h.backward()
    with rnnlab.use_backend("numpy"):
        rnnlab.set_default_dtype("float64")
        rw = rnnlab.Tensor(w, requires_grad=True)
        rh = rnnlab.Tensor(h0)
        for _ in range(steps):
            rh = rnnlab.tanh(rh * rw)
        rh.backward()
    assert math.isclose(h.data, rh.item(), rel_tol=1e-12, abs_tol=1e-300)
    assert math.isclose(weight.grad, rw.grad.item(), rel_tol=1e-9, abs_tol=1e-12)
