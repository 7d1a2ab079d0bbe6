"""The gradient-flow probe ||dL/dh_t||: the same on both paths, for every cell and layer, and exact where
dL/dh_t is known in closed form."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as C
from tests.cells.cell_configs import FAMILIES, FIXTURE_SETTINGS, build, configs, host_inputs, tensors


def _norms(config, fused):
    rnn = build(config, fused)
    x_host, state_host = host_inputs(config, rnn)
    x, state = tensors(x_host, state_host)
    outputs, _ = rnn(x, state, t0=config.t0, record_grad_norms=True)
    V = np.random.default_rng(config.seed).standard_normal(outputs.shape)
    (outputs * rnnlab.Tensor(V)).sum().backward()
    return rnn.grad_norms


@FIXTURE_SETTINGS
@given(data=st.data())
def test_probe_gives_the_same_per_step_gradient_norms_on_both_paths(backend_name, float64, data):
    config = data.draw(configs(data.draw(st.sampled_from(FAMILIES)), max_layers=3))
    fused, composed = _norms(config, True), _norms(config, False)
    assert len(fused) == len(composed) == len(config.sizes)
    for a, b in zip(fused, composed):
        assert a.shape == (config.T,)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@FIXTURE_SETTINGS
@given(family=st.sampled_from(FAMILIES), fused=st.booleans(), T=st.integers(2, 8), seed=st.integers(0, 1000))
def test_probe_at_the_last_step_is_the_norm_of_the_upstream_gradient(backend_name, float64, family, fused, T, seed):
    # L = <V, h_T>: dL/dh_T = V exactly, and no later step adds to it
    rnn = C.Recurrent(getattr(C, family)(2, 3, rng=seed), fused=fused)
    x = rnnlab.Tensor(np.random.default_rng(seed).standard_normal((T, 2, 2)))
    _, state = rnn(x, record_grad_norms=True)
    V = np.random.default_rng(seed + 1).standard_normal((2, 3))
    (state[0][0] * rnnlab.Tensor(V)).sum().backward()
    norms = rnn.grad_norms[0]
    assert norms.shape == (T,) and np.all(norms >= 0)
    np.testing.assert_allclose(norms[-1], np.linalg.norm(V), rtol=1e-12)
