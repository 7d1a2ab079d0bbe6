"""Run directories: a new one per run, never overwritten unless asked, locked while a run writes it.

A run directory holds ``config.json`` (the settings), ``metrics.jsonl`` (one strict-JSON object per logged
step and per evaluation), ``checkpoint.npz`` (the latest state; the SHA-256 is an entry inside the npz),
``best.npz`` (with ``keep_best``: the best-validation state, same format), ``summary.json`` (the final
metrics under fixed keys), ``grad_norms.npz`` (with ``record_grad_norms``), ``clock.json`` (the wall time
at the last checkpoint, kept apart so that a checkpoint's bytes depend on the training state alone) and,
while a run writes it, ``.lock`` (the writer's host and process id).
"""
from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

from .config import ConfigError

RUN_FILES = ("config.json", "metrics.jsonl", "checkpoint.npz", "best.npz", "summary.json", "grad_norms.npz",
             "clock.json")
LOCK = ".lock"
RUNS_ROOT = "runs"


class RunDirError(ConfigError):
    """A run directory cannot be used as asked; the message says why and what to do."""


def fresh_path(task: str, cell: str, root: str = RUNS_ROOT) -> Path:
    """``runs/<task>-<cell>-<YYYYmmdd-HHMMSS>`` (with ``-2``, ``-3``, ... when that name is taken)."""
    base = Path(root) / f"{task}-{cell}-{time.strftime('%Y%m%d-%H%M%S')}"
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def holds_run(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in RUN_FILES)


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse (changing nothing) a path that is a file, or that holds a run when ``overwrite`` is off."""
    if path.exists() and not path.is_dir():
        raise RunDirError(f"--out: {path} is a file, not a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise RunDirError(f"--out: cannot create {path}: {parent} is a file")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise RunDirError(f"--out: cannot create {path}: {parent} is not writable")
            break
    if holds_run(path) and not overwrite:
        raise RunDirError(f"--out: {path} already holds a run; continue it with `rnnlab train --resume {path}`, "
                          f"replace it with --overwrite, or choose another --out")


def create(path: Path, overwrite: bool) -> None:
    """Make the run directory (after :func:`check_writable`); with ``overwrite``, remove the old run's files."""
    check_writable(path, overwrite)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"--out: cannot create {path} ({exc.strerror})") from exc
    if overwrite:
        for name in RUN_FILES:
            (path / name).unlink(missing_ok=True)


class RunLock:
    """``.lock`` in a run directory, created exclusively; a second writer is refused with the holder named.
    A lock left by a process that no longer runs on this host is taken over."""

    def __init__(self, path: Path):
        self.path = Path(path) / LOCK
        self.held = False

    def acquire(self) -> "RunLock":
        record = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "since": time.time()})
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                holder = self._holder()
                if holder is not None and self._alive(holder):
                    raise RunDirError(f"run directory {self.path.parent} is in use by process {holder.get('pid')} "
                                      f"on {holder.get('host')} (lock file {self.path}); wait for it to finish "
                                      f"or stop it") from None
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w") as f:
                f.write(record)
            self.held = True
            return self
        raise RunDirError(f"run directory {self.path.parent}: could not take the lock {self.path}")

    def _holder(self):
        try:
            return json.loads(self.path.read_text())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _alive(holder: dict) -> bool:
        if holder.get("host") != socket.gethostname():
            return True                        # another machine's process: assume it runs
        try:
            os.kill(int(holder.get("pid", -1)), 0)
        except ProcessLookupError:
            return False
        except (PermissionError, ValueError, OverflowError):
            return True
        return True

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


def read_json(path: Path, what: str) -> dict:
    """A JSON file of a run directory; a :class:`RunDirError` naming the file when it is missing or malformed."""
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError as exc:
        raise RunDirError(f"{what}: {path} does not exist (is {Path(path).parent} a run directory of "
                          f"rnnlab train?)") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise RunDirError(f"{what}: {path} is not valid JSON ({exc})") from exc
    except IsADirectoryError as exc:
        raise RunDirError(f"{what}: {path} is a directory, not a file") from exc
