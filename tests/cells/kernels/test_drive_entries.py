"""The kernels' drive entries: from D = x W_ih + b they give what the x entries give (float64, 1e-10), with
or without overwriting D and with the bias inside or outside D; the compiled momentum scans equal their
readable loops; bad input names the function, the argument and what was expected."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import lstm_inputs, rnn_inputs

from rnnlab.cells.momentum_rules import AdamRule, HeavyBall

sizes = st.fixed_dictionaries({"T": st.integers(1, 20), "B": st.integers(1, 3), "D": st.integers(1, 3),
                               "H": st.integers(1, 5), "seed": st.integers(0, 2**32 - 1),
                               "overwrite": st.booleans(), "bias_inside": st.booleans()})
close = dict(rtol=1e-10, atol=1e-12)


def _drive(x, W_ih, b, bias_inside):
    D = np.einsum("tbd,dg->tbg", x, W_ih)
    return (D + b, None) if bias_inside else (D, b)


@given(sizes)
def test_lstm_drive_entry_equals_the_x_entry(s):
    rng = np.random.default_rng(s["seed"])
    x, W_ih, W_hh, b, h0, c0 = lstm_inputs(rng, s["T"], s["B"], s["D"], s["H"])
    dhs, dhT, dcT = (rng.standard_normal(shape) for shape in ((s["T"], s["B"], s["H"]), h0.shape, h0.shape))
    hs, cT, cache = kernels.lstm_forward(x, W_ih, W_hh, b, h0, c0)
    dx, dW_ih, dW_hh, db, dh0, dc0 = kernels.lstm_backward(cache, dhs, dhT, dcT)
    D, bias = _drive(x, W_ih, b, s["bias_inside"])
    hs2, cT2, cache2 = kernels.lstm_forward_drive(D, W_hh, bias, h0, c0, overwrite_drive=s["overwrite"])
    dD, dW_hh2, db2, dh02, dc02 = kernels.lstm_backward_drive(cache2, dhs, dhT, dcT)
    for a, ref in ((hs2, hs), (cT2, cT), (dD.sum(axis=(0, 1)), db), (db2, db), (dW_hh2, dW_hh), (dh02, dh0),
                   (dc02, dc0), (np.einsum("tbg,dg->tbd", dD, W_ih), dx), (np.einsum("tbd,tbg->dg", x, dD), dW_ih)):
        np.testing.assert_allclose(a, ref, **close)


@given(sizes, st.sampled_from(["tanh", "relu"]))
def test_rnn_drive_entry_equals_the_x_entry(s, nonlinearity):
    rng = np.random.default_rng(s["seed"])
    x, W_ih, W_hh, b, h0 = rnn_inputs(rng, s["T"], s["B"], s["D"], s["H"])
    dhs, dhT = rng.standard_normal((s["T"], s["B"], s["H"])), rng.standard_normal(h0.shape)
    hs, cache = kernels.rnn_forward(x, W_ih, W_hh, b, h0, nonlinearity)
    dx, dW_ih, dW_hh, db, dh0 = kernels.rnn_backward(cache, dhs, dhT)
    D, bias = _drive(x, W_ih, b, s["bias_inside"])
    hs2, cache2 = kernels.rnn_forward_drive(D, W_hh, bias, h0, nonlinearity, overwrite_drive=s["overwrite"])
    dD, dW_hh2, db2, dh02 = kernels.rnn_backward_drive(cache2, dhs, dhT)
    for a, ref in ((hs2, hs), (db2, db), (dW_hh2, dW_hh), (dh02, dh0), (np.einsum("tbg,dg->tbd", dD, W_ih), dx)):
        np.testing.assert_allclose(a, ref, **close)


@given(sizes, st.integers(1, 20))
def test_gru_input_entry_equals_the_drive_entry_for_fused_and_hoisted_projections_across_chunks(s, T):
    rng = np.random.default_rng(s["seed"])
    B, D, H = s["B"], s["D"], s["H"]
    r = lambda *shape, scale=1.0: scale * rng.standard_normal(shape)
    x, W_ih, b_ih, W_hh, b_hh, h0 = (r(T, B, D), r(D, 3 * H, scale=D ** -0.5), r(3 * H), r(H, 3 * H, scale=H ** -0.5),
                                     r(3 * H), r(B, H))
    dhs, dhT = r(T, B, H), r(B, H)
    hs, cache = kernels.gru_forward(np.einsum("tbd,dg->tbg", x, W_ih) + b_ih, W_hh, b_hh, h0)
    dD, dW_hh, db_hh, dh0 = kernels.gru_backward(cache, dhs, dhT)
    hs2, cache2 = kernels.gru_forward_input(x, W_ih, b_ih, W_hh, b_hh, h0)
    dx, dW_ih, db_ih, dW_hh2, db_hh2, dh02 = kernels.gru_backward_input(cache2, dhs, dhT)
    for a, ref in ((hs2, hs), (dW_hh2, dW_hh), (db_hh2, db_hh), (dh02, dh0), (db_ih, dD.sum(axis=(0, 1))),
                   (dx, np.einsum("tbg,dg->tbd", dD, W_ih)), (dW_ih, np.einsum("tbd,tbg->dg", x, dD))):
        np.testing.assert_allclose(a, ref, **close)
    with pytest.raises(TypeError, match="gru_backward: this cache is from gru_forward_input; pass it to "
                                        "gru_backward_input"):
        kernels.gru_backward(cache2, dhs, dhT)


@given(sizes, st.integers(1, 20))
def test_indrnn_input_entry_equals_the_drive_entry_for_fused_and_hoisted_projections_across_chunks(s, T):
    rng = np.random.default_rng(s["seed"])
    B, D, H = s["B"], s["D"], s["H"]
    r = lambda *shape, scale=1.0: scale * rng.standard_normal(shape)
    x, W_ih, b, u, h0 = r(T, B, D), r(D, H, scale=D ** -0.5), r(H), rng.uniform(-1, 1, H), r(B, H)
    dhs, dhT = r(T, B, H), r(B, H)
    hs, cache = kernels.indrnn_forward(np.einsum("tbd,dh->tbh", x, W_ih) + b, u, h0)
    dD, du, dh0 = kernels.indrnn_backward(cache, dhs, dhT)
    hs2, cache2 = kernels.indrnn_forward_input(x, W_ih, b, u, h0)
    dx, dW_ih, db, du2, dh02 = kernels.indrnn_backward_input(cache2, dhs, dhT)
    dx3, dW_ih3, db3, du3, dh03 = kernels.indrnn_backward_input(cache2, None, dhT)
    dD3 = kernels.indrnn_backward(cache, None, dhT)[0]
    for a, ref in ((hs2, hs), (du2, du), (dh02, dh0), (db, dD.sum(axis=(0, 1))),
                   (dx, np.einsum("tbh,dh->tbd", dD, W_ih)), (dW_ih, np.einsum("tbd,tbh->dh", x, dD)),
                   (dx3, np.einsum("tbh,dh->tbd", dD3, W_ih)), (db3, dD3.sum(axis=(0, 1)))):
        np.testing.assert_allclose(a, ref, **close)
    with pytest.raises(TypeError, match="indrnn_backward: this cache is from indrnn_forward_input; pass it to "
                                        "indrnn_backward_input"):
        kernels.indrnn_backward(cache2, dhs, dhT)
    with pytest.raises(TypeError, match="indrnn_backward_input: this cache is from indrnn_forward; pass it to "
                                        "indrnn_backward"):
        kernels.indrnn_backward_input(cache, dhs, dhT)


@given(sizes, st.floats(0.0, 0.95), st.floats(0.1, 1.5), st.floats(0.05, 0.95), st.integers(0, 7))
def test_compiled_momentum_scans_equal_the_readable_loops(s, mu, scale, beta, restart):
    rng = np.random.default_rng(s["seed"])
    G = 4 * s["H"]
    A = rng.standard_normal((s["T"], s["B"], G))
    states = (rng.standard_normal((s["B"], G)), np.abs(rng.standard_normal((s["B"], G))) + 0.1)
    dout = rng.standard_normal(A.shape)
    dfinals = tuple(rng.standard_normal((s["B"], G)) for _ in range(2))
    rules = [HeavyBall("test", s=scale, mu=mu), HeavyBall("test", s=scale, schedule=lambda t: t % (restart + 1) / 5),
             AdamRule("test", mu=mu, s=scale, beta=beta, eps=1e-3)]
    for rule in rules:
        n = len(rule.state_names)
        out, finals, cache = rule.scan(np, A.copy(), states[:n], restart)
        dA, dstates = rule.scan_backward(np, cache, dout.copy(), dfinals[:n])
        out_k, finals_k, cache_k = rule.scan(np, A.copy(), states[:n], restart, kernels)
        dA_k, dstates_k = rule.scan_backward(np, cache_k, dout.copy(), dfinals[:n], kernels, overwrite=s["overwrite"])
        for a, ref in zip((out_k, *finals_k, dA_k, *dstates_k), (out, *finals, dA, *dstates)):
            np.testing.assert_allclose(a, ref, **close)


def test_drive_entries_refuse_bad_input_naming_the_argument():
    rng = np.random.default_rng(0)
    x, W_ih, W_hh, b, h0, c0 = lstm_inputs(rng, 3, 2, 2, 4)
    D = np.einsum("tbd,dg->tbg", x, W_ih)
    with pytest.raises(ValueError, match=r"lstm_forward_drive: D must have shape \(T, B, 4H\) with G from W_hh"):
        kernels.lstm_forward_drive(D[..., :-1], W_hh, b, h0, c0)
    with pytest.raises(ValueError, match=r"gru_forward: W_hh must have shape \(H, 3H\) = \(4, 12\), got \(4, 16\)"):
        kernels.gru_forward(D, W_hh, b, h0)
    with pytest.raises(TypeError, match=r"indrnn_forward: all arrays must have the same dtype; D is float64 but u "
                                        r"is float32"):
        kernels.indrnn_forward(D[..., :4], np.ones(4, np.float32), h0)
    with pytest.raises(ValueError, match=r"indrnn_forward_input: W_ih must have shape \(D, H\) with D = x.shape\[2\] "
                                         r"and H = u.shape\[0\] = \(2, 4\), got \(2, 16\)"):
        kernels.indrnn_forward_input(x, W_ih, b[:4], np.ones(4), h0)
    with pytest.raises(TypeError, match=r"^indrnn_forward_input: b must be a NumPy array \(H,\), got None$"):
        kernels.indrnn_forward_input(x, W_ih[:, :4], None, np.ones(4), h0)
    _, _, cache = kernels.lstm_forward(x, W_ih, W_hh, b, h0, c0)
    with pytest.raises(TypeError, match=r"lstm_backward_drive: this cache is from lstm_forward; pass it to "
                                        r"lstm_backward"):
        kernels.lstm_backward_drive(cache, None, None, None)
    with pytest.raises(ValueError, match=r"heavy_ball_scan: mus must hold one coefficient per step, 3, got shape"):
        kernels.heavy_ball_scan(D, [0.5, 0.5], 1.0, h0.repeat(4, axis=1))
