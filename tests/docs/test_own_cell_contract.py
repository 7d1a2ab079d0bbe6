"""Chapter 11's second cell (a leaky RNN with a learned per-unit leak), built from the page's own
``%%writefile leaky.py`` block, passes gradcheck on both paths for drawn sizes and leaks, on every backend:
a reader following the page's contract gets a working cell."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import rnnlab
import rnnlab.cells as cells
from rnnlab.cells.registry import CELLS
from tests.docs.doc_pages import DOCS, file_source

CHAPTER = DOCS / "11-your-own-cell.md"


@pytest.fixture(scope="module")
def leaky():
    """The page's leaky.py, run as a module namespace (its cell registered only while these tests run)."""
    source = file_source(CHAPTER, "leaky.py")
    assert "class LeakyRNN(" in source and "class LeakyCore" in source, f"{CHAPTER.name}: no leaky.py cell"
    before = dict(CELLS)
    namespace = {"__name__": "leaky"}
    exec(compile(source, f"{CHAPTER.name}: leaky.py", "exec"), namespace)
    yield namespace
    CELLS.clear()
    CELLS.update(before)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(T=st.integers(1, 5), B=st.integers(1, 3), D=st.integers(1, 3), H=st.integers(1, 4),
       leak=st.floats(0.05, 0.95), seed=st.integers(0, 2**32 - 1))
def test_the_pages_leaky_cell_passes_gradcheck_on_both_paths(leaky, backend_name, float64, T, B, D, H, leak,
                                                              seed):
    rng = np.random.default_rng(seed)
    x = rnnlab.Tensor(rng.standard_normal((T, B, D)), requires_grad=True)
    h0 = rnnlab.Tensor(rng.standard_normal((B, H)) * 0.5, requires_grad=True)
    grads = []
    for fused in (False, True):
        cell = leaky["LeakyRNN"](D, H, leak=leak, rng=seed)
        assert cell.core.n_params == len(cell.core_params())
        rnn = cells.Recurrent(cell, fused=fused)
        assert rnnlab.gradcheck(lambda x, h0, *ps: rnn(x, ((h0,),))[0], [x, h0, *rnn.parameters()])
        cell.zero_grad()
        out, _ = rnn(x, ((h0,),))
        (out * out).sum().backward()
        grads.append(rnnlab.to_numpy(cell.leak_logit.grad))
    assert grads[1].shape == (H,)
    np.testing.assert_allclose(grads[0], grads[1], rtol=1e-10, atol=1e-13)


def test_the_page_shows_a_missing_batch_sum_as_one_shape_error(leaky, backend_name, float64):
    class ForgetsTheBatchSum(leaky["LeakyCore"]):
        def backward(self, xp, cache, dhs, dfinals, norms=None):
            dA, (dU, drho), dstates = super().backward(xp, cache, dhs, dfinals, norms)
            return dA, (dU, drho * xp.ones_like(dhs[0, ...])), dstates

    cell = leaky["LeakyRNN"](2, 3, rng=0)
    cell.core = ForgetsTheBatchSum()
    out, _ = cells.Recurrent(cell, fused=True)(rnnlab.Tensor(np.ones((4, 5, 2))))
    with pytest.raises(rnnlab.engine.errors.FunctionError, match=r"shape \(5, 3\), expected .* \(3,\)"):
        out.sum().backward()
