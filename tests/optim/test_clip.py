"""Gradient clipping: global-norm rescaling and element-wise clamping."""
import math

import hypothesis.strategies as st
import pytest
from tests.optim.optim_helpers import float_arrays, given_on_backend, host, lp, on_host, param, set_grad

from rnnlab.optim import clip_grad_norm, clip_grad_value

grad_lists = st.lists(float_arrays(), min_size=1, max_size=3)


def with_grads(grads):
    params = [param(host.zeros_like(g)) for g in grads]
    for p, g in zip(params, grads):
        set_grad(p, g)
    return params


@given_on_backend(grads=grad_lists, max_norm=st.floats(0.01, 20.0), p=st.sampled_from([1, 2, 3.5, math.inf]))
def test_clip_grad_norm_returns_the_global_norm_and_caps_it_keeping_the_direction(backend_name, float64, grads,
                                                                                  max_norm, p):
    params = with_grads(grads)
    flat = host.concatenate([g.ravel() for g in grads])
    norm = clip_grad_norm(params, max_norm, norm_type=p)
    assert norm == pytest.approx(lp(flat, p), rel=1e-12, abs=1e-300)
    clipped = host.concatenate([on_host(q.grad).ravel() for q in params])
    if norm > max_norm:
        assert lp(clipped, p) == pytest.approx(max_norm * norm / (norm + 1e-6), rel=1e-9)
        assert host.allclose(clipped * norm, flat * lp(clipped, p), rtol=1e-9, atol=1e-12)
    else:
        assert host.array_equal(clipped, flat)


def test_clip_grad_norm_leaves_nonfinite_gradients_for_the_optimizer_to_see(backend_name, float64):
    (p,) = with_grads([host.asarray([1.0, math.inf])])
    assert clip_grad_norm([p], 1.0) == math.inf
    assert host.array_equal(on_host(p.grad), [1.0, math.inf])


def test_clip_grad_norm_ignores_parameters_without_gradients(backend_name):
    assert clip_grad_norm([param([1.0])], 1.0) == 0.0


@given_on_backend(grads=grad_lists, value=st.floats(0.0, 12.0))
def test_clip_grad_value_clamps_each_element(backend_name, float64, grads, value):
    params = with_grads(grads)
    clip_grad_value(params, value)
    for q, g in zip(params, grads):
        assert host.array_equal(on_host(q.grad), host.clip(g, -value, value))


def test_clip_grad_value_at_ten_as_indrnn(backend_name):
    (p,) = with_grads([host.asarray([-30.0, 3.0, 11.0])])
    clip_grad_value([p], 10)
    assert host.array_equal(on_host(p.grad), [-10.0, 3.0, 10.0])


@pytest.mark.parametrize("call, match", [
    (lambda ps: clip_grad_norm(ps, -1.0), r"clip_grad_norm: max_norm must be a number >= 0, got -1.0"),
    (lambda ps: clip_grad_norm(ps, math.nan), r"clip_grad_norm: max_norm must be a number >= 0, got nan"),
    (lambda ps: clip_grad_norm(ps, 1.0, norm_type=0.5), r"clip_grad_norm: norm_type must be a number >= 1 .*0.5"),
    (lambda ps: clip_grad_value(ps, -2), r"clip_grad_value: clip_value must be a number >= 0, got -2"),
])
def test_clipping_bad_arguments_are_named(backend_name, call, match):
    params = with_grads([host.asarray([1.0, 2.0])])
    with pytest.raises(ValueError, match=match):
        call(params)
    assert host.array_equal(on_host(params[0].grad), [1.0, 2.0])


def test_clipping_refuses_a_non_tensor(backend_name):
    with pytest.raises(TypeError, match=r"clip_grad_norm: params\[1\] must be a Tensor .*got list"):
        clip_grad_norm([param([1.0]), [1.0]], 1.0)
