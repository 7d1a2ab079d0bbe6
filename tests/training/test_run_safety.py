"""No lost runs, no silent failures: locks, signals, divergence, killed-and-resumed runs that match bit for bit."""
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from rnnlab.cli import main
from rnnlab.training import Run, checkpoints
from rnnlab.training.rundir import LOCK

TINY = ["--seq-len", "8", "--train-size", "40", "--test-size", "16", "--val-size", "16", "--hidden", "5",
        "--batch-size", "8", "--eval-every", "5", "--no-progress"]
# checkpoint every 3 steps, log every 2: a checkpoint falls between two log lines; TBPTT(3, 5) and FW K=2 as well
HARD = [*TINY, "--cell", "momentum-lstm", "--tbptt", "3", "--tbptt-k2", "5", "--optimizer", "fw", "--fw-k", "2",
        "--log-every", "2", "--checkpoint-every", "3", "--keep-best"]


def cli(args):
    return [sys.executable, "-m", "rnnlab.cli", *args]


def without_wall_time(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in rows]


def wait_for(path, proc, seconds=180):
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def stopped_then_resumed(monkeypatch, argv, at: int) -> None:
    """Run ``argv`` stopped (as by Ctrl-C) when it reaches step ``at``, then resume it to the end."""
    step = Run.train_step

    def stop(run):
        if run.step == at:
            raise KeyboardInterrupt
        step(run)
    monkeypatch.setattr(Run, "train_step", stop)
    assert main(argv) == 130
    monkeypatch.setattr(Run, "train_step", step)
    assert main(["train", "--resume", argv[argv.index("--out") + 1], "--no-progress"]) == 0


def test_killed_twice_and_resumed_gives_the_same_checkpoint_bytes_and_metrics(tmp_path):
    steps = 40
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    assert main(["train", "--steps", str(steps), "--out", str(whole), *HARD]) == 0
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for point in (7, 16):           # SIGKILL after two different checkpoints, then resume to the end
        if not killed.exists():
            proc = subprocess.Popen(cli(["train", "--steps", str(steps), "--out", str(killed), *HARD]), env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        else:
            proc = subprocess.Popen(cli(["train", "--resume", str(killed), "--no-progress"]), env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 180
        while True:
            try:
                _, meta = checkpoints.load(killed / "checkpoint.npz")
                if meta["step"] >= point:
                    break
            except checkpoints.CheckpointError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert (killed / LOCK).exists()     # a killed run leaves its lock; the next one takes it over
    assert main(["train", "--resume", str(killed), "--no-progress"]) == 0
    for name in ("checkpoint.npz", "best.npz"):
        assert (whole / name).read_bytes() == (killed / name).read_bytes(), name
    assert without_wall_time(whole) == without_wall_time(killed)
    a, b = (json.loads((d / "summary.json").read_text()) for d in (whole, killed))
    for s in (a, b):
        s.pop("wall_time"), s["config"].pop("out")
    assert a == b


def test_a_run_stopped_between_log_lines_resumes_with_the_same_bytes(tmp_path, capsys, monkeypatch):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["train", "--steps", "12", "--out", str(whole), *HARD]) == 0
    # stopped at step 7: mid-minibatch (TBPTT chunks), between a checkpoint (6) and a log line (8)
    stopped_then_resumed(monkeypatch, ["train", "--steps", "12", "--out", str(part), *HARD], 7)
    capsys.readouterr()
    for name in ("checkpoint.npz", "best.npz"):
        assert (whole / name).read_bytes() == (part / name).read_bytes(), name
    assert without_wall_time(whole) == without_wall_time(part)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_checkpoints_prints_the_resume_line_and_exits_130(sig, tmp_path):
    run = tmp_path / "run"
    proc = subprocess.Popen(cli(["train", "--steps", "100000", "--out", str(run), *TINY, "--checkpoint-every", "2"]),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    wait_for(run / "checkpoint.npz", proc)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err.decode()
    last = err.decode().strip().splitlines()[-1]
    assert f"continue with: rnnlab train --resume {run}" in last and "Traceback" not in err.decode()
    _, meta = checkpoints.load(run / "checkpoint.npz")
    assert len((run / "metrics.jsonl").read_text().splitlines()) == meta["metrics_lines"]   # nothing after it
    assert not (run / LOCK).exists()
    assert main(["train", "--resume", str(run), "--steps", str(meta["step"] + 2), "--no-progress"]) == 0


def test_divergence_stops_with_one_line_keeps_the_last_good_checkpoint_and_says_so(tmp_path, capsys):
    run = tmp_path / "run"
    code = main(["train", "--steps", "50", "--out", str(run), *TINY, "--cell", "rnn", "--nonlinearity", "relu",
                 "--optimizer", "sgd", "--lr", "1e30", "--checkpoint-every", "1"])
    err = capsys.readouterr().err
    assert code == 3
    line = err.strip().splitlines()[-1]
    assert "became" in line and "--lr" in line and "--clip-norm" in line, line
    summary = json.loads((run / "summary.json").read_text())
    assert f"at step {summary['steps'] + 1};" in line, line      # the step that diverged: one after the last good
    assert summary["diverged"] is True and summary["test_loss"] is None
    _, meta = checkpoints.load(run / "checkpoint.npz")
    assert meta["step"] == summary["steps"]          # the last good step, nothing after it
    for name in ("summary.json", "metrics.jsonl"):
        text = (run / name).read_text()
        assert "NaN" not in text and "Infinity" not in text


def test_a_second_run_into_a_locked_directory_is_refused_naming_the_holder(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--steps", "2", "--out", str(run), *TINY]) == 0
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / LOCK).write_text(json.dumps({"host": os.uname().nodename, "pid": holder.pid}))
        code = main(["train", "--resume", str(run), "--steps", "4", "--no-progress"])
        err = capsys.readouterr().err
        assert code == 2 and f"in use by process {holder.pid}" in err
    finally:
        holder.kill()
        holder.wait()
    _, meta = checkpoints.load(run / "checkpoint.npz")
    assert meta["step"] == 2
    assert main(["train", "--resume", str(run), "--steps", "4", "--no-progress"]) == 0    # a stale lock is taken over
    assert not (run / LOCK).exists()


def test_overwrite_replaces_the_run_and_without_it_nothing_changes(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--steps", "2", "--out", str(run), *TINY]) == 0
    before = (run / "checkpoint.npz").read_bytes()
    assert main(["train", "--steps", "3", "--out", str(run), *TINY]) == 2
    assert (run / "checkpoint.npz").read_bytes() == before
    assert main(["train", "--steps", "3", "--out", str(run), "--overwrite", *TINY]) == 0
    assert json.loads((run / "summary.json").read_text())["steps"] == 3


def test_runs_without_out_get_a_new_directory_each(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--steps", "1", *TINY]) == 0
    assert main(["train", "--steps", "1", *TINY]) == 0
    made = sorted((tmp_path / "runs").iterdir())
    assert len(made) == 2 and all(d.name.startswith("adding-lstm-") for d in made)
    assert all((d / "summary.json").exists() for d in made)


def test_recorded_gradient_norms_survive_a_stop_and_resume(tmp_path, capsys, monkeypatch):
    args = [*TINY, "--cell", "momentum-rnn", "--record-grad-norms", "--log-every", "2", "--checkpoint-every", "2"]
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["train", "--steps", "8", "--out", str(whole), *args]) == 0
    stopped_then_resumed(monkeypatch, ["train", "--steps", "8", "--out", str(part), *args], 5)
    capsys.readouterr()
    a, _ = checkpoints.load(whole / "grad_norms.npz")
    b, _ = checkpoints.load(part / "grad_norms.npz")
    assert list(a["steps"]) == [2, 4, 6, 8] and sorted(a) == sorted(b)
    for key in a:
        assert (a[key] == b[key]).all(), key
