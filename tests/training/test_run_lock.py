"""The run lock's rule for a lock that is already there, branch by branch (a live writer here, a writer on
another host, a dead writer, a number no process can have, a process this user may not signal), and the
names of run directories made without ``--out``."""
import json
import os
import socket
import subprocess
import sys

import pytest

from rnnlab.training import rundir
from rnnlab.training.rundir import LOCK, RunDirError, RunLock


@pytest.fixture(scope="module")
def pids():
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    yield {"live": live.pid, "dead": dead.pid}
    live.kill()
    live.wait()


HERE = socket.gethostname()
# holder -> (host, pid key or number, whether the lock counts as held by a running writer)
HOLDERS = {
    "a live process here": (HERE, "live", True),
    "a process on another host (its liveness cannot be checked: assumed running)": ("elsewhere.invalid", "dead",
                                                                                    True),
    "a finished process here": (HERE, "dead", False),
    "a number no process can have": (HERE, 2 ** 70, False),
}


@pytest.mark.parametrize("holder", sorted(HOLDERS))
def test_an_existing_lock_is_refused_while_its_writer_may_run_and_taken_over_when_it_cannot(tmp_path, pids, holder):
    host, pid, running = HOLDERS[holder]
    pid = pids.get(pid, pid)
    record = json.dumps({"host": host, "pid": pid}).encode()
    (tmp_path / LOCK).write_bytes(record)
    lock = RunLock(tmp_path)
    if running:
        with pytest.raises(RunDirError, match=f"in use by process {pid} on {host}"):
            lock.acquire()
        assert not lock.held and (tmp_path / LOCK).read_bytes() == record
        return
    lock.acquire()
    mine = json.loads((tmp_path / LOCK).read_text())
    assert lock.held and (mine["host"], mine["pid"]) == (HERE, os.getpid())
    lock.release()
    assert not (tmp_path / LOCK).exists() and not lock.held


def test_a_lock_of_a_process_this_user_may_not_signal_is_held(tmp_path, pids, monkeypatch):
    (tmp_path / LOCK).write_text(json.dumps({"host": HERE, "pid": pids["dead"]}))

    def not_permitted(pid, sig):
        raise PermissionError(1, "Operation not permitted")
    monkeypatch.setattr(os, "kill", not_permitted)
    with pytest.raises(RunDirError, match=f"in use by process {pids['dead']}"):
        RunLock(tmp_path).acquire()


def test_a_second_lock_in_the_same_process_is_refused_and_the_first_stays(tmp_path):
    first = RunLock(tmp_path).acquire()
    with pytest.raises(RunDirError, match=f"in use by process {os.getpid()}"):
        RunLock(tmp_path).acquire()
    assert first.held and (tmp_path / LOCK).exists()
    first.release()
    RunLock(tmp_path).acquire().release()
    assert not (tmp_path / LOCK).exists()


def test_runs_named_in_the_same_second_are_numbered_from_2(tmp_path, monkeypatch):
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: "20261207-130500")
    names = []
    for _ in range(4):
        path = rundir.fresh_path("adding", "lstm", root=str(tmp_path / "runs"))
        path.mkdir(parents=True)
        names.append(path.name)
    assert names == ["adding-lstm-20261207-130500", "adding-lstm-20261207-130500-2", "adding-lstm-20261207-130500-3",
                     "adding-lstm-20261207-130500-4"]
    assert rundir.fresh_path("copying", "gru", root=str(tmp_path / "runs")).parent == tmp_path / "runs"


@pytest.mark.parametrize("pid", [0, -1, True, 1.5, "1", None])
def test_a_lock_whose_pid_no_process_can_have_is_reported_with_its_content(tmp_path, pid):
    """A process id is a positive int: 0, a negative number, a bool, a float, a string or null make the lock
    malformed (its content shown, how to clear it said), never a lock that some process holds."""
    record = json.dumps({"host": HERE, "pid": pid})
    (tmp_path / LOCK).write_text(record)
    with pytest.raises(RunDirError, match="is not an rnnlab lock") as exc:
        RunLock(tmp_path).acquire()
    assert record in str(exc.value) and "delete it" in str(exc.value)
    assert (tmp_path / LOCK).read_text() == record


def test_a_lock_held_by_pid_1_is_a_running_writer(tmp_path):
    """The smallest pid a process can have (1, always running) is a holder, not a malformed lock."""
    record = json.dumps({"host": HERE, "pid": 1})
    (tmp_path / LOCK).write_text(record)
    with pytest.raises(RunDirError, match=f"in use by process 1 on {HERE}"):
        RunLock(tmp_path).acquire()
    assert (tmp_path / LOCK).read_text() == record
