"""Frank-Wolfe against Adam, SGD and SGD + clipping on the adding task (the FW paper's Fig. 3 setting).

Every method trains the same vanilla tanh RNN (2 -> 128, T = 100, batch 50, linear read-out of h_T, MSE)
from the same initial weights. Minibatches come from one seeded stream indexed by gradient evaluation, so
a method that evaluates k gradients per update sees the same batches as the others, k per update (Frank-Wolfe
draws a new minibatch for each inner step, as the authors' code does).

Methods (defaults follow the measurements in docs/papers.md and the released code: radius δ = 1e-3, Adam 1e-3 as the
outer step of Frank-Wolfe):
  adam          Adam, lr 1e-3
  sgd           SGD, lr 0.01
  sgd_clip      SGD, lr 0.01, global gradient-norm clipping at 1.0
  fw_k{1,5}_p{2,inf}   FrankWolfe, K inner steps, l_p ball of radius δ, outer Adam (--fw-outer adam) or the
                plain update ω ← ω + η Δ_K with η = --fw-lr (--fw-outer plain)

Writes <out>/losses.png (training loss against update and against gradient evaluations), <out>/results.json
(final losses and settings) and prints a table. The test MSE is on 1,000 held-out sequences; always
predicting 1 scores 1/6 ~ 0.167 (the level to beat).

    python experiments/fw_vs_sgd_adding.py --steps 300 --out runs/fw_vs_sgd_adding
"""
from __future__ import annotations

import argparse
import json
import os
import pathlib
import time

# the matrices are small (50 x 128): one BLAS thread is faster than several fighting over shared cores
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import rnnlab  # noqa: E402
from rnnlab import cells, optim  # noqa: E402
from rnnlab.datasets import ADDING_BASELINE_MSE, adding_task  # noqa: E402

METHODS = ("adam", "sgd", "sgd_clip", "fw_k1_p2", "fw_k5_p2", "fw_k1_pinf", "fw_k5_pinf")


class Model(rnnlab.Module):
    """h_T of a tanh RNN, read out by a linear layer: y = h_T W + b."""

    def __init__(self, hidden: int, seed: int):
        super().__init__()
        self.rnn = cells.Recurrent([cells.RNN(2, hidden, rng=seed)], fused=True)
        self.head = rnnlab.Linear(hidden, 1, rng=seed + 1)

    def forward(self, x):
        outputs, _ = self.rnn(x)
        return self.head(outputs[-1])


def make_optimizer(name: str, params, args):
    if name == "adam":
        return optim.Adam(params, lr=args.adam_lr)
    if name in ("sgd", "sgd_clip"):
        return optim.SGD(params, lr=args.sgd_lr)
    K = int(name.split("_")[1][1:])
    p = float("inf") if name.endswith("pinf") else 2
    outer = optim.Adam(params, lr=args.adam_lr) if args.fw_outer == "adam" else None
    return optim.FrankWolfe(params, lr=args.fw_lr, delta=args.delta, K=K, p=p, outer=outer)


class BatchStream:
    """The adding-task minibatch for gradient evaluation i is drawn from the seed (seed, i)."""

    def __init__(self, seed: int, batch: int, T: int):
        self.seed, self.batch, self.T, self.calls = seed, batch, T, 0

    def next(self):
        x, y = adding_task(self.batch, self.T, seed=[self.seed, 1, self.calls])
        self.calls += 1
        return rnnlab.Tensor(x), rnnlab.Tensor(y)


def test_mse(model, x, y) -> float:
    with rnnlab.no_grad():
        return float(rnnlab.mse_loss(model(x), y).item())


def train(name: str, initial: dict, args, test_set) -> dict:
    model = Model(args.hidden, args.seed)
    model.load_state_dict(initial)
    params = model.parameters()
    opt = make_optimizer(name, params, args)
    stream = BatchStream(args.seed, args.batch, args.T)

    def closure():
        opt.zero_grad()
        x, y = stream.next()
        loss = rnnlab.mse_loss(model(x), y)
        loss.backward()
        if name == "sgd_clip":
            optim.clip_grad_norm(params, args.clip)
        return loss

    losses, evals = [], []
    start = time.perf_counter()
    for _ in range(args.steps):
        losses.append(float(opt.step(closure).item()))
        evals.append(stream.calls)
    seconds = time.perf_counter() - start
    tail = losses[-min(50, len(losses)):]
    return {"train_loss": losses, "grad_evals": evals, "final_train_loss_mean_last_50": sum(tail) / len(tail),
            "test_mse": test_mse(model, *test_set), "seconds": seconds}


def plot(results: dict, path: pathlib.Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
    for name, r in results.items():
        smooth = _moving_average(r["train_loss"], 20)
        axes[0].plot(range(1, len(smooth) + 1), smooth, label=name, lw=1.2)
        axes[1].plot(r["grad_evals"], smooth, label=name, lw=1.2)
    for ax, xlabel in zip(axes, ("update (outer step)", "gradient evaluations")):
        ax.axhline(ADDING_BASELINE_MSE, color="k", ls=":", lw=1, label="predict 1 (1/6)")
        ax.set_xlabel(xlabel)
        ax.set_yscale("log")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("training MSE (moving average of 20)")
    axes[1].legend(fontsize=8)
    fig.suptitle("Adding task, T = 100, tanh RNN 128: Frank-Wolfe vs Adam vs SGD")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def _moving_average(xs, n):
    out, total = [], 0.0
    for i, x in enumerate(xs):
        total += x - (xs[i - n] if i >= n else 0.0)
        out.append(total / min(i + 1, n))
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=300, help="updates per method (default 300)")
    ap.add_argument("--out", default="runs/fw_vs_sgd_adding", help="output folder")
    ap.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--T", type=int, default=100)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--adam-lr", type=float, default=1e-3)
    ap.add_argument("--sgd-lr", type=float, default=1e-2)
    ap.add_argument("--clip", type=float, default=1.0)
    ap.add_argument("--delta", type=float, default=1e-3, help="Frank-Wolfe radius δ")
    ap.add_argument("--fw-outer", choices=("adam", "plain"), default="adam")
    ap.add_argument("--fw-lr", type=float, default=1.0, help="η of the plain outer update")
    ap.add_argument("--backend", default="numpy", choices=rnnlab.backend.BACKENDS)
    args = ap.parse_args(argv)

    rnnlab.use_backend(args.backend)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    initial = Model(args.hidden, args.seed).state_dict()
    x_test, y_test = adding_task(1000, args.T, seed=[args.seed, 2])
    test_set = (rnnlab.Tensor(x_test), rnnlab.Tensor(y_test))

    results = {}
    print(f"{'method':<12} {'updates':>7} {'grad evals':>10} {'train (last 50)':>15} {'test MSE':>9} {'s':>6}")
    for name in args.methods:
        r = train(name, initial, args, test_set)
        results[name] = r
        print(f"{name:<12} {args.steps:>7} {r['grad_evals'][-1]:>10} {r['final_train_loss_mean_last_50']:>15.4f} "
              f"{r['test_mse']:>9.4f} {r['seconds']:>6.0f}", flush=True)
    plot(results, out / "losses.png")
    summary = {
        "settings": {k: v for k, v in vars(args).items()},
        "baseline_mse_predict_one": ADDING_BASELINE_MSE,
        "final": {name: {k: r[k] for k in ("final_train_loss_mean_last_50", "test_mse", "seconds")}
                  | {"updates": args.steps, "grad_evals": r["grad_evals"][-1]} for name, r in results.items()},
        "curves": {name: {"train_loss": r["train_loss"], "grad_evals": r["grad_evals"]}
                   for name, r in results.items()},
    }
    (out / "results.json").write_text(json.dumps(summary, indent=1))
    print(f"wrote {out / 'losses.png'} and {out / 'results.json'}")
    return summary


if __name__ == "__main__":
    main()
