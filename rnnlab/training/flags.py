"""``rnnlab train``'s flags: one per configuration key, with its choices (from the registry) and default."""
from __future__ import annotations

import argparse
from dataclasses import fields

from .config import TrainConfig
from .registry import choices

HELP = {
    "task": "what to learn", "cell": "recurrent cell", "plugins": "comma-separated Python modules imported "
    "first (they may register cells)", "layers": "stacked layers", "hidden": "hidden units per layer",
    "optimizer": "optimizer", "lr": "learning rate (for fw: the outer optimizer's)",
    "fw_k": "Frank-Wolfe inner steps K", "fw_delta": "Frank-Wolfe radius delta", "fw_p": "Frank-Wolfe ball norm p "
    "(inf ok)", "fw_outer": "optimizer of the Frank-Wolfe outer step (none: plain step)",
    "steps": "optimizer steps (0: from --epochs; both 0: 2000)", "epochs": "epochs (when --steps is 0)",
    "tbptt": "TBPTT chunk length k1 (0: full BPTT; ptb: 35)", "tbptt_k2": "TBPTT truncation length k2 >= k1 "
    "(0: k1)", "fused": "fused sequence path with hand-written BPTT (--no-fused: composed steps, autodiff)",
    "kernels": "compiled kernels on the fused path where present (--no-kernels: the readable loop)",
    "backend": "array backend (else $RNNLAB_BACKEND)", "out": "run directory (default: a new "
    "runs/<task>-<cell>-<time>)", "data_dir": "data directory (else $RNNLAB_DATA, else ~/.cache/rnnlab)",
    "clip_norm": "global gradient-norm clip (0: off)", "clip_value": "element-wise clamp (0: off)",
    "schedule": "learning-rate schedule (plateau: on the validation loss)",
    "seq_len": "sequence length of generated tasks (0: the task's default, 100)",
    "train_size": "generated tasks: training sequences (0: the task's default)",
    "test_size": "generated tasks: test sequences (0: the task's default)",
    "val_size": "validation examples (0: the task's default, e.g. 5000 MNIST images held out of train)",
    "eval_every": "steps between validation evaluations", "eval_batch_size": "evaluation batch (0: ptb 1, one "
    "continuous stream; others max(batch-size, 256))", "keep_best": "keep the best-validation model (best.npz) "
    "and test it too", "distributed": "data parallelism over MPI (on by itself under mpiexec -n N > 1); "
    "--batch-size is global", "rebase_every": "orthogonal cells: DTRIV period K, rebase after every K-th step "
    "(0: never, expRNN)", "skew_init": "orthogonal cells: initialization of A", "nesterov_form": "nesterov cells: "
    "the paper's rule, or a released code's variant", "momentum_clock": "ptb: momentum step index runs on across "
    "chunks (sequence) or restarts per chunk (chunk, as the authors' PTB code)", "device": "device index "
    "(cupy, strict)", "embedding": "ptb: embedding size (0: = hidden)", "restart": "nesterov cells: restart "
    "period F (0: none)", "pixels": "mnist tasks: pixel input, standardized ((p - mean) / std of the training "
    "pixels) or raw (p / 255 in [0, 1], as the MomentumRNN code)",
}


def add_train_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML file of settings (the keys below, with _ or -)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    names = choices()
    for f in fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        text = HELP.get(f.name, f.name.replace("_", " "))
        kw = dict(dest=f.name, default=argparse.SUPPRESS)
        if f.name in names:
            text += f" {{{', '.join(map(str, names[f.name]))}}}"
            kw["metavar"] = f.name.upper()
        text += f" (default: {f.default!r})".replace("%", "%%")
        if isinstance(f.default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, help=text, **kw)
        else:
            p.add_argument(flag, type=str, help=text.replace("%", "%%") if "%" in text else text, **kw)
    p.add_argument("--composed", dest="fused", action="store_false", default=argparse.SUPPRESS,
                   help="the composed path (same as --no-fused)")
    for alias, dest in (("--hidden-size", "hidden"), ("--K", "fw_k"), ("--delta", "fw_delta")):
        p.add_argument(alias, dest=dest, type=str, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def given_settings(args) -> dict:
    """The configuration keys set on the command line (as strings; the configuration coerces and checks)."""
    return {k: v for k, v in vars(args).items() if k not in ("command", "config", "resume", "overwrite")}


README_ROWS = (
    ("--task", ("task",), "what to learn"),
    ("--cell", ("cell",), "recurrent cell (`--plugins MODULE` imports modules that register more)"),
    ("--layers`, `--hidden", (), "stack depth and width; `--batch-norm`, `--dropout` between layers"),
    ("--optimizer", ("optimizer",), "optimizer (`fw`, Frank-Wolfe, takes `--fw-k`, `--fw-delta`, `--fw-p`, "
     "`--fw-outer`, `--fw-norm`)"),
    ("--lr`, `--schedule`, `--lr-decay", ("schedule",), "learning rate and its schedule (`plateau` reads the "
     "validation loss)"),
    ("--clip-norm`, `--clip-value", (), "global-norm and element-wise gradient clipping"),
    ("--steps` / `--epochs`, `--batch-size", (), "how long, how big"),
    ("--tbptt K1`, `--tbptt-k2 K2", (), "truncated BPTT, K2 >= K1 (default: full BPTT)"),
    ("--fused` / `--composed`, `--no-kernels", (), "fused sequences with hand-written BPTT (compiled kernels where "
     "present, or the readable loop), or composed steps with autodiff"),
    ("--eval-every`, `--val-size`, `--keep-best", (), "validation during training; keep and test the "
     "best-validation model"),
    ("--backend`, `--dtype`, `--seed", ("backend", "dtype"), "where and how"),
    ("--out DIR`, `--overwrite`, `--data-dir DIR", (), "run directory (default: a new one per run); data directory"),
)
"""The README's table of main flags: (flags, registry keys whose names it lists, meaning)."""


def readme_table() -> str:
    """The README's Markdown table of main flags, names read from the registry (a test keeps them equal)."""
    names = choices()
    lines = ["| flag | meaning |", "| --- | --- |"]
    for flag, keys, meaning in README_ROWS:
        listed = "; ".join(", ".join(f"`{n}`" for n in names[k]) for k in keys)
        lines.append(f"| `{flag}` | {meaning}{': ' + listed if listed else ''} |")
    return "\n".join(lines)
