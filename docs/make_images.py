"""Make the committed pictures of the docs chapters (docs/img/*.png).

    python docs/make_images.py                 # all pictures
    python docs/make_images.py momentum lmo    # only these (names: see IMAGES at the bottom)

The chapters' code blocks compute the same quantities at smaller sizes (the test suite runs them); this
script uses the sizes the pictures show. NumPy and matplotlib are used here for host data and plotting
only; every gradient comes from rnnlab. ``momentum`` trains two networks on permuted MNIST (T = 784) and
takes a few minutes; it needs the MNIST files (in $RNNLAB_DATA/mnist, see rnnlab.datasets.load_mnist).
Graphviz's ``dot`` draws ``graph`` (apt-get install graphviz).
"""
from __future__ import annotations

import os
import subprocess
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


def probe_norms(cell, x):
    """||dL/dh_t|| for t = 1..T for one cell on inputs x (T, B, D), with L = sum(h_T) (chapter 5)."""
    rnn = cells.Recurrent(cell)
    out, _ = rnn(rnnlab.Tensor(x), record_grad_norms=True)
    out[-1].sum().backward()
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
    cell = cells.RNN(1, 1, rng=0)                 # chapter 4's worked example: D = H = B = 1, three steps
    for p, v in ((cell.weight_ih, [[0.5]]), (cell.weight_hh, [[0.8]]), (cell.bias, [0.0])):
        p.data = rnnlab.asarray(np.array(v))
    state = cell.initial_state(1)
    state[0].name = "h_0"
    for t, v in enumerate([1.0, 0.5, -1.0], 1):
        state = cell.step(rnnlab.Tensor([[v]], name=f"x_{t}"), state, t)
        state[0].name = f"h_{t}"
        state[0].creator.inputs[0].name = f"z_{t}"
    loss = rnnlab.Tensor(0.5, name="1/2") * rnnlab.mse_loss(state[0], rnnlab.Tensor([[0.5]], name="y"))
    names = {"L": loss, "W_hh": cell.weight_hh, "W_ih": cell.weight_ih, "b": cell.bias}
    text = graph.to_dot(loss, names=names, order=False)
    for shape in ("\\n(1, 1) float64", "\\n(1,) float64", "\\n() float64", "(1, 1) float64", "() float64"):
        text = text.replace(shape, "")         # every tensor is a scalar here: names only, to fit a page
    text = text.replace("rankdir=TB;", "rankdir=TB; nodesep=0.15; ranksep=0.2;")
    done = subprocess.run(["dot", "-Tpng", "-Gdpi=72", "-o", str(IMG / "04-unrolled.png")], input=text.encode(),
                          capture_output=True, check=False)
    if done.returncode:
        raise RuntimeError(f"dot failed: {done.stderr.decode(errors='replace')}")
    print(f"wrote {IMG / '04-unrolled.png'}")


# ------------------------------------------------------------------------------------------------ chapter 3
def img_step_size() -> None:
    """03-step-size.png: error of forward and central differences of tanh at 0.7 against the step."""
    x0, exact = 0.7, 1 - np.tanh(0.7) ** 2
    steps = np.logspace(-14, -1, 40)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for dtype, color in ((np.float32, "tab:red"), (np.float64, "tab:blue")):
        x = dtype(x0)
        name = np.dtype(dtype).name
        for kind, style in (("forward", "--"), ("central", "-")):
            est = []
            for e in steps:
                e = dtype(e)
                if kind == "central":
                    est.append((np.tanh(x + e) - np.tanh(x - e)) / (2 * e))
                else:
                    est.append((np.tanh(x + e) - np.tanh(x)) / e)
            err = np.maximum(np.abs(np.array(est, dtype=np.float64) - exact), 1e-17)
            ax.loglog(steps, err, style, color=color, label=f"{name}, {kind}")
    ax.axvline(1e-6, color="grey", lw=0.8)
    ax.text(1.3e-6, 3e-1, "gradcheck's eps", fontsize=8, color="grey")
    ax.set(xlabel="step eps", ylabel="|estimate - exact|", title="finite differences of tanh'(0.7)",
           ylim=(1e-17, 10))
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "03-step-size.png")


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
        n = probe_norms(cell, np.zeros((200, 4, 2)))
        axes[1].semilogy(np.arange(1, 201), n, label=f"W_hh = {c} Q  (spectral radius {c})")
    axes[1].set(xlabel="time step t", ylabel="||dL/dh_t||", title="zero input: ||dL/dh_t|| = c^(T-t) ||dL/dh_T||")
    for ax in axes:
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "05-vanishing.png")


# ------------------------------------------------------------------------------------------------ chapter 6
def img_tbptt() -> None:
    """06-tbptt.png: ||dL/dh_t|| with full BPTT and with TBPTT chunks of k = 50: a loss on the last step
    only (left), and a loss on every step, as the ratio truncated / full (right)."""
    rnnlab.set_default_dtype("float64")
    T, B, H, k = 200, 8, 32, 50
    xs, _ = adding_task(B, T, seed=0)
    x = rnnlab.Tensor(xs.astype("float64"))
    t = np.arange(1, T + 1)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))

    def norms(rnn, loss_fn, chunk):
        """Per-step ||dL/dh_t||, running the chunks tbptt(rnn, x, k1=chunk) makes by hand for the probe."""
        result, state = [], None
        for start in range(0, T, chunk):
            o, state = rnn(x[start:start + chunk], state, record_grad_norms=True)
            loss_fn(o, start + chunk >= T).backward()
            result.append(rnn.grad_norms[0])
            state = cells.detach_state(state)
        return np.concatenate(result)

    def last_only(o, is_last):
        return o[-1].sum() * (1.0 if is_last else 0.0)

    def every_step(o, is_last):
        return (o * o).sum()

    rnn = cells.Recurrent(cells.RNN(2, H, rng=0))
    full, cut = norms(rnn, last_only, T), norms(rnn, last_only, k)
    axes[0].semilogy(t, full, label="full BPTT")
    axes[0].semilogy(t, np.where(cut > 0, cut, np.nan), "--", label=f"TBPTT, k1 = k2 = {k} (0 before the last chunk)")
    axes[0].set(title="RNN, loss on the last step only", xlabel="time step t", ylabel="||dL/dh_t||")
    for name, make in (("RNN", lambda: cells.RNN(2, H, rng=0)), ("LSTM", lambda: cells.LSTM(2, H, rng=0))):
        rnn = cells.Recurrent(make())
        ratio = norms(rnn, every_step, k) / norms(rnn, every_step, T)
        axes[1].plot(t, ratio, label=name)
    axes[1].set(title="loss on every step: ||dL/dh_t|| truncated / full", xlabel="time step t", ylabel="ratio")
    for ax in axes:
        for s in range(k, T, k):
            ax.axvline(s + 0.5, color="grey", lw=0.8, alpha=0.6)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
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


# ------------------------------------------------------------------------------------------------ chapter 8
def img_frank_wolfe() -> None:
    """08-frank-wolfe.png: the LMO in the l2 and l-inf balls, and the inner loop's path on a quadratic."""
    from rnnlab.optim import FrankWolfe, lmo
    rnnlab.set_default_dtype("float64")
    g = np.array([3.0, 1.0])
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.8))
    theta = np.linspace(0, 2 * np.pi, 200)
    for ax, p, title in ((axes[0], 2, "l2 ball: s = -delta g / ||g||_2"),
                         (axes[1], np.inf, "l-inf ball: s = -delta sign(g)")):
        if p == 2:
            ax.plot(np.cos(theta), np.sin(theta), color="k")
        else:
            ax.plot([-1, 1, 1, -1, -1], [-1, -1, 1, 1, -1], color="k")
        s = rnnlab.to_numpy(lmo(rnnlab.asarray(g), 1.0, p))
        gn = 0.5 * g / np.linalg.norm(g)
        ax.annotate("", xy=gn, xytext=(0, 0), arrowprops=dict(arrowstyle="->", color="tab:blue", lw=2))
        ax.text(gn[0] + 0.05, gn[1] + 0.05, "g (direction)", color="tab:blue", fontsize=9)
        ax.plot(*s, "o", color="tab:red", ms=8)
        ax.text(s[0] - 0.15, s[1] - 0.22, "s = LMO(g)", color="tab:red", fontsize=9)
        for lvl in np.linspace(-3, 3, 7):           # level lines of <s, g>: the LMO touches the lowest
            t = np.linspace(-1.6, 1.6, 2)
            ax.plot(t, (lvl - g[0] * t) / g[1], color="tab:blue", lw=0.5, alpha=0.4)
        ax.set(xlim=(-1.6, 1.6), ylim=(-1.6, 1.6), aspect="equal", title=title)
        ax.title.set_fontsize(9)
    A, c = np.array([[3.0, 0.0], [0.0, 0.3]]), np.array([0.6, 0.4])
    w = rnnlab.Parameter(np.zeros(2))
    opt = FrankWolfe([w], lr=1.0, delta=1.0, K=8, p=2)
    path, vertices = [], []

    def closure():
        path.append(rnnlab.to_numpy(w.data).copy())
        d = w - rnnlab.Tensor(c)
        loss = 0.5 * (d * (d @ rnnlab.Tensor(A))).sum()
        loss.backward()
        vertices.append(rnnlab.to_numpy(lmo(w.grad, 1.0, 2)))
        return loss

    opt.step(closure)
    ax = axes[2]
    X, Y = np.meshgrid(np.linspace(-1.5, 1.5, 120), np.linspace(-1.5, 1.5, 120))
    F = 0.5 * (A[0, 0] * (X - c[0]) ** 2 + A[1, 1] * (Y - c[1]) ** 2)
    ax.contour(X, Y, F, levels=12, cmap="Blues", linewidths=0.7)
    ax.plot(np.cos(theta), np.sin(theta), color="k")
    path = np.array(path)
    ax.plot(path[:, 0], path[:, 1], "o-", color="tab:red", ms=4, label="omega + Delta_(k-1), k = 1..8")
    vertices = np.array(vertices)
    ax.plot(vertices[:, 0], vertices[:, 1], "x", color="tab:green", ms=7, label="vertices s_k")
    final = rnnlab.to_numpy(w.data)
    ax.plot(*final, "*", color="k", ms=10, label="omega + eta Delta_K")
    ax.plot(*c, "+", color="tab:blue", ms=12, mew=2, label="minimum of F")
    ax.set(aspect="equal", title="inner loop, delta = 1, K = 8, start omega = 0")
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    save(fig, "08-frank-wolfe.png")


IMAGES = {"step_size": img_step_size, "frank_wolfe": img_frank_wolfe, "graph": img_graph, "vanishing": img_vanishing, "tbptt": img_tbptt, "momentum": img_momentum}

if __name__ == "__main__":
    names = sys.argv[1:] or list(IMAGES)
    unknown = [n for n in names if n not in IMAGES]
    if unknown:
        sys.exit(f"make_images: unknown picture {', '.join(unknown)}; expected some of {', '.join(IMAGES)}")
    for n in names:
        IMAGES[n]()
