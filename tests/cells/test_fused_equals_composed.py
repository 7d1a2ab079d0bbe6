"""The fused path (hand-written BPTT) equals the composed path (autodiff through the unrolled steps):
outputs, final states and every gradient to 1e-10 in float64, for generated configs and long sequences."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cells.cell_configs import FAMILIES, Config, FEWER_EXAMPLES, assert_same, both_paths, configs


@pytest.mark.parametrize("family", FAMILIES)
@FEWER_EXAMPLES
@given(data=st.data())
def test_fused_path_equals_composed_path_outputs_states_and_gradients(family, backend_name, float64, data):
    config = data.draw(configs(family, max_layers=3, max_size=5))
    assert_same(*both_paths(config))


@pytest.mark.parametrize("family", FAMILIES)
def test_fused_path_equals_composed_path_on_a_100_step_sequence(family, backend_name, float64):
    # one layer of 3 units: the composed graph is long (100 steps), the arrays tiny
    assert_same(*both_paths(Config(family, T=100, B=2, D=2, sizes=[3], seed=5, t0=2)))


@pytest.mark.parametrize("family", ["IndRNN", "LSTM", "AdamRNN"])
def test_fused_path_equals_composed_path_with_batch_norm_and_shared_dropout(family, backend_name, float64):
    config = Config(family, T=5, B=3, D=2, sizes=[3, 4], seed=3)
    assert_same(*both_paths(config, batch_norm=True, dropout=0.3, rng=11))
