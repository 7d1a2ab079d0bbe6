"""The experiment configs: every TOML loads and validates, every full config has a small twin, the files are
what experiments/make_configs.py writes, every experiment of both papers is there, and run_small.py runs a
config, tabulates it and plots it."""
import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest

from rnnlab.config import load_toml

ROOT = Path(__file__).resolve().parents[2]
EXPERIMENTS = ROOT / "experiments"
TOMLS = sorted(EXPERIMENTS.rglob("*.toml"))


def _module(name):
    spec = importlib.util.spec_from_file_location(name, EXPERIMENTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_there_are_configs_to_check():
    assert len(TOMLS) > 100
    assert {p.parent.name for p in TOMLS} == {"fw", "momentum", "orthogonal", "checks"}


def test_issue_5_checks_have_configs():
    for name in ("row_mnist_lstm", "adding100_lstm"):
        cfg = load_toml(str(EXPERIMENTS / "checks" / f"{name}.small.toml")).validate()
        assert cfg.cell == "lstm"
    assert load_toml(str(EXPERIMENTS / "checks" / "adding100_lstm.small.toml")).seq_len == 100


@pytest.mark.parametrize("path", TOMLS, ids=lambda p: str(p.relative_to(EXPERIMENTS)))
def test_every_config_loads_and_validates(path):
    cfg = load_toml(str(path)).validate()
    size = path.name.split(".")[-2]
    assert size in ("full", "small"), f"{path.name}: name must end in .full.toml or .small.toml"
    assert cfg.out.endswith(f".{size}"), f"{path.name}: out = {cfg.out!r} should name the size"
    assert not cfg.data_dir, f"{path.name}: data_dir belongs on the command line, not in the config"


def test_every_full_config_has_a_small_twin_and_every_small_one_a_full_one():
    """(checks/ holds small configs of issue 5's checks, which are no experiment of the papers.)"""
    papers = [p for p in TOMLS if p.parent.name != "checks"]
    full = {p.with_name(p.name[: -len(".full.toml")]) for p in papers if p.name.endswith(".full.toml")}
    small = {p.with_name(p.name[: -len(".small.toml")]) for p in papers if p.name.endswith(".small.toml")}
    assert full, "no full configs"
    assert sorted(full - small) == [], "full configs without a small twin"
    assert sorted(small - full) == [], "small configs without a full twin"


def test_small_configs_are_smaller_than_their_full_twins():
    for path in TOMLS:
        if not path.name.endswith(".full.toml") or path.parent.name == "checks":
            continue
        full = load_toml(str(path))
        small = load_toml(str(path.with_name(path.name.replace(".full.", ".small."))))
        if full.steps and small.steps:
            assert small.steps < full.steps, path.name
        assert small.steps or small.epochs <= (full.epochs or 1), path.name
        assert small.hidden <= full.hidden and small.layers <= full.layers, path.name


def test_every_config_names_its_paper_row_group_and_reported_number():
    for path in TOMLS:
        text = path.read_text()
        for field in ("paper", "where", "reported (full run, paper)", "group"):
            assert re.search(rf"^# {re.escape(field)}:", text, re.MULTILINE), f"{path.name}: no '# {field}:' line"


def test_configs_are_in_sync_with_make_configs():
    make = _module("make_configs")
    wanted = make.files()
    on_disk = {p for p in TOMLS if p.parent.name in ("fw", "momentum", "orthogonal", "checks")}
    assert {p for p in wanted if p.suffix == ".toml"} == on_disk, "run python experiments/make_configs.py"
    stale = [p.name for p, text in wanted.items() if p.read_text() != text]
    assert stale == [], "run python experiments/make_configs.py"


EXPECTED = {
    # FW paper: Fig. 3
    "fw": ["adding_sgd", "adding_sgd_clip", "adding_adam", "adding_fw_k1", "adding_fw_k5"]
    # Fig. 4: vanilla RNN, BPTT and TBPTT 196, K = 1 and 5
    + [f"{t}_rnn_{m}" for t in ("pixel_mnist", "pmnist")
       for m in ("adam", "tbptt", "fw_k1", "fw_k5", "tbptt_fw_k5")]
    # Table II: 6-layer IndRNN
    + [f"{t}_indrnn6_{m}" for t in ("pixel_mnist", "pmnist") for m in ("adam", "fw_k1", "fw_k5")]
    # Table III: all rows, both data sets
    + [f"{t}_{m}" for t in ("har2", "har2_noisy")
       for m in ("sgd", "sgd_clip", "tbptt", "lstm_adam", "fw_k1", "fw_k5", "fw_k10", "fw_bn", "tbptt_fw",
                 "lstm_fw", "indrnn", "indrnn_fw")],
    # MomentumRNN paper: Table 1, Fig. 4, Table 3
    "checks": [],
    "momentum": [f"{t}_{c}" for t in ("mnist", "pmnist")
                 for c in ("lstm_n128", "momentum_lstm_n128", "lstm", "momentum_lstm", "adam_lstm", "rmsprop_lstm",
                           "sr_lstm")]
    + [f"{t}_{c}" for t in ("copying", "adding")
       for c in ("lstm", "momentum_lstm", "adam_lstm", "rmsprop_lstm", "sr_lstm")]
    + ["ptb_lstm", "ptb_momentum_lstm", "ptb_sr_lstm"],
    # MomentumRNN paper: Table 4 (DTRIV, MomentumDTRIV) and Appendix C (Adam, RMSProp, SR)
    "orthogonal": [f"pmnist_{c}_n{n}" for n in (170, 360, 512)
                   for c in ("dtriv", "momentum_dtriv", "adam_dtriv", "rmsprop_dtriv", "sr_dtriv")],
}


@pytest.mark.parametrize("folder", ["fw", "momentum", "orthogonal"])
def test_every_experiment_of_the_papers_has_a_config(folder):
    missing = [n for n in EXPECTED[folder] for size in ("full", "small")
               if not (EXPERIMENTS / folder / f"{n}.{size}.toml").exists()]
    assert missing == []


def test_full_configs_keep_the_papers_key_settings():
    def cfg(name):
        return load_toml(str(EXPERIMENTS / f"{name}.full.toml"))
    assert cfg("fw/pixel_mnist_rnn_tbptt").tbptt == 196 and cfg("fw/pixel_mnist_rnn_tbptt").hidden == 128
    assert cfg("fw/har2_tbptt").tbptt == 16 and cfg("fw/har2_fw_k5").hidden == 80
    assert cfg("fw/har2_noisy_fw_k10").fw_k == 10 and cfg("fw/har2_noisy_fw_k10").task == "har2-noisy"
    ind = cfg("fw/pmnist_indrnn6_fw_k5")
    assert (ind.layers, ind.hidden, ind.batch_norm, ind.fw_k, ind.batch_size) == (6, 128, True, 5, 32)
    m = cfg("momentum/pmnist_momentum_lstm")
    assert (m.cell, m.hidden, m.mu, m.s, m.optimizer, m.alpha, m.clip_norm, m.epochs) == \
        ("momentum-lstm", 256, 0.6, 1.0, "rmsprop", 0.9, 1.0, 150)
    sr = cfg("momentum/mnist_sr_lstm")
    assert (sr.cell, sr.s, sr.restart, sr.task) == ("nesterov-lstm", 1.0, 2, "mnist-pixel")
    assert cfg("momentum/ptb_lstm").layers == 3 and cfg("momentum/copying_lstm").seq_len == 2000
    assert cfg("momentum/adding_lstm").seq_len == 750
    d = cfg("orthogonal/pmnist_momentum_dtriv_n170")
    assert (d.task, d.cell, d.hidden, d.rebase_every, d.mu, d.s, d.optimizer, d.clip_norm, d.batch_size) == \
        ("mnist-permuted", "momentum-orthogonal-rnn", 170, 1, 0.6, 0.9, "rmsprop", 1.0, 128)
    assert cfg("orthogonal/pmnist_dtriv_n512").rebase_every == 10 ** 9 and cfg("orthogonal/pmnist_dtriv_n360").hidden == 360


def test_run_small_runs_a_config_tabulates_it_and_plots_it(tmp_path):
    run_small = _module("run_small")
    (tmp_path / "configs" / "fw").mkdir(parents=True)
    (tmp_path / "configs" / "fw" / "tiny.small.toml").write_text(
        '# group: fw/tiny\ntask = "adding"\nseq_len = 6\ntrain_size = 64\ntest_size = 32\nhidden = 4\n'
        'cell = "rnn"\nsteps = 4\nbatch_size = 16\neval_every = 2\nlog_every = 1\n')
    runs = tmp_path / "runs"
    code = run_small.main(["--configs-dir", str(tmp_path / "configs"), "--runs-dir", str(runs),
                           "--export-plots", str(tmp_path / "docs"), "tiny"])
    assert code == 0
    rows = json.loads((runs / "results.json").read_text())
    assert [r["config"] for r in rows] == ["fw/tiny"] and rows[0]["status"] == "ok" and rows[0]["steps"] == 4
    assert "| fw/tiny | adding | rnn |" in (runs / "results.md").read_text()
    assert (runs / "plots" / "fw_tiny" / "loss.png").exists()
    assert (runs / "logs" / "fw_tiny.log").exists()
    exported = tmp_path / "docs" / "fw_tiny_loss.png"
    assert exported.exists() and exported.stat().st_size < 100_000


def test_run_small_records_a_failing_run_and_goes_on(tmp_path):
    run_small = _module("run_small")
    (tmp_path / "configs" / "fw").mkdir(parents=True)
    (tmp_path / "configs" / "fw" / "nodata.small.toml").write_text('task = "har2"\nhidden = 4\nsteps = 2\n')
    runs = tmp_path / "runs"
    code = run_small.main(["--configs-dir", str(tmp_path / "configs"), "--runs-dir", str(runs), "--no-plots",
                           "--data-dir", str(tmp_path / "empty"), "fw/*"])
    assert code == 1
    row = json.loads((runs / "results.json").read_text())[0]
    assert row["status"].startswith("exit 2") and "error" in row["status"]


def test_the_readme_lists_every_config():
    readme = (EXPERIMENTS / "README.md").read_text()
    missing = sorted({f"{p.parent.name}/{p.name.rsplit('.', 2)[0]}" for p in TOMLS if p.parent.name in EXPECTED}
                     - set(re.findall(r"`((?:fw|momentum|orthogonal|checks)/[a-z0-9_]+)`", readme)))
    assert missing == []
