"""What a run logs: metrics.jsonl's lr and grad_norm, the progress bar on a resume and at the end, and the
one-line messages of the command."""
import json
import math

import pytest
from hypothesis import given, strategies as st

from rnnlab.cli import main

TINY = ["--seq-len", "8", "--train-size", "40", "--test-size", "16", "--hidden", "5", "--batch-size", "8",
        "--eval-every", "4", "--log-every", "1", "--checkpoint-every", "3"]


def rows(run_dir, split="train"):
    lines = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [r for r in lines if r["split"] == split]


@pytest.mark.parametrize("optimizer", [["--optimizer", "sgd"], ["--optimizer", "fw", "--fw-outer", "adam"]])
def test_train_rows_carry_the_scheduled_lr_and_the_gradient_norm_before_clipping(tmp_path, capsys, optimizer):
    out = tmp_path / "run"
    assert main(["train", *TINY, *optimizer, "--steps", "6", "--lr", "0.1", "--schedule", "step", "--lr-step",
                 "2", "--lr-decay", "0.5", "--clip-norm", "1e-4", "--no-progress", "--out", str(out)]) == 0
    train = rows(out)
    assert [r["step"] for r in train] == [1, 2, 3, 4, 5, 6]
    # step s is taken with lr 0.1 * 0.5^((s - 1) // 2): the schedule steps after each update
    assert [r["lr"] for r in train] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    # clipped to 1e-4, the gradients' norm after clipping is 1e-4: the rows show the norm before it
    assert all(math.isfinite(r["grad_norm"]) and r["grad_norm"] > 1e-3 for r in train), train
    assert all("lr" not in r and "grad_norm" not in r for r in rows(out, "val") + rows(out, "test"))


def bar_lines(err: str) -> list[str]:
    """The progress bar's plain lines (stderr is no terminal under capsys)."""
    return [line for line in err.splitlines() if line.startswith(("copying lstm adam", "adding lstm adam"))]


def test_the_bar_ends_on_the_final_validation_and_test_values(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--task", "copying", "--steps", "6", "--out", str(out)]) == 0
    last = bar_lines(capsys.readouterr().err)[-1]
    (val,), (test,) = rows(out, "val")[-1:], rows(out, "test")
    assert rows(out, "val")[0]["step"] == 4 and val["step"] == 6     # a stale step-4 value was shown before
    assert f"val accuracy={val['accuracy']:.4g}" in last and f"test accuracy={test['accuracy']:.4g}" in last, last


def test_a_resumed_bar_starts_at_the_resumed_step(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", *TINY, "--steps", "3", "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["train", "--resume", str(out), "--steps", "6"]) == 0
    lines = bar_lines(capsys.readouterr().err)
    assert lines[0].split("|")[-1].lstrip().startswith("3/6 "), lines      # not 0/6, then a jump of 3
    assert lines[-1].split("|")[-1].lstrip().startswith("6/6 "), lines
    assert not any(" 0/6 " in line for line in lines), lines


def test_a_terminal_of_0_columns_gets_plain_lines(tmp_path):
    import os
    from rnnlab.training.reporting import progress_bar
    master, slave = os.openpty()            # a fresh pseudo-terminal reports 0 columns, 0 lines
    with os.fdopen(slave, "w") as stream:
        assert stream.isatty() and os.get_terminal_size(slave).columns == 0
        bar = progress_bar(3, "steps", stream=stream)
        for _ in range(3):
            bar.update(1)
        bar.close()
    os.set_blocking(master, False)
    chunks = []
    while True:
        try:
            chunks.append(os.read(master, 65536))
        except (BlockingIOError, OSError):      # all read (OSError: the closed terminal's side)
            break
        if not chunks[-1]:
            break
    os.close(master)
    shown = b"".join(chunks).decode()
    assert "3/3" in shown and "steps" in shown, repr(shown)


ARGV = {"train": [], "evaluate": ["run"], "plot": ["run"], "gradcheck": ["lstm"], "experiments": ["list"],
        "demo": []}


def error_kinds():
    from rnnlab.datasets import DatasetError
    from rnnlab.training import CheckpointError, Diverged, Interrupted, RunDirError
    from rnnlab.training.config import ConfigError
    return [lambda m: Interrupted(m, "runs/x"), Diverged, ConfigError, RunDirError, CheckpointError, DatasetError]


@given(command=st.sampled_from(sorted(ARGV)), kind=st.integers(0, 5),
       text=st.text(st.characters(codec="ascii", categories=("L", "N", "Zs")), min_size=1, max_size=30))
def test_every_message_of_the_command_names_its_operation_once(command, kind, text):
    import contextlib
    import io
    from unittest import mock
    from rnnlab import cli
    message = f"{command}: {text}"

    def fail(args):
        raise error_kinds()[kind](message)

    err = io.StringIO()
    with mock.patch.dict(cli.HANDLERS, {command: fail}), contextlib.redirect_stderr(err):
        cli.main([command, *ARGV[command]])
    line = err.getvalue()
    assert line.startswith(f"rnnlab {command}: ") and text in line, line
    assert line.count(f"{command}: ") == 1 + text.count(f"{command}: "), line


def test_a_corpus_is_counted_in_tokens(tmp_path, capsys, monkeypatch):
    from rnnlab.datasets.ptb import PTB_MD5
    from tests.datasets.dataset_files import write_ptb
    for name, md5 in write_ptb(tmp_path / "ptb").items():
        monkeypatch.setitem(PTB_MD5, name, md5)
    assert main(["train", "--task", "ptb", "--data-dir", str(tmp_path), "--batch-size", "2", "--tbptt", "3",
                 "--hidden", "4", "--steps", "1", "--out", str(tmp_path / "run")]) == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert " tokens), " in first and "training examples" not in first, first


def test_plots_of_several_runs_go_to_the_current_directory(tmp_path, capsys, monkeypatch):
    runs = [tmp_path / "a", tmp_path / "b"]
    for run in runs:
        assert main(["train", *TINY, "--steps", "2", "--no-progress", "--out", str(run)]) == 0
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    assert main(["plot", *map(str, runs)]) == 0
    assert (here / "loss.png").is_file()
    assert not any(run.joinpath("loss.png").exists() for run in runs)
    assert main(["plot", str(runs[0])]) == 0          # one run: its own folder, as before
    assert (runs[0] / "loss.png").is_file()


def test_evaluate_reads_moved_data_from_data_dir(tmp_path, capsys, monkeypatch):
    import shutil
    from rnnlab.datasets.ptb import PTB_MD5
    from tests.datasets.dataset_files import write_ptb
    for name, md5 in write_ptb(tmp_path / "old" / "ptb").items():
        monkeypatch.setitem(PTB_MD5, name, md5)
    monkeypatch.delenv("RNNLAB_DATA", raising=False)
    run = tmp_path / "run"
    assert main(["train", "--task", "ptb", "--data-dir", str(tmp_path / "old"), "--batch-size", "2", "--tbptt",
                 "3", "--hidden", "4", "--steps", "1", "--no-progress", "--out", str(run)]) == 0
    before = capsys.readouterr().out
    shutil.move(tmp_path / "old", tmp_path / "new")
    files = sorted(p.name for p in run.iterdir())
    assert main(["evaluate", str(run), "--data-dir", str(tmp_path / "new")]) == 0
    shown = capsys.readouterr().out
    summary = json.loads((run / "summary.json").read_text())
    assert f"loss {summary['test_loss']:.6g}" in shown, (shown, before)
    assert sorted(p.name for p in run.iterdir()) == files                   # evaluate writes nothing
    code = main(["evaluate", str(run), "--data-dir", str(tmp_path / "nowhere")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "nowhere" in err[0], err
