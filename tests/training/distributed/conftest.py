"""``mpiexec`` for the distributed tests: found next to the interpreter (the mpich wheel) or on PATH."""
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def find_mpiexec():
    """(path to mpiexec or None, the reason it cannot be used)."""
    if importlib.util.find_spec("mpi4py") is None:
        return None, "mpi4py is not installed (pip install 'rnnlab[mpi]')"
    beside = Path(sys.executable).parent / "mpiexec"
    path = str(beside) if beside.exists() else shutil.which("mpiexec")
    return path, "" if path else "no mpiexec next to the interpreter or on PATH (pip install mpich)"


@pytest.fixture(scope="module")
def mpiexec():
    """A function ``launch(args, timeout)``: runs ``mpiexec -prepend-rank ARGS`` (a first arg ending in .py is
    run with this interpreter from this folder, with ``-n 2``); returns the CompletedProcess."""
    path, reason = find_mpiexec()
    if path is None:
        pytest.skip(reason)

    def launch(args, timeout, check=True):
        if args[0].endswith(".py"):
            args = ["-n", "2", sys.executable, str(HERE / args[0]), *args[1:]]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "RNNLAB_BACKEND": "numpy"}
        done = subprocess.run([path, "-prepend-rank", *args], capture_output=True, text=True, timeout=timeout,
                              env=env)
        if check and done.returncode != 0:
            raise AssertionError(f"mpiexec exited with {done.returncode}:\n{done.stdout}\n{done.stderr}")
        return done
    return launch
