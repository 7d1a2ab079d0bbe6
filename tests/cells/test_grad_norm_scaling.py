"""The probe's norm is scaled: gradients of 1e-162 (whose squares underflow) and 1e+160 (whose squares
overflow) keep their norm, on both paths of the probe and in the norm function itself."""
import numpy as np  # host-side data and expected values only
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as C
from rnnlab.cells.probe import grad_norm

FIXTURE_SETTINGS = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])


@FIXTURE_SETTINGS
@given(scale=st.sampled_from([1e-162, 1e+160, 1.0]), shape=st.tuples(st.integers(1, 4), st.integers(1, 5)),
       seed=st.integers(0, 2 ** 16))
def test_grad_norm_neither_underflows_nor_overflows(backend_name, float64, scale, shape, seed):
    unit = np.random.default_rng(seed).uniform(-1.0, 1.0, shape)
    dh = rnnlab.asarray(unit * scale)
    expected = float(np.sqrt(np.sum(unit * unit))) * scale     # the norm of the unscaled array, scaled after
    got = float(rnnlab.to_numpy(grad_norm(dh)))
    assert got == pytest.approx(expected, rel=1e-13) and got > 0


def test_grad_norm_of_zeros_is_zero_and_of_inf_is_inf(backend_name, float64):
    assert float(rnnlab.to_numpy(grad_norm(rnnlab.asarray(np.zeros((2, 3)))))) == 0.0
    assert float(rnnlab.to_numpy(grad_norm(rnnlab.asarray(np.array([[1.0, np.inf]]))))) == np.inf


@pytest.mark.parametrize("scale", [1e-162, 1e+160])
@pytest.mark.parametrize("fused", [True, False])
def test_probe_norms_scale_with_the_upstream_gradient_without_underflow_or_overflow(backend_name, float64,
                                                                                   fused, scale):
    # L = <s V, outputs>: every dL/dh_t is s times the one for L = <V, outputs> (backward is linear in V)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 3))
    V = rng.standard_normal((5, 2, 4))
    norms = []
    for s in (1.0, scale):
        rnn = C.Recurrent(C.RNN(3, 4, rng=0), fused=fused)
        outputs, _ = rnn(rnnlab.Tensor(x), record_grad_norms=True)
        (outputs * rnnlab.Tensor(V * s)).sum().backward()
        norms.append(rnn.grad_norms[0])
    assert np.all(norms[0] > 0)
    np.testing.assert_allclose(norms[1], norms[0] * scale, rtol=1e-12)
