"""Under mpiexec, a configuration mismatch or an error on one rank ends every rank with a clear message."""
import sys

FLAGS = ["--seq-len", "8", "--train-size", "40", "--test-size", "16", "--batch-size", "8", "--steps", "2",
         "--no-progress", "--distributed"]


def train_command(*flags):
    return ["-n", "1", sys.executable, "-m", "rnnlab.cli", "train", *FLAGS, *flags]


def test_config_mismatch_between_ranks_ends_every_rank_with_one_clear_error(mpiexec, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    done = mpiexec([*train_command("--hidden", "5", "--out", str(a)), ":",
                    *train_command("--hidden", "6", "--out", str(b))], timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    message = ("rnnlab train: error: distributed: the 2 ranks were given different settings (hidden: rank 0 5, "
               "rank 1 6); every rank must run the same configuration")
    for rank in (0, 1):    # mpiexec prefixes each rank's output with [rank] (lines of the two may interleave)
        assert done.stderr.count(f"[{rank}] {message}") == 1, done.stderr
    assert not a.exists() and not b.exists()


def test_an_error_on_one_rank_alone_ends_the_job_instead_of_hanging(mpiexec, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("rank 0 cannot make a run directory inside a file")
    done = mpiexec([*train_command("--out", str(blocker / "run")), ":",
                    *train_command("--out", str(tmp_path / "other"))], timeout=120, check=False)
    assert done.returncode != 0
    assert "[0] rnnlab train: error: --out: cannot create" in done.stderr, done.stderr
    assert "[0] rnnlab: rank 0 failed (RunDirError); ending the job on all 2 ranks" in done.stderr, done.stderr
