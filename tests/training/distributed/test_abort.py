"""An error on one rank alone: its message has left the rank's stderr pipe before ``Abort`` kills the job.

The launcher forwards each rank's output from a pipe; ``Abort`` kills every rank and ends the forwarding, so
a line still waiting in the pipe (the forwarder had not run yet, as on a loaded machine) was lost. Here the
pipe's reader is made late on purpose and a stand-in for the MPI world records what was still unread at the
moment of ``Abort``.
"""
import fcntl
import os
import struct
import sys
import termios
import threading
import time

import pytest

from rnnlab.training import distributed
from rnnlab.training.rundir import RunDirError


def unread(fd: int) -> int:
    return struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))[0]


class World:
    rank, size = 0, 2

    def __init__(self, fd):
        self.comm, self.fd, self.unread_at_abort = self, fd, None

    def Abort(self, code):
        self.unread_at_abort = unread(self.fd)


@pytest.mark.parametrize("delay", [0.05, 0.3])
def test_abort_waits_until_the_launcher_has_read_the_message(monkeypatch, delay):
    read_end, write_end = os.pipe()
    received = []

    def late_reader():                     # the launcher's forwarder, descheduled for `delay` seconds
        time.sleep(delay)
        with os.fdopen(read_end, "rb") as f:
            received.append(f.read())

    reader = threading.Thread(target=late_reader)
    reader.start()
    stderr = os.fdopen(write_end, "w")
    world = World(write_end)
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setattr(distributed, "_world", world)
    try:
        distributed.abort_others(RunDirError("--out: cannot create x"), shown=True)
        assert world.unread_at_abort == 0
    finally:
        stderr.close()
        reader.join()
    assert received[0].decode() == "rnnlab: rank 0 failed (RunDirError); ending the job on all 2 ranks\n"


def test_a_reader_that_never_reads_delays_the_abort_only_by_the_timeout(monkeypatch):
    read_end, write_end = os.pipe()
    os.write(write_end, b"never read")
    with os.fdopen(write_end, "w") as stream:
        start = time.monotonic()
        distributed.wait_until_read(stream, timeout=0.2)
        assert 0.2 <= time.monotonic() - start < 2
    os.close(read_end)


def test_streams_that_are_no_pipe_do_not_wait(tmp_path, capsys):
    with open(tmp_path / "log", "w") as f:
        f.write("x")
        f.flush()
        start = time.monotonic()
        distributed.wait_until_read(f, timeout=5)
        distributed.wait_until_read(sys.stdout, timeout=5)      # pytest's capture: no descriptor
        assert time.monotonic() - start < 1
