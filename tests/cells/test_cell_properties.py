"""Properties the papers state: the IndRNN bound, RMSProp = Adam with mu = 0, Nesterov with F = 1 has mu = 0,
momentum cells with mu = 0 and s = 1 are their base cells; and the momentum recurrences themselves."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as C
from tests.cells.cell_configs import FIXTURE_SETTINGS, Config, host_inputs, run_with_grads


def _run(rnn, config, loss_states=None):
    x, state = host_inputs(config, rnn)
    return run_with_grads(rnn, x, state, seed=config.seed, t0=config.t0, loss_states=loss_states)


def _same_outputs_and_input_gradients(a, b):
    for key in ("outputs", "dx", "final[0]"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-12, err_msg=key)


@FIXTURE_SETTINGS
@given(mag=st.floats(0.2, 10.0), T=st.integers(1, 8), seq_len=st.none() | st.integers(1, 50),
       seed=st.integers(0, 1000))
def test_indrnn_recurrent_weights_are_clamped_to_mag_root_T_before_each_forward(backend_name, float64, mag, T, seq_len,
                                                                              seed):
    cell = C.IndRNN(2, 6, mag=mag, seq_len=seq_len, rng=seed)
    u0 = np.random.default_rng(seed).uniform(-3, 3, 6)
    cell.weight_hh.data = rnnlab.asarray(u0, like=cell.weight_hh.data)
    C.Recurrent(cell)(rnnlab.Tensor(np.ones((T, 1, 2))))
    bound = mag ** (1.0 / (seq_len or T))
    u = rnnlab.to_numpy(cell.weight_hh.data)
    assert np.all(np.abs(u) <= bound * (1 + 1e-6))
    np.testing.assert_allclose(u, np.clip(u0, -bound, bound), rtol=1e-6)


@pytest.mark.parametrize("base", ["RNN", "LSTM"])
@FIXTURE_SETTINGS
@given(s=st.floats(0.1, 2.0), beta=st.floats(0.05, 0.95), eps=st.floats(1e-6, 1e-1), seed=st.integers(0, 1000),
       fused=st.booleans())
def test_rmsprop_cell_equals_adam_cell_with_zero_mu(backend_name, float64, base, s, beta, eps, seed, fused):
    config = Config(f"RMSProp{base}", T=4, B=2, D=3, sizes=[3], seed=seed)
    rms = C.Recurrent(getattr(C, f"RMSProp{base}")(3, 3, s=s, beta=beta, eps=eps, rng=seed), fused=fused)
    adam = C.Recurrent(getattr(C, f"Adam{base}")(3, 3, mu=0.0, s=s, beta=beta, eps=eps, rng=seed), fused=fused)
    a, b = _run(rms, config), _run(adam, config)
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-12, err_msg=key)


@given(t=st.integers(1, 10_000))
def test_nesterov_schedule_with_restart_period_one_has_zero_mu_at_every_step(t):
    assert C.nesterov_mu(t, restart=1) == 0.0
    assert C.NesterovLSTM(1, 1, restart=1, rng=0).rule.mu(t) == 0.0


@given(t=st.integers(1, 10_000), F=st.integers(2, 50))
def test_nesterov_schedule_follows_the_papers_formulas(t, F):
    assert C.nesterov_mu(t) == pytest.approx((t - 1) / (t + 2))
    assert C.nesterov_mu(t, restart=F) == pytest.approx((t % F) / (t % F + 3))
    assert 0.0 <= C.nesterov_mu(t, restart=F) < 1.0


@pytest.mark.parametrize("base", ["RNN", "LSTM"])
@FIXTURE_SETTINGS
@given(s=st.floats(0.1, 2.0), seed=st.integers(0, 1000), t0=st.integers(0, 5), fused=st.booleans())
def test_nesterov_cell_with_restart_period_one_is_the_momentum_cell_with_zero_mu(backend_name, float64, base, s,
                                                                                 seed, t0, fused):
    config = Config(f"Nesterov{base}", T=5, B=2, D=2, sizes=[3], seed=seed, t0=t0)
    nag = C.Recurrent(getattr(C, f"Nesterov{base}")(2, 3, s=s, restart=1, rng=seed), fused=fused)
    heavy = C.Recurrent(getattr(C, f"Momentum{base}")(2, 3, mu=0.0, s=s, rng=seed), fused=fused)
    _same_outputs_and_input_gradients(_run(nag, config), _run(heavy, config))


@pytest.mark.parametrize("base, kwargs", [("RNN", {"nonlinearity": "tanh"}), ("RNN", {"nonlinearity": "relu"}),
                                          ("LSTM", {"forget_bias": 1.0})])
@FIXTURE_SETTINGS
@given(seed=st.integers(0, 1000), fused=st.booleans())
def test_momentum_cell_with_zero_mu_and_unit_step_is_its_base_cell(backend_name, float64, base, kwargs, seed,
                                                                   fused):
    config = Config(base, T=5, B=2, D=2, sizes=[4], seed=seed)
    momentum_cell = getattr(C, f"Momentum{base}")(2, 4, mu=0.0, s=1.0, rng=seed, **kwargs)
    base_cell = getattr(C, base)(2, 4, rng=seed, **kwargs)
    # the bias split: bias_ih + bias_hh is the base cell's bias
    np.testing.assert_allclose(rnnlab.to_numpy(momentum_cell.bias_ih.data + momentum_cell.bias_hh.data),
                               rnnlab.to_numpy(base_cell.bias.data), rtol=1e-15)
    n = len(base_cell.state_names)   # the loss reads the base cell's states only
    a = _run(C.Recurrent(momentum_cell, fused=fused), config, loss_states=n)
    b = _run(C.Recurrent(base_cell, fused=fused), config, loss_states=n)
    _same_outputs_and_input_gradients(a, b)
    np.testing.assert_allclose(a["dcells.0.bias_ih"], b["dcells.0.bias"], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a["dcells.0.bias_hh"], b["dcells.0.bias"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("family", ["MomentumRNN", "NesterovRNN", "AdamRNN"])
@FIXTURE_SETTINGS
@given(seed=st.integers(0, 1000), T=st.integers(1, 6))
def test_momentum_states_follow_their_recurrence_on_the_input_projection(backend_name, float64, family, seed, T):
    # v_T = sum_t (prod_{k>t} mu_k) s a_t and m_T = sum_t beta^(T-t) (1-beta) a_t^2, from zero states
    cell = getattr(C, family)(2, 3, s=0.7, rng=seed)
    x = np.random.default_rng(seed).standard_normal((T, 2, 2))
    _, state = C.Recurrent(cell)(rnnlab.Tensor(x))
    W = rnnlab.to_numpy(cell.weight_ih.data)
    a = x @ W + rnnlab.to_numpy(cell.bias_ih.data)
    v, m = np.zeros((2, 3)), np.zeros((2, 3))
    for t in range(1, T + 1):
        v = cell.rule.mu(t) * v + 0.7 * a[t - 1]
        m = 0.9 * m + 0.1 * a[t - 1] ** 2
    np.testing.assert_allclose(state[0][1].numpy(), v, rtol=1e-12, atol=1e-12)
    if family == "AdamRNN":
        np.testing.assert_allclose(state[0][2].numpy(), m, rtol=1e-12, atol=1e-12)
