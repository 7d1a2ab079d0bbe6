"""The adding task (Hochreiter & Schmidhuber; as used by the FW and MomentumRNN papers).

Each sequence has T steps of two channels: channel 0 holds values u_t ~ U[0, 1]; channel 1 holds markers,
exactly two 1s, one at a uniform position i1 in the first half [0, floor(T/2)) and one at a uniform position
i2 in the second half [floor(T/2), T), zeros elsewhere.

* ``target="sum"`` (standard, the default): y = u_i1 + u_i2. Predicting 1 always gives
  MSE = Var(u_i1 + u_i2) = 2/12 = 1/6 ~ 0.167, the baseline a model must beat.
* ``target="range_sum"``: the FW paper's own wording, "the sum of the first sequence between i1 and i2",
  y = sum_{t=i1}^{i2} u_t (both ends included). Its targets grow with i2 - i1 (mean about (T/2 + 1)/2),
  so its trivial baseline is the variance of y, not 1/6.
"""
from __future__ import annotations

import numpy as np

from .sequence import SequenceDataset

__all__ = ["adding_task", "adding_dataset", "ADDING_TARGETS", "ADDING_BASELINE_MSE"]

ADDING_TARGETS = ("sum", "range_sum")
ADDING_BASELINE_MSE = 1.0 / 6.0
"""MSE of always predicting 1 on the standard (``sum``) adding task."""


def _rng(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check(n: int, seq_len: int, target: str) -> None:
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"adding_task: n (number of sequences) must be a positive integer, got {n!r}")
    if not isinstance(seq_len, (int, np.integer)) or seq_len < 2:
        raise ValueError(f"adding_task: seq_len must be an integer >= 2 (one marker in each half), got {seq_len!r}")
    if target not in ADDING_TARGETS:
        raise ValueError(f"adding_task: target must be one of {', '.join(ADDING_TARGETS)}, got {target!r}")


def adding_task(n: int, seq_len: int, seed, *, target: str = "sum") -> tuple[np.ndarray, np.ndarray]:
    """``n`` adding-task sequences of length ``seq_len`` drawn from ``seed`` (an int, a list of ints, or a
    NumPy Generator).

    Returns inputs (T, n, 2) float32, time-major, channel 0 the values and channel 1 the markers, and
    targets (n, 1) float32. The same seed gives the same arrays.
    """
    _check(n, seq_len, target)
    rng = _rng(seed)
    half = seq_len // 2
    values = rng.random((seq_len, n))
    i1 = rng.integers(0, half, size=n)
    i2 = rng.integers(half, seq_len, size=n)
    cols = np.arange(n)
    markers = np.zeros((seq_len, n))
    markers[i1, cols] = 1.0
    markers[i2, cols] = 1.0
    if target == "sum":
        y = values[i1, cols] + values[i2, cols]
    else:
        t = np.arange(seq_len)[:, None]
        y = np.where((t >= i1) & (t <= i2), values, 0.0).sum(axis=0)
    inputs = np.stack([values, markers], axis=-1).astype(np.float32)
    return inputs, y.astype(np.float32)[:, None]


def adding_dataset(n: int, seq_len: int, seed, *, target: str = "sum") -> SequenceDataset:
    """:func:`adding_task` as a :class:`SequenceDataset`: batches of inputs (T, B, 2) and targets (B, 1)."""
    inputs, targets = adding_task(n, seq_len, seed, target=target)
    return SequenceDataset.from_time_major(inputs, targets)
