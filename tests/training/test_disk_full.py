"""A disk that fills up at any moment of a run, on a real small file system (a tmpfs with a size limit,
mounted for the test; skipped where the test may not mount one). Hypothesis draws how much space is left
(in bytes, from none to more than a run needs) and whether a fresh run or a resume meets the full disk:

* the run finishes, or it stops with one line and exit 2, never a traceback;
* the checkpoint on disk is always a whole checkpoint (the one before, or a later one), and no temporary
  file or lock is left behind;
* once space is freed, the run continues (``--resume``, or a new start when no checkpoint was written) to
  exactly what a run that never met a full disk gives.
"""
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, note, settings, strategies as st

from rnnlab.cli import main
from rnnlab.training import checkpoints
from rnnlab.training.rundir import LOCK

TINY = ["--seq-len", "6", "--train-size", "24", "--test-size", "8", "--val-size", "8", "--hidden", "3",
        "--batch-size", "8", "--eval-every", "2", "--log-every", "1", "--checkpoint-every", "2", "--no-progress",
        "--keep-best", "--record-grad-norms", "--cell", "rnn"]
SIZE = 4 << 20


@pytest.fixture(scope="module")
def small_fs():
    """A 4 MiB tmpfs, or a skip saying why none can be mounted here."""
    if os.geteuid() != 0:
        pytest.skip("not root: mounting a small file system (tmpfs with size=) needs root")
    if shutil.which("mount") is None:
        pytest.skip("no mount command: cannot make a small file system")
    where = Path(tempfile.mkdtemp(prefix="rnnlab-small-fs-"))
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={SIZE}", "tmpfs", str(where)], capture_output=True,
                          text=True)
    if done.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or done.returncode}")
    try:
        yield where
    finally:
        subprocess.run(["umount", str(where)], check=False)
        where.rmdir()


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """A run stopped at step 2 (to resume from) and the undisturbed run of 6 steps."""
    root = tmp_path_factory.mktemp("disk-full")
    for name, steps in (("part", 2), ("whole", 6)):
        assert main(["train", "--steps", str(steps), "--out", str(root / name), *TINY]) == 0
    return root


def fill(fs: Path, free: int) -> Path:
    """Take all but ``free`` bytes of the file system with one file; returns it."""
    filler = fs / "filler"
    stat = os.statvfs(fs)
    with open(filler, "wb") as f:
        f.write(b"\0" * max(0, stat.f_bavail * stat.f_frsize - free))
    return filler


def rows(run):
    return [{k: v for k, v in json.loads(line).items() if k != "wall_time"}
            for line in (run / "metrics.jsonl").read_text().splitlines()]


def summary(run):
    values = json.loads((run / "summary.json").read_text())
    values.pop("wall_time")
    values["config"].pop("out")
    values["config"].pop("steps")
    return values


def leftovers(run):
    return sorted(p.name for p in run.iterdir() if p.name == LOCK or p.name.endswith(".tmp"))


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(action=st.sampled_from(["fresh", "resume"]), free=st.integers(0, 48 << 10))
def test_a_full_disk_at_any_moment_stops_cleanly_and_the_run_continues_once_space_is_freed(
        small_fs, templates, capsys, action, free):
    for p in small_fs.iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    run = small_fs / "run"
    if action == "resume":
        shutil.copytree(templates / "part", run)
        before = (run / "checkpoint.npz").read_bytes()
    filler = fill(small_fs, free)
    note(f"{action}, {free} bytes free")
    argv = (["train", "--resume", str(run), "--steps", "6", "--no-progress"] if action == "resume" else
            ["train", "--steps", "6", "--out", str(run), *TINY])
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err, err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
        assert run.is_dir() or action == "fresh"
        if run.is_dir():
            assert leftovers(run) == [], err
        if (run / "checkpoint.npz").exists():
            _, meta = checkpoints.load(run / "checkpoint.npz")          # whole: the checksum holds
            if meta["step"] == 2 and action == "resume":
                assert (run / "checkpoint.npz").read_bytes() == before
            assert f"checkpoint of step {meta['step']} is kept" in err or "nothing was changed" in err, err
        else:
            assert "nothing can be resumed" in err or "nothing was changed" in err, err
        assert "No space left on device" in err and str(small_fs) in err, err    # why, and which file
        filler.unlink()
        if (run / "checkpoint.npz").exists():
            assert main(["train", "--resume", str(run), "--steps", "6", "--no-progress"]) == 0, capsys.readouterr()
        else:
            assert main(["train", "--steps", "6", "--out", str(run), "--overwrite", *TINY]) == 0, \
                capsys.readouterr().err
    whole = templates / "whole"
    assert rows(run) == rows(whole)
    assert summary(run) == summary(whole)
    for name in ("checkpoint.npz", "best.npz", "grad_norms.npz"):
        assert (run / name).read_bytes() == (whole / name).read_bytes(), name
    assert leftovers(run) == []


def test_a_full_disk_during_a_checkpoint_keeps_the_previous_checkpoint_and_says_so(small_fs, templates, capsys):
    for p in small_fs.iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()
    run = small_fs / "run"
    shutil.copytree(templates / "part", run)
    before = (run / "checkpoint.npz").read_bytes()
    # room for the metrics rows of steps 3 and 4, not for the checkpoint of step 4 beside the old one
    fill(small_fs, len(before) // 2)
    code = main(["train", "--resume", str(run), "--steps", "6", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "checkpoint of step 2 is kept" in err and "--resume" in err, err
    assert (run / "checkpoint.npz").read_bytes() == before
    assert leftovers(run) == []
