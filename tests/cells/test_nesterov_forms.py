"""The Nesterov cells' three forms against NumPy loops written here (float64): the paper's schedule, the PTB
code's clock one step later, and the MNIST code's cell with the recurrent term inside the momentum; with t0
continued across chunks, fused = composed, and finite differences for the MNIST code's own BPTT loop."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as C
from rnnlab.cells.momentum_rules import NESTEROV_FORMS
from tests.cells.cell_configs import (FEWER_EXAMPLES, FIXTURE_SETTINGS, Config, assert_same, both_paths, build,
                                      check_gradients,
                                      configs, host_inputs, tensors)

BASES = ["RNN", "LSTM"]


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _activate(base, z, c):
    if base == "RNN":
        return np.tanh(z), None
    H = z.shape[1] // 4
    i, f, g, o = _sigmoid(z[:, :H]), _sigmoid(z[:, H:2 * H]), np.tanh(z[:, 2 * H:3 * H]), _sigmoid(z[:, 3 * H:])
    c = f * c + i * g
    return o * np.tanh(c), c


def _paper_mu(t, F):
    return (t - 1) / (t + 2) if F == 0 else (t % F) / (t % F + 3)


def _ptb_code_mu(t, F):
    return (t - 1) / (t + 2) if F == 0 else ((t - 1) % F) / ((t - 1) % F + 3)


def _heavy_ball(base, p, x, state, s, mu, t0):
    """v_t = mu_t v_{t-1} + s (x_t W_ih + b_ih);  z_t = v_t + b_hh + h_{t-1} W_hh."""
    h, c, v = state[0], (state[1] if base == "LSTM" else None), state[-1]
    hs = []
    for k in range(x.shape[0]):
        v = mu(t0 + 1 + k) * v + s * (x[k] @ p["weight_ih"] + p["bias_ih"])
        h, c = _activate(base, v + p["bias_hh"] + h @ p["weight_hh"], c)
        hs.append(h)
    return np.stack(hs), [h] + ([c] if base == "LSTM" else []) + [v]


def _mnist_code(base, p, x, state, s, F, t0):
    """The released code's loop: its counter k goes up before each step and back to 0 after every F steps."""
    h, c, y = state[0], (state[1] if base == "LSTM" else None), state[-1]
    k = 0
    for _ in range(t0):
        k += 1
        k = 0 if F and k == F else k
    hs = []
    for step in range(x.shape[0]):
        k += 1
        y_next = h @ p["weight_hh"] + p["bias_hh"] - s * (x[step] @ p["weight_ih"] + p["bias_ih"])
        h, c = _activate(base, y_next + (k - 1.0) / (k + 2.0) * (y_next - y), c)
        y = y_next
        k = 0 if F and k == F else k
        hs.append(h)
    return np.stack(hs), [h] + ([c] if base == "LSTM" else []) + [y]


def _reference(form, base, p, x, state, s, F, t0):
    if form == "mnist-code":
        return _mnist_code(base, p, x, state, s, F, t0)
    mu = (lambda t: _paper_mu(t, F)) if form == "paper" else (lambda t: _ptb_code_mu(t, F))
    return _heavy_ball(base, p, x, state, s, mu, t0)


@pytest.mark.parametrize("form", NESTEROV_FORMS)
@pytest.mark.parametrize("base", BASES)
@FIXTURE_SETTINGS
@given(s=st.floats(0.1, 1.5), F=st.integers(0, 5), t0=st.integers(0, 12), T=st.integers(1, 9),
       seed=st.integers(0, 1000), fused=st.booleans())
def test_each_form_follows_its_hand_written_recurrence(backend_name, float64, form, base, s, F, t0, T, seed, fused):
    config = Config(f"Nesterov{base}", T=T, B=2, D=2, sizes=[3], hyper={"s": s, "restart": F, "form": form},
                    seed=seed, t0=t0)
    rnn = build(config, fused)
    x, (state,) = host_inputs(config, rnn)
    p = {name.split(".")[-1]: rnnlab.to_numpy(q.data) for name, q in rnn.named_parameters()}
    hs, final = _reference(form, base, p, x, state, s, F, t0)
    out, (got,) = rnn(rnnlab.Tensor(x), (tuple(rnnlab.Tensor(v) for v in state),), t0=t0)
    np.testing.assert_allclose(out.numpy(), hs, rtol=1e-12, atol=1e-12)
    assert len(got) == len(final)
    for g, f in zip(got, final):
        np.testing.assert_allclose(g.numpy(), f, rtol=1e-12, atol=1e-12)


@given(t=st.integers(1, 10_000), F=st.integers(0, 50))
def test_the_code_clock_is_one_step_later_than_the_papers(t, F):
    assert C.nesterov_mu(t, F, "ptb-code") == pytest.approx(_ptb_code_mu(t, F), rel=1e-15)
    assert C.nesterov_mu(t, F, "mnist-code") == pytest.approx(_ptb_code_mu(t, F), rel=1e-15)
    assert C.nesterov_mu(t, F, "paper") == pytest.approx(_paper_mu(t, F), rel=1e-15)
    if F > 1:
        assert C.nesterov_mu(t + 1, F, "ptb-code") == pytest.approx(C.nesterov_mu(t, F, "paper"), rel=1e-15)


@pytest.mark.parametrize("form", NESTEROV_FORMS)
@pytest.mark.parametrize("base", BASES)
@FIXTURE_SETTINGS
@given(F=st.integers(0, 4), t0=st.integers(0, 6), T=st.integers(2, 9), split=st.integers(1, 8),
       seed=st.integers(0, 1000), fused=st.booleans())
def test_chunks_continue_the_global_step_index(backend_name, float64, form, base, F, t0, T, split, seed, fused):
    split = min(split, T - 1)
    config = Config(f"Nesterov{base}", T=T, B=2, D=2, sizes=[3], hyper={"s": 0.8, "restart": F, "form": form},
                    seed=seed, t0=t0)
    rnn = build(config, fused)
    x_host, state_host = host_inputs(config, rnn)
    x = rnnlab.Tensor(x_host)
    state = tuple(tuple(rnnlab.Tensor(s) for s in layer) for layer in state_host)
    whole, final = rnn(x, state, t0=t0)
    first, mid = rnn(x[0:split], state, t0=t0)
    second, final2 = rnn(x[split:T], mid, t0=t0 + split)
    np.testing.assert_allclose(np.concatenate([first.numpy(), second.numpy()]), whole.numpy(), rtol=1e-12,
                               atol=1e-12)
    for a, b in zip(final[0], final2[0]):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("F", [0, 3])
def test_mnist_code_fused_equals_composed_on_a_100_step_sequence(backend_name, float64, base, F):
    config = Config(f"Nesterov{base}", T=100, B=2, D=2, sizes=[3], hyper={"form": "mnist-code", "restart": F},
                    seed=5, t0=2)
    assert_same(*both_paths(config))


@pytest.mark.parametrize("base", BASES)
@FIXTURE_SETTINGS
@given(T=st.integers(1, 8), F=st.integers(0, 3), seed=st.integers(0, 1000))
def test_mnist_code_gradient_norm_probe_is_the_same_on_both_paths(backend_name, float64, base, T, F, seed):
    config = Config(f"Nesterov{base}", T=T, B=2, D=2, sizes=[3, 2], hyper={"form": "mnist-code", "restart": F},
                    seed=seed, t0=1)
    norms = []
    for fused in (True, False):
        rnn = build(config, fused)
        x, state = tensors(*host_inputs(config, rnn))
        outputs, _ = rnn(x, state, t0=config.t0, record_grad_norms=True)
        (outputs * rnnlab.Tensor(np.random.default_rng(seed).standard_normal(outputs.shape))).sum().backward()
        norms.append(rnn.grad_norms)
    for a, b in zip(*norms):
        assert a.shape == (T,)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@pytest.mark.parametrize("family", ["NesterovRNN", "NesterovLSTM"])
@FEWER_EXAMPLES
@given(data=st.data())
def test_mnist_code_gradients_match_finite_differences(backend_name, float64, family, fused, data):
    config = data.draw(configs(family))
    config.hyper = {**config.hyper, "form": "mnist-code"}
    check_gradients(build(config, fused), config, fast=True)


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@pytest.mark.parametrize("family", ["NesterovRNN", "NesterovLSTM"])
def test_mnist_code_full_jacobian_matches_finite_differences(backend_name, float64, family, fused):
    config = Config(family, T=4, B=1, D=2, sizes=[2, 2], hyper={"form": "mnist-code", "restart": 2, "s": 0.7},
                    seed=3, t0=1)
    check_gradients(build(config, fused), config, fast=False)


@pytest.mark.parametrize("base", BASES)
def test_mnist_code_state_is_h_then_c_then_y_of_the_projection_width(backend_name, base):
    cell = getattr(C, f"Nesterov{base}")(3, 5, form="mnist-code", rng=0)
    G = 20 if base == "LSTM" else 5
    assert cell.state_names == (("h", "c", "y") if base == "LSTM" else ("h", "y"))
    assert cell.state_shapes(2)[-1] == (2, G)


def test_form_is_checked_with_one_line_naming_the_value_and_the_choices(backend_name):
    with pytest.raises(ValueError, match=r"^NesterovLSTM: form must be one of 'paper', 'mnist-code', 'ptb-code', "
                                         r"got 'mnist'$"):
        C.NesterovLSTM(2, 3, form="mnist")
    with pytest.raises(ValueError, match=r"^NesterovOrthogonalRNN: form must be one of 'paper', 'ptb-code', "
                                         r"got 'mnist-code'$"):
        C.NesterovOrthogonalRNN(2, 3, form="mnist-code")
    with pytest.raises(ValueError, match=r"^NesterovRNN: restart must be an integer >= 0, got -1$"):
        C.NesterovRNN(2, 3, restart=-1, form="mnist-code")
    with pytest.raises(ValueError, match=r"^NesterovRNN: s must be in \(0, inf\), got 0\.0$"):
        C.NesterovRNN(2, 3, s=0, form="mnist-code")
