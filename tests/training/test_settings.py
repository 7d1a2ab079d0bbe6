"""Every declared setting, drawn: valid, out of range, of the wrong type, where it does not apply, and in
combination. Each command line either trains (a two-step run whose directory holds a summary) or exits 2 with
one line naming a setting and nothing written."""
import io
import json
import math
import re
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import event, given, strategies as st

from rnnlab.cli import main
from rnnlab.training import ConfigError, TrainConfig
from rnnlab.training.registry import choices
from rnnlab.cells import CELLS
from rnnlab.datasets import task_options
from rnnlab.training.cell_args import cell_settings
from rnnlab.training.settings import BY_NAME, CELL, SETTINGS, TASK, Range, Where, parse

TINY = {"task": "adding", "seq_len": "6", "train_size": "8", "val_size": "4", "test_size": "4", "hidden": "3",
        "batch_size": "4", "steps": "2", "eval_every": "1", "progress": False}
NOT_DRAWN = {"out": "the test's own run directory", "progress": "a bar on stderr would hide the one line",
             "distributed": "needs MPI", "data_dir": "only read by tasks with files, which need data",
             "plugins": "imports modules", "cell_args": "drawn by test_cell_args.py, against each cell's parameters"}
SMALL = {"steps": (0, 3), "epochs": (0, 1), "seq_len": (1, 8), "train_size": (1, 12), "val_size": (1, 6),
         "test_size": (1, 6), "hidden": (1, 4), "layers": (1, 2), "batch_size": (1, 6), "tbptt": (0, 8),
         "tbptt_k2": (0, 8), "eval_every": (1, 3), "eval_batch_size": (0, 8), "log_every": (1, 3),
         "checkpoint_every": (1, 3), "restart": (0, 3), "rebase_every": (0, 2), "embedding": (0, 4),
         "fw_k": (1, 2), "lr_step": (1, 3), "patience": (1, 3), "seed": (0, 2**32 - 1), "sample_chars": (0, 50)}
"""Valid integers kept small, so that a drawn run stays a couple of tiny steps."""
TEXT = {"har_mapping": st.sampled_from(["1:0,2:1", "x"]), "device": st.sampled_from(["0", "device1"]),
        "task": st.sampled_from(["adding", "copying"])}
"""Free-text settings (and tasks without files): values from these."""


def valid(s):
    if s.name in TEXT:
        return TEXT[s.name]
    if s.name in choices():
        return st.sampled_from([str(c) for c in choices()[s.name]])
    if s.kind is bool:
        return st.booleans()
    if s.kind is int:
        lo, hi = SMALL[s.name]
        return st.integers(lo, hi).map(str)
    r = s.range or Range(-3, 3)
    lo = -3.0 if r.lo is None else float(r.lo)
    hi = lo + 3.0 if r.hi is None else float(r.hi)
    return st.floats(lo, hi, exclude_min=r.lo_open, exclude_max=r.hi_open, allow_nan=False).map(repr)


def out_of_range(s):
    r = s.range
    bad = ["inf", "-inf"] if s.kind is float else []
    if r is not None and r.lo is not None:
        bad.append(repr(type(r.lo)(r.lo) - 1) if s.kind is int else repr(r.lo - 0.5))
        if r.lo_open:
            bad.append(str(r.lo))
    if r is not None and r.hi is not None:
        bad.append(str(int(r.hi) + 1) if s.kind is int else repr(r.hi + 0.5))
    return st.sampled_from(bad) if bad else st.nothing()


WRONG = {int: ["2.5", "８", "٣", "1_0", "", "abc", "0x10", "true"], float: ["abc", "", "٠.5", "1_0.0", "nan", "--"],
         bool: ["maybe", "2", ""], str: []}


def value(s):
    options = [valid(s), valid(s), out_of_range(s)]
    if WRONG[s.kind] and s.kind is not bool:
        options.append(st.sampled_from(WRONG[s.kind]))
    if s.name in choices():
        options.append(st.sampled_from(["nope", ""]))
    return st.one_of(*options)


DRAWN = [s for s in SETTINGS if s.name not in NOT_DRAWN]


def argv_for(settings: dict) -> list:
    argv = ["train"]
    for name, v in settings.items():
        flag = BY_NAME[name].flag
        if v is True or v is False:
            argv.append(flag if v else "--no-" + flag[2:])
        else:
            argv.append(f"{flag}={v}")
    return argv


@st.composite
def command_lines(draw):
    chosen = draw(st.lists(st.sampled_from(DRAWN), min_size=1, max_size=4, unique_by=lambda s: s.name))
    settings = dict(TINY)
    for s in chosen:       # the applicability switches are often drawn with them, so combinations are met
        settings[s.name] = draw(value(s))
    if draw(st.booleans()):
        settings["optimizer"] = draw(st.sampled_from(choices()["optimizer"]))
    if draw(st.booleans()):
        settings["schedule"] = draw(st.sampled_from(choices()["schedule"]))
    if draw(st.booleans()):
        settings["cell"] = draw(st.sampled_from(choices()["cell"]))
    return settings


NAMES = re.compile(r"\b(" + "|".join(sorted((s.name for s in SETTINGS), key=len, reverse=True)) + r")\b")


def not_applying(ran: dict, given: dict) -> list:
    """The given settings that the run's configuration ``ran`` would ignore: by the cell's constructor, the
    task's factory, or the setting's declared condition."""
    cfg = TrainConfig(**ran)
    cell_takes = cell_settings(CELLS[cfg.cell])
    task_keys = {"target": "range_sum", "merge": "har_mapping", "n_train": "train_size", "n_test": "test_size"}
    task_takes = {task_keys.get(o, o) for o in task_options(cfg.task)}
    out = []
    for name in given:
        s = BY_NAME[name]
        if name in TINY and given[name] == TINY[name]:
            continue
        if s.applies == CELL and name not in cell_takes:
            out.append(name)
        elif s.applies == TASK and name not in task_takes:
            out.append(name)
        elif isinstance(s.applies, Where) and not s.applies.when(cfg):
            out.append(name)
    return out


def run_cli(argv) -> int:
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@given(command_lines())
def test_a_drawn_command_line_runs_or_is_refused_in_one_line_naming_a_setting(settings):
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        err = io.StringIO()
        mp.setattr(sys, "stderr", err)
        mp.setattr(sys, "stdout", io.StringIO())
        code = run_cli(argv_for(settings) + ["--out", "run"])
        lines = err.getvalue().strip().splitlines()
        event(f"exit {code}")
        if code == 0:
            assert (Path(tmp) / "run" / "summary.json").exists()
            ran = json.loads((Path(tmp) / "run" / "config.json").read_text())
            assert not_applying(ran, settings) == [], "a setting that cannot take effect was accepted"
        else:
            assert code == 2, err.getvalue()
            assert len(lines) == 1, err.getvalue()
            assert lines[0].startswith("rnnlab train: error: "), lines[0]
            assert NAMES.search(lines[0].replace("-", "_")), lines[0]
            assert list(Path(tmp).iterdir()) == [], lines[0]


@pytest.mark.parametrize("argv, name", [
    ("--hidden ８", "hidden"), ("--hidden ٣", "hidden"), ("--steps 2.5", "steps"),
    ("--optimizer sgd --momentum 5", "momentum"), ("--forget-bias inf", "forget_bias"),
    ("--weight-decay inf", "weight_decay"), ("--seed -1", "seed"), ("--optimizer sgd --fw-k 5", "fw_k"),
    ("--optimizer adam --momentum 0.9", "momentum"), ("--lr-step 5", "lr_step"), ("--patience 2", "patience"),
    ("--epochs 2", "epochs"), ("--tbptt 3 --tbptt-k2 100", "tbptt_k2"), ("--batch-size 1000", "batch_size"),
    ("--seq-len 1", "seq_len"), ("--hidden 100000", "hidden"), ("--val-size 1e9", "val_size"),
    ("--seq-len 1e9", "seq_len"), ("--batch-size 1e12", "batch_size"), ("--eval-batch-size 1e12", "eval_batch_size"),
])
def test_the_issues_examples_are_refused_up_front(argv, name, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = run_cli(argv_for(TINY) + argv.split() + ["--out", "run"])     # a later flag wins
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert re.search(rf"\b{name}\b", err[0]), err[0]
    assert list(tmp_path.iterdir()) == []


@given(st.sampled_from(SETTINGS), st.sampled_from([2.5, "8", "no", None, 1j, True, math.nan]))
def test_python_values_of_the_wrong_type_are_refused_naming_the_key(s, bad):
    ok = (s.kind is float and isinstance(bad, (int, float)) and not isinstance(bad, bool) and not math.isnan(bad)) \
        or (s.kind is bool and isinstance(bad, bool)) or (s.kind is str and isinstance(bad, str))
    cfg = TrainConfig(**{s.name: bad})
    if ok:
        try:
            cfg.validate()
        except ConfigError as exc:   # a right type may still be a value the setting cannot take
            assert s.name in str(exc) or "would need" in str(exc)
        return
    with pytest.raises(ConfigError, match=rf"\b{s.name}\b"):
        cfg.validate()


def test_parsing_is_strict_ascii_and_no_float_for_an_int():
    assert parse("hidden", "1e3", "t") == 1000 and parse("lr", "3e-3", "t") == 3e-3
    for bad in ("８", "٣", "2.5", "1_0", " "):
        with pytest.raises(ValueError, match="hidden"):
            parse("hidden", bad, "t")
    with pytest.raises(ValueError, match="steps"):
        parse("steps", 2.5, "t")


def test_train_leaves_the_callers_configuration_unchanged(tmp_path):
    from rnnlab.training import train
    cfg = TrainConfig(**{k: parse(k, v, "t") for k, v in TINY.items()}, out=str(tmp_path / "a"))
    before = cfg.to_dict()
    train(cfg)
    assert cfg.to_dict() == before


@given(st.integers(1, 5), st.integers(0, 6), st.integers(0, 6), st.integers(1, 6), st.integers(1, 6))
def test_cross_setting_rules_hold_exactly(T, k1, k2, batch, n_train):
    """The rules between settings, against an independent statement of them: the adding task needs T >= 2;
    k1 and k2 at most T; k2 needs k1 and is at least k1; the batch at most the training set."""
    runs = T >= 2 and k1 <= T and k2 <= T and (k2 == 0 or (k1 > 0 and k2 >= k1)) and batch <= n_train
    settings = {**TINY, "seq_len": str(T), "tbptt": str(k1), "tbptt_k2": str(k2), "batch_size": str(batch),
                "train_size": str(n_train), "steps": "1"}
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp)
        err = io.StringIO()
        mp.setattr(sys, "stderr", err)
        mp.setattr(sys, "stdout", io.StringIO())
        code = run_cli(argv_for({k: v for k, v in settings.items() if v != "0"}) + ["--out", "run"])
        assert code == (0 if runs else 2), err.getvalue()
        if not runs:
            assert len(err.getvalue().strip().splitlines()) == 1 and list(Path(tmp).iterdir()) == []
