"""``rnnlab experiments show NAME --tier T > f.toml; rnnlab train --config f.toml`` for every experiment and tier:
the file holds exactly the settings that take effect, train accepts it, and ``experiments run/show --set`` go
through train's own checks."""
import dataclasses
import json
import re

import pytest

from rnnlab.cli import main
from rnnlab.datasets import task_options
from rnnlab.training import experiments as ex
from rnnlab.training.config import toml_settings
from rnnlab.training.session import applying

EXPERIMENTS = ex.load()
ROUND_TRIPS = [(name, tier) for name, exp in EXPERIMENTS.items() for tier in exp.tiers]


def generated(name, tier) -> bool:
    return "seq_len" in task_options(EXPERIMENTS[name].config(tier).task)


@pytest.fixture(autouse=True)
def loaded_once(monkeypatch):
    """The experiment files are read once for the module (``show`` reads them on every call otherwise)."""
    monkeypatch.setattr(ex, "load", lambda root=None: EXPERIMENTS)


def shown(name, tier, folder, capsys, *extra):
    assert main(["experiments", "show", name, "--tier", tier, *extra]) == 0
    path = folder / "f.toml"
    path.write_text(capsys.readouterr().out)
    return path


@pytest.mark.parametrize("name,tier", ROUND_TRIPS, ids=[f"{n}-{t}" for n, t in ROUND_TRIPS])
def test_show_prints_exactly_the_settings_that_take_effect(name, tier, tmp_path, capsys):
    settings = toml_settings(shown(name, tier, tmp_path, capsys))
    expected = EXPERIMENTS[name].config(tier)
    checked = dataclasses.replace(expected).validate()
    assert list(settings) == [k for k in applying(checked) if k != "cell_args" or checked.cell_args]
    assert settings == {k: getattr(expected, k) for k in settings}


# The tasks read from files have no data here: train goes through every check of its own (settings, what
# applies, the memory a run would need) and stops at loading the data, with one line and nothing written.
FROM_FILES = [(n, t) for n, t in ROUND_TRIPS if not generated(n, t)]


@pytest.mark.parametrize("name,tier", FROM_FILES, ids=[f"{n}-{t}" for n, t in FROM_FILES])
def test_train_accepts_the_shown_file_up_to_loading_the_data(name, tier, tmp_path, capsys, monkeypatch):
    import urllib.error
    import urllib.request

    def offline(url, timeout=None):
        raise urllib.error.URLError("offline (the test)")
    monkeypatch.setattr(urllib.request, "urlopen", offline)     # the loader's download attempt fails at once
    monkeypatch.chdir(tmp_path)
    shown(name, tier, tmp_path, capsys)
    (tmp_path / "data").mkdir()
    assert main(["train", "--config", "f.toml", "--data-dir", "data", "--out", "run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "rnnlab train: error:" in err
    assert re.match(r"rnnlab train: error: load_\w+: missing ", err), err      # the data, not a setting
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "f.toml"]
    assert list((tmp_path / "data").iterdir()) == []


GENERATED = [(n, t) for n, t in ROUND_TRIPS if generated(n, t)]
FAST = {GENERATED[0], next(g for g in GENERATED if g[1] != GENERATED[0][1])}   # two tiers in CI; the rest: slow


@pytest.mark.parametrize("name,tier", [pytest.param(n, t, marks=[] if (n, t) in FAST else [pytest.mark.slow])
                                       for n, t in GENERATED], ids=[f"{n}-{t}" for n, t in GENERATED])
def test_the_shown_file_of_a_generated_task_trains(name, tier, tmp_path, capsys, monkeypatch):
    """With a short run (2 steps, or 1 epoch for an experiment set by epochs) and small data sets."""
    monkeypatch.chdir(tmp_path)
    settings = toml_settings(shown(name, tier, tmp_path, capsys))
    length = ["--epochs", "1"] if "epochs" in settings else ["--steps", "2"]
    n = max(64, settings.get("batch_size", 64))
    assert main(["train", "--config", "f.toml", *length, "--no-progress", "--out", "run", "--train-size", str(n),
                 "--val-size", "8", "--test-size", "8", "--eval-every", "1"]) == 0, capsys.readouterr().err
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    overridden = ("out", "steps", "epochs", "train_size", "val_size", "test_size", "eval_every", "progress",
                  "backend")
    assert {k: config[k] for k in settings if k not in overridden} == \
        {k: v for k, v in settings.items() if k not in overridden}


def test_run_and_show_set_go_through_trains_checks(tmp_path, capsys):
    """``--set`` is refused as ``rnnlab train`` refuses the same flag: one line, exit 2, nothing run."""
    for action in ("run", "show"):
        argv = ["experiments", action, "adding_fw_k1", "--tier", "small", "--out", str(tmp_path / "runs"),
                "--set", "cell=gru", "--set", "mu=0.3"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--set: mu does not apply to cell 'gru'" in err, err
        assert main(["experiments", action, "adding_fw_k1", "--tier", "small", "--out", str(tmp_path / "runs"),
                     "--set", "momentum=0.5"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "--set: momentum does not apply here" in err, err
    assert not (tmp_path / "runs").exists()
