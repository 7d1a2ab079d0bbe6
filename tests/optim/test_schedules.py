"""Schedules: step decay, exponential decay, reduce-on-plateau, over any hyperparameter."""
import hypothesis.strategies as st
import pytest
from tests.optim.optim_helpers import given_on_backend, param

from rnnlab.optim import SGD, Adam, ExponentialDecay, FrankWolfe, ReduceOnPlateau, StepDecay


@given_on_backend(lr=st.floats(1e-4, 1.0), step_size=st.integers(1, 5), gamma=st.floats(0.1, 1.0),
                  steps=st.integers(0, 20))
def test_step_decay_multiplies_by_gamma_every_step_size_steps(backend_name, lr, step_size, gamma, steps):
    opt = SGD([param([1.0])], lr=lr)
    sched = StepDecay(opt, step_size, gamma)
    for _ in range(steps):
        sched.step()
    assert opt.param_groups[0]["lr"] == pytest.approx(lr * gamma ** (steps // step_size), rel=1e-12)


def test_exponential_decay_moves_the_frank_wolfe_radius_with_the_learning_rate(backend_name):
    w = param([1.0])
    opt = FrankWolfe([{"params": [w]}], lr=0.5, delta=0.2)
    sched = ExponentialDecay(opt, 0.9, keys=("lr", "delta"))
    for _ in range(3):
        sched.step()
    assert sched.current() == [{"lr": pytest.approx(0.5 * 0.729), "delta": pytest.approx(0.2 * 0.729)}]


def test_schedules_scale_each_group_from_its_own_start(backend_name):
    opt = SGD([{"params": [param([1.0])], "lr": 1.0}, {"params": [param([1.0])], "lr": 0.1}], lr=0.5)
    sched = StepDecay(opt, 1, 0.5)
    sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.05]


def test_reduce_on_plateau_reduces_after_patience_bad_steps_then_cools_down(backend_name):
    opt = Adam([param([1.0])], lr=1.0)
    sched = ReduceOnPlateau(opt, factor=0.5, patience=2, cooldown=1, threshold=0.0)
    lrs, reductions = [], []
    for metric in [5, 4, 4, 4, 4, 4, 4, 4, 3]:
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
        reductions.append(sched.num_reductions)
    # bad steps at 3, 4, 5 -> reduce after the 3rd (> patience 2); cooldown swallows step 6; 7, 8 bad
    assert lrs == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    assert reductions == [0, 0, 0, 0, 1, 1, 1, 1, 1]      # num_reductions counts them as they happen
    for _ in range(3):
        sched.step(3)
    assert opt.param_groups[0]["lr"] == 0.25 and sched.num_reductions == 2


def test_reduce_on_plateau_max_mode_and_floor(backend_name):
    opt = SGD([param([1.0])], lr=1.0)
    sched = ReduceOnPlateau(opt, mode="max", factor=0.1, patience=0, min_value=0.05)
    for metric in [1.0, 2.0, 1.5, 1.5, 1.5]:
        sched.step(metric)
    assert opt.param_groups[0]["lr"] == 0.05


@pytest.mark.parametrize("make", [
    lambda opt: StepDecay(opt, 2, 0.5, keys=("lr", "delta")),
    lambda opt: ExponentialDecay(opt, 0.8),
    lambda opt: ReduceOnPlateau(opt, patience=1, factor=0.5, cooldown=1),
])
def test_scheduler_state_dict_resumes_the_same_sequence(backend_name, make):
    metrics = [3.0, 2.0, 2.5, 2.5, 2.5, 1.0, 1.0, 1.0, 1.0]

    def fresh():
        opt = FrankWolfe([param([1.0])], lr=1.0, delta=0.1)
        return opt, make(opt)

    def advance(opt, sched, ms):
        out = []
        for m in ms:
            sched.step(m) if isinstance(sched, ReduceOnPlateau) else sched.step()
            out.append((opt.param_groups[0]["lr"], opt.param_groups[0]["delta"]))
        return out

    opt, sched = fresh()
    uninterrupted = advance(opt, sched, metrics)
    opt, sched = fresh()
    first = advance(opt, sched, metrics[:4])
    saved_opt, saved_sched = opt.state_dict(), sched.state_dict()
    opt, sched = fresh()
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    assert sched.state_dict() == saved_sched
    assert first + advance(opt, sched, metrics[4:]) == uninterrupted


@pytest.mark.parametrize("make, error, match", [
    (lambda o: StepDecay(o, 0), ValueError, r"StepDecay: step_size must be an integer >= 1, got 0"),
    (lambda o: StepDecay(o, 2, gamma=-0.5), ValueError, r"StepDecay: gamma must be a number > 0, got -0.5"),
    (lambda o: ExponentialDecay(o, 0.0), ValueError, r"ExponentialDecay: gamma must be a number > 0, got 0.0"),
    (lambda o: ExponentialDecay(o, 0.9, keys=("delta",)), ValueError,
     r"ExponentialDecay: keys: 'delta' is not a hyperparameter of SGD"),
    (lambda o: ExponentialDecay(o, 0.9, keys=("nesterov",)), ValueError,
     r"ExponentialDecay: keys: 'nesterov' of param group 0 is False, not a number"),
    (lambda o: ExponentialDecay(o, 0.9, keys=()), ValueError, r"ExponentialDecay: keys is empty"),
    (lambda o: ReduceOnPlateau(o, mode="up"), ValueError, r"ReduceOnPlateau: mode must be 'min' or 'max', got 'up'"),
    (lambda o: ReduceOnPlateau(o, factor=1.5), ValueError, r"ReduceOnPlateau: factor must be a number in \(0, 1\)"),
    (lambda o: ReduceOnPlateau(o, patience=-1), ValueError, r"ReduceOnPlateau: patience must be an integer >= 0"),
    (lambda o: ReduceOnPlateau(o, cooldown=1.5), ValueError, r"ReduceOnPlateau: cooldown must be an integer >= 0"),
    (lambda o: ReduceOnPlateau(o, threshold=-1), ValueError, r"ReduceOnPlateau: threshold must be a number >= 0"),
    (lambda o: ReduceOnPlateau(o, threshold_mode="x"), ValueError,
     r"ReduceOnPlateau: threshold_mode must be 'rel' or 'abs', got 'x'"),
    (lambda o: ReduceOnPlateau(o, min_value=-1.0), ValueError, r"ReduceOnPlateau: min_value\['lr'\] must be"),
    (lambda o: StepDecay(object(), 1), TypeError, r"StepDecay: optimizer must be an rnnlab.optim optimizer"),
])
def test_scheduler_bad_arguments_are_named(backend_name, make, error, match):
    opt = SGD([param([1.0])], lr=0.1)
    with pytest.raises(error, match=match):
        make(opt)
    assert opt.param_groups[0]["lr"] == 0.1


def plateau_reference(metrics, mode, threshold_mode, threshold, patience, cooldown, factor, lr, floor):
    """ReduceLROnPlateau written out plainly, step by step: the learning rate after each metric."""
    best, bad, cool, out = (float("inf") if mode == "min" else float("-inf")), 0, 0, []
    for m in metrics:
        if mode == "min":
            bound = best * (1 - threshold) if threshold_mode == "rel" else best - threshold
            better = m < bound
        else:
            bound = best * (1 + threshold) if threshold_mode == "rel" else best + threshold
            better = m > bound
        best, bad = (m, 0) if better else (best, bad + 1)
        if cool > 0:
            cool, bad = cool - 1, 0
        if bad > patience:
            lr, cool, bad = max(lr * factor, floor), cooldown, 0
        out.append(lr)
    return out


@given_on_backend(metrics=st.lists(st.sampled_from([0.5, 0.9, 0.99, 0.999, 1.0, 1.001, 1.01, 1.1, 2.0]),
                                   min_size=1, max_size=25),
                  mode=st.sampled_from(["min", "max"]), threshold_mode=st.sampled_from(["rel", "abs"]),
                  threshold=st.sampled_from([0.0, 0.005, 0.05, 0.5]), patience=st.integers(0, 3),
                  cooldown=st.integers(0, 2), floor=st.sampled_from([0.0, 0.03]))
def test_reduce_on_plateau_matches_the_rule_step_by_step(backend_name, metrics, mode, threshold_mode, threshold,
                                                          patience, cooldown, floor):
    opt = SGD([param([1.0])], lr=1.0)
    sched = ReduceOnPlateau(opt, mode=mode, factor=0.5, patience=patience, threshold=threshold,
                            threshold_mode=threshold_mode, cooldown=cooldown, min_value=floor)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == plateau_reference(metrics, mode, threshold_mode, threshold, patience, cooldown, 0.5, 1.0, floor)


def test_reduce_on_plateau_max_mode_with_a_relative_threshold_step_by_step(backend_name):
    opt = SGD([param([1.0])], lr=1.0)
    sched = ReduceOnPlateau(opt, mode="max", factor=0.5, patience=0, threshold=0.1, threshold_mode="rel")
    lrs = []
    # best 1.0; 1.05 is not 10 % better (bad: halve), 1.2 is (best 1.2), 1.3 < 1.32 (bad), 1.4 > 1.32 (best)
    for metric in [1.0, 1.05, 1.2, 1.3, 1.4]:
        sched.step(metric)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == [1.0, 0.5, 0.5, 0.25, 0.25]
    assert sched.best == 1.4


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("threshold_mode", ["rel", "abs"])
def test_reduce_on_plateau_an_equal_metric_is_no_improvement(backend_name, mode, threshold_mode):
    opt = SGD([param([1.0])], lr=1.0)
    sched = ReduceOnPlateau(opt, mode=mode, factor=0.5, patience=0, threshold=0.0, threshold_mode=threshold_mode)
    sched.step(1.0)
    assert opt.param_groups[0]["lr"] == 1.0
    sched.step(1.0)
    assert opt.param_groups[0]["lr"] == 0.5


@pytest.mark.parametrize("make", [
    lambda opt: StepDecay(opt, 2, 0.5),
    lambda opt: ExponentialDecay(opt, 0.8),
    lambda opt: ReduceOnPlateau(opt, patience=0),
])
def test_every_scheduler_counts_its_steps_in_last_epoch(backend_name, make):
    opt = SGD([param([1.0])], lr=1.0)
    sched = make(opt)
    assert sched.last_epoch == 0
    for n in range(1, 5):
        sched.step(1.0) if isinstance(sched, ReduceOnPlateau) else sched.step()
        assert sched.last_epoch == n
        assert sched.state_dict()["last_epoch"] == n


@pytest.mark.parametrize("patience", range(4))
@pytest.mark.parametrize("cooldown", range(3))
@pytest.mark.parametrize("mode", ["min", "max"])
def test_reduce_on_plateau_on_a_flat_metric_reduces_every_patience_plus_one_steps_after_cooldown(
        backend_name, patience, cooldown, mode):
    """A metric that never improves after its first value: the count of bad steps starts again from 0 after
    every reduction, so reductions come at a fixed period (the rule, step by step, for 20 steps)."""
    opt = SGD([param([1.0])], lr=1.0)
    sched = ReduceOnPlateau(opt, mode=mode, factor=0.5, patience=patience, cooldown=cooldown, min_value=0.0)
    lrs = []
    for _ in range(20):
        sched.step(1.0)
        lrs.append(opt.param_groups[0]["lr"])
    assert lrs == plateau_reference([1.0] * 20, mode, "rel", 1e-4, patience, cooldown, 0.5, 1.0, 0.0)
    reductions = [i + 1 for i in range(20) if lrs[i] != (lrs[i - 1] if i else 1.0)]
    assert reductions[0] == patience + 2                 # step 1 sets the best; then patience + 1 bad steps
    assert all(b - a == cooldown + patience + 1 for a, b in zip(reductions, reductions[1:]))
