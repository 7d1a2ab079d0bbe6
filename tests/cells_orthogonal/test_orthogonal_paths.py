"""Both paths of the orthogonal cells: gradients against finite differences (through expm and its Fréchet
derivative to A), and the fused path equal to the composed path to 1e-10."""
import pytest
from cell_configs import (
    FEWER_EXAMPLES,
    Config,
    assert_same,
    flat,
    host_inputs,
    nest,
    run_with_grads,
    tensors,
)
from hypothesis import given
from hypothesis import strategies as st
from orthogonal_configs import FAMILIES, build, configs

import rnnlab

PATHS = [pytest.param(True, id="fused"), pytest.param(False, id="composed")]


def _check(config: Config, fused: bool, fast: bool):
    rnn = build(config, fused)
    x_host, state_host = host_inputs(config, rnn)
    x, state = tensors(x_host, state_host)
    states = flat(state)

    def fn(x, *rest):
        out, final = rnn(x, nest(rest[:len(states)], rnn), t0=config.t0)
        return (out, *flat(final))

    assert rnnlab.gradcheck(fn, [x, *states, *rnn.parameters()], fast=fast)


@pytest.mark.parametrize("fused", PATHS)
@pytest.mark.parametrize("family", FAMILIES)
@FEWER_EXAMPLES
@given(data=st.data())
def test_orthogonal_cell_gradients_match_finite_differences_along_random_directions(family, fused, backend_name,
                                                                                    float64, data):
    _check(data.draw(configs(family)), fused, fast=True)


@pytest.mark.parametrize("fused", PATHS)
@pytest.mark.parametrize("family", FAMILIES)
def test_orthogonal_cell_full_jacobian_matches_finite_differences_on_a_tiny_stack(family, fused, backend_name,
                                                                                  float64):
    _check(Config(family, T=3, B=1, D=2, sizes=[3], seed=7, t0=1), fused, fast=False)


@pytest.mark.parametrize("family", FAMILIES)
@FEWER_EXAMPLES
@given(data=st.data())
def test_orthogonal_fused_path_equals_composed_path_outputs_states_and_gradients(family, backend_name, float64,
                                                                                 data):
    config = data.draw(configs(family, max_layers=3, max_size=5))
    results = []
    for fused in (True, False):
        rnn = build(config, fused)
        x, state = host_inputs(config, rnn)
        results.append(run_with_grads(rnn, x, state, seed=config.seed, t0=config.t0))
    assert_same(*results)
