"""Checkpoints: a run stopped (or killed) and resumed continues exactly as an uninterrupted run."""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from rnnlab.training import checkpoints as checkpoint
from rnnlab.cli import main

TINY = ["--seq-len", "8", "--train-size", "40", "--test-size", "16", "--hidden", "5", "--batch-size", "8",
        "--eval-every", "5", "--log-every", "1", "--checkpoint-every", "3", "--no-progress"]

VARIANTS = {
    "adam-dropout-tbptt": ["--cell", "lstm", "--layers", "2", "--dropout", "0.2", "--tbptt", "4"],
    "fw-outer-adam-schedule": ["--cell", "momentum-rnn", "--optimizer", "fw", "--fw-k", "2", "--fw-outer", "adam",
                               "--schedule", "step", "--lr-step", "4", "--lr-decay", "0.5"],
    "dtriv-rebase-every-3": ["--cell", "momentum-orthogonal-rnn", "--rebase-every", "3", "--optimizer", "rmsprop"],
    "rmsprop-copying": ["--task", "copying", "--cell", "gru", "--optimizer", "rmsprop", "--momentum", "0.5"],
    "tbptt-k2-above-k1": ["--cell", "nesterov-lstm", "--restart", "3", "--tbptt", "3", "--tbptt-k2", "5"],
}


def final_state(run_dir):
    arrays, meta = checkpoint.load(run_dir / "checkpoint.npz")
    return arrays, meta["step"]


def train_lines(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()
            if json.loads(line)["split"] == "train"]


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_resumed_run_continues_bit_exactly(variant, tmp_path, capsys):
    args = [*TINY, *VARIANTS[variant]]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["train", "--steps", "14", "--out", str(whole), *args]) == 0
    assert main(["train", "--steps", "7", "--out", str(part), *args]) == 0
    assert main(["train", "--resume", str(part), "--steps", "14", "--no-progress"]) == 0
    capsys.readouterr()
    a, step_a = final_state(whole)
    b, step_b = final_state(part)
    assert step_a == step_b == 14
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
    assert [r["loss"] for r in train_lines(whole)] == [r["loss"] for r in train_lines(part)]


def test_killed_run_resumes_and_matches_an_uninterrupted_run(tmp_path, capsys):
    args = [*TINY, "--cell", "rnn", "--checkpoint-every", "2"]
    killed = tmp_path / "killed"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "rnnlab.cli", "train", "--steps", "100000", "--out", str(killed),
                             *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    try:
        while not (killed / "checkpoint.npz").exists():
            assert proc.poll() is None, proc.stderr.read().decode()
            assert time.monotonic() < deadline, "no checkpoint appeared within 120 s"
            time.sleep(0.01)
        time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    _, reached = final_state(killed)
    target = reached + 6
    assert main(["train", "--resume", str(killed), "--steps", str(target), "--no-progress"]) == 0
    whole = tmp_path / "whole"
    assert main(["train", "--steps", str(target), "--out", str(whole), *args]) == 0
    capsys.readouterr()
    a, _ = final_state(whole)
    b, _ = final_state(killed)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("damage", ["flip-a-weight-byte", "truncate"])
def test_a_damaged_checkpoint_is_refused_with_one_clear_line(damage, tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--steps", "3", "--out", str(run), *TINY]) == 0
    path = run / "checkpoint.npz"
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[:-100]
    else:
        arrays, _ = checkpoint.load(path)
        weight = arrays["model/head.weight"].tobytes()
        at = bytes(data).index(weight) + len(weight) // 2
        data[at] ^= 0x01
    path.write_bytes(bytes(data))
    code = main(["train", "--resume", str(run), "--steps", "6"])
    err = capsys.readouterr().err
    assert code == 2 and "is corrupted" in err and len(err.strip().splitlines()) == 1


def test_checkpoint_round_trips_nested_optimizer_state_without_pickle(tmp_path):
    state = {"state": {0: {"step": 3, "m": np.arange(4.0)}}, "groups": [{"lr": 0.1, "betas": [0.9, 0.99]}]}
    arrays, meta = {}, {}
    checkpoint.flatten("opt", state, arrays, meta)
    path = checkpoint.save(tmp_path / "c.npz", arrays, {"tree": meta})
    loaded, info = checkpoint.load(path)
    back = checkpoint.unflatten("opt", loaded, info["tree"])
    assert back["state"][0]["step"] == 3 and back["groups"][0]["betas"] == [0.9, 0.99]
    np.testing.assert_array_equal(back["state"][0]["m"], np.arange(4.0))
