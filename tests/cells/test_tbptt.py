"""Truncated BPTT: k = T is full BPTT; k1 = k2 < T equals an explicitly detached composed graph; k2 > k1
equals explicit windows; chunks reproduce one forward over the whole sequence (global step index)."""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as C
from tests.cells.cell_configs import FAMILIES, FIXTURE_SETTINGS, build, configs, flat, host_inputs


def _tbptt_grads(rnn, x_host, state_host, V, k1, k2=None, t0=0):
    """Accumulated gradients of sum_chunks <V[chunk], chunk.outputs> through the tbptt helper."""
    x = rnnlab.Tensor(x_host, requires_grad=True)
    state = tuple(tuple(rnnlab.Tensor(s) for s in layer) for layer in state_host)
    rnn.zero_grad()
    outputs = []
    chunks = C.tbptt(rnn, x, k1, k2, state=state, t0=t0)
    for chunk in chunks:
        (chunk.outputs * rnnlab.Tensor(V[chunk.slice])).sum().backward()
        outputs.append(chunk.outputs.numpy())
    grads = {name: rnnlab.to_numpy(p.grad) for name, p in rnn.named_parameters()}
    grads["dx"] = rnnlab.to_numpy(x.grad)
    return np.concatenate(outputs), grads, [s.numpy() for s in flat(chunks.state)]


def _window_reference_grads(rnn, x_host, state_host, V, k1, k2, t0=0):
    """The same gradient from explicit composed graphs: for each chunk [s, e), the state at the window start
    w = max(0, s - (k2 - k1)) from a no_grad forward, then a graph over x[w:e] with the loss on steps s..e-1."""
    T = x_host.shape[0]
    x = rnnlab.Tensor(x_host, requires_grad=True)
    state0 = tuple(tuple(rnnlab.Tensor(s) for s in layer) for layer in state_host)
    rnn.zero_grad()
    for s in range(0, T, k1):
        e = min(s + k1, T)
        w = max(0, s - (k2 - k1))
        state = state0
        if w > 0:
            with rnnlab.no_grad():
                _, state = rnn(x[0:w], state0, t0=t0)
            state = C.detach_state(state)
        out, _ = rnn(x[w:e], state, t0=t0 + w)
        (out[s - w:] * rnnlab.Tensor(V[s:e])).sum().backward()
    grads = {name: rnnlab.to_numpy(p.grad) for name, p in rnn.named_parameters()}
    grads["dx"] = rnnlab.to_numpy(x.grad)
    return grads


def _assert_grads_equal(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-10, atol=1e-10, err_msg=key)


def _setup(config):
    rnn = build(config, fused=True)
    x, state = host_inputs(config, rnn)
    V = np.random.default_rng(config.seed).standard_normal((config.T, config.B, config.sizes[-1]))
    return x, state, V


@FIXTURE_SETTINGS
@given(data=st.data())
def test_tbptt_with_k_equal_to_T_gives_the_full_bptt_gradient(backend_name, float64, data):
    config = data.draw(configs(data.draw(st.sampled_from(FAMILIES))))
    x, state, V = _setup(config)
    _, tb, _ = _tbptt_grads(build(config, fused=data.draw(st.booleans())), x, state, V, k1=config.T, t0=config.t0)
    full = _window_reference_grads(build(config, fused=False), x, state, V, config.T, config.T, t0=config.t0)
    _assert_grads_equal(tb, full)


@FIXTURE_SETTINGS
@given(data=st.data())
def test_tbptt_with_k_below_T_equals_the_explicitly_detached_composed_graph(backend_name, float64, data):
    config = data.draw(configs(data.draw(st.sampled_from(FAMILIES)), T=st.integers(2, 8)))
    k = data.draw(st.integers(1, config.T - 1))
    x, state, V = _setup(config)
    _, tb, _ = _tbptt_grads(build(config, fused=data.draw(st.booleans())), x, state, V, k1=k, t0=config.t0)
    # explicit: chunk after chunk, the final state detached before it starts the next one
    rnn = build(config, fused=False)
    xt = rnnlab.Tensor(x, requires_grad=True)
    carried = tuple(tuple(rnnlab.Tensor(s) for s in layer) for layer in state)
    for s in range(0, config.T, k):
        e = min(s + k, config.T)
        out, final = rnn(xt[s:e], carried, t0=config.t0 + s)
        (out * rnnlab.Tensor(V[s:e])).sum().backward()
        carried = C.detach_state(final)
    explicit = {name: rnnlab.to_numpy(p.grad) for name, p in rnn.named_parameters()}
    explicit["dx"] = rnnlab.to_numpy(xt.grad)
    _assert_grads_equal(tb, explicit)


@FIXTURE_SETTINGS
@given(data=st.data())
def test_tbptt_with_k2_above_k1_equals_explicit_overlapping_windows(backend_name, float64, data):
    config = data.draw(configs(data.draw(st.sampled_from(FAMILIES)), T=st.integers(2, 8)))
    k1 = data.draw(st.integers(1, config.T))
    k2 = data.draw(st.integers(k1, config.T + 2))
    x, state, V = _setup(config)
    _, tb, _ = _tbptt_grads(build(config, fused=data.draw(st.booleans())), x, state, V, k1, k2, t0=config.t0)
    reference = _window_reference_grads(build(config, fused=False), x, state, V, k1, k2, t0=config.t0)
    _assert_grads_equal(tb, reference)


@FIXTURE_SETTINGS
@given(data=st.data())
def test_tbptt_chunks_reproduce_one_forward_with_the_global_step_index(backend_name, float64, data):
    # Nesterov's mu_t reads the global step index: chunks must continue it, not restart it at every chunk
    family = data.draw(st.sampled_from(["NesterovRNN", "NesterovLSTM", *FAMILIES]))
    config = data.draw(configs(family, T=st.integers(2, 8)))
    k1 = data.draw(st.integers(1, config.T))
    k2 = data.draw(st.integers(k1, config.T))
    x, state, V = _setup(config)
    rnn = build(config, fused=True)
    outputs, _, final = _tbptt_grads(rnn, x, state, V, k1, k2, t0=config.t0)
    with rnnlab.no_grad():
        whole, whole_final = rnn(rnnlab.Tensor(x), tuple(tuple(rnnlab.Tensor(s) for s in layer) for layer in state),
                                 t0=config.t0)
    np.testing.assert_allclose(outputs, whole.numpy(), rtol=1e-12, atol=1e-12)
    for a, b in zip(final, flat(whole_final)):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12, atol=1e-12)


def test_tbptt_chunks_cover_every_step_once_with_windows_k2_deep(backend_name):
    rnn = C.Recurrent(C.RNN(1, 2, rng=0))
    x = rnnlab.Tensor(np.zeros((10, 1, 1), dtype="float32"))
    chunks = list(C.tbptt(rnn, x, k1=4, k2=6))
    assert [(c.start, c.stop, c.window_start) for c in chunks] == [(0, 4, 0), (4, 8, 2), (8, 10, 6)]
    assert [c.outputs.shape[0] for c in chunks] == [4, 4, 2]
    assert [c.slice for c in chunks] == [slice(0, 4), slice(4, 8), slice(8, 10)]


@pytest.mark.parametrize("kwargs, match", [
    ({"k1": 0}, "tbptt: k1 must be a positive integer, got 0"),
    ({"k1": 2.5}, "tbptt: k1 must be a positive integer"),
    ({"k1": 4, "k2": 2}, r"tbptt: k2 \(gradient depth, 2\) must be >= k1"),
    ({"k1": 2, "t0": -1}, "tbptt: t0 must be an integer >= 0"),
])
def test_tbptt_rejects_bad_chunk_lengths_naming_the_argument(backend_name, kwargs, match):
    rnn = C.Recurrent(C.RNN(1, 2, rng=0))
    with pytest.raises(ValueError, match=match):
        C.tbptt(rnn, rnnlab.Tensor(np.zeros((5, 1, 1), dtype="float32")), **kwargs)


def test_tbptt_rejects_something_that_is_not_a_recurrent_runner(backend_name):
    with pytest.raises(TypeError, match="tbptt: rnn must be a rnnlab.cells.Recurrent, got RNN"):
        C.tbptt(C.RNN(1, 2), rnnlab.Tensor(np.zeros((5, 1, 1), dtype="float32")), k1=2)
