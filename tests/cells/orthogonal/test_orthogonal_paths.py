"""Both paths of the orthogonal cells: gradients against finite differences (through expm and its Fréchet
derivative to A), and the fused path (compiled kernel and readable loop) equal to the composed path to 1e-10."""
import pytest
from tests.cells.cell_configs import (
    FEWER_EXAMPLES,
    Config,
    check_gradients,
    assert_same,
    both_paths,
)
from hypothesis import assume, given
from hypothesis.control import currently_in_test_context
from hypothesis import strategies as st
from tests.cells.orthogonal.orthogonal_configs import FAMILIES, build, configs, kink_margin

from rnnlab.cells import kernels


PATHS = [pytest.param(True, id="fused"), pytest.param(False, id="composed")]


def _check(config: Config, fused: bool, fast: bool):
    wide = kink_margin(config) > 1e-3
    if currently_in_test_context():
        assume(wide)
    else:
        assert wide, f"the fixed configuration {config} passes within 1e-3 of a modReLU kink"
    check_gradients(build(config, fused), config, fast)


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
    assert_same(*both_paths(config, builder=build))


@pytest.mark.parametrize("family", FAMILIES)
@FEWER_EXAMPLES
@given(data=st.data())
def test_orthogonal_kernel_path_equals_readable_loop_equals_composed(family, backend_name, float64, paths_taken,
                                                                     data):
    """On numpy with numba the fused path runs a compiled kernel (the modReLU cell's from x; the momentum cells'
    rule and core in one loop); with the kernels switched off, and on strict, the readable loop: all three
    agree to 1e-10."""
    config = data.draw(configs(family, max_layers=2, max_size=5))
    paths_taken.clear()
    kernel, composed = both_paths(config, builder=build)
    kernel_paths = list(paths_taken)
    with kernels.disabled():
        loop = both_paths(config, builder=build)[0]
    loop_paths = paths_taken[len(kernel_paths):]
    on_kernels = backend_name == "numpy" and kernels.available()
    expected = ("kernel" if family == "OrthogonalRNN" else "rule kernel") if on_kernels else "loop"
    assert kernel_paths and all(p == expected for p in kernel_paths), kernel_paths
    assert loop_paths and all(p == "loop" for p in loop_paths), loop_paths
    assert_same(kernel, loop)
    assert_same(loop, composed)
