"""The ``rnnlab`` command: ``train``, ``evaluate``, ``plot``, ``gradcheck``, ``experiments`` and ``demo``.

    rnnlab train                                   # the embedded default: LSTM on the adding task
    rnnlab train --task mnist-row --cell lstm --hidden 128 --epochs 2 --data-dir ~/data --out runs/row
    rnnlab train --config my_settings.toml --backend cupy
    rnnlab train --resume runs/row --epochs 4      # continue from the checkpoint, bit for bit
    rnnlab evaluate runs/row --split test --checkpoint best
    mpiexec -n 4 rnnlab train --batch-size 256     # data-parallel on 4 ranks (global batch 256)
    rnnlab plot runs/a runs/b                      # loss and metric curves, overlaid
    rnnlab export runs/row --csv                   # metrics.jsonl as runs/row/metrics.csv
    rnnlab experiments list momentum_rnn           # the papers' experiments; `run NAME --tier small`

Exit status: 0 done, 2 a usage error (one line on stderr), 3 the run diverged, 130 interrupted (resumable).
"""
from __future__ import annotations

import argparse
import sys

from .cli_errors import quiet_broken_pipe, user_line
from .cli_parsers import add_experiments_parser, add_export_parser, add_train_flags, given_settings

EXIT_USAGE, EXIT_DIVERGED, EXIT_INTERRUPTED = 2, 3, 130


class Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake reported on one line (and ``--help`` for the rest)."""

    def error(self, message):
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _run_train(args) -> int:
    from .training import distributed, from_mapping, resume, train
    from .training.config import ConfigError, TrainConfig, coerce, toml_settings
    from .training.session import check_applicable
    given = given_settings(args)
    if args.resume:
        extra = set(given) - {"steps", "epochs", "progress", "distributed"}
        if extra or args.config or args.overwrite:
            raise ConfigError(f"--resume continues a run with its own settings; only --steps, --epochs, "
                              f"--progress and --distributed may be given with it (got "
                              f"{', '.join(sorted(extra)) or ('--config' if args.config else '--overwrite')})")
        given = {k: coerce(k, v, "command line") for k, v in given.items()}
        summary = resume(args.resume, steps=given.get("steps", 0), epochs=given.get("epochs", 0),
                         progress=given.get("progress", True), distributed=given.get("distributed"))
    else:
        settings = toml_settings(args.config) if args.config else {}
        cfg = from_mapping(settings, f"--config {args.config}") if args.config else TrainConfig()
        cfg = from_mapping(given, "command line", base=cfg)
        check_applicable(cfg, set(given) | set(settings), "settings" if settings else "command line")
        summary = train(cfg, overwrite=args.overwrite)
    if distributed.is_root():        # under MPI, rank 0 alone reports
        _report(summary)
    return 0


def _report(summary: dict) -> None:
    from .training.reporting import verdict
    shown = {k: v for k, v in summary.items() if k.startswith(("val_", "test_", "best_"))
             or k in ("baseline_loss", "steps", "wall_time")}
    print("result: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items()))
    print(f"run directory: {summary['config']['out']}")
    metric = next((k[5:] for k in summary if k in ("test_accuracy", "test_perplexity")), "mse")
    print(verdict(summary, metric, summary["config"]["task"]))


def _run_evaluate(args) -> int:
    from .training import evaluate_run
    metrics = evaluate_run(args.run_dir, split=args.split, checkpoint=args.checkpoint, data_dir=args.data_dir)
    print(" ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}" for k, v in metrics.items()))
    return 0


def _run_plot(args) -> int:
    from .training.plots import plot_runs
    for path in plot_runs(args.runs, args.out, x=args.x):
        print(path)
    return 0


def _run_gradcheck(args) -> int:
    from .training.config import import_plugins
    from .training.gradcheck import check_cell
    import_plugins(args.plugins)
    return 0 if check_cell(args.cell, steps=args.steps, batch=args.batch, hidden=args.hidden, fused=args.fused,
                           seed=args.seed, kernels=args.kernels) else 1


def _run_experiments(args) -> int:
    from .training import experiments as ex
    experiments = ex.load(args.experiments_dir)
    if args.action == "list":
        selected = ex.select(experiments, args.group) if args.group else list(experiments.values())
        print(ex.markdown(selected) if args.markdown else ex.listing(selected), end="\n" if not args.markdown else "")
    elif args.action == "show":
        print(ex.show(experiments, args.name, args.tier, args.out, args.overrides), end="")
    elif args.seeds:
        seeds = ex.parse_seeds(args.seeds)
        selected = ex.select(experiments, args.name)
        ex.run_seeds(selected, seeds, args.tier, args.out, args.data_dir, args.resume, args.progress,
                     overrides=ex.parse_overrides(args.overrides))
    else:
        selected = ex.select(experiments, args.name)
        ex.run(selected, args.tier, args.out, args.data_dir, args.resume, args.progress,
               overrides=ex.parse_overrides(args.overrides))
    return 0


def _run_export(args) -> int:
    from .training.export import export
    export(args.run_dir, csv=args.csv, out=args.out, tensorboard=args.tensorboard)
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rnnlab", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from . import __version__
    parser.add_argument("--version", action="version", version=f"rnnlab {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    add_train_flags(sub.add_parser("train", help="train a recurrent network on a task", description=(
        "Train a recurrent network. Settings come from the defaults, then --config, then flags.")))
    ev = sub.add_parser("evaluate", help="score a saved run on its validation or test split (writes nothing)")
    ev.add_argument("run_dir", metavar="RUN_DIR")
    ev.add_argument("--split", choices=("val", "test"), default="test", help="(default: test)")
    ev.add_argument("--checkpoint", choices=("last", "best"), default="last",
                    help="last: checkpoint.npz; best: best.npz of a --keep-best run (default: last)")
    ev.add_argument("--data-dir", metavar="DIR", help="where the run's data set is now, if it moved (default: "
                    "the run's own data_dir, else $RNNLAB_DATA, else ~/.cache/rnnlab)")
    plot = sub.add_parser("plot", help="PNG plots of runs' loss and metric curves (and gradient norms)")
    plot.add_argument("runs", nargs="+", metavar="RUN_DIR")
    plot.add_argument("--out", help="folder for the PNGs (default: the run directory for one run, the current directory for several)")
    plot.add_argument("--x", choices=("step", "grad_evals"), default="step",
                      help="horizontal axis: optimizer steps, or gradient evaluations (Frank-Wolfe takes K a "
                      "step) (default: step)")
    gc = sub.add_parser("gradcheck", help="check a cell's gradients against finite differences, on every path")
    gc.add_argument("cell", help="cell name, e.g. lstm, momentum-rnn (rnnlab train --help lists them)")
    gc.add_argument("--steps", type=int, default=4, help="(default: 4)")
    gc.add_argument("--batch", type=int, default=2, help="(default: 2)")
    gc.add_argument("--hidden", type=int, default=3, help="(default: 3)")
    gc.add_argument("--fused", action=argparse.BooleanOptionalAction, default=True,
                    help="check the fused paths too (--no-fused: the composed path only; default: on)")
    gc.add_argument("--kernels", action=argparse.BooleanOptionalAction, default=True,
                    help="check the compiled kernel where the cell has one (default: on)")
    gc.add_argument("--seed", type=int, default=0, help="(default: 0)")
    gc.add_argument("--plugins", default="", help="comma-separated Python modules imported first (they may "
                    "register cells)")
    add_experiments_parser(sub)
    add_export_parser(sub)                                     # rnnlab export RUN --csv
    sub.add_parser("demo", help="a graph, its backward pass and a gradient check")
    return parser


HANDLERS = {"train": _run_train, "evaluate": _run_evaluate, "plot": _run_plot, "gradcheck": _run_gradcheck,
            "experiments": _run_experiments, "demo": _demo, "export": _run_export}


def main(argv=None) -> int:
    """The ``rnnlab`` command. A Ctrl-C before a command handles it (while importing or parsing) exits 130
    with one line; operating-system errors are one line and exit 2 (:mod:`rnnlab.cli_errors`)."""
    try:
        return _main(argv)
    except KeyboardInterrupt:
        print("rnnlab: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    from .training import Diverged, Interrupted
    from .training.distributed import abort_others
    try:
        return HANDLERS[args.command](args)
    except Interrupted as exc:
        print(f"rnnlab {args.command}: {own(args.command, exc)}; continue with: rnnlab train --resume {exc.run_dir}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    except KeyboardInterrupt:
        print(f"rnnlab {args.command}: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Diverged as exc:
        print(f"rnnlab {args.command}: {own(args.command, exc)}", file=sys.stderr)
        abort_others(exc, shown=True)
        return EXIT_DIVERGED
    except user_errors() as exc:
        print(f"rnnlab {args.command}: error: {own(args.command, exc)}", file=sys.stderr)
        abort_others(exc, shown=True)
        return EXIT_USAGE
    except BrokenPipeError:      # `rnnlab experiments list | head`: the reader has what it wanted
        quiet_broken_pipe()
        return EXIT_USAGE
    except BaseException as exc:
        line = user_line(exc)    # the operating system's refusals (and MemoryError): one line; bugs: a traceback
        if line is not None:
            print(f"rnnlab {args.command}: error: {line}", file=sys.stderr)
            abort_others(exc, shown=True)
            return EXIT_USAGE
        abort_others(exc)        # under MPI, an error on one rank alone ends every rank, not a hang
        raise


def own(command: str, exc: BaseException) -> str:
    """``exc``'s message without its leading ``command: ``: the library names the operation for callers from
    Python (``train: stopped by SIGINT``) and the command line names it once, as ``rnnlab train: ...``."""
    message = str(exc)
    return message[len(command) + 2:] if message.startswith(f"{command}: ") else message


def user_errors() -> tuple:
    """The project's own error types for a user's mistake: shown as one line. Anything else is a bug in
    rnnlab and keeps its traceback."""
    from .cells.registry import CellRegistryError
    from .datasets import DatasetError
    from .engine.backend import BackendError
    from .training import CheckpointError
    from .training.config import ConfigError
    return ConfigError, DatasetError, BackendError, CheckpointError, CellRegistryError


if __name__ == "__main__":
    sys.exit(main())
