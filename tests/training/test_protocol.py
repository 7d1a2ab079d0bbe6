"""The protocol: validation during training, the test split once at the end, PTB scored as one stream,
means over predictions, and summaries with fixed keys."""
import dataclasses
import json
import math
import re

import pytest

from rnnlab.cli import main
from rnnlab.training import Run, evaluate, evaluate_run, from_mapping
from rnnlab.training import evaluation
from rnnlab.datasets import PTB_MD5
from rnnlab.optim import ReduceOnPlateau
from tests.datasets.dataset_files import write_ptb

TINY = dict(seq_len=8, train_size=48, test_size=16, val_size=16, hidden=5, batch_size=8, progress=False,
            log_every=1, checkpoint_every=100)


def tiny(tmp_path, **values):
    return from_mapping({**TINY, "out": str(tmp_path / "run"), **values}, "test")


def test_plateau_schedule_steps_on_the_validation_loss_only(tmp_path, monkeypatch):
    seen = []
    real = evaluation.evaluate

    def spy(cfg, task, model, split="val", comm=None):
        seen.append(split)
        return real(cfg, task, model, split, comm) if comm is not None else real(cfg, task, model, split)
    monkeypatch.setattr("rnnlab.training.loop.evaluate", spy)
    losses, real_step = [], ReduceOnPlateau.step

    def spy_step(self, metric):
        losses.append(float(metric))
        real_step(self, metric)
    monkeypatch.setattr(ReduceOnPlateau, "step", spy_step)
    summary = Run(tiny(tmp_path, steps=12, eval_every=3, schedule="plateau", patience=1)).run()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    val = [r["loss"] for r in rows if r["split"] == "val"]
    assert seen == ["val"] * 4 + ["test"]             # steps 3, 6, 9 and the end (12): val; then test, once
    assert losses == val                               # the schedule read exactly the validation losses
    assert summary["val_loss"] == val[-1]


def test_keep_best_tests_the_last_and_the_best_model_under_fixed_keys(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--steps", "10", "--eval-every", "2", "--keep-best", "--task",
                 "copying", "--cell", "gru", "--seq-len", "5", "--train-size", "48", "--test-size", "16",
                 "--val-size", "16", "--hidden", "4", "--batch-size", "8", "--no-progress"]) == 0
    out = capsys.readouterr().out
    summary = json.loads((run / "summary.json").read_text())
    keys = {"val_loss", "val_accuracy", "test_loss", "test_accuracy", "best_step", "best_val_loss",
            "best_test_loss", "best_test_accuracy", "baseline_loss", "diverged"}
    assert keys <= set(summary) and summary["diverged"] is False
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    val = {r["step"]: r["loss"] for r in rows if r["split"] == "val"}
    assert summary["best_val_loss"] == min(val.values()) and val[summary["best_step"]] == summary["best_val_loss"]
    best = evaluate_run(run, split="test", checkpoint="best")
    last = evaluate_run(run, split="test", checkpoint="last")
    assert best["loss"] == pytest.approx(summary["best_test_loss"], rel=1e-12)
    assert last["loss"] == pytest.approx(summary["test_loss"], rel=1e-12)
    assert best["step"] == summary["best_step"] and last["step"] == 10
    assert re.search(r"test loss [\d.e-]+, .*(baseline|learned)", out.strip().splitlines()[-1])


def test_per_step_targets_are_averaged_over_every_prediction_whatever_the_batch(tmp_path):
    cfg = tiny(tmp_path, task="copying", cell="gru", seq_len=4, test_size=23, steps=1)
    with Run(cfg) as run:
        losses = []
        for batch in (23, 7, 5, 1):
            cfg = dataclasses.replace(run.cfg, eval_batch_size=batch)    # 23 sequences in batches: 7+7+7+2, ...
            losses.append(evaluate(cfg, run.task, run.model, "test")["loss"])
    assert losses == pytest.approx([losses[0]] * 4, rel=1e-6)


@pytest.fixture
def ptb_dir(tmp_path, monkeypatch):
    """A tiny corpus in PTB's layout; its checksums stand in for the real files' for the test."""
    for name, md5 in write_ptb(tmp_path / "ptb").items():
        monkeypatch.setitem(PTB_MD5, name, md5)
    return tmp_path


def spy_forward(run, seen):
    forward = run.model.forward

    def spy(x, state=None, t0=0, **kw):
        seen.append((state is None, t0))
        return forward(x, state, t0=t0, **kw)
    run.model.forward = spy


def test_the_carried_ptb_state_starts_fresh_at_every_epoch(ptb_dir, tmp_path):
    cfg = tiny(tmp_path, task="ptb", data_dir=str(ptb_dir), tbptt=2, batch_size=2, embedding=3, steps=1)
    with Run(cfg) as run:
        per_epoch, seen = len(run.work.loader), []
        spy_forward(run, seen)
        for _ in range(3 * per_epoch):
            run.work.next()
    assert per_epoch > 1
    assert [fresh for fresh, _ in seen] == [i % per_epoch == 0 for i in range(3 * per_epoch)]


def test_ptb_validation_is_one_continuous_stream(ptb_dir, tmp_path):
    from rnnlab.engine.tensor import Tensor, no_grad
    cfg = tiny(tmp_path, task="ptb", data_dir=str(ptb_dir), tbptt=2, batch_size=2, embedding=3, steps=1,
               cell="momentum-lstm")
    with Run(cfg) as run:
        assert evaluation.eval_batch_size(run.cfg, run.task) == 1
        chunked = evaluate(run.cfg, run.task, run.model, "val")["loss"]
        tokens = run.task.val
        with no_grad():              # the whole stream in one piece: what chunks with a carried state must equal
            pred, _ = run.model(Tensor(tokens[:-1, None]))
            whole = evaluation.task_loss(run.task, pred, Tensor(tokens[1:, None])).item()
    assert chunked == pytest.approx(whole, rel=1e-5)


def test_the_momentum_clock_runs_on_across_ptb_chunks_or_restarts_per_chunk(ptb_dir, tmp_path):
    for clock, expected in (("sequence", [0, 2, 4]), ("chunk", [0, 0, 0])):
        cfg = tiny(tmp_path, task="ptb", data_dir=str(ptb_dir), tbptt=2, batch_size=2, embedding=3, steps=1,
                   cell="nesterov-lstm", momentum_clock=clock, out=str(tmp_path / clock))
        with Run(cfg) as run:
            seen = []
            spy_forward(run, seen)
            for _ in range(3):
                run.work.next()
        assert [t0 for _, t0 in seen] == expected, clock


def test_every_flag_shows_its_choices_and_default(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "{rnn, indrnn, lstm, gru, momentum-rnn" in text and "orthogonal-rnn" in text
    assert "{adding, copying, mnist-row" in text and "{sgd, adam, rmsprop, fw}" in text
    assert "(default: 'adding')" in text and "(default: 64)" in text and "(default: 0.003)" in text


def test_tbptt_k2_above_k1_trains_from_the_command_line(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "run"), "--steps", "4", "--tbptt", "3", "--tbptt-k2", "6",
                 "--seq-len", "8", "--train-size", "16", "--hidden", "3", "--batch-size", "8", "--no-progress"]) == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["tbptt"], config["tbptt_k2"]) == (3, 6)


def test_the_run_says_what_it_chose_for_values_that_mean_default(tmp_path, capsys):
    assert main(["train", "--out", str(tmp_path / "run"), "--steps", "1", "--seq-len", "0", "--hidden", "3",
                 "--train-size", "16", "--val-size", "8", "--test-size", "8", "--batch-size", "8"]) == 0
    err = capsys.readouterr().err
    assert "adding (T=100" in err and "1 steps from --steps" in err


def test_summary_values_are_finite_or_null(tmp_path):
    summary = Run(tiny(tmp_path, steps=2, optimizer="fw", fw_p=math.inf)).run()
    text = (tmp_path / "run" / "summary.json").read_text()
    assert "Infinity" not in text and json.loads(text)["config"]["fw_p"] == "inf"
    again = from_mapping(json.loads((tmp_path / "run" / "config.json").read_text()), "config.json")
    assert summary["config"]["fw_p"] == again.fw_p == math.inf


def test_no_kernels_trains_on_the_readable_loop_and_gives_the_switch_back(tmp_path):
    import numpy as np
    from rnnlab.cells import kernels
    from rnnlab.cells.fused import kernels_in_use
    before, seen = kernels.enabled(), []
    cfg = tiny(tmp_path, steps=2, cell="lstm", kernels=False)
    with Run(cfg) as run:
        forward = run.model.forward

        def spy(*args, **kw):
            seen.append(kernels_in_use(np))
            return forward(*args, **kw)
        run.model.forward = spy
        run.work.next()
    assert seen == [None]                         # no compiled kernel while the run holds --no-kernels
    assert kernels.enabled() == before            # and the caller's switch is back afterwards


def test_plots_against_gradient_evaluations_with_the_baseline(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--out", str(run), "--steps", "4", "--optimizer", "fw", "--fw-k", "3", "--seq-len", "6",
                 "--train-size", "24", "--hidden", "3", "--batch-size", "8", "--log-every", "1",
                 "--no-progress"]) == 0
    assert main(["plot", str(run), "--x", "grad_evals"]) == 0
    for name in ("loss_by_grad_evals.png",):
        assert (run / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["grad_evals"] for r in rows if r["split"] == "train"] == [3, 6, 9, 12]


def test_many_overlaid_runs_put_the_legend_beside_the_axes_on_a_wider_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from rnnlab.training.plots import LEGEND_INSIDE, place_legend
    for n, inside in ((LEGEND_INSIDE, True), (LEGEND_INSIDE + 1, False)):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for k in range(n):
            ax.plot([0, 1], [k, k], label=f"run {k}")
        place_legend(fig, ax)
        fig.canvas.draw()
        legend = ax.get_legend().get_window_extent()
        axes = ax.get_window_extent()
        assert (legend.x0 < axes.x1) == inside, (n, legend, axes)
        assert fig.get_size_inches()[0] == (7 if inside else 10)
        plt.close(fig)
