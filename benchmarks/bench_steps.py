"""The problems and training-step functions of ``cells_vs_torch.py``: one case's data and initial weights,
and a step (forward over the sequence, a loss on the last step, BPTT, Adam) for each side compared.

* ``kernels_step``: rnnlab's LSTM / RNN kernels called directly (``rnnlab.cells.kernels``);
* ``full_step``: any registered rnnlab cell through ``rnnlab.cells.Recurrent``, fused or composed;
* ``torch_step``: PyTorch's ``nn.LSTM`` / ``nn.RNN`` / ``nn.GRU`` (cuDNN-style fused modules);
* ``torch_loop_momentum_step``: a MomentumLSTM written as a Python loop over time in PyTorch, as the
  MomentumRNN authors' released code runs it.
"""
from __future__ import annotations

import numpy as np

THREADS = 2
LR = 1e-3
GATE = {"lstm": (4, 1), "gru": (3, 1)}
"""Per torch module kind: (gate blocks, index of the block a vanishing case biases: LSTM's f, GRU's z)."""


def limit_threads(threads=THREADS):
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(threads)
    except ImportError:
        pass


def torch_module(kind, D, H):
    import torch
    if kind == "lstm":
        return torch.nn.LSTM(D, H)
    if kind == "gru":
        return torch.nn.GRU(D, H)
    return torch.nn.RNN(D, H, nonlinearity="relu" if kind == "rnn_relu" else "tanh")


class Problem:
    """One case's data and PyTorch's initial weights (the kernels side starts from the same ones)."""

    def __init__(self, spec, seed=0, gate_bias=None):
        import torch
        self.spec, self.gate_bias = spec, gate_bias
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        D, H, B, T, C = spec["D"], spec["H"], spec["B"], spec["T"], spec["classes"]
        module = torch_module(spec["torch"], D, H)
        if gate_bias is not None:
            block = GATE[spec["torch"]][1]
            with torch.no_grad():
                module.bias_ih_l0[block * H:(block + 1) * H] = gate_bias
                module.bias_hh_l0[block * H:(block + 1) * H] = 0.0
        head = torch.nn.Linear(H, max(C, 1))
        self.torch_modules = (module, head)
        self.x = (rng.random((T, B, D)) if spec["torch"] != "rnn" else rng.standard_normal((T, B, D))).astype(
            np.float32)
        self.y = rng.integers(0, C, B) if C else rng.standard_normal((B, 1)).astype(np.float32)
        get = lambda p: p.detach().numpy().copy()
        self.weights = {"W_ih": get(module.weight_ih_l0).T.copy(), "W_hh": get(module.weight_hh_l0).T.copy(),
                        "b": get(module.bias_ih_l0) + get(module.bias_hh_l0),
                        "W_out": get(head.weight).T.copy(), "b_out": get(head.bias)}


def head_loss_grad(h_last, W_out, b_out, y, classes):
    """Loss on the last step and its gradients: (dW_out, db_out, dL/dh_last). Mean cross-entropy or MSE."""
    out = h_last @ W_out + b_out
    B = out.shape[0]
    if classes:
        out -= out.max(axis=1, keepdims=True)
        p = np.exp(out)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(B), y] -= 1
        d = p / B
    else:
        d = 2 * (out - y) / out.size
    return h_last.T @ d, d.sum(axis=0), d @ W_out.T


def kernels_step(problem):
    """rnnlab.cells.kernels called directly, rnnlab.optim.Adam on the raw arrays (LSTM and tanh RNN only)."""
    import rnnlab
    from rnnlab.cells import kernels
    from rnnlab.optim import Adam
    spec = problem.spec
    params = [rnnlab.Parameter(problem.weights[n].copy()) for n in ("W_ih", "W_hh", "b", "W_out", "b_out")]
    opt = Adam(params, lr=LR)
    x, y, B, H = problem.x, problem.y, spec["B"], spec["H"]
    stats = {}

    def step():
        W_ih, W_hh, b, W_out, b_out = (p.data for p in params)
        h0 = np.zeros((B, H), np.float32)
        if spec["torch"] == "lstm":
            hs, _, cache = kernels.lstm_forward(x, W_ih, W_hh, b, h0, h0)
            dW_out, db_out, dh = head_loss_grad(hs[-1], W_out, b_out, y, spec["classes"])
            dx, dW_ih, dW_hh, db, _, _ = kernels.lstm_backward(cache, None, dh, None)
        else:
            hs, cache = kernels.rnn_forward(x, W_ih, W_hh, b, h0, "tanh")
            dW_out, db_out, dh = head_loss_grad(hs[-1], W_out, b_out, y, spec["classes"])
            dx, dW_ih, dW_hh, db, _ = kernels.rnn_backward(cache, None, dh)
        for p, g in zip(params, (dW_ih, dW_hh, db, dW_out, db_out)):
            p.grad = g
        opt.step()
        stats["dx"] = dx
    step.stats = stats
    return step


def products_step(problem):
    """Only the matrix products of one LSTM training step on the kernels' path, through NumPy's BLAS, with the
    kernels' shapes: per step h_{t-1} W_hh (B x H by H x 4H) forward and dz_t W_hh^T backward, and
    dW_hh += h^T dz over 8 steps at a time. What any implementation on this BLAS pays at the least."""
    from rnnlab.cells.kernels.lstm import CHUNK
    spec = problem.spec
    T, B, H = spec["T"], spec["B"], spec["H"]
    rng = np.random.default_rng(0)
    r = lambda *shape: rng.standard_normal(shape).astype(np.float32)
    h, W, W_T, dz, hw, dh = r(B, H), r(H, 4 * H), r(4 * H, H), r(B, 4 * H), r(B, 4 * H), r(B, H)
    h_chunk, dz_chunk, dW, part = r(H, CHUNK * B), r(CHUNK * B, 4 * H), r(H, 4 * H), r(H, 4 * H)

    def step():
        for _ in range(T):
            np.matmul(h, W, out=hw)
        for t1 in range(T, 0, -CHUNK):
            n = t1 - max(t1 - CHUNK, 0)
            for _ in range(n):
                np.matmul(dz, W_T, out=dh)
            np.matmul(h_chunk[:, :n * B], dz_chunk[:n * B], out=part)
            np.add(dW, part, out=dW)
    step.stats = {}
    return step


def full_step(problem, fused):
    """A step of the registered cell ``spec['cell']`` through rnnlab.cells.Recurrent (fused or composed)."""
    import rnnlab
    from rnnlab import cells
    from rnnlab.optim import Adam
    spec = problem.spec
    rnnlab.set_default_dtype("float32")
    cell = cells.cell_class(spec["cell"])(spec["D"], spec["H"], rng=0, **spec.get("hyper", {}))
    if problem.gate_bias is not None:
        _bias_gate(cell, spec, problem.gate_bias)
    rnn = cells.Recurrent(cell, fused=fused)
    head = rnnlab.Linear(spec["H"], max(spec["classes"], 1), rng=1)     # seeded: a case never depends on the ones before
    opt = Adam(rnn.parameters() + head.parameters(), lr=LR)
    x = rnnlab.Tensor(problem.x, requires_grad=True)
    target = problem.y if spec["classes"] else rnnlab.Tensor(problem.y)
    stats = {}

    def step():
        outputs, _ = rnn(x)
        out = head(outputs[-1])
        loss = rnnlab.cross_entropy(out, target) if spec["classes"] else rnnlab.mse_loss(out, target)
        opt.zero_grad()
        x.grad = None
        loss.backward()
        opt.step()
        stats["dx"] = rnnlab.to_numpy(x.grad)
    step.stats = stats
    return step


def _bias_gate(cell, spec, value):
    """Set the vanishing case's gate bias (LSTM f / GRU z block) in the input bias, zero in the other one."""
    import rnnlab
    H = spec["H"]
    block = GATE[spec["torch"]][1]
    for name, p in cell.named_parameters():
        if name in ("bias", "bias_ih", "bias_hh"):
            b = rnnlab.to_numpy(p.data).copy()
            b[block * H:(block + 1) * H] = value if name != "bias_hh" else 0.0
            p.data = rnnlab.asarray(b, like=p.data)


def torch_step(problem):
    import torch
    module, head = problem.torch_modules
    opt = torch.optim.Adam(list(module.parameters()) + list(head.parameters()), lr=LR)
    x, y = torch.from_numpy(problem.x), torch.from_numpy(problem.y)
    loss_fn = torch.nn.functional.cross_entropy if problem.spec["classes"] else torch.nn.functional.mse_loss

    def step():
        out, _ = module(x)
        loss = loss_fn(head(out[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_loop_momentum_step(problem, mu=0.9, s=0.1):
    """MomentumLSTM as a PyTorch loop over time: v = mu v + s (x_t W_ih + b_ih); gates = v + h W_hh + b_hh."""
    import torch
    module, head = problem.torch_modules
    W_ih, W_hh, b_ih, b_hh = module.weight_ih_l0, module.weight_hh_l0, module.bias_ih_l0, module.bias_hh_l0
    opt = torch.optim.Adam([W_ih, W_hh, b_ih, b_hh, *head.parameters()], lr=LR)
    x, y = torch.from_numpy(problem.x), torch.from_numpy(problem.y)
    B, H = problem.spec["B"], problem.spec["H"]

    def step():
        h = c = torch.zeros(B, H)
        v = torch.zeros(B, 4 * H)
        for t in range(x.shape[0]):
            v = mu * v + s * (x[t] @ W_ih.T + b_ih)
            i, f, g, o = (v + h @ W_hh.T + b_hh).chunk(4, 1)
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
        loss = torch.nn.functional.cross_entropy(head(h), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step
