"""The momentum LSTMs' one-loop kernel (rule inside the LSTM's time loop) gives what the two-stage drive path
gives (the rule's readable scan, then the LSTM's drive kernel), outputs, final states and every gradient,
float64 to 1e-10, for the heavy ball with a per-step schedule and for Adam, D = 1 (projection fused into the
step) and D > 1 (hoisted GEMM), across the backward's chunks; bad input names the function and argument."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import lstm_inputs

from rnnlab.cells.momentum_rules import AdamRule, HeavyBall

close = dict(rtol=1e-10, atol=1e-12)
cases = st.fixed_dictionaries({
    "T": st.integers(1, 20), "B": st.integers(1, 3), "D": st.integers(1, 3), "H": st.integers(1, 5),
    "seed": st.integers(0, 2**32 - 1), "mu": st.floats(0.0, 0.95), "s": st.floats(0.1, 1.5),
    "beta": st.floats(0.05, 0.95), "eps": st.floats(1e-4, 1e-1), "t0": st.integers(0, 9),
    "restart": st.integers(0, 4), "adam": st.booleans()})


def _problem(c):
    rng = np.random.default_rng(c["seed"])
    x, W_ih, W_hh, b_hh, h0, c0 = lstm_inputs(rng, c["T"], c["B"], c["D"], c["H"])
    G = 4 * c["H"]
    b_ih = rng.standard_normal(G)
    rule_states = (rng.standard_normal((c["B"], G)), np.abs(rng.standard_normal((c["B"], G))) + 0.1)
    if c["adam"]:
        rule = AdamRule("test", mu=c["mu"], s=c["s"], beta=c["beta"], eps=c["eps"])
    else:
        rule = HeavyBall("test", s=c["s"], schedule=lambda t: (t % (c["restart"] + 1)) / (c["restart"] + 3))
    n = len(rule.state_names)
    upstream = (rng.standard_normal((c["T"], c["B"], c["H"])), rng.standard_normal(h0.shape),
                rng.standard_normal(h0.shape), *(rng.standard_normal((c["B"], G)) for _ in range(n)))
    return (x, W_ih, b_ih, W_hh, b_hh, h0, c0), rule, rule_states[:n], upstream


def _two_stage(inputs, rule, rule_states, upstream, t0):
    """The drive path: A = x W_ih + b_ih, the rule's readable scan, the LSTM's drive kernel, and back."""
    x, W_ih, b_ih, W_hh, b_hh, h0, c0 = inputs
    T, B, _ = x.shape
    A = np.einsum("tbd,dg->tbg", x, W_ih) + b_ih
    drive, rule_finals, rule_cache = rule.scan(np, A, rule_states, t0)
    hs, cT, cache = kernels.lstm_forward_drive(drive.copy(), W_hh, b_hh, h0, c0)
    dD, dW_hh, db_hh, dh0, dc0 = kernels.lstm_backward_drive(cache, *upstream[:3])
    dA, drule = rule.scan_backward(np, rule_cache, dD, upstream[3:])
    dx, dW_ih, db_ih = np.einsum("tbg,dg->tbd", dA, W_ih), np.einsum("tbd,tbg->dg", x, dA), dA.sum(axis=(0, 1))
    return (hs, cT, *rule_finals), (dx, dW_ih, db_ih, dW_hh, db_hh, dh0, dc0, *drule)


def _one_loop(inputs, rule, rule_states, upstream, t0):
    x = inputs[0]
    adam = len(rule_states) == 2
    hs, cT, vT, mT, cache = kernels.momentum_lstm_forward(*inputs, rule_states[0],
                                                          m0=rule_states[1] if adam else None,
                                                          **rule.kernel_arguments(t0, x.shape[0]))
    grads = kernels.momentum_lstm_backward(cache, *upstream)
    assert (mT is None) == (grads[-1] is None) == (not adam)
    return (hs, cT, vT, *((mT,) if adam else ())), tuple(g for g in grads if g is not None)


@given(cases)
def test_one_loop_kernel_equals_rule_scan_then_lstm_drive_kernel(c):
    inputs, rule, rule_states, upstream = _problem(c)
    expected_out, expected_grads = _two_stage(inputs, rule, rule_states, upstream, c["t0"])
    out, grads = _one_loop(inputs, rule, rule_states, upstream, c["t0"])
    assert len(out) == len(expected_out) and len(grads) == len(expected_grads)
    for a, ref in zip(out + grads, expected_out + expected_grads):
        np.testing.assert_allclose(a, ref, **close)


@pytest.mark.parametrize("D, adam", [(1, False), (1, True), (3, False), (3, True)])
def test_one_loop_kernel_equals_two_stage_across_backward_chunks_and_a_second_backward(D, adam):
    c = dict(T=37, B=3, D=D, H=4, seed=5, mu=0.7, s=0.6, beta=0.8, eps=1e-3, t0=4, restart=3, adam=adam)
    inputs, rule, rule_states, upstream = _problem(c)
    expected_out, expected_grads = _two_stage(inputs, rule, rule_states, upstream, c["t0"])
    x = inputs[0]
    hs, cT, vT, mT, cache = kernels.momentum_lstm_forward(*inputs, rule_states[0],
                                                          m0=rule_states[1] if adam else None,
                                                          **rule.kernel_arguments(c["t0"], x.shape[0]))
    first = kernels.momentum_lstm_backward(cache, *upstream)
    second = kernels.momentum_lstm_backward(cache, *upstream)     # the cache is not modified by backward
    for a, b, ref in zip(first, second, expected_grads):
        np.testing.assert_allclose(a, ref, **close)
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(hs, expected_out[0], **close)


def test_one_loop_kernel_refuses_bad_input_naming_the_argument():
    c = dict(T=3, B=2, D=2, H=4, seed=0, mu=0.5, s=1.0, beta=0.9, eps=1e-3, t0=0, restart=0, adam=False)
    inputs, rule, (v0,), upstream = _problem(c)
    f = kernels.momentum_lstm_forward
    with pytest.raises(ValueError, match=r"momentum_lstm_forward: v0 must have shape \(B, 4H\) = \(2, 16\)"):
        f(*inputs, v0[:, :-1], mus=[0.5] * 3, s=1.0)
    with pytest.raises(ValueError, match=r"momentum_lstm_forward: mus must have shape \(T,\) = \(3,\)"):
        f(*inputs, v0, mus=[0.5] * 2, s=1.0)
    with pytest.raises(ValueError, match=r"momentum_lstm_forward: b_ih must have shape \(4H,\)"):
        f(inputs[0], inputs[1], inputs[2][:-1], *inputs[3:], v0, mus=[0.5] * 3, s=1.0)
    with pytest.raises(TypeError, match=r"momentum_lstm_forward: m0 must have the dtype of x \(float64\)"):
        f(*inputs, v0, mus=[0.5] * 3, s=1.0, m0=v0.astype(np.float32))
    *_, cache = f(*inputs, v0, mus=[0.5] * 3, s=1.0)
    with pytest.raises(TypeError, match="momentum_lstm_backward: cache must be the MomentumLSTMCache"):
        kernels.momentum_lstm_backward("cache", None, None, None, None)
    with pytest.raises(ValueError, match=r"momentum_lstm_backward: dvT must have shape \(B, 4H\)"):
        kernels.momentum_lstm_backward(cache, None, None, None, v0[:, :3])
