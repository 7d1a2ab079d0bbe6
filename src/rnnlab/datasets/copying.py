"""The copying task (Arjovsky, Shah & Bengio 2016, as coded in the expRNN/MomentumRNN releases).

A sequence has T + 20 steps of symbols from an alphabet of 10: 0 is the blank, 1..8 are the 8 data
categories, 9 is the delimiter. The input is 10 data symbols drawn uniformly from 1..8, then T blanks, then the
delimiter, then 9 blanks; the target is T + 10 blanks, then the 10 data symbols::

    input : s1 .. s10  0 .. 0 (T)  9  0 .. 0 (9)
    target: 0 .. 0 (T + 10)           s1 .. s10

A model that outputs blanks and then guesses uniformly among the 8 categories reaches the baseline
cross-entropy 10 log(8) / (T + 20) per step, which :func:`copying_baseline` returns.
"""
from __future__ import annotations

import math

import numpy as np

from .sequence import SequenceDataset, one_hot
from .errors import DatasetOptionError

__all__ = ["copying_task", "copying_dataset", "copying_baseline", "COPY_LENGTH", "NUM_CATEGORIES",
           "BLANK", "DELIMITER", "NUM_INPUT_SYMBOLS", "NUM_OUTPUT_CLASSES"]

COPY_LENGTH = 10
NUM_CATEGORIES = 8
BLANK = 0
DELIMITER = NUM_CATEGORIES + 1
NUM_INPUT_SYMBOLS = NUM_CATEGORIES + 2
"""Input alphabet: blank, the 8 categories, the delimiter (one-hot width of the inputs)."""
NUM_OUTPUT_CLASSES = NUM_CATEGORIES + 1
"""Output classes: blank and the 8 categories (the delimiter is never a target)."""


def copying_baseline(seq_len: int) -> float:
    """Cross-entropy per step (nats) of blanks then uniform guesses: 10 log(8) / (T + 20)."""
    return COPY_LENGTH * math.log(NUM_CATEGORIES) / (seq_len + 2 * COPY_LENGTH)


def copying_task(n: int, seq_len: int, seed) -> tuple[np.ndarray, np.ndarray]:
    """``n`` copying-task sequences with ``seq_len`` = T blanks, drawn from ``seed`` (an int, a list of ints,
    or a NumPy Generator).

    Returns input symbols (T + 20, n) int64 and target classes (T + 20, n) int64, time-major; one-hot
    encode the inputs with :func:`rnnlab.datasets.one_hot` (depth 10) or use :func:`copying_dataset`.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise DatasetOptionError(f"copying_task: n (number of sequences) must be a positive integer, got {n!r}")
    if not isinstance(seq_len, (int, np.integer)) or seq_len < 1:
        raise DatasetOptionError(f"copying_task: seq_len (number of blanks T) must be a positive integer, got {seq_len!r}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    total = seq_len + 2 * COPY_LENGTH
    data = rng.integers(1, NUM_CATEGORIES + 1, size=(COPY_LENGTH, n))
    inputs = np.full((total, n), BLANK, dtype=np.int64)
    inputs[:COPY_LENGTH] = data
    inputs[COPY_LENGTH + seq_len] = DELIMITER
    targets = np.full((total, n), BLANK, dtype=np.int64)
    targets[-COPY_LENGTH:] = data
    return inputs, targets


def _symbols_to_inputs(symbols: np.ndarray) -> np.ndarray:
    return one_hot(np.ascontiguousarray(symbols.T), NUM_INPUT_SYMBOLS)


def copying_dataset(n: int, seq_len: int, seed) -> SequenceDataset:
    """:func:`copying_task` as a :class:`SequenceDataset` (symbols stored as uint8): batches of one-hot
    inputs (T + 20, B, 10) float32 and per-step targets (T + 20, B) int64 in [0, 9)."""
    inputs, targets = copying_task(n, seq_len, seed)
    return SequenceDataset(np.ascontiguousarray(inputs.T, dtype=np.uint8), np.ascontiguousarray(targets.T),
                           to_inputs=_symbols_to_inputs, per_step_targets=True)
