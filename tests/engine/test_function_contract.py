"""Guard rails of the backward walk: a Function's gradients are checked (count and shapes), one instance
belongs to one graph, and data that holds no numbers is refused, each with a one-line FunctionError or
TensorDataError naming the class, the input and what was expected."""
import numpy as np  # host-side data only
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnlab
from rnnlab.engine import errors

FIXTURE_SETTINGS = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])


class Scale(rnnlab.Function):
    """y = a * b with b a (1,) or scalar factor; dL/da = gy * b, dL/db as ``backward_b`` says."""

    def __init__(self, backward_b):
        self.backward_b = backward_b

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        return self.backward_b(self.xp, gy, self.a, self.b)


def _inputs():
    a = rnnlab.Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    b = rnnlab.Tensor(np.array([2.0]), requires_grad=True)
    return a, b


def test_a_correct_custom_function_passes_the_checks(backend_name, float64):
    a, b = _inputs()
    Scale(lambda xp, gy, a, b: (gy * b, xp.reshape(xp.sum(gy * a), (1,))))(a, b).sum().backward()
    np.testing.assert_allclose(rnnlab.to_numpy(a.grad), np.full((2, 3), 2.0))
    np.testing.assert_allclose(rnnlab.to_numpy(b.grad), [15.0])


def test_a_gradient_of_the_output_shape_for_a_broadcast_input_is_refused(backend_name, float64):
    a, b = _inputs()
    y = Scale(lambda xp, gy, a, b: (gy * b, gy * a))(a, b).sum()   # forgot to sum dL/db back to (1,)
    with pytest.raises(errors.FunctionError,
                       match=r"^Scale.backward: the gradient for input 1 has shape \(2, 3\), expected that "
                             r"input's shape \(1,\)"):
        y.backward()


def test_a_gradient_that_is_not_an_array_is_refused_naming_its_type(backend_name, float64):
    a, b = _inputs()
    y = Scale(lambda xp, gy, a, b: ([1.0], None))(a, b).sum()
    with pytest.raises(errors.FunctionError, match=r"^Scale.backward: the gradient for input 0 has a list, "
                                                   r"expected that input's shape \(2, 3\)"):
        y.backward()


@pytest.mark.parametrize("returned, count", [(lambda xp, gy, a, b: gy * b, "1 gradient"),
                                             (lambda xp, gy, a, b: (gy * b, None, None), "3 gradients")])
def test_a_backward_returning_the_wrong_number_of_gradients_is_refused(backend_name, float64, returned, count):
    a, b = _inputs()
    y = Scale(returned)(a, b).sum()
    with pytest.raises(errors.FunctionError,
                       match=rf"^Scale.backward returned {count} for 2 inputs; return one per input \(None for"):
        y.backward()


def test_a_list_of_gradients_counts_like_a_tuple(backend_name, float64):
    a, b = _inputs()
    Scale(lambda xp, gy, a, b: [gy * b, None])(a, b).sum().backward()
    np.testing.assert_allclose(rnnlab.to_numpy(a.grad), np.full((2, 3), 2.0))
    assert b.grad is None


def test_calling_one_function_instance_twice_in_a_graph_is_refused_at_the_second_call(backend_name):
    f = Scale(lambda xp, gy, a, b: (gy * b, None))
    a, b = _inputs()
    f(a, b)
    with pytest.raises(errors.FunctionError, match=r"^Scale: this Function instance was already called in a "
                                                   r"graph; .*make a new instance per call \(Scale\(\)\(\.\.\.\)\)"):
        f(a, b)


def test_a_released_function_instance_cannot_be_called_again(backend_name):
    f = Scale(lambda xp, gy, a, b: (gy * b, None))
    a, b = _inputs()
    f(a, b).sum().backward()
    assert f.released
    with pytest.raises(errors.FunctionError, match="Scale: this Function instance was already called"):
        f(a, b)


def test_a_function_instance_called_without_recording_may_be_called_again(backend_name):
    f = Scale(lambda xp, gy, a, b: (gy * b, None))
    a, b = _inputs()
    with rnnlab.no_grad():
        f(a, b)
    assert f(a, b).creator is f


def test_the_contract_errors_are_one_line_value_errors():
    assert issubclass(errors.FunctionError, errors.EngineError)
    assert issubclass(errors.EngineError, ValueError)
    assert issubclass(errors.TensorDataError, TypeError) and issubclass(errors.TensorDataError, ValueError)


BINARY = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
          "div": lambda a, b: a / b, "pow": lambda a, b: a ** b, "maximum": rnnlab.maximum,
          "where": lambda a, b: rnnlab.where(a > b, a, b)}


@FIXTURE_SETTINGS
@given(name=st.sampled_from(sorted(BINARY)), shapes=hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3),
       seed=st.integers(0, 2 ** 16))
def test_broadcasting_operations_sum_their_gradients_back_to_each_input(backend_name, float64, name, shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (rnnlab.Tensor(rng.uniform(0.5, 2.0, s), requires_grad=True) for s in shapes.input_shapes)
    y = BINARY[name](a, b)
    y.backward(np.ones(shapes.result_shape))          # the walk raises FunctionError on a wrong shape
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@pytest.mark.parametrize("data, match", [
    (None, r"^Tensor: cannot make a tensor from None; pass a number, a nested list of numbers or an array$"),
    ([[1.0, 2.0], [3.0]], r"^Tensor: cannot make a tensor from a ragged nested list: its rows at depth 1 have "
                          r"different lengths; nested lists must be rectangular$"),
    ([[[1.0], [2.0]], [[3.0], [4.0, 5.0]]], r"its rows at depth 2 have different lengths"),
    (np.array([1.0, None], dtype=object), r"^Tensor: cannot make a tensor from data holding NoneType \(dtype "
                                          r"object\); every element must be a number$"),
    (np.array([1.0, 2.0], dtype=object), r"data holding Python objects \(dtype object\)"),
    ([1.0, "a"], r"^Tensor: cannot make a tensor from data of dtype <U32$"),
])
def test_data_that_holds_no_numbers_is_refused(backend_name, data, match):
    with pytest.raises(errors.TensorDataError, match=match):
        rnnlab.Tensor(data)


def test_rectangular_nested_lists_and_numpy_scalars_still_make_tensors(backend_name):
    assert rnnlab.Tensor([[1.0, 2.0], [3.0, 4.0]]).shape == (2, 2)
    assert rnnlab.Tensor(np.float64(3.0)).shape == ()
