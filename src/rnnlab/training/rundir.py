"""Run directories: a new one per run, never overwritten unless asked, locked while a run writes it.

A run directory holds ``config.json`` (the settings), ``metrics.jsonl`` (one strict-JSON object per logged
step and per evaluation), ``checkpoint.npz`` (the latest state; the SHA-256 is an entry inside the npz),
``best.npz`` (with ``keep_best``: the best-validation state, same format), ``summary.json`` (the final
metrics under fixed keys), ``grad_norms.npz`` (with ``record_grad_norms``), ``clock.json`` (the wall time
at the last checkpoint, kept apart so that a checkpoint's bytes depend on the training state alone) and,
while a run writes it, ``.lock`` (the writer's host and process id).

This module is the one place that opens those files. Its order of operations is the contract:

1. what can be checked without writing is checked first (a file in the way, a missing parent);
2. the folder is made, then **locked** (``.lock``, created exclusively), before anything in it is written,
   replaced or deleted;
3. under the lock: ``--overwrite`` replaces only an rnnlab run (a ``config.json`` holding an rnnlab
   configuration), orphaned temporary files of killed writers are removed, and every file a resume needs
   is checked before the first step;
4. every file is written through a temporary file and an atomic rename; ``metrics.jsonl`` only ever gets
   whole lines appended, after its tail was checked.
"""
from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from pathlib import Path

from . import checkpoints
from .config import ConfigError

RUN_FILES = ("config.json", "metrics.jsonl", "checkpoint.npz", "best.npz", "summary.json", "grad_norms.npz",
             "clock.json")
LOCK = ".lock"
RUNS_ROOT = "runs"
RUN_KEYS = ("task", "cell", "optimizer")
"""Keys every rnnlab ``config.json`` holds: how ``--overwrite`` tells an rnnlab run from some other program's files."""
LOCK_WAIT = 1.0
"""Seconds a lock that exists but is still empty (its writer between create and write) is given to fill."""


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


def check_path(path, what: str) -> Path:
    """``path`` as a Path; a NUL byte (which no file system takes) is refused here, naming ``what``."""
    if "\0" in str(path):
        raise RunDirError(f"{what}: {str(path)!r} contains a NUL byte; give a path without it")
    return Path(path)


def holds_run(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() or (path / name).is_symlink() for name in RUN_FILES)


def is_rnnlab_run(path: Path) -> bool:
    """Whether ``path`` holds an rnnlab run: its ``config.json`` is a JSON object with the keys of an rnnlab
    configuration (:data:`RUN_KEYS`)."""
    try:
        values = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(values, dict) and all(k in values for k in RUN_KEYS)


def check_writable(path: Path, overwrite: bool) -> None:
    """Refuse (changing nothing) a path that is a file, or that holds a run when ``overwrite`` is off."""
    if path.is_symlink() and not path.exists():
        raise RunDirError(f"--out: {path} is a symbolic link to {os.readlink(path)}, which does not exist; "
                          f"remove the link or choose another --out")
    if path.exists() and not path.is_dir():
        raise RunDirError(f"--out: {path} is a file, not a directory")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise RunDirError(f"--out: cannot create {path}: {parent} is a file")
            if not path.exists() and not os.access(parent, os.W_OK | os.X_OK):
                raise RunDirError(f"--out: cannot create {path}: {parent} is not writable")
            break
    if path.is_dir() and not os.access(path, os.W_OK | os.X_OK):
        raise RunDirError(f"--out: {path} is not writable; choose another --out")
    if holds_run(path) and not overwrite:
        raise RunDirError(f"--out: {path} already holds a run; continue it with `rnnlab train --resume {path}`, "
                          f"replace it with --overwrite, or choose another --out")


def create(path: Path, overwrite: bool, lock: "RunLock") -> None:
    """Make the run directory and take its lock; then (only then) refuse a run that is there without
    ``overwrite``, refuse to replace something that is not an rnnlab run, and remove the old run's files.
    A folder this call made is removed again when it refuses."""
    path = check_path(path, "--out")
    check_writable(path, overwrite)
    made = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"--out: cannot create {path} ({exc.strerror})") from exc
    try:
        lock.acquire()
        if holds_run(path):
            if not overwrite:
                raise RunDirError(f"--out: {path} already holds a run; continue it with `rnnlab train --resume "
                                  f"{path}`, replace it with --overwrite, or choose another --out")
            if not is_rnnlab_run(path):
                present = ", ".join(n for n in RUN_FILES if (path / n).exists())
                raise RunDirError(f"--overwrite: {path} holds {present} but no rnnlab run (its config.json is not "
                                  f"an rnnlab configuration); nothing was replaced; choose another --out")
            check_replaceable(path, "--overwrite")   # before the first deletion: a refusal leaves the run whole
            for name in RUN_FILES:
                (path / name).unlink(missing_ok=True)
        remove_temporaries(path)
    except BaseException:
        lock.release()
        if made:
            try:
                path.rmdir()
            except OSError:
                pass
        raise


def check_replaceable(path: Path, what: str) -> None:
    """Every run file in ``path`` is a file that a write can replace (not a folder, say); checked under the
    lock before a run deletes or writes any of them, so that a refusal leaves the directory as it was."""
    odd = [n for n in RUN_FILES if (path / n).exists() and not (path / n).is_symlink() and not (path / n).is_file()]
    if odd:
        raise RunDirError(f"{what}: {path} holds {', '.join(odd)} that is not a file (a folder?); nothing was "
                          f"replaced; move it away or choose another --out")


def remove_temporaries(path: Path) -> list:
    """Delete the temporary files (``.<name>.*.tmp``) that a killed writer left beside a run's files; the
    caller holds the lock, so no live writer owns them. Returns the names removed."""
    removed = []
    for name in RUN_FILES:
        for tmp in path.glob(f".{name}.*.tmp"):
            if tmp.is_file() and not tmp.is_symlink():
                tmp.unlink(missing_ok=True)
                removed.append(tmp.name)
    return removed


class RunLock:
    """``.lock`` in a run directory, created exclusively; a second writer is refused with the holder named.
    A lock left by a process that no longer runs on this host is taken over; a lock whose content is not
    a lock record (a folder, a bare number, a pid that is no number) is reported with that content."""

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
                if self._alive(holder):
                    raise RunDirError(f"run directory {self.path.parent} is in use by process {holder['pid']} "
                                      f"on {holder['host']} (lock file {self.path}); wait for it to finish "
                                      f"or stop it") from None
                self.path.unlink(missing_ok=True)
                continue
            except OSError as exc:
                raise RunDirError(f"run directory {self.path.parent}: cannot create the lock file {self.path} "
                                  f"({exc.strerror}); make the folder writable or choose another") from exc
            try:
                with os.fdopen(fd, "w") as f:
                    f.write(record)
            except OSError as exc:      # the disk full, say: an empty lock left here would block every run
                self.path.unlink(missing_ok=True)
                raise RunDirError(f"run directory {self.path.parent}: cannot write the lock file {self.path} "
                                  f"({exc.strerror}); nothing was changed; free space (or fix the folder) and "
                                  f"try again") from exc
            self.held = True
            return self
        raise RunDirError(f"run directory {self.path.parent}: could not take the lock {self.path}")

    def _malformed(self, shown: str) -> RunDirError:
        return RunDirError(f"run directory {self.path.parent}: the lock file {self.path} is not an rnnlab lock "
                           f"({shown}); if no run is writing this folder, delete it (rm -r {self.path}) and try "
                           f"again")

    def _holder(self) -> dict:
        """The lock's record ({"host": str, "pid": int, ...}); a :class:`RunDirError` when it is malformed."""
        deadline = time.monotonic() + LOCK_WAIT
        while True:
            if self.path.is_dir() and not self.path.is_symlink():
                raise self._malformed("it is a folder")
            try:
                text = self.path.read_bytes()[:200].decode(errors="replace")
            except FileNotFoundError:
                return {}
            except OSError as exc:
                raise self._malformed(f"it cannot be read: {exc.strerror}") from exc
            if text or time.monotonic() > deadline:
                break
            time.sleep(0.05)            # created, not yet written: its writer is between two calls
        try:
            holder = json.loads(text)
        except ValueError:
            holder = None
        if not (isinstance(holder, dict) and isinstance(holder.get("host"), str)
                and isinstance(holder.get("pid"), int) and not isinstance(holder.get("pid"), bool)
                and holder["pid"] > 0):
            raise self._malformed(f"it holds {text!r}" if text else "it is empty")
        return holder

    @staticmethod
    def _alive(holder: dict) -> bool:
        if not holder:
            return False                       # gone between the two looks
        if holder["host"] != socket.gethostname():
            return True                        # another machine's process: assume it runs
        try:
            os.kill(holder["pid"], 0)
        except ProcessLookupError:
            return False
        except OverflowError:
            return False                       # no process has such a number
        except PermissionError:
            return True
        return True

    def release(self) -> None:
        if self.held:
            self.path.unlink(missing_ok=True)
            self.held = False


# ---------------------------------------------------------------------------------------------- the files
def write_file(path: Path, data: bytes) -> None:
    """One of a run's files, written whole (temporary file, then an atomic rename); a write the system
    refuses (the disk full, say) leaves the previous file and raises an ``OSError`` naming ``path``."""
    checkpoints.atomic_write_bytes(path, data)


def append_line(path: Path, line: str) -> None:
    """One whole line appended to ``metrics.jsonl`` (its tail was checked when the run took the folder); a
    write the system refuses (the disk full, say) raises an ``OSError`` that names the file. A part of the
    line that reached the disk lies after the rows the checkpoint counts: a resume cuts it off."""
    try:
        with open(path, "a") as f:
            f.write(line + "\n")
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise checkpoints.naming(exc, path) from exc


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
    except OSError as exc:
        raise RunDirError(f"{what}: {path} cannot be read ({exc.strerror})") from exc


def read_json_or_none(path: Path):
    """A JSON file that a run may lack or that a user may have damaged (``clock.json``, ``summary.json``
    for a plot's baseline): its value, or None."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def metrics_lines(path: Path, what: str) -> list:
    """The lines of ``metrics.jsonl``, each with its newline; a :class:`RunDirError` when it is not a
    readable text file."""
    if path.is_dir():
        raise RunDirError(f"{what}: {path} is a folder, not the run's metrics file")
    try:
        return path.read_text().splitlines(keepends=True)
    except FileNotFoundError as exc:
        raise RunDirError(f"{what}: {path} does not exist (is {path.parent} a run directory of rnnlab "
                          f"train?)") from exc
    except UnicodeDecodeError as exc:
        raise RunDirError(f"{what}: {path} is not a text file ({exc})") from exc
    except OSError as exc:
        raise RunDirError(f"{what}: {path} cannot be read ({exc.strerror})") from exc


def read_rows(path: Path, what: str, need=("step", "split")) -> list:
    """The rows of ``metrics.jsonl`` (JSON objects holding the keys ``need``); a :class:`RunDirError` naming
    the file and line when one is not."""
    rows = []
    for number, line in enumerate(metrics_lines(path, what), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError as exc:
            raise RunDirError(f"{what}: {path} line {number} is not valid JSON ({exc})") from exc
        missing = [k for k in need if not isinstance(row, dict) or k not in row]
        if missing:
            raise RunDirError(f"{what}: {path} line {number} is not a metrics row (no {', '.join(missing)})")
        rows.append(row)
    return rows


ROW_DIGEST_SKIPS = ("wall_time",)
"""Row keys the rows' digest leaves out: they differ between two runs of the same state (wall time)."""


def row_identity(row: dict) -> bytes:
    """What the checkpoint's digest of ``metrics.jsonl`` covers of one row: the row as strict JSON, without
    :data:`ROW_DIGEST_SKIPS` (so a resumed run, whose wall times differ, still matches)."""
    shown = {k: v for k, v in row.items() if k not in ROW_DIGEST_SKIPS}
    return (json.dumps(shown, allow_nan=False) + "\n").encode()


def check_metrics_tail(path: Path, lines: int, digest: str | None = None) -> list:
    """Before a resume appends: the first ``lines`` lines of ``metrics.jsonl`` (those the checkpoint
    counts) must be whole rows; returns them. A cut or damaged row among them is refused (appending to it
    would glue the next row onto a fragment); what follows them is cut off by the resume."""
    kept = metrics_lines(path, "--resume")[:lines]
    seen = hashlib.sha256()
    for number, line in enumerate(kept, 1):
        try:
            row = json.loads(line)
            whole = line.endswith("\n") and isinstance(row, dict)
        except ValueError:
            whole = False
        if whole:
            seen.update(row_identity(row))
        else:
            raise RunDirError(f"--resume: {path} line {number} is cut or damaged ({line[:60]!r}); the checkpoint "
                              f"counts {lines} rows before it continues. Nothing was changed; restore the file, "
                              f"or start the run again with --overwrite")
    if len(kept) < lines:
        raise RunDirError(f"--resume: {path} holds {len(kept)} rows, but the checkpoint counts {lines}; rows were "
                          f"lost. Nothing was changed; restore the file, or start the run again with --overwrite")
    if digest is not None and seen.hexdigest() != digest:
        raise RunDirError(f"--resume: the first {lines} rows of {path} are not the rows this run's checkpoint "
                          f"recorded (from another run, or edited). Nothing was changed; restore the file, or "
                          f"start the run again with --overwrite")
    return kept
