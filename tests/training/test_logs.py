"""What a run logs: metrics.jsonl's lr and grad_norm, the progress bar on a resume and at the end, and the
one-line messages of the command."""
import json
import math

import pytest

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
