"""Make the committed pictures of the docs chapters (docs/img/*.png).

    python docs/make_images.py                 # all pictures
    python docs/make_images.py momentum lmo    # only these (names: see IMAGES at the bottom)

The chapters' code blocks compute the same quantities at smaller sizes (the test suite runs them); this
script uses the sizes the pictures show. NumPy and matplotlib are used here for host data and plotting
only; every gradient comes from rnnlab. ``momentum`` trains two networks on permuted MNIST (T = 784) and
takes a few minutes; it needs the MNIST files (see rnnlab.datasets.load_mnist).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")   # small matrices: BLAS threads only fight each other on a shared machine

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402  (host data and plotting)

import rnnlab  # noqa: E402
import rnnlab.cells as cells  # noqa: E402
from rnnlab.datasets import adding_task  # noqa: E402
from rnnlab.engine import graph  # noqa: E402

IMG = Path(__file__).resolve().parent / "img"
DPI = 90


def save(fig, name: str) -> None:
    IMG.mkdir(exist_ok=True)
    path = IMG / name
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    print(f"wrote {path} ({path.stat().st_size // 1024} KB)")


def probe_norms(cell, x, loss_at_last_step=True):
    """||dL/dh_t|| for t = 1..T for one cell on inputs x (T, B, D), L = sum of the last h_T squared."""
    rnn = cells.Recurrent(cell)
    out, _ = rnn(rnnlab.Tensor(x), record_grad_norms=True)
    (out[-1] * out[-1]).sum().backward()
    return rnn.grad_norms[0]


# ------------------------------------------------------------------------------------------------ chapter 1
def img_graph() -> None:
    """01-graph.png: the graph of y = (x w - 4)^2, drawn by graph.render (needs Graphviz)."""
    rnnlab.set_default_dtype("float64")
    x = rnnlab.Tensor(2.0, requires_grad=True, name="x")
    w = rnnlab.Tensor(3.0, requires_grad=True, name="w")
    y = (x * w - 4.0) ** 2
    IMG.mkdir(exist_ok=True)
    graph.render(y, IMG / "01-graph.png", names={"y": y}, values=True)
    print(f"wrote {IMG / '01-graph.png'}")
    rnn = cells.Recurrent(cells.RNN(1, 2, rng=0), fused=False)
    out, _ = rnn(rnnlab.Tensor(np.ones((3, 1, 1))))
    loss = (out[-1] * out[-1]).sum()
    graph.render(loss, IMG / "04-unrolled.png", names={"loss": loss, "W_hh": rnn.cells[0].weight_hh,
                                                        "W_ih": rnn.cells[0].weight_ih, "b": rnn.cells[0].bias})
    print(f"wrote {IMG / '04-unrolled.png'}")


# ------------------------------------------------------------------------------------------------ chapter 5
def img_vanishing() -> None:
    """05-vanishing.png: ||dL/dh_t|| per step for RNN, LSTM, IndRNN at initialization (adding-task inputs),
    and for a recurrence at h = 0, where the Jacobian is exactly W_hh^T, for W_hh = c Q."""
    rnnlab.set_default_dtype("float64")
    T, B, H = 500, 16, 64
    xs, _ = adding_task(B, T, seed=0)
    x = xs.astype("float64")
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for name, cell in (("RNN (tanh)", cells.RNN(2, H, rng=0)), ("LSTM", cells.LSTM(2, H, rng=0)),
                       ("IndRNN (|u| <= 5^(1/T))", cells.IndRNN(2, H, seq_len=T, rng=0))):
        n = probe_norms(cell, x)
        axes[0].semilogy(np.arange(1, T + 1), np.maximum(n, 1e-300), label=name)
    axes[0].set(xlabel="time step t", ylabel="||dL/dh_t||", title=f"at initialization, T = {T}, H = {H}")
    for c in (0.9, 1.0, 1.1):
        cell = cells.RNN(2, H, weight_hh_init="orthogonal", rng=1)
        cell.weight_hh.data = cell.weight_hh.data * c
        cell.bias.data = cell.bias.data * 0.0
        n = probe_norms(cell, np.zeros((200, 4, 2)) , loss_at_last_step=True) if False else None
        rnn = cells.Recurrent(cell)
        out, _ = rnn(rnnlab.Tensor(np.zeros((200, 4, 2))), record_grad_norms=True)
        out[-1].backward(grad=np.ones((4, H)))
        n = rnn.grad_norms[0]
        axes[1].semilogy(np.arange(1, 201), n, label=f"W_hh = {c} Q  (spectral radius {c})")
    axes[1].set(xlabel="time step t", ylabel="||dL/dh_t||", title="linear regime: ||dL/dh_t|| = c^(T-t) ||dL/dh_T||")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "05-vanishing.png")


# ------------------------------------------------------------------------------------------------ chapter 6
def img_tbptt() -> None:
    """06-tbptt.png: ||dL/dh_t|| with full BPTT and with TBPTT chunks of k = 50 (loss at every step)."""
    rnnlab.set_default_dtype("float64")
    T, B, H, k = 200, 8, 32, 50
    xs, _ = adding_task(B, T, seed=0)
    x = rnnlab.Tensor(xs.astype("float64"))
    rnn = cells.Recurrent(cells.LSTM(2, H, rng=0))
    out, _ = rnn(x, record_grad_norms=True)
    (out * out).sum().backward()
    full = rnn.grad_norms[0]
    chunked = []
    for chunk in cells.tbptt(rnn, x, k1=k):
        rnn_out = chunk.outputs
        (rnn_out * rnn_out).sum().backward()
    # the probe of the chunk's forward: redo it per chunk to read the norms
    state = None
    for start in range(0, T, k):
        o, state = rnn(x[start:start + k], state, record_grad_norms=True)
        (o * o).sum().backward()
        chunked.append(rnn.grad_norms[0])
        state = cells.detach_state(state)
    chunked = np.concatenate(chunked)
    fig, ax = plt.subplots(figsize=(7, 3.8))
    t = np.arange(1, T + 1)
    ax.semilogy(t, full, label="full BPTT")
    ax.semilogy(t, chunked, "--", label=f"TBPTT, k1 = k2 = {k}")
    for s in range(k, T, k):
        ax.axvline(s + 0.5, color="grey", lw=0.8, alpha=0.6)
    ax.set(xlabel="time step t", ylabel="||dL/dh_t||", title="LSTM, loss at every step: what truncation cuts")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save(fig, "06-tbptt.png")


# ------------------------------------------------------------------------------------------------ chapter 7
def _copy_params(src, dst) -> None:
    for p, q in zip(src.parameters(), dst.parameters()):
        q.data = rnnlab.asarray(rnnlab.to_numpy(p.data).astype(rnnlab.to_numpy(q.data).dtype))


def img_momentum(steps=(0, 100, 300), hidden=128, batch=32, seed=0) -> None:
    """07-momentum.png: Fig. 2 of the MomentumRNN paper: ||dL/dh_t|| on permuted MNIST (T = 784) for an RNN
    and a MomentumRNN (mu = s = 0.6), at initialization and after some Adam steps (lr 1e-3, batch 32).
    Training runs in float32; the probe runs in float64 on a copy of the weights (float32 underflows)."""
    from rnnlab.datasets import mnist_datasets
    from rnnlab.optim import Adam
    os.environ.setdefault("RNNLAB_DATA", "/work/shared/data")
    train, test, _ = mnist_datasets("permuted")
    rng = np.random.default_rng(seed)
    xp, yp = test.batch(np.arange(batch))
    curves = {}
    for label, make in (("RNN", lambda: cells.RNN(1, hidden, rng=seed)),
                        ("MomentumRNN (mu = s = 0.6)", lambda: cells.MomentumRNN(1, hidden, mu=0.6, s=0.6, rng=seed))):
        rnnlab.set_default_dtype("float32")
        rnn, head = cells.Recurrent(make()), rnnlab.Linear(hidden, 10, rng=seed)
        params = rnn.parameters() + head.parameters()
        opt = Adam(params, lr=1e-3)
        curves[label] = []
        t0, done = time.time(), 0
        for target in steps:
            while done < target:
                xb, yb = train.batch(rng.integers(0, len(train), batch))
                out, _ = rnn(rnnlab.Tensor(xb))
                loss = rnnlab.cross_entropy(head(out[-1]), yb)
                opt.zero_grad()
                loss.backward()
                opt.step()
                done += 1
            rnnlab.set_default_dtype("float64")
            rnn64, head64 = cells.Recurrent(make()), rnnlab.Linear(hidden, 10, rng=seed)
            _copy_params(rnn, rnn64)
            _copy_params(head, head64)
            out, _ = rnn64(rnnlab.Tensor(xp.astype("float64")), record_grad_norms=True)
            loss64 = rnnlab.cross_entropy(head64(out[-1]), yp)
            loss64.backward()
            n = rnn64.grad_norms[0]
            curves[label].append((target, n, loss64.item()))
            rnnlab.set_default_dtype("float32")
            print(f"{label}: step {target}, loss {loss64.item():.3f}, ||dL/dh_1||/||dL/dh_T|| = {n[0] / n[-1]:.3g} "
                  f"({time.time() - t0:.0f} s)", flush=True)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, (label, runs) in zip(axes, curves.items()):
        for target, n, loss in runs:
            ax.semilogy(np.arange(1, n.shape[0] + 1), np.maximum(n, 1e-300),
                        label=f"after {target} steps (loss {loss:.2f})")
        ax.set(title=label, xlabel="time step t")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("||dL/dh_t||")
    fig.suptitle(f"permuted MNIST, T = 784, H = {hidden}: gradient norm per time step (float64 probe)", fontsize=10)
    fig.tight_layout()
    save(fig, "07-momentum.png")


IMAGES = {"graph": img_graph, "vanishing": img_vanishing, "tbptt": img_tbptt, "momentum": img_momentum}

if __name__ == "__main__":
    names = sys.argv[1:] or list(IMAGES)
    unknown = [n for n in names if n not in IMAGES]
    if unknown:
        sys.exit(f"make_images: unknown picture {', '.join(unknown)}; expected some of {', '.join(IMAGES)}")
    for n in names:
        IMAGES[n]()
