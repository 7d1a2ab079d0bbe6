"""The command line's boundary for what the operating system refuses: one line naming the path and what
to do, instead of a traceback.

``OSError`` (permission, read-only file system, no space, name too long, symbolic-link loops, a folder
where a file belongs, ...), ``MemoryError`` and a NUL byte in a path are a user's to fix, not bugs in rnnlab.
A broken pipe (``rnnlab experiments list | head``) means the reader has what it wanted: nothing is shown.
Everything else, ``TypeError``, ``AttributeError`` or ``KeyError`` from rnnlab's own code among it, keeps
its traceback.
"""
from __future__ import annotations

import errno
import os
import sys

HINTS = {
    errno.EACCES: "give this user access to it, or choose another path",
    errno.EPERM: "give this user access to it, or choose another path",
    errno.EROFS: "the file system is read-only; choose a writable place (--out, or copy the run directory)",
    errno.ENOSPC: "the disk is full; free space (a checkpoint already on disk is kept) and continue with "
                  "rnnlab train --resume",
    errno.EDQUOT: "the disk quota is used up; free space (a checkpoint already on disk is kept) and continue "
                  "with rnnlab train --resume",
    errno.ENAMETOOLONG: "choose a shorter name",
    errno.ELOOP: "a symbolic link points (through others) back at itself; fix or remove it",
    errno.EISDIR: "a folder is where a file was expected; move it away or choose another path",
    errno.ENOTDIR: "a file is where a folder was expected; choose another path",
    errno.ENOENT: "check the path",
}


def os_error_line(exc: OSError) -> str:
    """``<what failed>: <path>; <what to do>``."""
    what = exc.strerror or str(exc) or type(exc).__name__
    paths = " -> ".join(str(p) for p in (exc.filename, exc.filename2) if p is not None)
    hint = HINTS.get(exc.errno)
    return what + (f": {paths}" if paths else "") + (f"; {hint}" if hint else "")


def is_nul_byte_error(exc: BaseException) -> bool:
    """The ``ValueError`` ``os`` raises for a path holding a NUL byte (no other ``ValueError``)."""
    return isinstance(exc, ValueError) and "embedded null" in str(exc)


def user_line(exc: BaseException) -> str | None:
    """The one line for an operating-system refusal, or None when ``exc`` is not one (a bug: traceback)."""
    if isinstance(exc, OSError):
        return os_error_line(exc)
    if isinstance(exc, MemoryError):
        return (f"out of memory{f' ({exc})' if str(exc) else ''}; try a smaller --batch-size, --hidden or "
                "--eval-batch-size")
    if is_nul_byte_error(exc):
        return "a path holds a NUL byte, which no file system takes; give it without one"
    return None


def quiet_broken_pipe() -> None:
    """After the reader of stdout went away: point stdout at /dev/null, so that Python's own flush at exit
    does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
