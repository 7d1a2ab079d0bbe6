"""Every fused path of every cell family, compiled kernel and readable loop, flushes vanishing gradients to
zero before they become denormal floats, where the composed path (autodiff, no flush) does produce denormals
for the same case. float32, a loss on the final h only, weights that shrink dL/dh_t by a large factor per
step backwards. Only cases whose unflushed reference really passes through denormals are drawn."""
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from tests.cells.cell_configs import FIXTURE_SETTINGS

import rnnlab
import rnnlab.cells as C
from rnnlab.cells import kernels

T = 40
VANISHING = {
    # family: (constructor keywords, {parameter name: (scale of a N(0, scale^2 / fan-in) draw, {block: value})})
    "RNN": ({"nonlinearity": "tanh"}, {"weight_hh": 0.02, "bias": 1.0}),
    "IndRNN": ({"mag": 10.0}, {"weight_hh": 0.01, "bias": 1.0}),
    "LSTM": ({}, {"weight_hh": 0.1, "bias": ("forget", -5.0)}),
    "GRU": ({}, {"weight_hh": 0.05, "bias_ih": ("update", -8.0), "bias_hh": 0.0}),
    "MomentumLSTM": ({"mu": 0.05, "s": 1.0}, {"weight_hh": 0.1, "bias_ih": ("forget", -2.5),
                                              "bias_hh": ("forget", -2.5)}),
    "NesterovRNN": ({"s": 1.0, "restart": 2}, {"weight_hh": 0.02, "bias_ih": 0.5, "bias_hh": 0.5}),
    "AdamLSTM": ({"mu": 0.05, "s": 1.0, "beta": 0.05, "eps": 1e-2},
                 {"weight_hh": 0.1, "bias_ih": ("forget", -2.5), "bias_hh": ("forget", -2.5)}),
}
BLOCK = {"forget": 1, "update": 1}     # the LSTM's f block and the GRU's z block are both the second


def count_denormals(a) -> int:
    a = np.abs(np.asarray(a))
    return int(np.sum((a > 0) & (a < np.finfo(a.dtype).tiny)))


def _cell(family, B, H, seed):
    hyper, spec = VANISHING[family]
    cell = getattr(C, family)(2, H, rng=seed, **hyper)
    rng = np.random.default_rng(seed)
    for name, p in cell.named_parameters():
        shape = tuple(p.shape)
        rule = spec.get(name)
        if isinstance(rule, tuple):
            value = np.zeros(shape)
            block = BLOCK[rule[0]]
            value[block * H:(block + 1) * H] = rule[1]
        elif isinstance(rule, float) and len(shape) == 1 and name != "weight_hh":
            value = np.full(shape, rule)
        else:
            scale = rule if rule is not None else 0.1
            value = scale * rng.standard_normal(shape) / np.sqrt(shape[0] if len(shape) > 1 else 1.0)
        p.data = rnnlab.asarray(value.astype(np.float32), like=p.data)
    rnn = C.Recurrent([cell])
    x = rng.standard_normal((T, B, 2)).astype(np.float32)
    w = rng.standard_normal((B, H)).astype(np.float32)
    return rnn, x, w


BACKWARD_ENTRIES = ("lstm_backward", "rnn_backward",
                    "momentum_lstm_backward",
                    "gru_backward_input", "indrnn_backward_input", "momentum_rnn_backward",
                    "modrelu_rnn_backward", "momentum_modrelu_rnn_backward")


class Spy:
    """Counts the denormals in everything the kernels' backward entries return (dL/dD and dL/dA included,
    which the projection's GEMMs consume)."""

    def __init__(self, monkeypatch):
        self.found, self.calls = 0, 0
        for name in BACKWARD_ENTRIES:
            monkeypatch.setattr(kernels, name, self.wrap(getattr(kernels, name)))

    def wrap(self, entry):
        def run(*args, **kwargs):
            results = entry(*args, **kwargs)
            self.calls += 1
            self.found += sum(count_denormals(r) for r in results if r is not None)
            return results
        return run


def _grads(rnn, x, w, fused):
    rnn.fused = fused
    tx = rnnlab.Tensor(x, requires_grad=True)
    _, final = rnn(tx)
    rnn.zero_grad()
    (final[0][0] * rnnlab.Tensor(w)).sum().backward()
    return [rnnlab.to_numpy(tx.grad)] + [rnnlab.to_numpy(p.grad) for p in rnn.parameters()]


@pytest.mark.parametrize("family", sorted(VANISHING))
@settings(FIXTURE_SETTINGS, max_examples=max(2, settings.default.max_examples // 3), deadline=None)
@given(seed=st.integers(0, 2**32 - 1), B=st.integers(1, 3), H=st.integers(2, 6))
def test_fused_paths_flush_where_the_composed_path_creates_denormals(family, backend_name, seed, B, H):
    rnnlab.set_default_dtype("float32")
    with pytest.MonkeyPatch.context() as mp:
        spy = Spy(mp)
        _check(family, backend_name, seed, B, H, spy)


def _check(family, backend_name, seed, B, H, spy):
    rnn, x, w = _cell(family, B, H, seed)
    reference = _grads(rnn, x, w, fused=False)
    assume(count_denormals(reference[0]) > 0)                         # the case really vanishes ...
    assume(np.abs(reference[0][-1]).max() > 1e-3)                      # ... from a gradient of normal size
    paths = {"kernel": _grads(rnn, x, w, fused=True)}
    assert spy.calls >= (1 if backend_name == "numpy" and kernels.available() else 0)
    assert spy.found == 0, "a kernel returned denormals"
    with kernels.disabled():
        paths["loop"] = _grads(rnn, x, w, fused=True)
    for path, grads in paths.items():
        assert sum(count_denormals(g) for g in grads) == 0, path
        dx = grads[0]
        scale = np.abs(reference[0]).max(axis=(1, 2), keepdims=True)
        assert np.all(np.abs(dx - reference[0]) <= 1e-3 * scale + 1e-30), path
        assert np.abs(dx[-1]).max() > 1e-3, path
