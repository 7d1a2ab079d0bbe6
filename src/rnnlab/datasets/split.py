"""Validation hold-outs: a seeded share of a training set, set aside before training.

The hold-out of ``size`` samples out of N is the first ``size`` entries of
``np.random.default_rng([seed, HOLDOUT_STREAM]).permutation(N)``: a function of (N, size, seed) only, so it
does not depend on the batch order (the loaders draw epoch e from ``[seed, e]``), and a smaller hold-out is
a subset of a larger one with the same seed. Both index sets are returned sorted, so the kept training
samples and the held-out ones stay in their file order.
"""
from __future__ import annotations

import numpy as np

from .sequence import SequenceDataset
from .errors import DatasetOptionError

__all__ = ["HOLDOUT_STREAM", "holdout_indices", "hold_out"]

HOLDOUT_STREAM = 0x76616C
"""The second seed word of the hold-out's generator ("val" in ASCII), far above any epoch number."""


def holdout_indices(n: int, size: int, seed: int, *, owner: str = "holdout_indices") -> tuple[np.ndarray, np.ndarray]:
    """(kept, held_out) sample indices, sorted int64 arrays of N - size and size entries (see the module).

    ``size`` must be an integer in [0, N): at least one sample stays for training. ``owner`` names the
    caller in the error.
    """
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or not 0 <= size < n:
        raise DatasetOptionError(f"{owner}: val_size must be an integer in [0, {n}) (training samples held out for "
                         f"validation; 0 for none), got {size!r}")
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool) or seed < 0:
        raise DatasetOptionError(f"{owner}: seed must be an integer >= 0, got {seed!r}")
    order = np.random.default_rng([int(seed), HOLDOUT_STREAM]).permutation(n)
    return np.sort(order[size:]), np.sort(order[:size])


def hold_out(train: SequenceDataset, size: int, seed: int, *,
             owner: str = "hold_out") -> tuple[SequenceDataset, SequenceDataset | None]:
    """``train`` split into (kept, held-out) data sets by :func:`holdout_indices`; held-out is None when
    ``size`` is 0 (and kept is ``train`` itself)."""
    kept, held = holdout_indices(len(train), size, seed, owner=owner)
    if size == 0:
        return train, None
    return train.subset(kept), train.subset(held)
