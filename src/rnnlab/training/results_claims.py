"""The numbers docs/results.md quotes in its prose: each a template and the function that fills it from the
evidence, printed to the digits the page shows; the filled text must appear in the page verbatim."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from .results_evidence import (config, count, effective_forget_bias, f4, first_below, norms, paper, pct, ratio, rows,
                               sci, summary)
from .results_tables import FIG4, seeds_of

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


PTB_L = ("ptb_lstm", "ptb_lstm_seed1", "ptb_lstm_seed2")
PTB_M = ("ptb_momentum_lstm", "ptb_momentum_lstm_seed1", "ptb_momentum_lstm_seed2")


def _ppl(runs) -> list:
    return [summary(r)["test_perplexity"] for r in runs]


def _ppl_list(runs) -> str:
    values = [f"{v:.1f}" for v in _ppl(runs)]
    return ", ".join(values[:-1]) + " and " + values[-1]


def _ppl_mean(runs) -> str:
    return f"{sum(_ppl(runs)) / len(runs):.1f}"


def _ppl_spread(runs) -> str:
    return f"{max(_ppl(runs)) - min(_ppl(runs)):.1f}"


def _best_tests(name: str) -> tuple:
    """Test MSE at best validation of ``name``'s seeds (0, 1, 2: see :func:`seeds_of`)."""
    return tuple(f4(summary(r)["best_test_loss"]) for r in seeds_of(name))


def _lowest_val(run: str) -> float:
    return min(x["loss"] for x in rows(run, "val"))


def _same_first_20k(pairs) -> int:
    """How many (20,000-step run, its 100,000-step control) pairs hold the same validation rows to step 20,000."""
    def val(run, last):
        return [(x["step"], x["loss"]) for x in rows(run, "val") if x["step"] <= last]
    return sum(val(short, 20_000) == val(long, 20_000) for short, long in pairs)


FIG3_PREFIXES = (("adding_sgd", "adding_sgd_100k"), ("adding_sgd_clip", "adding_sgd_clip_100k"),
                 ("adding_adam", "adding_adam_100k"), ("adding_fw_k1", "adding_fw_k1_100k"))


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
          lambda: tuple(f4(_lowest_val(r)) for r in K5[1:])),
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
    Claim("SGD stays at the predict-the-mean level in all three seeds: test MSE at best validation {}, {} and {}",
          lambda: _best_tests("adding_sgd_100k")),
    Claim("against the seeds' baselines of {}, {} and {}",
          lambda: tuple(f4(summary(r)["baseline_loss"]) for r in seeds_of("adding_sgd_100k"))),
    Claim("SGD + clipping gives {}, {} and {}", lambda: _best_tests("adding_sgd_clip_100k")),
    Claim("the gradient norm before clipping is above 1.0 at {}, {} and {} of the {} logged steps",
          lambda: (*(sum(x["grad_norm"] > 1 for x in rows(r, "train")) for r in seeds_of("adding_sgd_clip_100k")),
                   count(len(rows("adding_sgd_clip_100k", "train"))))),
    Claim("Adam gives {}, {} and {}.", lambda: _best_tests("adding_adam_100k")),
    Claim("seed 0 solves the task (test MSE at best validation {}; validation MSE first below 0.05 after {} gradient evaluations)",
          lambda: (f4(summary("adding_fw_k1_100k")["best_test_loss"]), count(first_below("adding_fw_k1_100k", 0.05)))),
    Claim("seed 1 leaves the baseline without solving it ({}; lowest validation MSE {}), seed 2 stays at it ({})",
          lambda: (f4(summary("adding_fw_k1_100k_seed1")["best_test_loss"]), f4(_lowest_val("adding_fw_k1_100k_seed1")),
                   f4(summary("adding_fw_k1_100k_seed2")["best_test_loss"]))),
    Claim("they agree for all {} methods", lambda: (_same_first_20k(FIG3_PREFIXES),)),
    Claim("at step 20,000 SGD's validation MSE is {}, {} and {} (seeds 0, 1, 2)",
          lambda: tuple(f4(next(x["loss"] for x in rows(r, "val") if x["step"] == 20_000))
                        for r in seeds_of("adding_sgd_100k"))),
    Claim("test MSE at best validation {}, {} and {} (Adam) and {}, {} and {} (SGD)",
          lambda: _best_tests("adding_adam_b250") + _best_tests("adding_sgd_b250")),
    Claim("lowest validation MSE over the six runs {}",
          lambda: (f4(min(_lowest_val(r) for n in ("adding_adam_b250", "adding_sgd_b250") for r in seeds_of(n))),)),
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
    Claim("Its ‖dL/dh_1‖ / ‖dL/dh_784‖ is\n{} at step 500 and {} at the end, against the LSTM's {} and {} and the\nMomentumLSTM's {} and {}",
          lambda: tuple(sci(ratio(r, k)) for r in ("pmnist_lstm_n128_fb35", "pmnist_lstm_n128",
                                                   "pmnist_momentum_lstm_n128") for k in (500, None))),
    Claim("accounts for a factor of about {:.0f} of the\nMomentumLSTM's advantage at step 500 (the control over the LSTM), and leaves a factor of about {:.0f}",
          lambda: (ratio("pmnist_lstm_n128_fb35", 500) / ratio("pmnist_lstm_n128", 500),
                   ratio("pmnist_momentum_lstm_n128", 500) / ratio("pmnist_lstm_n128_fb35", 500))),
    Claim("Its seeds 1 and 2 reach {} and {} test accuracy (ratio at the end\n{} and {};",
          lambda: (pct(summary("pmnist_lstm_n128_fb35_seed1")["test_accuracy"]),
                   pct(summary("pmnist_lstm_n128_fb35_seed2")["test_accuracy"]),
                   sci(ratio("pmnist_lstm_n128_fb35_seed1")), sci(ratio("pmnist_lstm_n128_fb35_seed2")))),
    Claim("Its test accuracy is {}. Its seeds", lambda: (pct(summary("pmnist_lstm_n128_fb35")["test_accuracy"]),)),
    # Table 1, pixel
    Claim("(effective forget bias {} at μ = s = {:g})",
          lambda: (f"{effective_forget_bias('mnist_momentum_lstm_n128'):.1f}", config("mnist_momentum_lstm_n128")["s"])),
    Claim("its 50-step mean training accuracy rose to {} by step {}", lambda: _train_max("mnist_lstm_n128")),
    Claim("validation accuracy {} at step 430", lambda: (pct(_val_at("mnist_lstm_n128", 430)["accuracy"], 1),)),
    Claim("then fell back (training accuracy {} at step 800; validation {} at the end",
          lambda: (pct(_train_at("mnist_lstm_n128", 800)["accuracy"], 1),
                   pct(summary("mnist_lstm_n128")["val_accuracy"]))),
    Claim("test accuracy {}, the share of digit 1 in the test set", lambda: (pct(summary("mnist_lstm_n128")["test_accuracy"]),)),
    Claim("the LSTM's ratio is at its largest at step {} ({}); the MomentumLSTM's is {} there",
          lambda: (*_largest_ratio("mnist_lstm_n128"), sci(ratio("mnist_momentum_lstm_n128", 50)))),
    Claim("The MomentumLSTM reaches {} test accuracy", lambda: (pct(summary("mnist_momentum_lstm_n128")["test_accuracy"]),)),
    Claim("does not learn in the 858 steps either: test accuracy {}, test loss {} against the baseline's {},",
          lambda: (pct(summary("mnist_lstm_n128_fb25")["test_accuracy"]), f"{summary('mnist_lstm_n128_fb25')['test_loss']:.3f}",
                   f"{summary('mnist_lstm_n128_fb25')['baseline_loss']:.3f}")),
    Claim("its ‖dL/dh_1‖ / ‖dL/dh_784‖ {} at step 450 against the MomentumLSTM's {}",
          lambda: (sci(ratio("mnist_lstm_n128_fb25", 450)), sci(ratio("mnist_momentum_lstm_n128", 450)))),
    # PTB
    Claim("the MomentumLSTM's test perplexity over seeds 0, 1 and 2 is {} (mean {}) against the LSTM's {} (mean {}):",
          lambda: (_ppl_list(PTB_M), _ppl_mean(PTB_M), _ppl_list(PTB_L), _ppl_mean(PTB_L))),
    Claim("a difference of the means of {}, against a spread of {} (MomentumLSTM) and {} (LSTM).",
          lambda: (f"{abs(float(_ppl_mean(PTB_M)) - float(_ppl_mean(PTB_L))):.1f}", _ppl_spread(PTB_M),
                   _ppl_spread(PTB_L))),
    Claim("reached {}, and in the small re-run (also μ = s = 0.6) {} against {}, a gap of {}",
          lambda: (f"{summary('ptb_momentum_lstm_mu06')['test_perplexity']:.1f}",
                   f"{summary('ptb_momentum_lstm', 'small-rerun')['test_perplexity']:.1f}",
                   f"{summary('ptb_lstm', 'small-rerun')['test_perplexity']:.1f}",
                   pct(summary("ptb_momentum_lstm", "small-rerun")["test_perplexity"]
                       / summary("ptb_lstm", "small-rerun")["test_perplexity"] - 1, 0))),
    Claim("the paper's {} against {}", lambda: (paper("ptb_momentum_lstm"), paper("ptb_lstm"))),
]
