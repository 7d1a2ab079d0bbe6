"""What users rely on from backward(): accumulation, no_grad, detach, retain_grad, retain_graph, subgradients."""
import gc
import weakref

import numpy as np  # host-side expected values only
import pytest

import rnnlab
from rnnlab.engine import backend


def host(t):
    return rnnlab.to_numpy(t.grad if isinstance(t, rnnlab.Tensor) and t.grad is not None else t)


def test_gradients_accumulate_across_backward_calls_until_cleared(backend_name, float64):
    x = rnnlab.Tensor([1.0, -2.0], requires_grad=True)
    (x * x).sum().backward()
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(host(x), [2.0 + 3.0, -4.0 + 3.0])
    x.zero_grad()
    assert x.grad is None
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(host(x), [3.0, 3.0])


def test_a_grad_assigned_from_outside_is_never_written_into_and_the_first_gradient_is_copied(backend_name,
                                                                                             float64):
    x = rnnlab.Tensor([1.0, -2.0], requires_grad=True)
    theirs = rnnlab.asarray(np.array([10.0, 20.0]), like=x.data)
    x.grad = theirs
    (x * 3.0).sum().backward()
    np.testing.assert_allclose(host(x), [13.0, 23.0])
    np.testing.assert_allclose(rnnlab.to_numpy(theirs), [10.0, 20.0])
    x.zero_grad()
    upstream = rnnlab.asarray(np.array([1.0, 1.0]), like=x.data)
    x.backward(upstream)
    (x * 2.0).sum().backward()      # added in place into x's own copy, never into the caller's array
    np.testing.assert_allclose(host(x), [3.0, 3.0])
    np.testing.assert_allclose(rnnlab.to_numpy(upstream), [1.0, 1.0])


def test_no_grad_records_nothing_and_enable_grad_reopens_recording(backend_name):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    with rnnlab.no_grad():
        y = rnnlab.tanh(x) * 2.0
        with rnnlab.enable_grad():
            z = x * 2.0
    assert not y.requires_grad and y.creator is None
    assert z.requires_grad and z.creator is not None
    w = x * 2.0
    assert w.requires_grad, "recording resumes after the no_grad block"


def test_detach_shares_data_and_stops_the_gradient(backend_name, float64):
    x = rnnlab.Tensor([1.5, -0.5], requires_grad=True)
    d = x.detach()
    assert d.is_leaf and not d.requires_grad
    np.testing.assert_array_equal(d.numpy(), x.numpy())
    (x * d).sum().backward()          # d/dx (x * const) = const, not 2x
    np.testing.assert_allclose(host(x), [1.5, -0.5])


def test_retain_grad_keeps_an_intermediate_gradient_and_others_stay_none(backend_name, float64):
    x = rnnlab.Tensor([0.5, 1.0], requires_grad=True)
    h = x * 3.0
    h.retain_grad()
    u = h * 2.0
    (u * u).sum().backward()
    np.testing.assert_allclose(host(h), 2.0 * (2.0 * 3.0 * np.array([0.5, 1.0])) * 2.0)
    assert u.grad is None


def test_integer_tensors_never_require_grad(backend_name):
    i = rnnlab.Tensor([1, 2, 3])
    with pytest.raises(TypeError, match="only floating-point tensors can require gradients"):
        rnnlab.Tensor([1, 2], requires_grad=True)
    x = rnnlab.Tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert not (i + i).requires_grad
    assert not (x > 1.5).requires_grad
    assert rnnlab.embedding(x.reshape(3, 1), i - 1).requires_grad, "a float result of int inputs still can"


def test_retain_graph_allows_a_second_backward_that_adds_the_same_gradient(backend_name, float64):
    x = rnnlab.Tensor([0.3, -0.7], requires_grad=True)
    y = (rnnlab.tanh(x) * 2.0).sum()
    y.backward(retain_graph=True)
    first = host(x).copy()
    y.backward()
    np.testing.assert_allclose(host(x), 2 * first)
    np.testing.assert_allclose(first, 2 * (1 - np.tanh([0.3, -0.7]) ** 2))


def test_graph_of_an_unreferenced_output_is_collected_without_backward(backend_name):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    y = rnnlab.exp(x * 2.0)
    node = weakref.ref(y.creator)
    del y
    gc.collect()
    assert node() is None


def test_non_scalar_backward_needs_an_explicit_grad(backend_name, float64):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2.0
    with pytest.raises(RuntimeError, match=r"single-element output; this output has shape \(2,\)"):
        y.backward()
    y.backward(np.array([1.0, -1.0]))
    np.testing.assert_allclose(host(x), [2.0, -2.0])


def test_backward_rejects_a_grad_of_the_wrong_shape(backend_name):
    y = rnnlab.Tensor([1.0, 2.0], requires_grad=True) * 2.0
    with pytest.raises(ValueError, match=r"backward: grad has shape \(3,\) but the output has shape \(2,\)"):
        y.backward(np.ones(3))


def test_backward_of_a_tensor_without_grad_is_an_error(backend_name):
    with pytest.raises(RuntimeError, match="backward: this tensor does not require grad"):
        (rnnlab.Tensor([1.0]) * 2.0).backward()


def test_shared_subexpression_gets_the_sum_of_both_paths(backend_name, float64):
    x = rnnlab.Tensor([0.5, -1.5], requires_grad=True)
    h = x * x                          # used twice: h + h * x = x^2 + x^3
    (h + h * x).sum().backward()
    xs = np.array([0.5, -1.5])
    np.testing.assert_allclose(host(x), 2 * xs + 3 * xs ** 2)


def test_an_unused_output_of_split_contributes_zero_gradient(backend_name, float64):
    x = rnnlab.Tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    first, _ = rnnlab.split(x, 2)
    (first * 5.0).sum().backward()
    np.testing.assert_allclose(host(x), [5.0, 5.0, 0.0, 0.0])


def test_leaf_gradients_are_private_writable_arrays(backend_name, float64):
    a = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    b = rnnlab.Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()           # both receive the same upstream array, and a broadcast view
    a.grad *= 10.0
    np.testing.assert_allclose(host(a), [10.0, 10.0])
    np.testing.assert_allclose(host(b), [1.0, 1.0])


def test_python_float_beside_a_boolean_condition_keeps_its_value(backend_name, float64):
    cond = rnnlab.Tensor(np.array([True, False]))
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    np.testing.assert_allclose(rnnlab.where(cond, x, 5.0).numpy(), [1.0, 5.0])


def test_clip_passes_the_gradient_at_its_bounds_and_blocks_it_outside(backend_name, float64):
    x = rnnlab.Tensor([-2.0, -1.0, 0.0, 1.0, 2.0], requires_grad=True)
    rnnlab.clip(x, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(host(x), [0.0, 1.0, 1.0, 1.0, 0.0])


def test_kinks_use_the_documented_subgradients(backend_name, float64):
    x = rnnlab.Tensor([0.0, 1.0], requires_grad=True)
    (rnnlab.relu(x) + rnnlab.abs(x)).sum().backward()
    np.testing.assert_array_equal(host(x), [0.0, 2.0])
    m = rnnlab.Tensor([3.0, 1.0, 3.0], requires_grad=True)
    rnnlab.max(m).backward()
    np.testing.assert_array_equal(host(m), [0.5, 0.0, 0.5])
    a = rnnlab.Tensor([2.0], requires_grad=True)
    b = rnnlab.Tensor([2.0], requires_grad=True)
    rnnlab.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(host(a), [0.5])
    np.testing.assert_array_equal(host(b), [0.5])


def test_tensors_made_from_python_floats_follow_the_default_dtype(backend_name):
    xp = rnnlab.get_namespace(rnnlab.Tensor([1.0]).data)
    assert rnnlab.Tensor([1.0]).dtype == xp.float32
    rnnlab.set_default_dtype("float64")
    assert rnnlab.Tensor([1.0]).dtype == xp.float64
    assert rnnlab.Linear(2, 3).weight.dtype == xp.float64
    rnnlab.set_default_dtype("float32")
    assert rnnlab.Linear(2, 3).weight.dtype == xp.float32
    assert rnnlab.get_default_dtype(xp) == xp.float32


def test_operations_keep_results_on_the_inputs_backend_and_device(backend_name):
    x = rnnlab.Tensor([[1.0, 2.0]], requires_grad=True)
    y = rnnlab.softmax(x @ rnnlab.Tensor([[1.0], [2.0]]) + 1.0, axis=0)
    assert rnnlab.get_namespace(y.data) is rnnlab.get_namespace(x.data)
    assert backend.device_of(y.data) == backend.device_of(x.data)
    y.sum().backward()
    assert backend.device_of(x.grad) == backend.device_of(x.data)
