"""docs/results.md against its evidence: every table generated, every quoted number recomputed.

    python -m rnnlab.training.results_check --check     # exit 1, one line per disagreement
    python -m rnnlab.training.results_check --write     # regenerate the tables between their markers

The evidence is each run's ``summary.json``, ``metrics.jsonl``, ``config.json`` and ``grad_norms.npz`` under
``docs/results/`` (read with :mod:`.plots` and :mod:`.checkpoints`, never edited here). The page holds

* generated tables between ``<!-- results:NAME -->`` and ``<!-- results:end -->`` (:data:`TABLES`);
* prose numbers in :data:`CLAIMS`: a template and the function that fills it from the evidence, printed to
  the digits the page shows (so the tolerance is half a unit of the last printed digit); the filled text must
  appear in the page verbatim;
* nothing else that looks measured: outside tables, claims, code blocks and the fenced
  ``<!-- unchecked:start -->`` ... ``<!-- unchecked:end -->`` region (earlier runs whose evidence was not
  kept), a decimal with two or more places, a number in e-notation with a decimal mantissa, or a percentage
  is an error.
"""
from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

from . import experiments as ex
from .checkpoints import load as load_arrays
from .plots import read_metrics

MNIST_TRAIN = 55_000
"""Training images after the 5,000-image validation hold-out."""
BEGIN, END = "<!-- results:{} -->", "<!-- results:end -->"
UNCHECKED = ("<!-- unchecked:start -->", "<!-- unchecked:end -->")
MEASURED = re.compile(r"(?<![\w.])(?:\d+\.\d+e[-+]?\d+|\d[\d,]*\.\d{2,}|\d[\d,]*(?:\.\d+)?(?:-\d+(?:\.\d+)?)? ?%)")
"""What looks like a measured number: 0.0111, 1.3e-5, 57.24 %, 17-29 %."""


@lru_cache(maxsize=None)
def experiments() -> dict:
    """The experiment files, read once."""
    return ex.load()


def docs_dir() -> Path:
    return ex.default_dir().parent / "docs"


def page_path() -> Path:
    return docs_dir() / "results.md"


# ---------------------------------------------------------------- evidence
@lru_cache(maxsize=None)
def summary(run: str, tier: str = "medium") -> dict:
    return json.loads((docs_dir() / "results" / tier / run / "summary.json").read_text())


def config(run: str, tier: str = "medium") -> dict:
    return summary(run, tier)["config"]


@lru_cache(maxsize=None)
def rows(run: str, split: str, tier: str = "medium") -> tuple:
    return tuple(r for r in read_metrics(docs_dir() / "results" / tier / run) if r["split"] == split)


@lru_cache(maxsize=None)
def norms(run: str) -> tuple[list, list]:
    """(steps, rows): the recorded ||dL/dh_t|| of layer 0, one list of T floats per recorded step."""
    arrays, _ = load_arrays(docs_dir() / "results" / "medium" / run / "grad_norms.npz")
    return [int(s) for s in arrays["steps"].tolist()], arrays["layer0"].tolist()


def ratio(run: str, step: int | None = None, first: bool = True) -> float:
    """||dL/dh_1|| / ||dL/dh_T|| (``first``) or min_t ||dL/dh_t|| / ||dL/dh_T|| at ``step`` (None: the last)."""
    steps, records = norms(run)
    r = records[steps.index(step) if step is not None else -1]
    return (r[0] if first else min(r)) / r[-1]


def first_below(run: str, level: float, key: str = "grad_evals"):
    """``key`` of the first validation row whose loss is below ``level`` (None: never)."""
    return next((r[key] for r in rows(run, "val") if r["loss"] < level), None)


def effective_forget_bias(run: str) -> float:
    """The forget gate's constant drive at steady state: b_hh + s b_ih / (1 - mu) for a momentum LSTM (the
    momentum state accumulates s (W x + b_ih)), b_hh + b_ih for an LSTM; each bias holds half of forget_bias."""
    c = config(run)
    half = c["forget_bias"] / 2
    return half + c["s"] * half / (1 - c["mu"]) if c["cell"].startswith("momentum") else 2 * half


# ---------------------------------------------------------------- formats (the printed digits are the tolerance)
def f4(x: float) -> str:
    return f"{x:.4f}"


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


def sci(x: float) -> str:
    """1.3e-5 (0 when it underflowed)."""
    if x == 0:
        return "0 (underflow)"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def count(x: float) -> str:
    return f"{x:,.0f}"


def secs(x: float) -> str:
    return f"{x:,.0f} s"


def duration(seconds: float) -> str:
    if seconds < 60:
        return "< 1 min"
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:,.0f} h"


def paper(name: str) -> str:
    """The paper's number of experiment ``name`` as the page prints it."""
    meta = experiments()[name].meta()
    value = meta["paper_value"]
    return pct(value) if meta["paper_metric"].endswith("accuracy") else f"{value:.2f}"


# ---------------------------------------------------------------- tables
def table(head: list, body: list) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in body])


FIG3 = [("adding_sgd", "SGD lr 1e-2"), ("adding_sgd_clip", "SGD + clip 1.0"), ("adding_adam", "Adam 1e-3"),
        ("adding_fw_k1", "FW K = 1"), ("adding_fw_k5", "FW K = 5"), ("adding_fw_k5_seed1", "FW K = 5"),
        ("adding_fw_k5_seed2", "FW K = 5"), ("adding_adam_100k", "Adam 1e-3, to 100,000 steps")]


def fig3_table() -> str:
    body = []
    for run, label in FIG3:
        s, c = summary(run), config(run)
        evals = "" if s["grad_evals"] == s["steps"] else f" ({count(s['grad_evals'])})"
        broke = first_below(run, 0.05)
        body.append((f"`{run}` ({label})", c["seed"], count(s["steps"]) + evals, secs(s["wall_time"]),
                     f4(s["val_loss"]), f4(s["test_loss"]), f"{f4(s['best_test_loss'])} ({count(s['best_step'])})",
                     f4(s["baseline_loss"]), f4(min(r["loss"] for r in rows(run, "val"))),
                     count(broke) if broke else "never"))
    return table(["experiment", "seed", "outer steps (grad evals)", "wall time", "val MSE (last)", "test MSE (last)",
                  "test MSE at best val (step)", "test baseline (this seed)", "lowest val MSE",
                  "grad evals at first val MSE < 0.05"], body)


FIG4 = ["pixel_mnist_rnn_adam", "pixel_mnist_rnn_tbptt", "pixel_mnist_rnn_fw_k1", "pixel_mnist_rnn_fw_k5"]


def fig4_table() -> str:
    body = []
    for run in FIG4:
        s, val = summary(run), [r["loss"] for r in rows(run, "val")]
        body.append((f"`{run}`", count(s["steps"]), count(s["grad_evals"]), secs(s["wall_time"]),
                     f"{min(val):.4f} / {max(val):.4f}", f"{pct(s['test_accuracy'])}; {pct(s['best_test_accuracy'])}",
                     f"{s['test_loss']:.3f} ({s['baseline_loss']:.3f})"))
    return table(["experiment", "steps", "grad evals", "wall time", "val loss, lowest / highest",
                  "test accuracy (last; best val)", "test loss (baseline)"], body)


def table2_table() -> str:
    body = []
    for run in ("pixel_mnist_indrnn6_adam", "pixel_mnist_indrnn6_fw_k5"):
        s = summary(run)
        body.append((f"`{run}`", f"{count(s['steps'])} ({count(s['grad_evals'])})", secs(s["wall_time"]),
                     pct(s["val_accuracy"]), pct(s["test_accuracy"]), f"{s['test_loss']:.3f} ({s['baseline_loss']:.3f})",
                     paper(run)))
    return table(["experiment", "steps (grad evals)", "wall time", "val accuracy", "test accuracy (last = best val)",
                  "test loss (baseline)", "paper (400 epochs)"], body)


def table1_table(runs: list, mid: int) -> str:
    body = []
    for run in runs:
        s, c = summary(run), config(run)
        steps, _ = norms(run)
        body.append((f"`{run}`", c["cell"], f"{c['mu']:g} / {c['s']:g}" if c["cell"] != "lstm" else "",
                     f"{effective_forget_bias(run):.1f}", count(s["steps"]), secs(s["wall_time"]),
                     pct(s["val_accuracy"]), pct(s["test_accuracy"]),
                     f"{pct(s['best_test_accuracy'])} ({s['best_step']})",
                     f"{s['test_loss']:.3f} ({s['baseline_loss']:.3f})",
                     f"{sci(ratio(run, steps[0]))} (step {steps[0]}) / {sci(ratio(run, mid))} / "
                     f"{sci(ratio(run))}",
                     f"{pct(ratio(run, mid, first=False), 1)} / {pct(ratio(run, first=False), 1)}",
                     paper(run)))
    return table(["experiment", "cell", "μ / s", "effective forget bias", "steps", "wall time", "val accuracy",
                  "test accuracy (last)", "test accuracy at best val (step)", "test loss (baseline)",
                  f"‖dL/dh_1‖ / ‖dL/dh_784‖ at the first record / step {mid} / the last",
                  f"min_t ‖dL/dh_t‖ / ‖dL/dh_784‖ at step {mid} / the last", "paper (150 epochs)"], body)


def fig2_table() -> str:
    body = []
    for run in ("pmnist_grad_norms_rnn", "pmnist_grad_norms_momentum_rnn"):
        s = summary(run)
        body.append((f"`{run}`", count(s["steps"]), secs(s["wall_time"]), pct(s["val_accuracy"]),
                     pct(s["test_accuracy"]), " / ".join(sci(ratio(run, k)) for k in (50, 550, 1000))))
    return table(["experiment", "steps", "wall time", "val accuracy", "test accuracy",
                  "‖dL/dh_1‖ / ‖dL/dh_784‖ at steps 50 / 550 / 1000"], body)


def ptb_table() -> str:
    body = []
    for run in ("ptb_lstm", "ptb_momentum_lstm"):
        s, c = summary(run), config(run)
        body.append((f"`{run}`", f"{c['mu']:g} / {c['s']:g}" if c["cell"] != "lstm" else "", count(s["steps"]),
                     secs(s["wall_time"]), f"{s['val_perplexity']:.1f}", f"{s['test_perplexity']:.1f}", paper(run)))
    return table(["experiment", "μ / s (as run)", "steps", "wall time", "val perplexity",
                  "test perplexity (last = best val)", "paper (3 layers, 24M parameters)"], body)


RERUN = ["pixel_mnist_indrnn6_adam", "pixel_mnist_indrnn6_fw_k1", "pixel_mnist_indrnn6_fw_k5",
         "pixel_mnist_indrnn6_fw_k30_pinf", "ptb_lstm", "ptb_momentum_lstm", "ptb_sr_lstm"]


def rerun_table() -> str:
    body = []
    for run in RERUN:
        s = summary(run, "small-rerun")
        evals = "" if s["grad_evals"] == s["steps"] else f" ({count(s['grad_evals'])})"
        metric = "accuracy" if "test_accuracy" in s else "perplexity"
        shown = (lambda v: pct(v)) if metric == "accuracy" else (lambda v: f"{v:.1f}")
        body.append((f"`{run}`", count(s["steps"]) + evals, secs(s["wall_time"]),
                     f"{s['test_loss']:.4f} ({s['baseline_loss']:.4f})",
                     f"{metric} {shown(s['test_' + metric])} ({shown(s['val_' + metric])})", paper(run)))
    return table(["config", "steps (grad evals)", "wall time", "test loss (baseline)", "test result (val)",
                  "paper, full run"], body)


def full_updates(name: str) -> tuple[int, str]:
    """Gradient evaluations of ``name``'s full tier and how they were counted."""
    cfg = experiments()[name].config("full")
    if cfg.steps:
        return cfg.steps * (cfg.fw_k if cfg.optimizer == "fw" else 1), "steps x K"
    chunks = -(-784 // cfg.tbptt) if cfg.tbptt else 1
    per_epoch = (MNIST_TRAIN // cfg.batch_size) * chunks
    return cfg.epochs * per_epoch, f"{cfg.epochs} epochs x {per_epoch:,}"


def lstm_flops(hidden: int, inputs: int) -> int:
    """Multiply-adds x 2 of one LSTM step of one example: 4 gates of hidden x (inputs + hidden)."""
    return 2 * 4 * hidden * (inputs + hidden)


def ptb_scale() -> float:
    """Full / medium cost per token of the PTB model: its LSTM layers and its 10,000-way output layer."""
    full, medium = experiments()["ptb_lstm"].config("full"), experiments()["ptb_lstm"].config("medium")

    def per_token(c):
        layers = sum(lstm_flops(c.hidden, c.embedding if i == 0 else c.hidden) for i in range(c.layers))
        return layers + 2 * c.hidden * 10_000
    return per_token(full) / per_token(medium)


PTB_TOKENS = 929_589
"""Training tokens of ptb.train.txt (with end-of-sentence tokens)."""
LAUNCHES, LAUNCH_S = 5, 5e-6
"""The GPU floor's assumption: at least 5 kernel launches per layer and time step of a gradient evaluation (forward
and backward: a matrix product and a fused element-wise kernel forward, those and the weight product backward),
each at least 5 µs; nothing else (the arithmetic itself) counted."""


def gpu_floor(cfg, evals: int) -> float:
    """Seconds: evals x time steps per evaluation x layers x LAUNCHES x LAUNCH_S."""
    steps = cfg.tbptt or (784 if cfg.task in ("mnist-pixel", "mnist-permuted") else cfg.seq_len)
    return evals * steps * cfg.layers * LAUNCHES * LAUNCH_S


def budget_rows() -> list:
    out = []
    medium_runs = [r for r, _ in FIG3[:5]] + FIG4 + ["pixel_mnist_indrnn6_adam", "pixel_mnist_indrnn6_fw_k5",
                                                     "mnist_lstm_n128", "mnist_momentum_lstm_n128", "pmnist_lstm_n128",
                                                     "pmnist_momentum_lstm_n128", "pmnist_grad_norms_rnn",
                                                     "pmnist_grad_norms_momentum_rnn"]
    for run in medium_runs:
        s = summary(run)
        per_eval = s["wall_time"] / s["grad_evals"]
        evals, how = full_updates(run)
        full = experiments()[run].config("full")
        out.append((run, f"{per_eval:.3f} s", f"{evals:,} ({how})", duration(evals * per_eval),
                    duration(gpu_floor(full, evals))))
    for run in ("ptb_lstm", "ptb_momentum_lstm"):
        s, full = summary(run), experiments()[run].config("full")
        c = config(run)
        per_token = s["wall_time"] / (s["steps"] * c["batch_size"] * c["tbptt"])
        tokens = full.epochs * PTB_TOKENS
        evals = tokens // (full.batch_size * full.tbptt)
        out.append((run, f"{per_token * 1e6:.1f} µs a token (1 x 128)",
                    f"{tokens:,} tokens ({full.epochs} epochs), x {ptb_scale():.0f} the cost per token",
                    duration(tokens * per_token * ptb_scale()), duration(gpu_floor(full, evals))))
    return out


def budget_table() -> str:
    return table(["experiment", "measured per gradient evaluation (medium run)", "full tier: gradient evaluations",
                  "full tier on 2 cores, one run per core", "one GPU: launch-latency floor"], budget_rows())


def configured_table() -> str:
    """Every control and seed variant at the medium tier, with whether its evidence is here."""
    found = experiments()
    body = []
    for name, e in found.items():
        control = e.meta().get("row", "").startswith("Control")
        if "medium" not in e.tiers or not (e.seed_of or control):
            continue
        have = (docs_dir() / "results" / "medium" / name / "summary.json").exists()
        body.append((f"`{name}`", e.meta().get("row", ""), "run: evidence in docs/results/medium" if have
                     else "configured, not yet run: cannot decide"))
    return table(["experiment (medium tier)", "what", "state"], body)


TABLES: dict[str, Callable[[], str]] = {
    "fig3": fig3_table, "fig4": fig4_table, "table2": table2_table,
    "table1_pmnist": lambda: table1_table(["pmnist_lstm_n128", "pmnist_momentum_lstm_n128"], 500),
    "table1_pixel": lambda: table1_table(["mnist_lstm_n128", "mnist_momentum_lstm_n128"], 450),
    "fig2": fig2_table, "ptb": ptb_table, "small_rerun": rerun_table, "full_budget": budget_table,
    "configured": configured_table,
}


# ---------------------------------------------------------------- claims in the prose
@dataclass(frozen=True)
class Claim:
    template: str               # the page's sentence with {} where the numbers go
    values: Callable[[], tuple]

    def text(self) -> str:
        return self.template.format(*self.values())


def _train_max(run: str):
    best = max(rows(run, "train"), key=lambda r: r["accuracy"])
    return pct(best["accuracy"], 1), best["step"]


def _train_min(run: str):
    best = min(rows(run, "train"), key=lambda r: r["loss"])
    return f"{best['loss']:.2f}", count(best["step"])


def _val_at(run: str, step: int) -> float:
    return next(r for r in rows(run, "val") if r["step"] == step)


def _train_at(run: str, step: int) -> float:
    return next(r for r in rows(run, "train") if r["step"] == step)


def _largest_ratio(run: str):
    steps, _ = norms(run)
    step = max(steps, key=lambda k: ratio(run, k))
    return step, sci(ratio(run, step))


def _test_share_of_most_frequent(run: str) -> str:
    return pct(summary(run)["test_accuracy"])


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


K5 = ("adding_fw_k5", "adding_fw_k5_seed1", "adding_fw_k5_seed2")

SOLVED = 0.01
"""The adding task counts as solved below this MSE (issue 5's check)."""

CLAIMS: list[Claim] = [
    # FW Fig. 3
    Claim("but only seed {} reaches the page's own \"solved\" level (MSE below {:g})",
          lambda: (", ".join(str(config(r)["seed"]) for r in K5 if summary(r)["best_test_loss"] < SOLVED), SOLVED)),
    Claim("best-validation test MSE {}, {} and {} for seeds 0, 1 and 2",
          lambda: tuple(f4(summary(r)["best_test_loss"]) for r in K5)),
    Claim("(last model: {} / {} / {})", lambda: tuple(f"{summary(r)['test_loss']:.3f}" for r in K5)),
    Claim("its lowest validation MSE is {} (seed 1) and {} (seed 2)",
          lambda: tuple(f4(min(x["loss"] for x in rows(r, "val"))) for r in K5[1:])),
    Claim("first below 0.05 after {}, {} and {} gradient evaluations",
          lambda: tuple(count(first_below(r, 0.05)) for r in K5)),
    Claim("at 20,000 gradient evaluations all three seeds are at the baseline (validation MSE {}, {}, {})",
          lambda: tuple(f4(next(x["loss"] for x in rows(r, "val") if x["grad_evals"] == 20_000)) for r in K5)),
    Claim("its validation MSE ranges over {} to {} in its 100 evaluations and ends at {}",
          lambda: (f4(min(x["loss"] for x in rows("adding_adam_100k", "val"))),
                   f4(max(x["loss"] for x in rows("adding_adam_100k", "val"))),
                   f4(rows("adding_adam_100k", "val")[-1]["loss"]))),
    Claim("lowest validation MSE of its first and second 50,000 evaluations: {} and {}",
          lambda: (f4(min(x["loss"] for x in rows("adding_adam_100k", "val") if x["grad_evals"] <= 50_000)),
                   f4(min(x["loss"] for x in rows("adding_adam_100k", "val") if x["grad_evals"] > 50_000)))),
    Claim("the test baseline differs by seed ({}, {}, {})", lambda: tuple(f4(summary(r)["baseline_loss"]) for r in K5)),
    # FW Fig. 4
    Claim("TBPTT's 50-step mean chunk loss reaches {} at step {}", lambda: _train_min("pixel_mnist_rnn_tbptt")),
    Claim("and is back at {} by step 7,000", lambda: (f"{_train_at('pixel_mnist_rnn_tbptt', 7000)['loss']:.2f}",)),
    Claim("No method leaves the class-frequency baseline ({:.3f}) in 5 epochs",
          lambda: (max(summary(r)["baseline_loss"] for r in FIG4),)),
    Claim("{} is the share of the most frequent digit (1) in the test set",
          lambda: (_test_share_of_most_frequent("pixel_mnist_rnn_adam"),)),
    # Table 1, permuted
    Claim("effective forget bias {} for the MomentumLSTM (μ = {:g}, s = {:g}) against the LSTM's {}",
          lambda: (f"{effective_forget_bias('pmnist_momentum_lstm_n128'):.1f}", config("pmnist_momentum_lstm_n128")["mu"],
                   config("pmnist_momentum_lstm_n128")["s"], f"{effective_forget_bias('pmnist_lstm_n128'):.1f}")),
    Claim("σ({:.1f}) = {:.3f} against σ({:.1f}) = {:.3f}",
          lambda: (effective_forget_bias("pmnist_momentum_lstm_n128"),
                   _sigmoid(effective_forget_bias("pmnist_momentum_lstm_n128")),
                   effective_forget_bias("pmnist_lstm_n128"), _sigmoid(effective_forget_bias("pmnist_lstm_n128")))),
    Claim("the MomentumLSTM's smallest ‖dL/dh_t‖ is {} of the last step's at step 500 and {} at the end",
          lambda: (pct(ratio("pmnist_momentum_lstm_n128", 500, False), 1), pct(ratio("pmnist_momentum_lstm_n128",
                                                                                     first=False), 1))),
    Claim("test accuracy {} against {}", lambda: (pct(summary("pmnist_momentum_lstm_n128")["test_accuracy"]),
                                                  pct(summary("pmnist_lstm_n128")["test_accuracy"]))),
    # Table 1, pixel
    Claim("(effective forget bias {} at μ = s = {:g})",
          lambda: (f"{effective_forget_bias('mnist_momentum_lstm_n128'):.1f}", config("mnist_momentum_lstm_n128")["s"])),
    Claim("its 50-step mean training accuracy rose to {} by step {}", lambda: _train_max("mnist_lstm_n128")),
    Claim("validation accuracy {} at step 430", lambda: (pct(_val_at("mnist_lstm_n128", 430)["accuracy"], 1),)),
    Claim("then fell back (training accuracy {} at step 800; validation {} at the end",
          lambda: (pct(_train_at("mnist_lstm_n128", 800)["accuracy"], 1),
                   pct(summary("mnist_lstm_n128")["val_accuracy"]))),
    Claim("test accuracy {}, the share of digit 1 in the test set", lambda: (pct(summary("mnist_lstm_n128")["test_accuracy"]),)),
    Claim("The LSTM's ratio is at its largest at step {} ({}); the MomentumLSTM's is {} there",
          lambda: (*_largest_ratio("mnist_lstm_n128"), sci(ratio("mnist_momentum_lstm_n128", 50)))),
    Claim("The MomentumLSTM reaches {} test accuracy", lambda: (pct(summary("mnist_momentum_lstm_n128")["test_accuracy"]),)),
    # PTB
    Claim("test perplexity {} against the LSTM's {}",
          lambda: (f"{summary('ptb_momentum_lstm')['test_perplexity']:.1f}", f"{summary('ptb_lstm')['test_perplexity']:.1f}")),
    Claim("a gap of {} of the LSTM's", lambda: (pct(summary("ptb_momentum_lstm")["test_perplexity"]
                                                    / summary("ptb_lstm")["test_perplexity"] - 1, 0),)),
    Claim("in the small re-run ({} against {}, a gap of {})",
          lambda: (f"{summary('ptb_momentum_lstm', 'small-rerun')['test_perplexity']:.1f}",
                   f"{summary('ptb_lstm', 'small-rerun')['test_perplexity']:.1f}",
                   pct(summary("ptb_momentum_lstm", "small-rerun")["test_perplexity"]
                       / summary("ptb_lstm", "small-rerun")["test_perplexity"] - 1, 0))),
    Claim("the paper's {} against {}", lambda: (paper("ptb_momentum_lstm"), paper("ptb_lstm"))),
]


# ---------------------------------------------------------------- the page
def regions(text: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each generated table's body in ``text``."""
    out = []
    for name in TABLES:
        begin = BEGIN.format(name)
        start = text.find(begin)
        if start < 0:
            continue
        stop = text.find(END, start)
        out.append((name, start + len(begin), stop))
    return out


def with_tables(text: str) -> str:
    """``text`` with every generated table replaced by the evidence's."""
    for name, start, stop in sorted(regions(text), key=lambda r: -r[1]):
        text = f"{text[:start]}\n{TABLES[name]()}\n{text[stop:]}"
    return text


def masked(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def problems(text: str) -> list[str]:
    """One line per disagreement between the page and its evidence."""
    out = []
    missing = [n for n in TABLES if BEGIN.format(n) not in text]
    out += [f"results.md: no {BEGIN.format(n)} ... {END} table" for n in missing]
    for name, start, stop in regions(text):
        if stop < 0:
            out.append(f"results.md: {BEGIN.format(name)} has no {END}")
        elif text[start:stop].strip() != TABLES[name]().strip():
            out.append(f"results.md: table {name!r} differs from its evidence (python -m {__spec__.name} --write)")
    spans = [(s, e) for _, s, e in regions(text)]
    for claim in CLAIMS:
        quoted = claim.text()
        at = text.find(quoted)
        if at < 0:
            out.append(f"results.md: the evidence says {quoted!r}; the page does not")
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(quoted), text)]
    spans += [(m.start(), m.end()) for m in re.finditer(r"```.*?```", text, re.S)]
    spans += [(m.start(), m.end()) for m in re.finditer(re.escape(UNCHECKED[0]) + ".*?" + re.escape(UNCHECKED[1]),
                                                       text, re.S)]
    rest = masked(text, spans)
    for m in MEASURED.finditer(rest):
        line = rest.count("\n", 0, m.start()) + 1
        out.append(f"results.md line {line}: {m.group()!r} looks measured but no claim or table recomputes it")
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog=f"python -m {__spec__.name}", description=__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 1 if the page disagrees with its evidence")
    action.add_argument("--write", action="store_true", help="regenerate the page's tables from the evidence")
    parser.add_argument("--page", default=str(page_path()), help="the page (default: docs/results.md)")
    args = parser.parse_args(argv)
    path = Path(args.page)
    text = path.read_text()
    if args.write:
        path.write_text(with_tables(text))
        text = path.read_text()
    found = problems(text)
    for line in found:
        print(line, file=sys.stderr)
    if not found:
        print(f"{path}: {len(regions(text))} tables and {len(CLAIMS)} claims agree with the evidence")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
