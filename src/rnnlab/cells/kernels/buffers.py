"""Reuse of the large work buffers between calls, so that a training loop does not pay for fresh memory.

A fresh buffer of a few hundred MiB (the LSTM's gates over T = 784 steps: 205 MiB) costs the operating
system zero-filling every page on first touch, about 10% of an LSTM training step on the machines we
measured. ``take`` returns a released buffer of the same shape and dtype when one is kept, else a new one;
``give`` keeps released buffers for the next ``take``. Only the buffers of the most recent shapes are kept
(at most ``MAX_KEPT`` arrays), so between training steps the process holds one step's work buffers, which
the step needs anyway. Only buffers that no caller can see may be given (the kernels give their private
gate and cell-state buffers when the cache holding them is freed).
"""
from __future__ import annotations

import numpy as np

MAX_KEPT = 4
_kept: list = []


def take(shape: tuple, dtype) -> np.ndarray:
    """An uninitialized C-contiguous array of ``shape`` and ``dtype`` (a kept one when available)."""
    dtype = np.dtype(dtype)
    for k, a in enumerate(_kept):
        if a.shape == shape and a.dtype == dtype:
            return _kept.pop(k)
    return np.empty(shape, dtype)


def give(*arrays) -> None:
    """Keep ``arrays`` (no longer used by anyone) for later ``take`` calls; the oldest beyond MAX_KEPT go."""
    for a in arrays:
        if a is not None:
            _kept.append(a)
    del _kept[:-MAX_KEPT]


def clear() -> None:
    """Release every kept buffer."""
    _kept.clear()
