"""The momentum cells' one-loop kernels (the rule inside the LSTM's or the RNN's time loop) give what the
two-stage readable path gives (the rule's readable scan, then the core's readable loop), outputs, final states
and every gradient, float64 to 1e-10, for the heavy ball with a per-step schedule and for Adam, D = 1
(projection fused into the step) and D > 1 (hoisted GEMM), tanh, relu and modReLU RNNs, across the
backward's chunks; bad input names the function and argument."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import lstm_inputs, rnn_inputs

from types import SimpleNamespace

from rnnlab.cells.lstm import LSTMCore
from rnnlab.cells.momentum_rules import AdamRule, HeavyBall
from rnnlab.cells.orthogonal import OrthogonalCore
from rnnlab.cells.rnn import RNNCore

CORES = ("lstm", "tanh", "relu", "modrelu")
"""The LSTM, and the plain RNN with each nonlinearity (modReLU: the orthogonal cells' core, with its bias c)."""
close = dict(rtol=1e-10, atol=1e-12)
cases = st.fixed_dictionaries({
    "T": st.integers(1, 20), "B": st.integers(1, 3), "D": st.integers(1, 3), "H": st.integers(1, 5),
    "seed": st.integers(0, 2**32 - 1), "mu": st.floats(0.0, 0.95), "s": st.floats(0.1, 1.5),
    "beta": st.floats(0.05, 0.95), "eps": st.floats(1e-4, 1e-1), "t0": st.integers(0, 9),
    "restart": st.integers(0, 4), "adam": st.booleans(), "core": st.sampled_from(CORES)})


def _problem(c):
    """(inputs, rule, rule states, upstream gradients); inputs are (x, W_ih, b_ih, W_hh, b_hh[, c], h0[, c0]),
    c the modReLU bias."""
    rng = np.random.default_rng(c["seed"])
    lstm = c["core"] == "lstm"
    if lstm:
        x, W_ih, W_hh, b_hh, h0, c0 = lstm_inputs(rng, c["T"], c["B"], c["D"], c["H"])
        states = (h0, c0)
    else:
        x, W_ih, W_hh, b_hh, h0 = rnn_inputs(rng, c["T"], c["B"], c["D"], c["H"])
        states = (h0,)
    G = W_hh.shape[1]
    b_ih = rng.standard_normal(G)
    rule_states = (rng.standard_normal((c["B"], G)), np.abs(rng.standard_normal((c["B"], G))) + 0.1)
    if c["adam"]:
        rule = AdamRule("test", mu=c["mu"], s=c["s"], beta=c["beta"], eps=c["eps"])
    else:
        rule = HeavyBall("test", s=c["s"], schedule=lambda t: (t % (c["restart"] + 1)) / (c["restart"] + 3))
    n = len(rule.state_names)
    upstream = (rng.standard_normal((c["T"], c["B"], c["H"])), *(rng.standard_normal(h0.shape) for _ in states),
                *(rng.standard_normal((c["B"], G)) for _ in range(n)))
    bias = (0.5 * rng.standard_normal(c["H"]),) if c["core"] == "modrelu" else ()
    return (x, W_ih, b_ih, W_hh, b_hh, *bias, *states), rule, rule_states[:n], upstream


def _two_stage(core, inputs, rule, rule_states, upstream, t0):
    """The readable path: A = x W_ih + b_ih, the rule's scan, the core's loop on the drive + b_hh, and back."""
    x, W_ih, b_ih, W_hh, b_hh, *states = inputs
    bias, states = (states[:1], states[1:]) if core == "modrelu" else ((), states)
    A = np.einsum("tbd,dg->tbg", x, W_ih) + b_ih
    drive, rule_finals, rule_cache = rule.scan(np, A, rule_states, t0)
    n_core = len(states)
    dbias = ()
    loop = LSTMCore() if core == "lstm" else OrthogonalCore() if core == "modrelu" else RNNCore(core)
    hs, core_finals, cache = loop.forward(np, drive + b_hh, (W_hh, *bias), tuple(states))
    dD, (dW_hh, *dbias), dstates = loop.backward(np, cache, upstream[0], tuple(upstream[1:1 + n_core]))
    db_hh = dD.sum(axis=(0, 1))
    finals = tuple(core_finals[1:])
    dA, drule = rule.scan_backward(np, rule_cache, dD, upstream[1 + n_core:])
    dx, dW_ih, db_ih = np.einsum("tbg,dg->tbd", dA, W_ih), np.einsum("tbd,tbg->dg", x, dA), dA.sum(axis=(0, 1))
    return (hs, *finals, *rule_finals), (dx, dW_ih, db_ih, dW_hh, db_hh, *dbias, *dstates, *drule)


def _one_loop(core, inputs, rule, rule_states, upstream, t0, backwards=1):
    x = inputs[0]
    adam = rule.kernel_kind == "adam"
    arguments = rule.kernel_arguments(t0, SimpleNamespace(x=x, rule_states=rule_states))
    if core == "lstm":
        hs, cT, vT, mT, cache = kernels.momentum_lstm_forward(*inputs, **arguments)
        out, backward = (hs, cT, vT), kernels.momentum_lstm_backward
    elif core == "modrelu":
        hs, vT, mT, cache = kernels.momentum_modrelu_rnn_forward(*inputs, **arguments)
        out, backward = (hs, vT), kernels.momentum_modrelu_rnn_backward
    else:
        hs, vT, mT, cache = kernels.momentum_rnn_forward(*inputs, nonlinearity=core, **arguments)
        out, backward = (hs, vT), kernels.momentum_rnn_backward
    runs = [backward(cache, *upstream) for _ in range(backwards)]
    for grads in runs:
        assert (mT is None) == (grads[-1] is None) == (not adam)
    return out + ((mT,) if adam else ()), [tuple(g for g in grads if g is not None) for grads in runs]


@given(cases)
def test_one_loop_kernel_equals_rule_scan_then_the_cores_readable_loop(c):
    inputs, rule, rule_states, upstream = _problem(c)
    expected_out, expected_grads = _two_stage(c["core"], inputs, rule, rule_states, upstream, c["t0"])
    out, (grads,) = _one_loop(c["core"], inputs, rule, rule_states, upstream, c["t0"])
    assert len(out) == len(expected_out) and len(grads) == len(expected_grads)
    for a, ref in zip(out + grads, expected_out + expected_grads):
        np.testing.assert_allclose(a, ref, **close)


@pytest.mark.parametrize("core", CORES)
@pytest.mark.parametrize("D, adam", [(1, False), (1, True), (3, False), (3, True)])
def test_one_loop_kernel_equals_two_stage_across_backward_chunks_and_a_second_backward(core, D, adam):
    c = dict(T=37, B=3, D=D, H=4, seed=5, mu=0.7, s=0.6, beta=0.8, eps=1e-3, t0=4, restart=3, adam=adam, core=core)
    inputs, rule, rule_states, upstream = _problem(c)
    expected_out, expected_grads = _two_stage(core, inputs, rule, rule_states, upstream, c["t0"])
    out, (first, second) = _one_loop(core, inputs, rule, rule_states, upstream, c["t0"], backwards=2)
    for a, b, ref in zip(first, second, expected_grads):     # the cache is not modified by backward
        np.testing.assert_allclose(a, ref, **close)
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(out[0], expected_out[0], **close)


def test_one_loop_kernels_refuse_bad_input_naming_the_argument():
    c = dict(T=3, B=2, D=2, H=4, seed=0, mu=0.5, s=1.0, beta=0.9, eps=1e-3, t0=0, restart=0, adam=False, core="lstm")
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
    with pytest.raises(TypeError, match="momentum_lstm_backward: cache must be the MomentumCache that "
                                        "momentum_lstm_forward returned, got str"):
        kernels.momentum_lstm_backward("cache", None, None, None, None)
    with pytest.raises(ValueError, match=r"momentum_lstm_backward: dvT must have shape \(B, 4H\)"):
        kernels.momentum_lstm_backward(cache, None, None, None, v0[:, :3])
    with pytest.raises(TypeError, match="momentum_rnn_backward: cache must be the MomentumCache that "
                                        "momentum_rnn_forward returned, got MomentumCache from momentum_lstm_forward"):
        kernels.momentum_rnn_backward(cache, None, None, None)
    c.update(core="tanh")
    inputs, rule, (v0,), upstream = _problem(c)
    with pytest.raises(ValueError, match=r"momentum_rnn_forward: v0 must have shape \(B, H\) = \(2, 4\)"):
        kernels.momentum_rnn_forward(*inputs, v0[:, :-1], mus=[0.5] * 3, s=1.0)
    with pytest.raises(ValueError, match=r"momentum_rnn_forward: nonlinearity must be one of 'tanh', 'relu', "
                                         r"got 'sigmoid'"):
        kernels.momentum_rnn_forward(*inputs, v0, mus=[0.5] * 3, s=1.0, nonlinearity="sigmoid")


def test_the_modrelu_one_loop_kernel_refuses_a_bad_bias_and_the_plain_rnns_cache_and_back():
    c = dict(T=3, B=2, D=2, H=4, seed=0, mu=0.5, s=1.0, beta=0.9, eps=1e-3, t0=0, restart=0, adam=False,
             core="modrelu")
    (x, W_ih, b_ih, W_hh, b_hh, bias, h0), rule, (v0,), upstream = _problem(c)
    f = kernels.momentum_modrelu_rnn_forward
    with pytest.raises(ValueError, match=r"momentum_modrelu_rnn_forward: c must have shape \(H,\) = \(4,\)"):
        f(x, W_ih, b_ih, W_hh, b_hh, bias[:-1], h0, v0, mus=[0.5] * 3, s=1.0)
    *_, modrelu_cache = f(x, W_ih, b_ih, W_hh, b_hh, bias, h0, v0, mus=[0.5] * 3, s=1.0)
    *_, tanh_cache = kernels.momentum_rnn_forward(x, W_ih, b_ih, W_hh, b_hh, h0, v0, mus=[0.5] * 3, s=1.0)
    with pytest.raises(TypeError, match="momentum_rnn_backward: cache must be the MomentumCache that "
                                        "momentum_rnn_forward returned, got MomentumCache from "
                                        "momentum_modrelu_rnn_forward"):
        kernels.momentum_rnn_backward(modrelu_cache, None, None, None)
    with pytest.raises(TypeError, match="momentum_modrelu_rnn_backward: cache must be the MomentumCache that "
                                        "momentum_modrelu_rnn_forward returned, got MomentumCache from "
                                        "momentum_rnn_forward"):
        kernels.momentum_modrelu_rnn_backward(tanh_cache, None, None, None)
