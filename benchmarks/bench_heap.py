"""The heap the benchmark runs in: glibc malloc tuned as PyTorch's CPU performance guide tunes it.

PyTorch's CPU step has two speeds on glibc. In a fresh process its allocations above malloc's mmap threshold
(128 KiB at first) are new pages from the operating system, faulted in and zero-filled every step and handed
back when freed; once the heap has grown, the same blocks are reused and ``nn.LSTM``'s step at T = 196 takes
about 0.6 of the time. rnnlab's own ``mallopt`` at import (``rnnlab.engine.host_memory``) hands PyTorch that
speed only after rnnlab's composed path has grown the heap, so without a fixed allocator the cases of one run
meet PyTorch in different states. PyTorch's guide gets the fast state from jemalloc or tcmalloc; glibc gets it
from the three environment variables below, which glibc reads once, when the process starts.

:func:`reexec_with_tuned_heap` therefore starts the benchmark again, once, in a process of its own with those
variables set and ``RNNLAB_KEEP_MEMORY=0`` (so rnnlab's import does not lower them again): both sides then
run on the same grown-heap allocator from their first step, and PyTorch is measured in its best state.
``--heap default`` keeps the untuned allocator (PyTorch's slow state, for comparison).
"""
from __future__ import annotations

import os
import sys

TUNED = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "8589934592",
         "MALLOC_TOP_PAD_": "2147483648", "RNNLAB_KEEP_MEMORY": "0"}
"""mmap only above 1 GiB, trim only above 8 GiB free, grow the heap 2 GiB at a time; rnnlab's mallopt off."""


def tuned() -> bool:
    """True when this process was started with the tuned heap."""
    return all(os.environ.get(k) == v for k, v in TUNED.items())


def reexec_with_tuned_heap(argv) -> None:
    """Replace this process by the same script with :data:`TUNED` in its environment (no return), unless it
    already has it. Call before NumPy or PyTorch allocate anything worth keeping."""
    if tuned():
        return
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, *argv], {**os.environ, **TUNED})


def describe() -> str:
    return ("heap: glibc tuned (mmap > 1 GiB, trim > 8 GiB, top pad 2 GiB; PyTorch's best state)" if tuned()
            else "heap: glibc default (PyTorch in its fresh-process state)")
