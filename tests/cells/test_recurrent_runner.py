"""The runner: dropout with one mask shared across time, batch norm over (time, batch), and the compiled-kernel
dispatch of the fused path."""
import numpy as np

import rnnlab
import rnnlab.cells as C
import rnnlab.cells.fused as fused_module


def test_dropout_uses_one_mask_per_sequence_shared_across_time(backend_name, float64):
    rnn = C.Recurrent(C.RNN(2, 50, rng=0), dropout=0.5, rng=3)
    out, _ = rnn(rnnlab.Tensor(np.random.default_rng(0).standard_normal((6, 4, 2))))
    dropped = out.numpy() == 0
    assert dropped[0].any() and not dropped[0].all()
    assert np.all(dropped == dropped[0])          # the same units are dropped at every step


def test_dropout_and_batch_norm_are_identity_and_running_statistics_in_eval_mode(backend_name, float64):
    x = rnnlab.Tensor(np.random.default_rng(0).standard_normal((6, 4, 2)))
    plain = C.Recurrent(C.RNN(2, 3, rng=0))
    stacked = C.Recurrent(C.RNN(2, 3, rng=0), batch_norm=True, dropout=0.5, rng=3).eval()
    eps = stacked.batch_norms[0].eps
    np.testing.assert_allclose(stacked(x)[0].numpy(), plain(x)[0].numpy() / np.sqrt(1 + eps), rtol=1e-12)


def test_batch_norm_normalizes_each_unit_over_time_and_batch(backend_name, float64):
    rnn = C.Recurrent(C.RNN(2, 3, rng=0), batch_norm=True)
    out = rnn(rnnlab.Tensor(np.random.default_rng(0).standard_normal((6, 4, 2))))[0].numpy()
    np.testing.assert_allclose(out.mean(axis=(0, 1)), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=(0, 1)), 1, rtol=1e-3)


class _RecordingKernels:
    """A stand-in for rnnlab.cells.kernels that runs the cells' own loops and records its calls."""

    def __init__(self):
        self.calls = []

    def available(self):
        return True

    def lstm_forward(self, x, W_ih, W_hh, b, h0, c0):
        self.calls.append("lstm_forward")
        core = C.LSTM(1, 1).core
        A = np.matmul(x, W_ih) + b
        hs, (h, c), cache = core.forward(np, A, (W_hh,), (h0, c0))
        return hs, c, (cache, x, W_ih)

    def lstm_backward(self, cache, dhs, dhT, dcT):
        self.calls.append("lstm_backward")
        cache, x, W_ih = cache
        dA, (dW_hh,), (dh0, dc0) = C.LSTM(1, 1).core.backward(np, cache, dhs, (dhT, dcT))
        return (dA @ W_ih.T, np.einsum("tbd,tbg->dg", x, dA), dW_hh, dA.sum(axis=(0, 1)), dh0, dc0)


def test_fused_lstm_calls_the_compiled_kernels_on_numpy_when_they_are_available(backend_name, float64, monkeypatch):
    fake = _RecordingKernels()
    monkeypatch.setattr(fused_module, "kernels_in_use", lambda xp: fake if rnnlab.backend.is_numpy(xp) else None)
    x = rnnlab.Tensor(np.random.default_rng(0).standard_normal((4, 2, 3)), requires_grad=True)
    results = []
    for fused in (True, False):
        rnn = C.Recurrent(C.LSTM(3, 2, rng=0), fused=fused)
        out, _ = rnn(x)
        out.sum().backward()
        results.append([out.numpy(), rnnlab.to_numpy(rnn.cells[0].weight_hh.grad)])
    expected = ["lstm_forward", "lstm_backward"] if backend_name == "numpy" else []
    assert fake.calls == expected
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_the_gradient_norm_probe_runs_the_readable_loop(backend_name, float64, monkeypatch):
    fake = _RecordingKernels()
    monkeypatch.setattr(fused_module, "kernels_in_use", lambda xp: fake)
    rnn_probe = C.Recurrent(C.LSTM(3, 2, rng=0))
    out, _ = rnn_probe(rnnlab.Tensor(np.ones((4, 2, 3)), requires_grad=True), record_grad_norms=True)
    out.sum().backward()
    assert fake.calls == []                        # the probe reads the loop's dL/dh_t
