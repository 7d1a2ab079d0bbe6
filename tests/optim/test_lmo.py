"""The linear minimization oracle of the l_p ball, and the l_p norm it rests on."""
import math

import hypothesis.strategies as st
import pytest
from hypothesis import assume
from tests.optim.optim_helpers import float_arrays, given_on_backend, host, lp, on_host, ps

import rnnlab
from rnnlab.engine import backend
from rnnlab.optim import lmo, lp_norm


def dual(p):
    return 1.0 if p == math.inf else (math.inf if p == 1 else p / (p - 1.0))


@given_on_backend(g=float_arrays(), p=ps, delta=st.floats(1e-3, 10.0), seed=st.integers(0, 2**32 - 1))
def test_lmo_is_on_the_sphere_and_no_point_of_the_ball_does_better(backend_name, float64, g, p, delta, seed):
    assume(host.abs(g).max() > 1e-6)
    s = on_host(lmo(backend.asarray(g), delta, p))
    assert s.shape == g.shape
    assert lp(s, p) == pytest.approx(delta, rel=1e-9)
    # Hölder: the minimum of <s, g> over the ball is -δ ||g||_q
    assert float((s * g).sum()) == pytest.approx(-delta * lp(g, dual(p)), rel=1e-9)
    rng = host.random.default_rng(seed)
    for _ in range(20):
        v = rng.standard_normal(g.shape) * rng.random(g.shape) ** 3
        v *= delta * rng.random() / max(lp(v, p), 1e-300)
        assert float((s * g).sum()) <= float((v * g).sum()) + 1e-9 * delta * lp(g, dual(p))


@pytest.mark.parametrize("p", [1, 1.5, 2, 3, math.inf])
def test_lmo_of_a_zero_gradient_is_zero(backend_name, p):
    s = lmo(backend.asarray(host.zeros((3, 2), dtype="float32")), 0.5, p)
    assert host.array_equal(on_host(s), host.zeros((3, 2)))


@given_on_backend(g=float_arrays(), delta=st.floats(1e-3, 10.0))
def test_lmo_for_p2_is_the_delta_scaled_normalized_gradient(backend_name, float64, g, delta):
    assume(host.abs(g).max() > 1e-6)
    s = on_host(lmo(backend.asarray(g), delta, 2))
    assert host.allclose(s, -delta * g / host.sqrt((g * g).sum()), rtol=1e-12, atol=0)


@given_on_backend(g=float_arrays(), delta=st.floats(1e-3, 10.0))
def test_lmo_for_p_inf_is_the_delta_scaled_sign(backend_name, float64, g, delta):
    assert host.array_equal(on_host(lmo(backend.asarray(g), delta, math.inf)), -delta * host.sign(g))


def test_lmo_for_p1_puts_all_mass_on_the_first_largest_entry(backend_name):
    g = host.asarray([[0.5, -3.0], [3.0, 1.0]], dtype="float32")
    s = on_host(lmo(backend.asarray(g), 2.0, 1))
    assert host.array_equal(s, host.asarray([[0.0, 2.0], [0.0, 0.0]]))


@pytest.mark.parametrize("p", [1.05, 1.5, 2, 7])
@pytest.mark.parametrize("scale", [1e-30, 1e30])
def test_lmo_stays_finite_in_float32_for_huge_tiny_gradients_and_p_near_one(backend_name, p, scale):
    g = host.asarray([1.0, -2.0, 0.5, 3.0], dtype="float64") * scale
    s = on_host(lmo(backend.asarray(g.astype("float32")), 1.0, p))
    assert host.all(host.isfinite(s))
    assert lp(s, p) == pytest.approx(1.0, rel=1e-5)


@given_on_backend(arrays=st.lists(float_arrays(), min_size=1, max_size=3), p=ps)
def test_lp_norm_of_several_arrays_is_the_norm_of_their_concatenation(backend_name, float64, arrays, p):
    got = float(lp_norm([backend.asarray(a) for a in arrays], p))
    flat = host.concatenate([a.ravel() for a in arrays])
    assert got == pytest.approx(lp(flat, p), rel=1e-12, abs=1e-300)


def test_lp_norm_does_not_overflow_float32(backend_name):
    g = backend.asarray(host.asarray([3e20, 4e20], dtype="float32"))
    assert float(lp_norm([g], 2)) == pytest.approx(5e20, rel=1e-6)
    assert float(rnnlab.to_numpy(lp_norm([g], 2))) != math.inf
