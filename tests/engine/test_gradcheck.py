"""gradcheck itself: it passes correct gradients and reports wrong ones precisely."""
import re

import numpy as np  # host-side data only
import pytest

import rnnlab


class WrongSquare(rnnlab.Function):
    """y = x^2 with a deliberately wrong backward: 3x instead of 2x."""

    def forward(self, x):
        self.x = x
        return x * x

    def backward(self, gy):
        return gy * 3.0 * self.x


class FlippedIdentity(rnnlab.Function):
    """y = x whose backward reverses the gradient: right for a constant upstream gradient, wrong otherwise."""

    def forward(self, x):
        return x * 1.0

    def backward(self, gy):
        return self.xp.flip(gy)


def test_gradcheck_passes_correct_gradients_and_returns_true(backend_name, float64):
    x = rnnlab.Tensor([[0.3, -1.2, 0.8]], requires_grad=True)
    w = rnnlab.Tensor([[0.5], [1.5], [-0.4]], requires_grad=True)
    assert rnnlab.gradcheck(lambda x, w: rnnlab.tanh(x @ w) * rnnlab.exp(x).sum(), [x, w]) is True
    assert rnnlab.gradcheck(lambda x, w: rnnlab.tanh(x @ w), [x, w], fast=True) is True


def test_gradcheck_reports_input_worst_index_numeric_analytic_and_errors(backend_name, float64):
    x = rnnlab.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    with pytest.raises(rnnlab.GradcheckError) as info:
        rnnlab.gradcheck(lambda x: WrongSquare()(x), [x])
    message = str(info.value)
    found = re.search(r"input 0 \(shape \(3,\)\) has a wrong gradient; worst index \((\d),\): numeric (\S+) vs "
                      r"analytic (\S+); max abs error (\S+), max rel error (\S+)$", message)
    assert found, message
    index, numeric, analytic, abs_err, rel_err = found.groups()
    v = np.random.default_rng(0).standard_normal(3)          # gradcheck's upstream gradient (seed 0)
    xs = np.array([1.0, -2.0, 3.0])
    worst = int(np.argmax(np.abs(v * xs)))                   # |3 x v - 2 x v| is largest there
    assert int(index) == worst
    assert float(numeric) == pytest.approx(2 * xs[worst] * v[worst], rel=1e-6)
    assert float(analytic) == pytest.approx(3 * xs[worst] * v[worst], rel=1e-9)
    assert float(abs_err) == pytest.approx(np.abs(v * xs).max(), rel=1e-2)
    assert float(rel_err) == pytest.approx(0.5, rel=1e-2)


def test_gradcheck_names_the_failing_input_among_several(backend_name, float64):
    a = rnnlab.Tensor([0.5, 1.5], requires_grad=True)
    b = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(rnnlab.GradcheckError, match=r"^gradcheck: input 1 \(shape \(2,\)\)"):
        rnnlab.gradcheck(lambda a, b: a * 2.0 + WrongSquare()(b), [a, b])


def test_gradcheck_uses_a_random_upstream_gradient_not_ones(backend_name, float64):
    x = rnnlab.Tensor([0.5, -1.0, 2.0, 0.25], requires_grad=True)
    (FlippedIdentity()(x)).sum().backward()                   # with ones upstream the flip is invisible
    np.testing.assert_array_equal(rnnlab.to_numpy(x.grad), np.ones(4))
    with pytest.raises(rnnlab.GradcheckError):
        rnnlab.gradcheck(lambda x: FlippedIdentity()(x), [x])


def test_fast_mode_checks_one_random_direction_and_catches_wrong_gradients(backend_name, float64):
    x = rnnlab.Tensor([1.0, -2.0, 3.0], requires_grad=True)
    expected = (r"input 0 \(shape \(3,\)\) fails along a random direction u: "
                r"numeric v\^T J u = \S+ vs analytic \S+; abs error \S+, rel error \S+")
    with pytest.raises(rnnlab.GradcheckError, match=expected):
        rnnlab.gradcheck(lambda x: WrongSquare()(x), [x], fast=True)


@pytest.mark.parametrize("fast", [False, True])
def test_raise_exception_false_returns_false_on_a_wrong_gradient(backend_name, float64, fast):
    x = rnnlab.Tensor([1.0, -2.0], requires_grad=True)
    assert rnnlab.gradcheck(lambda x: WrongSquare()(x), [x], fast=fast, raise_exception=False) is False
    assert rnnlab.gradcheck(lambda x: x * x, [x], fast=fast, raise_exception=False) is True


def test_float32_inputs_are_refused(backend_name):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)       # the default dtype, float32
    with pytest.raises(TypeError, match=r"gradcheck: input 0 has dtype .*float32; finite differences need float64"):
        rnnlab.gradcheck(lambda x: x * x, [x])


def test_inputs_without_requires_grad_are_refused(backend_name, float64):
    with pytest.raises(ValueError, match="gradcheck: no input requires grad"):
        rnnlab.gradcheck(lambda x: x * x, [rnnlab.Tensor([1.0])])


def test_outputs_that_do_not_depend_on_checked_inputs_are_refused(backend_name, float64):
    x = rnnlab.Tensor([1.0], requires_grad=True)
    with pytest.raises(ValueError, match="gradcheck: no output of fn depends on an input that requires grad"):
        rnnlab.gradcheck(lambda x: rnnlab.Tensor([2.0]) * 3.0, [x])


def test_gradcheck_keeps_zero_dimensional_inputs_zero_dimensional(backend_name, float64):
    x = rnnlab.Tensor(np.array(0.7), requires_grad=True)
    seen = []
    assert rnnlab.gradcheck(lambda x: seen.append(x.shape) or x * x, [x])
    assert set(seen) == {()}
    with pytest.raises(rnnlab.GradcheckError, match=r"worst index \(\)"):
        rnnlab.gradcheck(lambda x: WrongSquare()(x), [x])
