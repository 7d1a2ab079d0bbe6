"""The repository's experiment files: every experiment resolves and validates at every tier it has, every
experiment of both papers is there with its source and the paper's number, the tiers keep what they promise
(full: the paper's settings; medium: the paper's data, length and model; small: smaller), and README's table
is the files' table."""
import math

import pytest

from rnnlab.training import experiments as ex
from rnnlab.training.config import FIELDS

EXPERIMENTS = ex.load()
BASE = {name: e for name, e in EXPERIMENTS.items() if not e.seed_of}
"""The experiments the files write out; the others are their seed variants (NAME_seedN)."""
PAIRS = [(name, tier) for name, e in EXPERIMENTS.items() for tier in e.tiers]
PAPERS = {"frank_wolfe", "frank_wolfe_har", "momentum_rnn", "momentum_rnn_ptb", "orthogonal"}


def config(name, tier):
    return EXPERIMENTS[name].config(tier)


def test_the_files_are_found_next_to_the_package_and_hold_every_group():
    assert ex.default_dir().is_dir()
    assert {e.group for e in EXPERIMENTS.values()} == PAPERS | {"checks"}
    assert len(PAIRS) > 2 * len(EXPERIMENTS) > 180


@pytest.mark.parametrize("name,tier", PAIRS, ids=[f"{n}-{t}" for n, t in PAIRS])
def test_every_experiment_resolves_and_validates_at_every_tier(name, tier):
    cfg = config(name, tier).validate()
    assert cfg.out == f"runs/experiments/{tier}/{name}"
    assert not cfg.data_dir, "data_dir belongs on the command line"


EXPECTED = {
    "frank_wolfe": ["adding_sgd", "adding_sgd_clip", "adding_adam", "adding_fw_k1", "adding_fw_k5"]
    + [f"{t}_rnn_{m}" for t in ("pixel_mnist", "pmnist") for m in ("adam", "tbptt", "fw_k1", "fw_k5", "tbptt_fw_k5")]
    + [f"{t}_indrnn6_{m}" for t in ("pixel_mnist", "pmnist") for m in ("adam", "fw_k1", "fw_k5")]
    + ["pixel_mnist_indrnn6_fw_k30_pinf"],
    "frank_wolfe_har": [f"{t}_{m}" for t in ("har2", "har2_noisy")
                        for m in ("sgd", "sgd_clip", "tbptt", "lstm_adam", "fw_k1", "fw_k5", "fw_k10", "fw_bn",
                                  "tbptt_fw", "lstm_fw", "indrnn", "indrnn_fw")],
    "momentum_rnn": [f"{t}_{c}" for t in ("mnist", "pmnist") for c in ("lstm_n128", "momentum_lstm_n128", "lstm",
                                                                       "momentum_lstm", "adam_lstm", "rmsprop_lstm",
                                                                       "sr_lstm")]
    + [f"{t}_{c}" for t in ("copying", "adding") for c in ("lstm", "momentum_lstm", "adam_lstm", "rmsprop_lstm",
                                                           "sr_lstm")]
    + ["pmnist_grad_norms_rnn", "pmnist_grad_norms_momentum_rnn"],
    "momentum_rnn_ptb": ["ptb_lstm", "ptb_momentum_lstm", "ptb_sr_lstm", "ptb_adam_lstm", "ptb_rmsprop_lstm"],
    "orthogonal": [f"pmnist_{c}_n{n}" for n in (170, 360, 512)
                   for c in ("dtriv", "momentum_dtriv", "adam_dtriv", "rmsprop_dtriv", "sr_dtriv")],
    "checks": ["row_mnist_lstm", "adding100_lstm"],
}

CONTROLS = {"momentum_rnn": ["mnist_lstm_n128_fb25", "pmnist_lstm_n128_fb35"],
            "frank_wolfe": ["adding_adam_b250", "adding_sgd_b250", "adding_sgd_100k", "adding_sgd_clip_100k",
                            "adding_adam_100k", "adding_fw_k1_100k"]}
"""Runs no paper has: an LSTM with the MomentumLSTM's effective forget bias; FW Fig. 3's methods at FW K = 5's
samples per update and gradient-evaluation budget."""

MEDIUM = {"adding_sgd", "adding_sgd_clip", "adding_adam", "adding_fw_k1", "adding_fw_k5",           # FW Fig. 3
          "pixel_mnist_rnn_adam", "pixel_mnist_rnn_tbptt", "pixel_mnist_rnn_fw_k1", "pixel_mnist_rnn_fw_k5",
          "pixel_mnist_indrnn6_adam", "pixel_mnist_indrnn6_fw_k5",                                   # FW Table II
          "mnist_lstm_n128", "mnist_momentum_lstm_n128", "pmnist_lstm_n128", "pmnist_momentum_lstm_n128",
          "pmnist_grad_norms_rnn", "pmnist_grad_norms_momentum_rnn", "ptb_lstm", "ptb_momentum_lstm"}
"""The medium runs the papers' claims need (MomentumRNN Table 1 / Figs. 2, 3 and Table 3; FW Figs. 3, 4 and
Table II)."""


def test_every_experiment_of_both_papers_is_there_with_its_tiers():
    assert {g: sorted(n for n, e in BASE.items() if e.group == g) for g in EXPECTED} == \
        {g: sorted(names + CONTROLS.get(g, [])) for g, names in EXPECTED.items()}
    for name, e in BASE.items():
        control = any(name in names for names in CONTROLS.values())
        wanted = ("small",) if e.group == "checks" else ("small", "medium", "full") if name in MEDIUM or control \
            else ("small", "full")
        assert e.tiers == wanted, name


@pytest.mark.parametrize("name", sorted(MEDIUM | {n for names in CONTROLS.values() for n in names}))
def test_every_medium_verdict_run_and_control_has_two_more_seeds_that_change_only_the_seed(name):
    base = config(name, "medium")
    for seed in (1, 2):
        variant = EXPERIMENTS[f"{name}_seed{seed}"]
        assert variant.seed_of == name and variant.tiers == EXPERIMENTS[name].tiers
        for tier in variant.tiers:
            got, want = variant.config(tier), config(name, tier)
            assert got.seed == seed and want.seed == 0
            assert {**got.to_dict(), "seed": 0, "out": ""} == {**want.to_dict(), "out": ""}, (name, tier)
        assert base.out != variant.config("medium").out


def test_every_mnist_experiment_declares_its_pixel_input_and_where_it_comes_from():
    for name, e in BASE.items():
        for tier in e.tiers:
            if config(name, tier).task.startswith("mnist"):
                declared = [k for _, t in e.tables(None) for k in t] + [k for _, t in e.tables(tier) for k in t]
                assert "pixels" in declared, f"{name} [{tier}]: no pixels setting"
                meta = e.meta(tier)
                assert "pixels" in meta["why"], name
                assert e.group == "checks" or "pixels" in meta["from_code"] or "pixels" in meta["guessed"] \
                    or "paper" in meta["why"]["pixels"], f"{name}: where does its pixel input come from?"
    assert config("pmnist_momentum_lstm_n128", "medium").pixels == "raw"
    assert config("pmnist_dtriv_n170", "full").pixels == "raw"
    assert config("pixel_mnist_rnn_adam", "medium").pixels == "standardized"


def test_the_released_recipes_values_are_the_configs_and_marked_from_code():
    recipes = {  # mnist-timit/recipes.md and the ptb recipe: (mu, s, beta) of --mu, --epsilon, --mus
        "mnist_adam_lstm": (0.6, 0.6, 0.1), "mnist_rmsprop_lstm": (None, 0.6, 0.9),
        "pmnist_adam_lstm": (0.6, 1.0, 0.01), "pmnist_rmsprop_lstm": (None, 1.0, 0.01),
        "mnist_momentum_lstm_n128": (0.6, 0.6, None), "pmnist_momentum_lstm_n128": (0.6, 1.0, None),
        "ptb_momentum_lstm": (0.0, 0.6, None)}
    for name, values in recipes.items():
        cfg, meta = config(name, "full"), EXPERIMENTS[name].meta()
        for key, value in zip(("mu", "s", "beta"), values):
            if value is not None:
                assert getattr(cfg, key) == value, (name, key)
                assert key in meta["from_code"] and key not in meta["guessed"], (name, key)


def test_no_setting_is_both_guessed_and_from_the_code():
    for name, e in BASE.items():
        for tier in e.tiers:
            meta = e.meta(tier)
            assert not set(meta["guessed"]) & set(meta["from_code"]), name


def test_every_experiment_names_its_source_row_and_the_papers_number():
    for name, e in EXPERIMENTS.items():
        meta = e.meta()
        assert meta.get("source") and meta.get("row"), name
        assert ex.paper_number(meta) or "Appendix C" in meta["source"], f"{name}: no paper's number"
        if "paper_value" in meta:
            metric = meta["paper_metric"]
            assert metric in ("test_accuracy", "test_perplexity", "train_loss"), name
            assert 0 < meta["paper_value"] <= (1 if metric == "test_accuracy" else math.inf), name
        for key in (*meta["guessed"], *meta["from_code"], *meta.get("why", {})):
            assert key in FIELDS, f"{name}: provenance names {key!r}, which is no setting"


def test_the_papers_numbers_are_where_the_tables_put_them():
    def value(name):
        return EXPERIMENTS[name].meta()["paper_value"]
    assert value("pmnist_momentum_lstm") == 0.9472 and value("mnist_rmsprop_lstm") == 0.9915
    assert value("pixel_mnist_indrnn6_fw_k5") == 0.9882 and value("pmnist_indrnn6_adam") == 0.93
    assert value("har2_noisy_indrnn_fw") == 0.9215 and value("har2_sgd") == 0.8766
    assert value("ptb_momentum_lstm") == 58.62 and value("pmnist_momentum_dtriv_n170") == 0.9537


def test_full_tier_keeps_the_papers_key_settings():
    tbptt = config("pixel_mnist_rnn_tbptt", "full")
    assert tbptt.tbptt == 196 and tbptt.hidden == 128 and tbptt.task == "mnist-pixel"
    assert config("har2_tbptt", "full").tbptt == 16 and config("har2_fw_k5", "full").hidden == 80
    assert config("har2_noisy_fw_k10", "full").fw_k == 10 and config("har2_noisy_fw_k10", "full").task == "har2-noisy"
    ind = config("pmnist_indrnn6_fw_k5", "full")
    assert (ind.layers, ind.hidden, ind.batch_norm, ind.fw_k, ind.batch_size) == (6, 128, True, 5, 32)
    m = config("pmnist_momentum_lstm", "full")
    assert (m.cell, m.hidden, m.mu, m.s, m.optimizer, m.alpha, m.clip_norm, m.epochs) == \
        ("momentum-lstm", 256, 0.6, 1.0, "rmsprop", 0.9, 1.0, 150)
    sr = config("mnist_sr_lstm", "full")
    assert (sr.cell, sr.s, sr.restart, sr.task) == ("nesterov-lstm", 1.0, 2, "mnist-pixel")
    assert config("ptb_lstm", "full").layers == 3 and config("copying_lstm", "full").seq_len == 2000
    assert config("adding_lstm", "full").seq_len == 750
    d = config("pmnist_momentum_dtriv_n170", "full")
    assert (d.task, d.cell, d.hidden, d.rebase_every, d.mu, d.s, d.optimizer, d.clip_norm, d.batch_size) == \
        ("mnist-permuted", "momentum-orthogonal-rnn", 170, 1, 0.6, 0.9, "rmsprop", 1.0, 128)
    assert config("pmnist_dtriv_n512", "full").rebase_every == 10 ** 9
    assert math.isinf(config("pixel_mnist_indrnn6_fw_k30_pinf", "full").fw_p)


@pytest.mark.parametrize("name", sorted(MEDIUM))
def test_medium_tier_keeps_the_papers_data_length_and_model_and_the_best_model(name):
    medium, full = config(name, "medium"), config(name, "full")
    assert medium.keep_best
    assert medium.task == full.task and medium.seq_len == full.seq_len
    if medium.task != "ptb":                     # PTB: a one-layer model of a size that fits
        assert (medium.cell, medium.layers, medium.hidden, medium.batch_size, medium.optimizer, medium.lr) == \
            (full.cell, full.layers, full.hidden, full.batch_size, full.optimizer, full.lr)
    assert (medium.steps or medium.epochs) and medium.epochs <= 5, "a few epochs"
    assert not full.steps or medium.steps <= full.steps


def test_medium_runs_of_table_1_record_the_gradient_norms_of_fig_2():
    for name in ("mnist_lstm_n128", "pmnist_momentum_lstm_n128", "pmnist_grad_norms_rnn"):
        assert config(name, "medium").record_grad_norms, name


@pytest.mark.parametrize("name", [n for n, e in BASE.items() if e.group != "checks"])
def test_small_tier_is_smaller_than_full(name):
    small, full = config(name, "small"), config(name, "full")
    if full.steps and small.steps:
        assert small.steps < full.steps
    assert small.steps or small.epochs < full.epochs
    assert small.hidden <= full.hidden and small.layers <= full.layers
    assert small.seq_len <= full.seq_len or small.task != full.task


def test_readme_table_is_the_files_table():
    readme = (ex.default_dir() / "README.md").read_text()
    assert ex.readme_with_table(readme, list(EXPERIMENTS.values())) == readme, \
        "experiments/README.md: paste `rnnlab experiments list --markdown` between its markers"
