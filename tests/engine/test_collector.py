"""``rnnlab.engine.collector.paused``: the cyclic collector is off inside, restored after; the unrolled path
and the backward walk run inside it."""
import gc

import pytest

import rnnlab
from rnnlab import cells
from rnnlab.engine import collector, ops


@pytest.fixture
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def test_the_collector_is_off_inside_and_on_again_after(collector_on):
    with collector.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_is_restored_when_the_block_raises(collector_on):
    with pytest.raises(KeyError):
        with collector.paused():
            raise KeyError("inside")
    assert gc.isenabled()


def test_nested_blocks_leave_it_off_until_the_outer_one_ends(collector_on):
    with collector.paused():
        with collector.paused():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_program_turned_off_stays_off(collector_on):
    gc.disable()
    with collector.paused():
        pass
    assert not gc.isenabled()


class _Spy(cells.RNN):
    """An RNN cell that records whether the collector was on at each step of the unrolled path."""

    seen: list

    def advance(self, a, state, t):
        self.seen.append(gc.isenabled())
        return super().advance(a, state, t)


def test_the_unrolled_path_builds_its_graph_with_the_collector_paused(backend_name, float64, collector_on):
    cell = _Spy(2, 3, rng=0)
    cell.seen = []
    rnn = cells.Recurrent(cell, fused=False)
    out, _ = rnn(rnnlab.Tensor(rnnlab.asarray([[[0.5, -1.0]]] * 4)))
    assert cell.seen == [False] * 4
    assert gc.isenabled()
    out.sum().backward()
    assert cell.weight_hh.grad is not None and gc.isenabled()


def test_the_backward_walk_runs_with_the_collector_paused(backend_name, float64, collector_on):
    seen = []

    class Probe(rnnlab.Function):
        def forward(self, x):
            return x * 1.0

        def backward(self, gy):
            seen.append(gc.isenabled())
            return gy

    x = rnnlab.Tensor(rnnlab.asarray([1.0, 2.0]), requires_grad=True)
    ops.sum(Probe()(x)).backward()
    assert seen == [False] and gc.isenabled()
    assert rnnlab.to_numpy(x.grad).tolist() == [1.0, 1.0]


def test_a_failing_step_of_the_unrolled_path_restores_the_collector(backend_name, float64, collector_on):
    class Broken(cells.RNN):
        def advance(self, a, state, t):
            raise ZeroDivisionError("a bug in a cell")

    rnn = cells.Recurrent(Broken(2, 3, rng=0), fused=False)
    with pytest.raises(ZeroDivisionError):
        rnn(rnnlab.Tensor(rnnlab.asarray([[[0.5, -1.0]]] * 2)))
    assert gc.isenabled()
