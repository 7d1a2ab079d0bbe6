"""The graph walk: long chains, freeing, accumulation."""
import gc
import weakref

import pytest

import rnnlab


def test_ten_thousand_step_chain_backpropagates_without_recursion_error(backend_name, float64):
    x = rnnlab.Tensor([1.0], requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.sum().backward()
    assert float(rnnlab.to_numpy(x.grad)[0]) == pytest.approx(1.0001 ** 10_000, rel=1e-9)


def test_graph_is_freed_after_backward(backend_name):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    y = rnnlab.tanh(x * 3.0)
    f = weakref.ref(y.creator)
    y.sum().backward()
    del y
    gc.collect()
    assert f() is None


def test_second_backward_through_a_freed_graph_is_an_error(backend_name):
    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    y = (rnnlab.tanh(x) * 2.0).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        y.backward()
