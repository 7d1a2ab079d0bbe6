"""A run directory's files under damage and misuse: refused with one line (exit 2) and nothing changed, or
repaired; never glued, duplicated or deleted. Each case here lost data or gave a traceback before rundir
owned a run's files."""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys

import pytest

from rnnlab.cli import main
from rnnlab.training import Run, checkpoints, loop
from rnnlab.training.rundir import LOCK

TINY = ["--seq-len", "6", "--train-size", "24", "--test-size", "8", "--val-size", "8", "--hidden", "3",
        "--batch-size", "8", "--eval-every", "2", "--log-every", "1", "--checkpoint-every", "2", "--no-progress"]


def snapshot(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() and
            not p.is_symlink() else ("link" if p.is_symlink() else "dir") for p in sorted(root.rglob("*"))}


def refused(capsys, argv, *needles) -> str:
    """``argv`` exits 2 with one stderr line holding every needle, and no traceback; returns the line."""
    code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, err
    return err


def rows(run_dir):
    return [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def without_wall_time(run_dir):
    return [{k: v for k, v in r.items() if k != "wall_time"} for r in rows(run_dir)]


@pytest.fixture
def run(tmp_path, capsys):
    """A finished 4-step run (checkpoints at 2 and 4, validation at 2 and 4)."""
    path = tmp_path / "run"
    assert main(["train", "--steps", "4", "--out", str(path), *TINY]) == 0
    capsys.readouterr()
    return path


# ------------------------------------------------------------------------------------------- metrics.jsonl
def test_a_counted_metrics_row_cut_short_is_refused_before_anything_is_appended(run, capsys):
    _, meta = checkpoints.load(run / "checkpoint.npz")
    text = (run / "metrics.jsonl").read_text()
    counted = text.splitlines(keepends=True)[:meta["metrics_lines"]]
    cut = "".join(counted)[:-25]                       # inside the last row the checkpoint counts
    (run / "metrics.jsonl").write_text(cut)
    before = snapshot(run)
    refused(capsys, ["train", "--resume", str(run), "--steps", "6", "--no-progress"], "metrics.jsonl", "cut")
    assert snapshot(run) == before


def test_a_fragment_after_the_checkpoint_is_cut_off_and_the_resumed_rows_equal_an_uninterrupted_run(
        tmp_path, capsys):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["train", "--steps", "6", "--out", str(whole), *TINY]) == 0
    assert main(["train", "--steps", "4", "--out", str(part), *TINY]) == 0
    (part / "summary.json").unlink()
    with open(part / "metrics.jsonl", "a") as f:
        f.write('{"step": 5, "epoch": 0, "spl')          # a writer killed inside a row
    assert main(["train", "--resume", str(part), "--steps", "6", "--no-progress"]) == 0
    capsys.readouterr()
    assert without_wall_time(whole) == without_wall_time(part)


def test_a_finished_run_whose_summary_was_deleted_resumes_without_a_second_validation(run, capsys):
    before = without_wall_time(run)
    (run / "summary.json").unlink()
    assert main(["train", "--resume", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    after = without_wall_time(run)
    assert after == before
    assert [r["step"] for r in after if r["split"] == "val"] == [2, 4]
    assert json.loads((run / "summary.json").read_text())["steps"] == 4


# ------------------------------------------------------------------------------------------- the lock
def test_overwrite_of_a_live_run_is_refused_before_any_file_is_deleted(run, capsys):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run / LOCK).write_text(json.dumps({"host": os.uname().nodename, "pid": holder.pid}))
        before = snapshot(run)
        refused(capsys, ["train", "--steps", "2", "--out", str(run), "--overwrite", *TINY],
                f"in use by process {holder.pid}")
        assert snapshot(run) == before
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.parametrize("content", ['{"host": "h", "pid": "abc"}', "12345", "", "garbage \x00", "folder"])
def test_a_malformed_lock_is_reported_with_its_content_and_how_to_clear_it(run, capsys, content):
    lock = run / LOCK
    if content == "folder":
        lock.mkdir()
    else:
        lock.write_text(content)
    before = snapshot(run)
    line = refused(capsys, ["train", "--resume", str(run), "--steps", "6", "--no-progress"], "not an rnnlab lock",
                   f"rm -r {lock}")
    shown = "it is a folder" if content == "folder" else ("it is empty" if not content else repr(content))
    assert shown in line
    assert snapshot(run) == before


def test_orphaned_temporary_files_are_removed_under_the_lock(run, capsys):
    orphan = run / ".checkpoint.npz.k1ll3d.tmp"
    orphan.write_bytes(b"half a checkpoint")
    assert main(["train", "--resume", str(run), "--steps", "6", "--no-progress"]) == 0
    assert not orphan.exists()
    assert not list(run.glob(".*.tmp"))


# ------------------------------------------------------------------------------------------- --overwrite, --out
def test_overwrite_replaces_only_an_rnnlab_run(tmp_path, capsys):
    folder = tmp_path / "other-program"
    folder.mkdir()
    (folder / "config.json").write_text('{"learning_rate": 3}')
    (folder / "metrics.jsonl").write_text("theirs\n")
    before = snapshot(folder)
    refused(capsys, ["train", "--steps", "2", "--out", str(folder), "--overwrite", *TINY], "no rnnlab run",
            "nothing was replaced")
    assert snapshot(folder) == before


def test_a_dangling_out_symlink_names_its_target(tmp_path, capsys):
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "gone")
    refused(capsys, ["train", "--steps", "2", "--out", str(link), *TINY], "symbolic link", "does not exist")
    assert link.is_symlink() and not (tmp_path / "gone").exists()


def test_a_keep_best_run_without_its_best_file_is_refused_before_the_first_step(tmp_path, capsys):
    path = tmp_path / "run"
    assert main(["train", "--steps", "4", "--out", str(path), *TINY, "--keep-best"]) == 0
    (path / "best.npz").unlink()
    (path / "summary.json").unlink()
    before = snapshot(path)
    refused(capsys, ["train", "--resume", str(path), "--steps", "6", "--no-progress"], "best.npz", "keep_best")
    assert snapshot(path) == before


# ------------------------------------------------------------------------------------------- checkpoints
def test_an_unreadable_checkpoint_is_not_called_corrupted(run, monkeypatch, capsys):
    real = open

    def denied(path, *args, **kwargs):
        if str(path).endswith("checkpoint.npz"):
            raise PermissionError(13, "Permission denied", str(path))
        return real(path, *args, **kwargs)
    monkeypatch.setattr(checkpoints, "open", denied, raising=False)
    line = refused(capsys, ["evaluate", str(run)], "cannot be read", "Permission denied")
    assert "corrupted" not in line


def test_a_damaged_checkpoint_is_called_corrupted(run, capsys):
    data = (run / "checkpoint.npz").read_bytes()
    (run / "checkpoint.npz").write_bytes(data[:-100])
    refused(capsys, ["evaluate", str(run)], "corrupted")


def test_evaluate_refuses_a_checkpoint_of_another_run_as_resume_does(run, tmp_path, capsys):
    other = tmp_path / "other"
    assert main(["train", "--steps", "2", "--out", str(other), *TINY, "--hidden", "4"]) == 0
    shutil.copy(other / "checkpoint.npz", run / "checkpoint.npz")
    before = snapshot(run)
    refused(capsys, ["evaluate", str(run)], "belongs to another run", "hidden")
    refused(capsys, ["train", "--resume", str(run), "--steps", "6", "--no-progress"], "belongs to another run")
    assert snapshot(run) == before


def test_divergence_before_the_first_checkpoint_says_nothing_can_be_resumed(tmp_path, capsys):
    path = tmp_path / "run"
    code = main(["train", "--steps", "50", "--out", str(path), *TINY, "--cell", "rnn", "--nonlinearity", "relu",
                 "--optimizer", "sgd", "--lr", "1e30", "--checkpoint-every", "100"])
    err = capsys.readouterr().err
    assert code == 3, err
    assert "no checkpoint was written yet" in err and "nothing can be resumed" in err, err
    assert not (path / "checkpoint.npz").exists()


# ------------------------------------------------------------------------------------------- signals
def test_a_signal_during_the_final_test_evaluation_stops_the_run_and_resume_finishes_it(tmp_path, monkeypatch,
                                                                                          capsys):
    whole, part = tmp_path / "whole", tmp_path / "part"
    assert main(["train", "--steps", "4", "--out", str(whole), *TINY]) == 0
    real = loop.evaluate

    def interrupted(cfg, task, model, split, **kw):
        if split == "test":
            os.kill(os.getpid(), signal.SIGINT)
        return real(cfg, task, model, split, **kw)
    monkeypatch.setattr(loop, "evaluate", interrupted)
    code = main(["train", "--steps", "4", "--out", str(part), *TINY])
    err = capsys.readouterr().err
    assert code == 130, err
    assert "final test evaluation" in err and f"--resume {part}" in err
    assert not (part / "summary.json").exists()
    monkeypatch.setattr(loop, "evaluate", real)
    assert main(["train", "--resume", str(part), "--no-progress"]) == 0
    assert without_wall_time(whole) == without_wall_time(part)


def test_ctrl_c_while_importing_is_one_line_and_exit_130(tmp_path):
    script = ("import sys\n"
              "class Stop:\n"
              "    def find_spec(self, name, path=None, target=None):\n"
              "        if name == 'rnnlab.cli':\n"
              "            raise KeyboardInterrupt\n"
              "sys.meta_path.insert(0, Stop())\n"
              "import rnnlab_launcher\n"
              "sys.exit(rnnlab_launcher.main())\n")
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 130, proc.stderr
    assert proc.stderr.strip() == "rnnlab: interrupted"


def test_a_closed_pipe_ends_the_listing_quietly():
    proc = subprocess.Popen([sys.executable, "-m", "rnnlab.cli", "experiments", "list"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()                 # `| head` that has read enough
    err = proc.stderr.read().decode()
    proc.wait(timeout=120)
    assert "Traceback" not in err and "BrokenPipe" not in err and "Exception ignored" not in err, err


# ------------------------------------------------------------------------------------------- plot, evaluate
def test_plot_of_a_missing_run_creates_nothing(tmp_path, capsys):
    refused(capsys, ["plot", str(tmp_path / "NONEXISTENT")], "NONEXISTENT")
    refused(capsys, ["plot", str(tmp_path / "NONEXISTENT"), "--out", str(tmp_path / "X")])
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_plot_of_an_empty_metrics_file_is_refused_and_creates_nothing(run, tmp_path, capsys):
    (run / "metrics.jsonl").write_text("")
    before = snapshot(run)
    refused(capsys, ["plot", str(run), "--out", str(tmp_path / "pngs")], "no rows")
    assert not (tmp_path / "pngs").exists() and snapshot(run) == before


def test_plot_out_that_is_a_file_is_refused(run, tmp_path, capsys):
    target = tmp_path / "file.png"
    target.write_text("mine")
    refused(capsys, ["plot", str(run), "--out", str(target)], "is a file")
    assert target.read_text() == "mine"


def test_evaluate_of_a_missing_run_creates_nothing(tmp_path, capsys):
    refused(capsys, ["evaluate", str(tmp_path / "NONEXISTENT")], "NONEXISTENT")
    assert list(tmp_path.iterdir()) == []


def test_a_run_named_without_out_lands_in_runs_and_an_existing_empty_folder_is_trained_into(tmp_path, monkeypatch,
                                                                                              capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--steps", "2", *TINY]) == 0
    (made,) = (tmp_path / "runs").iterdir()
    assert made.name.startswith("adding-lstm-") and json.loads((made / "config.json").read_text())["out"] == \
        str(os.path.join("runs", made.name))
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["train", "--steps", "2", "--out", str(empty), *TINY]) == 0
    assert sorted(p.name for p in empty.iterdir()) == ["checkpoint.npz", "clock.json", "config.json",
                                                       "metrics.jsonl", "summary.json"]


def test_clock_json_is_read_back_so_wall_time_continues_after_a_resume(run, capsys):
    _, meta = checkpoints.load(run / "checkpoint.npz")
    (run / "clock.json").write_text(json.dumps({"step": meta["step"], "elapsed": 1000.0}))
    (run / "summary.json").unlink()
    assert main(["train", "--resume", str(run), "--steps", "6", "--no-progress"]) == 0
    resumed = [r for r in rows(run) if r["step"] > meta["step"]]
    assert resumed and all(1000.0 <= r["wall_time"] < 1000.0 + 600 for r in resumed)
    summary = json.loads((run / "summary.json").read_text())
    assert 1000.0 <= summary["wall_time"] < 1600.0
    clock = json.loads((run / "clock.json").read_text())
    assert clock["step"] == 6 and clock["elapsed"] >= 1000.0
    # a stale clock (another step) is not read: the resumed time starts again from zero
    (run / "clock.json").write_text(json.dumps({"step": 2, "elapsed": 5000.0}))
    (run / "summary.json").unlink()
    assert main(["train", "--resume", str(run), "--steps", "8", "--no-progress"]) == 0
    assert all(r["wall_time"] < 600 for r in rows(run) if r["step"] > 6)


def test_overwrite_of_a_run_with_a_folder_among_its_files_deletes_nothing(run, capsys):
    (run / "best.npz").mkdir()                   # found by the fault harness: files were deleted, then it failed
    before = snapshot(run)
    refused(capsys, ["train", "--steps", "2", "--out", str(run), "--overwrite", *TINY], "best.npz", "not a file",
            "nothing was replaced")
    assert snapshot(run) == before


def test_a_refused_resume_leaves_even_orphaned_temporary_files(run, capsys):
    (run / "summary.json").unlink()
    (run / "checkpoint.npz").write_bytes(b"garbage")
    orphan = run / ".checkpoint.npz.k1ll3d.tmp"
    orphan.write_bytes(b"half")
    before = snapshot(run)
    refused(capsys, ["train", "--resume", str(run), "--steps", "6", "--no-progress"], "checkpoint")
    assert snapshot(run) == before


@pytest.mark.parametrize("name", ["metrics.jsonl", "best.npz"])
def test_a_file_from_another_run_is_refused_on_resume(tmp_path, capsys, name):
    """Found by the fault harness: another run's metrics.jsonl (same number of rows) or best.npz was taken."""
    run, other = tmp_path / "run", tmp_path / "other"
    for path, extra in ((run, []), (other, ["--seed", "7"])):
        assert main(["train", "--steps", "4", "--out", str(path), *TINY, "--keep-best", *extra]) == 0
    shutil.copy(other / name, run / name)
    before = snapshot(run)
    refused(capsys, ["train", "--resume", str(run), "--steps", "6", "--no-progress"],
            "another run" if name == "best.npz" else "not the rows this run's checkpoint recorded")
    assert snapshot(run) == before


def test_wall_time_is_the_seconds_since_the_start_non_decreasing_and_within_the_call(tmp_path, capsys):
    import time
    path = tmp_path / "run"
    start = time.perf_counter()
    assert main(["train", "--steps", "6", "--out", str(path), *TINY]) == 0
    took = time.perf_counter() - start
    times = [r["wall_time"] for r in rows(path)]
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= took
    assert times[-1] > times[0]                       # training steps take time: not a constant
    summary = json.loads((path / "summary.json").read_text())
    assert times[-1] - 0.001 <= summary["wall_time"] <= took
    assert json.loads((path / "clock.json").read_text())["elapsed"] <= summary["wall_time"] + 0.001


@pytest.mark.parametrize("name", ["clock.json", "summary.json", "grad_norms.npz"])
def test_a_resume_into_a_run_with_a_folder_among_its_files_changes_nothing(run, capsys, name):
    """Found by the fault harness: config.json and metrics.jsonl were rewritten, then writing clock.json failed."""
    (run / "summary.json").unlink()
    target = run / name
    target.unlink(missing_ok=True)
    target.mkdir()
    before = snapshot(run)
    refused(capsys, ["train", "--resume", str(run), "--steps", "6", "--no-progress"], name, "not a file")
    assert snapshot(run) == before


def test_a_best_file_older_than_the_runs_best_step_is_refused_on_resume(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--steps", "2", "--out", str(run), *TINY, "--keep-best", "--lr", "0.05"]) == 0
    old = (run / "best.npz").read_bytes()
    assert checkpoints.load(run / "best.npz")[1]["step"] == 2
    assert main(["train", "--resume", str(run), "--steps", "12", "--no-progress"]) == 0
    best_step = checkpoints.load(run / "best.npz")[1]["step"]
    assert best_step > 2, "the run must find a later best for this test to mean anything"
    (run / "summary.json").unlink()
    (run / "best.npz").write_bytes(old)
    before = snapshot(run)
    refused(capsys, ["train", "--resume", str(run), "--steps", "14", "--no-progress"], "best.npz",
            f"holds step 2, older than the best step {best_step}")
    assert snapshot(run) == before


@pytest.mark.parametrize("steps, epochs", [(-1, 0), (0, -1), (-3, -2)])
def test_resume_from_python_refuses_negative_steps_or_epochs_and_changes_nothing(run, steps, epochs):
    from rnnlab.training import ConfigError, resume
    (run / "summary.json").unlink()
    before = snapshot(run)
    with pytest.raises(ConfigError, match="must not be negative"):
        resume(run, steps=steps, epochs=epochs, progress=False)
    assert snapshot(run) == before


@pytest.mark.parametrize("optimizer, fw_k", [("adam", 1), ("fw", 2), ("fw", 3), ("fw", 50)])
def test_an_epochs_run_trains_the_epochs_minibatches_over_fw_k_and_at_least_one_step(tmp_path, optimizer, fw_k):
    """24 sequences in batches of 8: 3 minibatches an epoch; FW spends K of them on one outer step."""
    run = tmp_path / "run"
    extra = ["--fw-k", str(fw_k)] if optimizer == "fw" else []
    assert main(["train", "--epochs", "2", "--out", str(run), *TINY, "--optimizer", optimizer, *extra]) == 0
    steps = json.loads((run / "summary.json").read_text())["steps"]
    assert steps == max(1, 2 * 3 // fw_k)


def test_wall_times_are_kept_to_the_millisecond(tmp_path):
    assert main(["train", "--steps", "4", "--out", str(tmp_path / "run"), *TINY]) == 0
    times = [r["wall_time"] for r in rows(tmp_path / "run")]
    assert all(round(t, 3) == t for t in times) and any(round(t, 2) != t for t in times)


@pytest.mark.parametrize("error, shown", [
    (OSError(28, "No space left on device", "/x/checkpoint.npz"), "cannot write /x/checkpoint.npz at step 4 (No space left on device)"),
    (OSError("quota exceeded"), "at step 4 (quota exceeded)"),
    (OSError(), "at step 4 (OSError)"),
])
def test_a_refused_write_names_the_file_or_run_and_the_systems_reason(tmp_path, monkeypatch, capsys, error, shown):
    """Whatever the OSError carries (errno, reason and file, or only a message): the line names what it can."""
    real, calls = checkpoints.save_run, []

    def save_run(*args, **kwargs):
        calls.append(1)
        if len(calls) > 1:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(checkpoints, "save_run", save_run)
    run = tmp_path / "run"
    line = refused(capsys, ["train", "--steps", "6", "--out", str(run), *TINY], shown, "checkpoint of step 2 is kept")
    if error.filename is None:
        assert f"cannot write {run} at step" in line


@pytest.mark.parametrize("replacement", ["[1, 2]", "5", '"row"', "null"])
def test_a_kept_metrics_line_that_is_json_but_not_a_row_is_refused_on_resume(run, capsys, replacement):
    lines = (run / "metrics.jsonl").read_text().splitlines(keepends=True)
    lines[1] = replacement + "\n"
    (run / "metrics.jsonl").write_text("".join(lines))
    before = snapshot(run)
    refused(capsys, ["train", "--resume", str(run), "--steps", "6", "--no-progress"], "metrics.jsonl", "line 2")
    assert snapshot(run) == before
