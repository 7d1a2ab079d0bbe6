"""The generated tables of docs/results.md, each from the evidence (:mod:`.results_evidence`); the full tier's
budget from the medium runs' measured time per gradient evaluation."""
from __future__ import annotations

from typing import Callable

from .results_evidence import (MNIST_TRAIN, config, count, docs_dir, duration, effective_forget_bias, experiments,
                               f4, first_below, has, norms, paper, pct, ratio, rows, sci, secs, summary)

def table(head: list, body: list) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(map(str, r)) + " |" for r in body])


FIG3 = [("adding_sgd", "SGD lr 1e-2"), ("adding_sgd_clip", "SGD + clip 1.0"), ("adding_adam", "Adam 1e-3"),
        ("adding_fw_k1", "FW K = 1"), ("adding_fw_k5", "FW K = 5"), ("adding_fw_k5_seed1", "FW K = 5"),
        ("adding_fw_k5_seed2", "FW K = 5"),
        *((f"{name}{seed}", label) for name, label in (
            ("adding_sgd_100k", "SGD lr 1e-2, to 100,000 steps"), ("adding_sgd_clip_100k", "SGD + clip, to 100,000 steps"),
            ("adding_adam_100k", "Adam 1e-3, to 100,000 steps"), ("adding_fw_k1_100k", "FW K = 1, to 100,000 steps"))
          for seed in ("", "_seed1", "_seed2")),
        *((f"{name}{seed}", label) for name, label in (
            ("adding_adam_b250", "Adam 1e-3, batch 250"), ("adding_sgd_b250", "SGD lr 1e-2, batch 250"))
          for seed in ("", "_seed1", "_seed2"))]
"""Fig. 3's rows; a control's row appears once its run's evidence is committed (the 100k controls' seeds)."""


def fig3_table() -> str:
    body = []
    for run, label in (r for r in FIG3 if has(r[0])):
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
                     f"{effective_forget_bias(run):.1f}", c.get("pixels", "standardized"), count(s["steps"]), secs(s["wall_time"]),
                     pct(s["val_accuracy"]), pct(s["test_accuracy"]),
                     f"{pct(s['best_test_accuracy'])} ({s['best_step']})",
                     f"{s['test_loss']:.3f} ({s['baseline_loss']:.3f})",
                     f"{sci(ratio(run, steps[0]))} (step {steps[0]}) / {sci(ratio(run, mid))} / "
                     f"{sci(ratio(run))}",
                     f"{pct(ratio(run, mid, first=False), 1)} / {pct(ratio(run, first=False), 1)}",
                     paper(run)))
    return table(["experiment", "cell", "μ / s", "effective forget bias", "pixels", "steps", "wall time", "val accuracy",
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


PTB = ["ptb_lstm", "ptb_lstm_seed1", "ptb_lstm_seed2", "ptb_momentum_lstm", "ptb_momentum_lstm_seed1",
       "ptb_momentum_lstm_seed2", "ptb_momentum_lstm_mu06"]
"""``ptb_momentum_lstm_mu06``: the run of ``ptb_momentum_lstm`` before its config took the released recipe's mu = 0."""


def ptb_table() -> str:
    body = []
    for run in (r for r in PTB if has(r)):
        s, c = summary(run), config(run)
        body.append((f"`{run}`", f"{c['mu']:g} / {c['s']:g}" if c["cell"] != "lstm" else "", count(s["steps"]),
                     secs(s["wall_time"]), f"{s['val_perplexity']:.1f}", f"{s['test_perplexity']:.1f}",
                     paper(run.split("_seed")[0].removesuffix("_mu06"))))
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


def seeds_of(name: str) -> list[str]:
    """``name`` and its seed variants (``name_seedN``) that have evidence here."""
    return [r for r in [name] + [f"{name}_seed{k}" for k in experiments()[name].meta().get("seeds", ())] if has(r)]


def decide(a: list[float], b: list[float]) -> str:
    """The decision rule's parts (b) and (c) on two arms' per-seed values: at least 3 seeds in each arm, and
    the difference of the means larger than the spread (max - min) of either arm. Parts (a), the budget, and
    (d), the controls, are judged in each section's text."""
    if min(len(a), len(b)) < 3:
        return "one seed: cannot decide" if min(len(a), len(b)) == 1 else "fewer than 3 seeds: cannot decide"
    gap = abs(sum(a) / len(a) - sum(b) / len(b))
    spread = max(max(a) - min(a), max(b) - min(b))
    return ("difference larger than the spread" if gap > spread
            else "difference within the spread: cannot decide")


SEED_COMPARISONS = [
    ("Fig. 3: test MSE at best val", "adding_adam", "adding_fw_k5", "best_test_loss", f4),
    ("Fig. 3 at 100,000 gradient evaluations: test MSE at best val", "adding_sgd_100k", "adding_fw_k5",
     "best_test_loss", f4),
    ("Fig. 3 at 100,000 gradient evaluations: test MSE at best val", "adding_adam_100k", "adding_fw_k5",
     "best_test_loss", f4),
    ("Fig. 3 at 100,000 gradient evaluations: test MSE at best val", "adding_sgd_clip_100k", "adding_fw_k5",
     "best_test_loss", f4),
    ("Fig. 3 at 100,000 gradient evaluations: test MSE at best val", "adding_fw_k1_100k", "adding_fw_k5",
     "best_test_loss", f4),
    ("Fig. 3 at FW K = 5's 250 samples an update: test MSE at best val", "adding_adam_b250", "adding_fw_k5",
     "best_test_loss", f4),
    ("Fig. 3 at FW K = 5's 250 samples an update: test MSE at best val", "adding_sgd_b250", "adding_fw_k5",
     "best_test_loss", f4),
    ("Table 1, permuted MNIST: test accuracy", "pmnist_lstm_n128", "pmnist_momentum_lstm_n128", "test_accuracy", pct),
    ("Table 1, pixel MNIST: test accuracy", "mnist_lstm_n128", "mnist_momentum_lstm_n128", "test_accuracy", pct),
    ("Table 3, PTB: test perplexity", "ptb_lstm", "ptb_momentum_lstm", "test_perplexity", lambda v: f"{v:.1f}"),
]


def seeds_table() -> str:
    """Each compared pair of arms over the seeds that have evidence: n, mean and spread, and the rule's (b, c)."""
    body = []
    for what, first, second, key, shown in SEED_COMPARISONS:
        arms = [[summary(r)[key] for r in seeds_of(name)] for name in (first, second)]
        cells = [f"`{name}`: {len(v)} ({shown(sum(v) / len(v))}, spread {shown(max(v) - min(v))})"
                 for name, v in zip((first, second), arms)]
        body.append((what, *cells, decide(*arms)))
    return table(["comparison", "arm A: seeds (mean, spread)", "arm B: seeds (mean, spread)",
                  "rule (b) and (c)"], body)


TABLES: dict[str, Callable[[], str]] = {
    "fig3": fig3_table, "fig4": fig4_table, "table2": table2_table,
    "table1_pmnist": lambda: table1_table(["pmnist_lstm_n128", "pmnist_momentum_lstm_n128",
                                           "pmnist_lstm_n128_fb35", "pmnist_lstm_n128_fb35_seed1",
                                           "pmnist_lstm_n128_fb35_seed2"], 500),
    "table1_pixel": lambda: table1_table([r for r in ("mnist_lstm_n128", "mnist_momentum_lstm_n128",
                                                       "mnist_lstm_n128_fb25") if has(r)], 450),
    "fig2": fig2_table, "ptb": ptb_table, "small_rerun": rerun_table, "full_budget": budget_table,
    "configured": configured_table, "seeds": seeds_table,
}
