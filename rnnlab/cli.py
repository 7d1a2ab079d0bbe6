"""The ``rnnlab`` command: ``train``, ``plot``, ``gradcheck`` and ``demo``.

    rnnlab train                                   # the embedded default: LSTM on the adding task
    rnnlab train --task mnist-row --cell lstm --hidden 128 --epochs 2 --data-dir ~/data --out runs/row
    rnnlab train --config experiments/fw/adding_small.toml --backend cupy
    rnnlab train --resume runs/row                 # continue from the checkpoint, bit for bit
    mpiexec -n 4 rnnlab train --batch-size 256     # data-parallel on 4 ranks (global batch 256)
    rnnlab plot runs/a runs/b                      # loss and metric curves, overlaid
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import fields

from .config import ConfigError, TrainConfig

HELP = {
    "task": "what to learn", "cell": "recurrent cell", "layers": "stacked layers", "hidden": "hidden units per layer",
    "optimizer": "sgd | adam | rmsprop | fw", "lr": "learning rate (for fw: the outer optimizer's)",
    "fw_k": "Frank-Wolfe inner steps K", "fw_delta": "Frank-Wolfe radius delta", "fw_p": "Frank-Wolfe ball norm p (inf ok)",
    "fw_outer": "optimizer of the Frank-Wolfe outer step (none: plain step)", "steps": "optimizer steps",
    "epochs": "epochs (when --steps is 0)", "tbptt": "TBPTT chunk length k1 (0: full BPTT)",
    "tbptt_k2": "TBPTT truncation length k2 (default k1)", "fused": "fused kernels (--no-fused: composed path)",
    "backend": "numpy | cupy | strict", "out": "run directory", "data_dir": "data directory (else $RNNLAB_DATA, "
    "else ~/.cache/rnnlab)", "clip_norm": "global gradient-norm clip (0: off)", "clip_value": "element-wise clamp (0: off)",
    "schedule": "none | step | exp | plateau", "seq_len": "sequence length of generated tasks; PTB chunk length",
    "distributed": "data parallelism over MPI (on by itself under mpiexec -n N > 1); --batch-size is global",
    "rebase_every": "orthogonal cells: DTRIV period K, rebase after every K-th step (0: never, expRNN)",
    "skew_init": "orthogonal cells: initialization of A, cayley | henaff",
}


def _train_parser(sub):
    p = sub.add_parser("train", help="train a recurrent network on a task", description=
                       "Train a recurrent network. Settings come from the defaults, then --config, then flags.")
    p.add_argument("--config", help="TOML file of settings")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        kw = dict(dest=f.name, default=argparse.SUPPRESS, help=HELP.get(f.name, f"(default {f.default!r})"))
        if f.type in (bool, "bool"):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, **kw)
        else:
            p.add_argument(flag, type=_parser_type(f), **kw)
    p.add_argument("--composed", dest="fused", action="store_false", default=argparse.SUPPRESS,
                   help="the composed path (same as --no-fused)")
    p.add_argument("--hidden-size", dest="hidden", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--K", dest="fw_k", type=int, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--delta", dest="fw_delta", type=float, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def _parser_type(f):
    kind = {"int": int, "float": float, "str": str}.get(f.type, f.type) if isinstance(f.type, str) else f.type
    return kind if kind in (int, float, str) else str


def _run_train(args) -> int:
    from . import train as training
    given = {k: v for k, v in vars(args).items() if k not in ("command", "config", "resume")}
    if args.resume:
        extra = set(given) - {"steps", "epochs", "progress", "distributed"}
        if extra or args.config:
            raise ConfigError(f"--resume continues a run with its own settings; only --steps, --epochs, "
                              f"--progress and --distributed may be given with it (got "
                              f"{', '.join(sorted(extra)) or '--config'})")
        summary = training.resume(args.resume, steps=given.get("steps", 0), epochs=given.get("epochs", 0),
                                  progress=given.get("progress", True), distributed=given.get("distributed"))
    else:
        from .config import from_mapping, load_toml
        cfg = load_toml(args.config) if args.config else TrainConfig()
        cfg = from_mapping(given, "command line", base=cfg)
        summary = training.train(cfg)
    from .distributed import is_root
    if not is_root():        # under MPI, rank 0 alone reports
        return 0
    shown = {k: v for k, v in summary.items() if k.startswith("test_") or k in ("baseline_loss", "steps", "wall_time")}
    print("result: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items()))
    print(f"run directory: {summary['config']['out']}")
    return 0


def _run_plot(args) -> int:
    from .plot import plot_runs
    for path in plot_runs(args.runs, args.out):
        print(path)
    return 0


def _run_gradcheck(args) -> int:
    from .gradcheck_cli import check_cell
    return 0 if check_cell(args.cell, steps=args.steps, batch=args.batch, hidden=args.hidden, fused=args.fused,
                           seed=args.seed) else 1


def _demo(args) -> int:
    """Build a small graph, run backward, and check the gradient against finite differences."""
    import rnnlab
    rnnlab.set_default_dtype("float64")
    rnnlab.manual_seed(0)
    x = rnnlab.Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    layer = rnnlab.Linear(3, 2)
    loss = rnnlab.tanh(layer(x)).sum()
    loss.backward()
    print(f"loss = {loss.item():.6f}")
    print("dloss/dx =", x.grad)
    ok = rnnlab.gradcheck(lambda x, w, b: rnnlab.tanh(layer(x)), [x, layer.weight, layer.bias])
    print("gradcheck against central differences:", "passed" if ok else "FAILED")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    _train_parser(sub)
    plot = sub.add_parser("plot", help="PNG plots of runs' loss and metric curves (and gradient norms)")
    plot.add_argument("runs", nargs="+", metavar="RUN_DIR")
    plot.add_argument("--out", help="folder for the PNGs (default: the first run directory)")
    gc = sub.add_parser("gradcheck", help="check a cell's gradients against finite differences")
    gc.add_argument("cell", help="cell name, e.g. lstm, momentum-rnn")
    gc.add_argument("--steps", type=int, default=4)
    gc.add_argument("--batch", type=int, default=2)
    gc.add_argument("--hidden", type=int, default=3)
    gc.add_argument("--fused", action=argparse.BooleanOptionalAction, default=True)
    gc.add_argument("--seed", type=int, default=0)
    sub.add_parser("demo", help="a graph, its backward pass and a gradient check")
    args = parser.parse_args(argv)
    handler = {"train": _run_train, "plot": _run_plot, "gradcheck": _run_gradcheck, "demo": _demo}[args.command]
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line for bad input, not a traceback
        from .distributed import abort_others
        if not _is_user_error(exc):
            abort_others(exc)    # under MPI, an error on one rank alone ends every rank, not a hang
            raise
        print(f"rnnlab {args.command}: error: {exc}", file=sys.stderr)
        abort_others(exc, shown=True)
        return 2


def _is_user_error(exc) -> bool:
    from .checkpoint import CheckpointError
    from .datasets import DatasetError
    from .engine.backend import BackendError
    return isinstance(exc, (ConfigError, DatasetError, BackendError, CheckpointError, FileNotFoundError,
                            ValueError, TypeError))


if __name__ == "__main__":
    sys.exit(main())
