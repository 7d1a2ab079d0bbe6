"""state_dict / load_state_dict: host values only, exact round trips, resumption equal to an uninterrupted run,
across backends."""
import math

import pytest
from tests.optim.optim_helpers import Quadratic, host, on_host, param, random_quadratic

import rnnlab
from rnnlab.engine import backend
from rnnlab.optim import SGD, Adam, FrankWolfe, RMSProp, StepDecay

OTHER = {"numpy": ("strict", "device1"), "strict": ("numpy", None), "cupy": ("numpy", None)}

OPTIMIZERS = {
    "sgd_nesterov": lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "sgd_two_groups": lambda ps: SGD([{"params": ps[:1]}, {"params": ps[1:], "lr": 0.02, "momentum": 0.5}],
                                     lr=0.05),
    "adam_l2": lambda ps: Adam(ps, lr=0.05, weight_decay=0.01),
    "adamw": lambda ps: Adam(ps, lr=0.05, weight_decay=0.1, decoupled_weight_decay=True),
    "rmsprop_centered_momentum": lambda ps: RMSProp(ps, lr=0.01, momentum=0.5, centered=True),
    "fw_plain": lambda ps: FrankWolfe(ps, lr=0.5, delta=0.3, K=3),
    "fw_released_code": lambda ps: FrankWolfe(ps, lr=0.0, delta=0.1, K=2, norm="per_tensor", cumulative=True,
                                              outer=Adam(ps, lr=0.05)),
    "fw_inf_outer_sgd": lambda ps: FrankWolfe(ps, lr=0.0, delta=0.2, K=2, p=math.inf,
                                              outer=SGD(ps, lr=0.1, momentum=0.9)),
}


def problem():
    centers, matrices = random_quadratic(host.random.default_rng(7), [3, 2])
    start = [c + 2.0 for c in centers]
    return Quadratic([param(s) for s in start], centers, matrices)


def train(q, opt, steps):
    for _ in range(steps):
        opt.step(q.closure)


def assert_plain(value):
    """Only NumPy arrays and plain Python values, all the way down."""
    if isinstance(value, dict):
        for k, v in value.items():
            assert isinstance(k, (str, int))
            assert_plain(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            assert_plain(v)
    else:
        assert value is None or isinstance(value, (bool, int, float, str, host.ndarray)), type(value)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_state_dict_holds_host_values_and_round_trips_exactly(backend_name, float64, name):
    q = problem()
    opt = OPTIMIZERS[name](q.params)
    train(q, opt, 3)
    saved = opt.state_dict()
    assert_plain(saved)
    other = OPTIMIZERS[name](problem().params)
    other.load_state_dict(saved)
    again = other.state_dict()
    assert host_equal(again, saved)


def host_equal(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(host_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(host_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, host.ndarray):
        return isinstance(b, host.ndarray) and a.dtype == b.dtype and host.array_equal(a, b)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("across_backends", [False, True], ids=["same_backend", "other_backend"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_resumed_training_continues_exactly_as_uninterrupted(backend_name, float64, name, across_backends):
    q = problem()
    opt = OPTIMIZERS[name](q.params)
    sched = StepDecay(opt, 2, 0.5)
    for _ in range(6):
        train(q, opt, 1)
        sched.step()
    uninterrupted = [on_host(w) for w in q.params]

    q = problem()
    opt = OPTIMIZERS[name](q.params)
    sched = StepDecay(opt, 2, 0.5)
    for _ in range(3):
        train(q, opt, 1)
        sched.step()
    weights = [rnnlab.to_numpy(w.data).copy() for w in q.params]
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    del q, opt, sched

    target, device = OTHER[backend_name] if across_backends else (backend_name, "device1" if
                                                                  backend_name == "strict" else None)
    with rnnlab.use_backend(target, device=device):
        q = problem()
        for w, saved in zip(q.params, weights):
            w.data = backend.asarray(saved)
        opt = OPTIMIZERS[name](q.params)
        sched = StepDecay(opt, 2, 0.5)
        opt.load_state_dict(saved_opt)
        sched.load_state_dict(saved_sched)
        for _ in range(3):
            train(q, opt, 1)
            sched.step()
        resumed = [on_host(w) for w in q.params]
        assert all(backend.get_namespace(w.data) is backend.active_namespace() for w in q.params)
    for a, b in zip(resumed, uninterrupted):
        assert host.array_equal(a, b), f"max |diff| {abs(a - b).max():.3g}"


def test_loading_does_not_alias_the_saved_arrays(backend_name, float64):
    q = problem()
    opt = SGD(q.params, lr=0.1, momentum=0.9)
    train(q, opt, 1)
    saved = opt.state_dict()
    opt.load_state_dict(saved)
    before = saved["state"][0]["momentum_buffer"].copy()
    train(q, opt, 2)
    assert host.array_equal(saved["state"][0]["momentum_buffer"], before)
