"""Every cell on both paths: gradients wrt the input, the initial state and every parameter against central
finite differences (float64), over generated lengths, batches, sizes, layer counts and hyperparameters."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.cells.cell_configs import FAMILIES, FEWER_EXAMPLES, Config, build, check_gradients, configs

PATHS = [pytest.param(True, id="fused"), pytest.param(False, id="composed")]


def _check(config: Config, fused: bool, fast: bool):
    check_gradients(build(config, fused), config, fast)


@pytest.mark.parametrize("fused", PATHS)
@pytest.mark.parametrize("family", FAMILIES)
@FEWER_EXAMPLES
@given(data=st.data())
def test_gradients_match_finite_differences_along_random_directions(family, fused, backend_name, float64, data):
    _check(data.draw(configs(family)), fused, fast=True)


@pytest.mark.parametrize("fused", PATHS)
@pytest.mark.parametrize("family", FAMILIES)
def test_full_jacobian_matches_finite_differences_on_a_tiny_stack(family, fused, backend_name, float64):
    hyper = {"NesterovRNN": {"restart": 2}, "NesterovLSTM": {"restart": 0}, "RNN": {"nonlinearity": "relu"}}
    _check(Config(family, T=3, B=1, D=2, sizes=[2], hyper=hyper.get(family, {}), seed=7, t0=1), fused, fast=False)
