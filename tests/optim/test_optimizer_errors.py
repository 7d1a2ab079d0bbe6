"""Bad input: each error names the optimizer, the argument and the value, and leaves the parameters alone."""
import math

import pytest
from tests.optim.optim_helpers import host, on_host, param, set_grad

import rnnlab
from rnnlab.optim import SGD, Adam, FrankWolfe, NonFiniteGradientError, RMSProp


def fw(**kw):
    return lambda ps: FrankWolfe(ps, **{"lr": 0.1, "delta": 0.1, **kw})


BAD_HYPERPARAMETERS = [
    (lambda ps: SGD(ps, lr=-0.1), r"SGD: lr must be a number in \[0.0, inf\), got -0.1"),
    (lambda ps: SGD(ps, lr=math.nan), r"SGD: lr must be a number in \[0.0, inf\), got nan"),
    (lambda ps: SGD(ps, lr="0.1"), r"SGD: lr must be a number .* got '0.1'"),
    (lambda ps: SGD(ps, momentum=-0.9), r"SGD: momentum must be a number in \[0.0, inf\), got -0.9"),
    (lambda ps: SGD(ps, dampening=1.5), r"SGD: dampening must be a number in \[0.0, 1.0\], got 1.5"),
    (lambda ps: SGD(ps, weight_decay=-1e-4), r"SGD: weight_decay must be .* got -0.0001"),
    (lambda ps: SGD(ps, nesterov=True), r"SGD: nesterov=True needs momentum > 0 and dampening = 0, got momentum=0.0"),
    (lambda ps: SGD(ps, nesterov=1), r"SGD: nesterov must be True or False, got 1"),
    (lambda ps: Adam(ps, lr=-1e-3), r"Adam: lr must be a number in \[0.0, inf\), got -0.001"),
    (lambda ps: Adam(ps, betas=(0.9, 1.0)), r"Adam: betas\[1\] must be a number in \[0.0, 1.0\), got 1.0"),
    (lambda ps: Adam(ps, betas=(-0.1, 0.9)), r"Adam: betas\[0\] must be a number in \[0.0, 1.0\), got -0.1"),
    (lambda ps: Adam(ps, betas=0.9), r"Adam: betas must be a pair \(beta1, beta2\), got 0.9"),
    (lambda ps: Adam(ps, eps=-1e-8), r"Adam: eps must be a number in \[0.0, inf\), got -1e-08"),
    (lambda ps: Adam(ps, decoupled_weight_decay="yes"), r"Adam: decoupled_weight_decay must be True or False"),
    (lambda ps: RMSProp(ps, alpha=1.5), r"RMSProp: alpha must be a number in \[0.0, 1.0\], got 1.5"),
    (lambda ps: RMSProp(ps, momentum=-0.5), r"RMSProp: momentum must be a number in \[0.0, inf\), got -0.5"),
    (lambda ps: RMSProp(ps, centered=None), r"RMSProp: centered must be True or False, got None"),
    (fw(lr=-0.5), r"FrankWolfe: lr must be a number in \[0.0, inf\), got -0.5"),
    (fw(delta=-0.01), r"FrankWolfe: delta must be a number in \(0.0, inf\), got -0.01"),
    (fw(delta=0), r"FrankWolfe: delta must be a number in \(0.0, inf\), got 0"),
    (fw(delta=math.inf), r"FrankWolfe: delta must be a number in \(0.0, inf\), got inf"),
    (fw(p=0.5), r"FrankWolfe: p must be a number >= 1 .* got 0.5"),
    (fw(p=-math.inf), r"FrankWolfe: p must be a number >= 1 .* got -inf"),
    (fw(p=math.nan), r"FrankWolfe: p must be a number >= 1 .* got nan"),
    (fw(p="2"), r"FrankWolfe: p must be a number >= 1 .* got '2'"),
    (fw(K=0), r"FrankWolfe: K \(inner steps\) must be an integer >= 1, got 0"),
    (fw(K=2.5), r"FrankWolfe: K \(inner steps\) must be an integer >= 1, got 2.5"),
    (fw(K=True), r"FrankWolfe: K \(inner steps\) must be an integer >= 1, got True"),
    (fw(norm="frobenius"), r"FrankWolfe: norm must be one of \('global', 'per_tensor'\), got 'frobenius'"),
    (fw(gamma="2/k"), r"FrankWolfe: gamma must be one of '1/k', '2/\(k\+1\)', got '2/k'"),
    (fw(cumulative="yes"), r"FrankWolfe: cumulative must be True or False, got 'yes'"),
    (fw(nonfinite="ignore"), r"FrankWolfe: nonfinite must be one of 'raise', 'skip', got 'ignore'"),
    (lambda ps: SGD(ps, nonfinite=None), r"SGD: nonfinite must be one of 'raise', 'skip', got None"),
]


@pytest.mark.parametrize("make, match", BAD_HYPERPARAMETERS)
def test_bad_hyperparameter_is_named_with_its_value(backend_name, make, match):
    with pytest.raises(ValueError, match=match):
        make([param([1.0, 2.0])])


def test_bad_value_in_a_parameter_group_names_the_group(backend_name):
    with pytest.raises(ValueError, match=r"FrankWolfe: param group 1: delta must be .* got -1.0"):
        FrankWolfe([{"params": [param([1.0])]}, {"params": [param([2.0])], "delta": -1.0}], lr=0.1, delta=0.1)


def test_frank_wolfe_refuses_a_zero_radius_with_an_outer_optimizer_and_when_set_before_a_step(backend_name):
    w = param([1.0, 2.0])
    with pytest.raises(ValueError, match=r"FrankWolfe: delta must be a number in \(0.0, inf\), got 0.0"):
        FrankWolfe([w], lr=0.0, delta=0.0, outer=Adam([w]))
    opt = FrankWolfe([w], lr=0.0, delta=0.1, outer=Adam([w]))
    opt.param_groups[0]["delta"] = 0.0
    before = on_host(w.data).copy()

    def closure():
        set_grad(w, [1.0, -1.0])
        return 0.0

    with pytest.raises(ValueError, match=r"FrankWolfe: delta must be a number in \(0.0, inf\), got 0.0"):
        opt.step(closure)
    assert (on_host(w.data) == before).all()


BAD_PARAMS = [
    (lambda: SGD([param([1.0]), host.ones(2)], lr=0.1), TypeError,
     r"SGD: param group 0: params\[1\] must be a Tensor \(a Parameter\), got ndarray"),
    (lambda: FrankWolfe([param([1.0]), "w"], lr=0.1, delta=0.1), TypeError,
     r"FrankWolfe: param group 0: params\[1\] must be a Tensor \(a Parameter\), got str: 'w'"),
    (lambda: Adam(param([1.0])), TypeError, r"Adam: params must be an iterable .* got a single Parameter"),
    (lambda: Adam(3), TypeError, r"Adam: params must be an iterable .* got int"),
    (lambda: SGD([], lr=0.1), ValueError, r"SGD: params is empty"),
    (lambda: SGD([rnnlab.Tensor([1.0])], lr=0.1), ValueError,
     r"SGD: param group 0: params\[0\] \(shape \(1,\)\) does not require grad"),
    (lambda: SGD([{"params": [param([1.0])], "lrr": 0.1}]), ValueError,
     r"SGD: param group 0: unknown hyperparameter\(s\) \['lrr'\]"),
    (lambda: SGD([{"lr": 0.1}]), TypeError, r"SGD: param group 0: expected a dict with a 'params' key"),
]


@pytest.mark.parametrize("make, error, match", BAD_PARAMS)
def test_bad_params_are_named(backend_name, make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_a_parameter_given_twice_is_refused(backend_name):
    w = param([1.0])
    with pytest.raises(ValueError, match=r"SGD: param group 1: params\[0\] \(shape \(1,\)\) appears twice"):
        SGD([{"params": [w]}, {"params": [w]}], lr=0.1)


def test_outer_must_be_an_optimizer_over_the_same_parameters(backend_name):
    a, b = param([1.0]), param([2.0])
    with pytest.raises(ValueError, match=r"FrankWolfe: outer must optimize the same parameters .* lacks 1"):
        FrankWolfe([a, b], lr=0.1, delta=0.1, outer=Adam([a]))
    with pytest.raises(TypeError, match=r"FrankWolfe: outer must be None or an optimizer .* got str"):
        FrankWolfe([a], lr=0.1, delta=0.1, outer="adam")
    with pytest.raises(TypeError, match=r"FrankWolfe: outer must be None or an optimizer .* got FrankWolfe"):
        FrankWolfe([a], lr=0.1, delta=0.1, outer=FrankWolfe([a], lr=0.1, delta=0.1))


def test_frank_wolfe_step_needs_a_closure(backend_name):
    w = param([1.0])
    set_grad(w, [1.0])
    with pytest.raises(TypeError, match=r"FrankWolfe: step needs a closure .* called K=2 times\), got None"):
        FrankWolfe([w], lr=0.1, delta=0.1, K=2).step()
    assert host.array_equal(on_host(w), [1.0])


def test_a_hyperparameter_made_bad_after_construction_is_caught_at_step(backend_name):
    w = param([1.0])
    opt = SGD([w], lr=0.1)
    opt.param_groups[0]["lr"] = -0.1
    set_grad(w, [1.0])
    with pytest.raises(ValueError, match=r"SGD: lr must be a number in \[0.0, inf\), got -0.1"):
        opt.step()
    assert host.array_equal(on_host(w), [1.0])


OPTIMIZERS = [lambda ps, **kw: SGD(ps, lr=0.1, momentum=0.9, **kw), lambda ps, **kw: Adam(ps, **kw),
              lambda ps, **kw: RMSProp(ps, momentum=0.5, **kw)]


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "Adam", "RMSProp"])
@pytest.mark.parametrize("bad, kind", [(math.nan, "NaN"), (-math.inf, "Inf")])
def test_nonfinite_gradient_raises_naming_the_parameter_and_changes_nothing(backend_name, make, bad, kind):
    a, b = param([1.0, 2.0]), param([3.0])
    opt = make([a, b])
    set_grad(a, [0.5, 0.5])
    set_grad(b, [0.5])
    opt.step()
    state, weights = opt.state_dict(), [on_host(a), on_host(b)]
    set_grad(a, [0.5, 0.5])
    set_grad(b, [bad])
    name = type(opt).__name__
    with pytest.raises(NonFiniteGradientError,
                       match=rf"{name}: the gradient of parameter 1 \(shape \(1,\)\) contains {kind}; .*unchanged"):
        opt.step()
    assert host.array_equal(on_host(a), weights[0]) and host.array_equal(on_host(b), weights[1])
    assert opt.state_dict()["state"].keys() == state["state"].keys()
    for i, entries in state["state"].items():
        for key, value in entries.items():
            assert host.array_equal(opt.state_dict()["state"][i][key], value)


@pytest.mark.parametrize("make", OPTIMIZERS, ids=["SGD", "Adam", "RMSProp"])
def test_nonfinite_gradient_with_skip_skips_the_step(backend_name, make):
    a = param([1.0, 2.0])
    opt = make([a], nonfinite="skip")
    set_grad(a, [math.nan, 1.0])
    opt.step()
    assert host.array_equal(on_host(a), [1.0, 2.0]) and opt.state == {} and opt.skipped_steps == 1
    set_grad(a, [1.0, 1.0])
    opt.step()
    assert not host.array_equal(on_host(a), [1.0, 2.0])


def test_load_state_dict_refuses_a_state_of_another_shape(backend_name):
    a, b = param([1.0, 2.0]), param([3.0])
    opt = SGD([a, b], lr=0.1, momentum=0.9)
    set_grad(a, [1.0, 1.0])
    set_grad(b, [1.0])
    opt.step()
    saved = opt.state_dict()
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: the state has 1 parameter groups, this optimizer has 2"):
        SGD([{"params": [a]}, {"params": [b]}], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: group 0 has 2 parameters in the state, 1 here"):
        SGD([a], lr=0.1).load_state_dict(saved)
    with pytest.raises(ValueError, match=r"SGD.load_state_dict: state 'momentum_buffer' of parameter 0 has shape "
                                         r"\(2,\), the parameter has shape \(3,\)"):
        SGD([param([1.0, 2.0, 3.0]), b], lr=0.1).load_state_dict(saved)
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = -3.0
    with pytest.raises(ValueError, match=r"SGD: load_state_dict: lr must be .* got -3.0"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1


def test_frank_wolfe_load_state_dict_refuses_a_missing_outer(backend_name):
    w = param([1.0])
    with_outer = FrankWolfe([w], lr=0.1, delta=0.1, outer=Adam([w])).state_dict()
    with pytest.raises(ValueError, match=r"FrankWolfe.load_state_dict: the state was saved with an outer optimizer, "
                                         r"this FrankWolfe has none"):
        FrankWolfe([w], lr=0.1, delta=0.1).load_state_dict(with_outer)
