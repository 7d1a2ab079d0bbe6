"""Parameter names, shapes and seeded initialization as the references; the state layout of every cell."""
import numpy as np
import pytest

import rnnlab
import rnnlab.cells as C
from tests.cells.cell_configs import FAMILIES

D, H = 3, 5
G = {"RNN": H, "IndRNN": H, "LSTM": 4 * H, "GRU": 3 * H}


def _base(family):
    return "LSTM" if family.endswith("LSTM") else family if family in G else "RNN"


def _host(p):
    return rnnlab.to_numpy(p.data)


@pytest.mark.parametrize("family", FAMILIES)
def test_parameters_have_the_documented_names_and_shapes(backend_name, family):
    cell = getattr(C, family)(D, H, rng=0)
    g = G[_base(family)]
    expected = {"weight_ih": (D, g), "weight_hh": (H, g), "bias": (g,)}
    if family == "IndRNN":
        expected["weight_hh"] = (H,)
    if family == "GRU" or family.startswith(("Momentum", "Nesterov", "Adam", "RMSProp")):
        del expected["bias"]
        expected.update({"bias_ih": (g,), "bias_hh": (g,)})
    assert {name: tuple(p.shape) for name, p in cell.named_parameters()} == expected


@pytest.mark.parametrize("family, names", [
    ("RNN", ("h",)), ("IndRNN", ("h",)), ("GRU", ("h",)), ("LSTM", ("h", "c")), ("MomentumRNN", ("h", "v")),
    ("NesterovLSTM", ("h", "c", "v")), ("AdamRNN", ("h", "v", "m")), ("RMSPropLSTM", ("h", "c", "v", "m")),
])
def test_state_layout_puts_h_first_and_momentum_states_last(backend_name, family, names):
    cell = getattr(C, family)(D, H, rng=0)
    assert cell.state_names == names
    g = G[_base(family)]
    assert cell.state_shapes(2) == tuple((2, g) if n in ("v", "m") else (2, H) for n in names)
    state = cell.initial_state(2)
    assert [tuple(s.shape) for s in state] == list(cell.state_shapes(2))
    assert all(np.all(rnnlab.to_numpy(s.data) == 0) for s in state)


@pytest.mark.parametrize("family", FAMILIES)
def test_initialization_is_seeded(backend_name, family):
    a, b, c = (getattr(C, family)(D, H, rng=seed) for seed in (1, 1, 2))
    for (name, pa), (_, pb), (_, pc) in zip(a.named_parameters(), b.named_parameters(), c.named_parameters()):
        np.testing.assert_array_equal(_host(pa), _host(pb), err_msg=name)
    assert any(not np.array_equal(_host(pa), _host(pc)) for pa, pc in zip(a.parameters(), c.parameters()))


@pytest.mark.parametrize("forget_bias", [1.0, 2.0, -0.5])
def test_lstm_reference_init_is_orthogonal_input_identity_input_gate_and_forget_bias(backend_name, forget_bias):
    cell = C.LSTM(D, H, forget_bias=forget_bias, rng=0)
    W_ih, W_hh, b = _host(cell.weight_ih), _host(cell.weight_hh), _host(cell.bias)
    np.testing.assert_allclose(W_ih @ W_ih.T, np.eye(D), atol=1e-6)         # orthonormal rows (D < 4H)
    np.testing.assert_array_equal(W_hh[:, :H], np.eye(H))                     # identity on the input gate
    np.testing.assert_array_equal(W_hh[:, H:], 0)
    np.testing.assert_array_equal(b[H:2 * H], forget_bias)
    np.testing.assert_array_equal(np.concatenate([b[:H], b[2 * H:]]), 0)


def test_momentum_lstm_reference_init_puts_half_the_forget_bias_in_each_bias(backend_name):
    cell = C.MomentumLSTM(D, H, rng=0)
    for b in (_host(cell.bias_ih), _host(cell.bias_hh)):
        np.testing.assert_array_equal(b[H:2 * H], 1.0)                      # 1 in both, as the authors' code
        np.testing.assert_array_equal(np.concatenate([b[:H], b[2 * H:]]), 0)


def test_lstm_uniform_init_is_bounded_by_one_over_root_hidden_size(backend_name):
    cell = C.LSTM(D, H, weight_init="uniform", rng=0)
    for p in (cell.weight_ih, cell.weight_hh):
        assert np.all(np.abs(_host(p)) <= 1 / np.sqrt(H)) and np.std(_host(p)) > 0


@pytest.mark.parametrize("kind", ["orthogonal", "identity"])
def test_rnn_recurrent_weight_can_start_orthogonal_or_identity(backend_name, kind):
    W = _host(C.RNN(D, H, weight_hh_init=kind, rng=0).weight_hh)
    np.testing.assert_allclose(W @ W.T, np.eye(H), atol=1e-6)
    if kind == "identity":
        np.testing.assert_array_equal(W, np.eye(H))


@pytest.mark.parametrize("mag, seq_len", [(5.0, 784), (2.0, 10), (0.5, 3)])
def test_indrnn_init_draws_u_below_the_bound_and_zero_bias(backend_name, mag, seq_len):
    cell = C.IndRNN(D, 200, mag=mag, seq_len=seq_len, rng=0)
    u = _host(cell.weight_hh)
    bound = mag ** (1 / seq_len)
    assert np.all((u >= 0) & (u <= bound * (1 + 1e-6))) and u.max() > 0.5 * bound
    np.testing.assert_array_equal(_host(cell.bias), 0)
