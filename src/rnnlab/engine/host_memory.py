"""Freed host memory kept for reuse, so that a training step does not pay the operating system for pages.

An autodiff graph keeps every intermediate array of a step alive until its backward has run, so each step
allocates hundreds of fresh arrays (an LSTM step of batch 128 and 128 units: about 1.5 MiB of them per time
step). glibc's malloc serves every block above its mmap threshold (128 KiB at first) with new pages from the
operating system and returns them when the block is freed, so the next step faults in and zero-fills every
page again. ``keep_freed_memory`` raises the threshold to 32 MiB and stops the heap from
being trimmed: freed blocks then serve the next step's allocations. On the machines we measured that took
about a fifth off a composed LSTM training step. The cost: memory a step freed stays with the process (its
peak is what it needed anyway) instead of going back to the system between steps.

rnnlab calls it once, on import; ``RNNLAB_KEEP_MEMORY=0`` in the environment turns that off. Where the C
library is not glibc (macOS, Windows, musl) it does nothing.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import warnings

ENV_SWITCH = "RNNLAB_KEEP_MEMORY"
M_TRIM_THRESHOLD, M_TOP_PAD, M_MMAP_THRESHOLD = -1, -2, -3     # mallopt's parameter numbers (malloc.h)
SETTINGS = ((M_MMAP_THRESHOLD, 32 << 20), (M_TRIM_THRESHOLD, 1 << 30), (M_TOP_PAD, 64 << 20))
"""(parameter, value): blocks below 32 MiB from the heap; trim only above 1 GiB free; grow by 64 MiB."""

_applied: list = []


def keep_freed_memory() -> bool:
    """Apply :data:`SETTINGS` through glibc's ``mallopt`` (once per process). True when they took effect;
    False where the switch is off or the C library has no ``mallopt``. A value of the switch other than 0
    or 1 is warned about and leaves malloc as it is (this runs on import, where an error would stop every
    command)."""
    if _applied:
        return _applied[0]
    value = os.environ.get(ENV_SWITCH, "1").strip()
    if value not in ("0", "1", ""):
        warnings.warn(f"{ENV_SWITCH} must be 0 (return freed memory to the system) or 1 (keep it for reuse), "
                      f"got {value!r}: malloc left as it is", RuntimeWarning, stacklevel=2)
    ok = value in ("1", "") and _mallopt_all()
    _applied.append(ok)
    return ok


def _mallopt_all() -> bool:
    """True when glibc's ``mallopt`` accepted every setting."""
    name = ctypes.util.find_library("c")
    try:
        mallopt = ctypes.CDLL(name).mallopt if name else None
    except (OSError, AttributeError):
        return False
    if mallopt is None:
        return False
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    return all(mallopt(param, value) == 1 for param, value in SETTINGS)
