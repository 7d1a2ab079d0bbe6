"""SGD, Adam and RMSProp follow their update equations step by step (references written out on the host)."""
import math

import hypothesis.strategies as st
import pytest
from tests.optim.optim_helpers import float_arrays, given_on_backend, host, on_host, param, set_grad

from rnnlab.optim import SGD, Adam, AdamW, RMSProp

start_and_grads = st.tuples(float_arrays(st.just((2, 3))),
                            st.lists(float_arrays(st.just((2, 3))), min_size=1, max_size=5))
rates = st.floats(1e-4, 1.0)
fractions = st.floats(0.0, 0.99)


def run(opt_factory, theta0, grads):
    """The parameter after each step of ``opt_factory([w])`` fed the gradients ``grads``."""
    w = param(theta0)
    opt = opt_factory([w])
    out = []
    for g in grads:
        set_grad(w, g)
        opt.step()
        out.append(on_host(w))
    return out


def assert_trajectory(got, expected):
    for t, (a, b) in enumerate(zip(got, expected), start=1):
        assert host.allclose(a, b, rtol=1e-12, atol=1e-14), f"step {t}: max |diff| {abs(a - b).max():.3g}"


@given_on_backend(data=start_and_grads, lr=rates, mu=fractions, tau=fractions, wd=st.floats(0.0, 0.1),
                  nesterov=st.booleans())
def test_sgd_follows_momentum_dampening_nesterov_and_weight_decay(backend_name, float64, data, lr, mu, tau, wd,
                                                                  nesterov):
    theta, grads = data
    if nesterov:
        mu, tau = max(mu, 0.1), 0.0
    got = run(lambda ps: SGD(ps, lr=lr, momentum=mu, dampening=tau, nesterov=nesterov, weight_decay=wd),
              theta, grads)
    expected, b = [], None
    for g in grads:
        g = g + wd * theta
        b = g if b is None else mu * b + (1 - tau) * g
        d = g + mu * b if nesterov else (b if mu else g)
        theta = theta - lr * d
        expected.append(theta)
    assert_trajectory(got, expected)


@given_on_backend(data=start_and_grads, lr=rates, b1=fractions, b2=fractions, eps=st.floats(1e-8, 1e-2),
                  wd=st.floats(0.0, 0.1), decoupled=st.booleans())
def test_adam_follows_bias_corrected_moments_with_l2_or_decoupled_decay(backend_name, float64, data, lr, b1, b2,
                                                                        eps, wd, decoupled):
    theta, grads = data
    got = run(lambda ps: Adam(ps, lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd,
                              decoupled_weight_decay=decoupled), theta, grads)
    expected, m, v = [], 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        if decoupled:
            theta = theta * (1 - lr * wd)
        else:
            g = g + wd * theta
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        theta = theta - lr * (m / (1 - b1 ** t)) / (host.sqrt(v / (1 - b2 ** t)) + eps)
        expected.append(theta)
    assert_trajectory(got, expected)


@given_on_backend(data=start_and_grads, lr=rates, alpha=fractions, eps=st.floats(1e-8, 1e-2),
                  wd=st.floats(0.0, 0.1), mu=fractions, centered=st.booleans())
def test_rmsprop_follows_the_torch_formula(backend_name, float64, data, lr, alpha, eps, wd, mu, centered):
    theta, grads = data
    if centered:    # keep α >= 0.5: for α near 0, v - ḡ² is a difference of near-equal numbers (all rounding)
        alpha = 0.5 + alpha / 2
    got = run(lambda ps: RMSProp(ps, lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=mu,
                                 centered=centered), theta, grads)
    expected, v, gbar, b = [], 0.0, 0.0, 0.0
    for g in grads:
        g = g + wd * theta
        v = alpha * v + (1 - alpha) * g * g
        gbar = alpha * gbar + (1 - alpha) * g
        denom = host.sqrt(v - gbar * gbar if centered else v) + eps
        b = mu * b + g / denom
        theta = theta - lr * (b if mu else g / denom)
        expected.append(theta)
    assert_trajectory(got, expected)


def test_sgd_momentum_by_hand(backend_name, float64):
    # b1 = 1, θ1 = -0.1;  b2 = 0.9 + 1 = 1.9, θ2 = -0.1 - 0.19 = -0.29;  b3 = 1.71 + 2 = 3.71, θ3 = -0.661
    got = run(lambda ps: SGD(ps, lr=0.1, momentum=0.9), [0.0], [[1.0], [1.0], [2.0]])
    assert [float(x[0]) for x in got] == pytest.approx([-0.1, -0.29, -0.661], rel=1e-12)


def test_adam_first_step_moves_each_weight_by_lr_against_its_gradient_sign(backend_name, float64):
    # m̂ = g, v̂ = g², so θ1 = θ0 - lr g / (|g| + ε)
    (got,) = run(lambda ps: Adam(ps, lr=0.1, eps=1e-8), [1.0, 1.0, 1.0], [[2.0, -0.5, 0.0]])
    assert host.allclose(got, [1 - 0.1 * 2 / (2 + 1e-8), 1 + 0.1 * 0.5 / (0.5 + 1e-8), 1.0], rtol=1e-15)


def test_adamw_shrinks_weights_by_lr_times_decay_even_without_gradient(backend_name, float64):
    (got,) = run(lambda ps: AdamW(ps, lr=0.1, weight_decay=0.5), [2.0], [[0.0]])
    assert float(got[0]) == pytest.approx(2.0 * (1 - 0.05), rel=1e-15)


def test_rmsprop_first_step_by_hand(backend_name, float64):
    # v1 = (1 - 0.9) 4 = 0.4;  θ1 = 1 - 0.01 · 2 / (√0.4 + 1e-8)
    (got,) = run(lambda ps: RMSProp(ps, lr=0.01, alpha=0.9), [1.0], [[2.0]])
    assert float(got[0]) == pytest.approx(1 - 0.01 * 2 / (math.sqrt(0.4) + 1e-8), rel=1e-15)


def test_parameter_groups_use_their_own_hyperparameters(backend_name, float64):
    a, b = param([1.0]), param([1.0])
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    set_grad(a, [1.0])
    set_grad(b, [1.0])
    opt.step()
    assert float(on_host(a)[0]) == pytest.approx(0.9) and float(on_host(b)[0]) == pytest.approx(0.5)


def test_parameters_without_gradient_are_skipped(backend_name, float64):
    a, b = param([1.0]), param([1.0])
    opt = Adam([a, b], lr=0.1)
    set_grad(a, [1.0])
    opt.step()
    assert float(on_host(b)[0]) == 1.0 and float(on_host(a)[0]) != 1.0


def test_zero_grad_clears_every_gradient(backend_name):
    a, b = param([1.0]), param([2.0])
    opt = SGD([a, b], lr=0.1)
    set_grad(a, [1.0])
    set_grad(b, [1.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_step_calls_the_closure_and_returns_its_loss(backend_name, float64):
    w = param([3.0])
    opt = SGD([w], lr=0.25)

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        return loss
    assert float(opt.step(closure).item()) == 9.0
    assert float(on_host(w)[0]) == pytest.approx(3.0 - 0.25 * 6.0)
