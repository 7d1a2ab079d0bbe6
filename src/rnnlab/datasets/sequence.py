"""A set of labelled sequences held on the host and served as time-major batches."""
from __future__ import annotations

from typing import Callable

import numpy as np

__all__ = ["SequenceDataset", "one_hot"]


def one_hot(tokens: np.ndarray, depth: int) -> np.ndarray:
    """``tokens`` (...) of integers in [0, depth) as float32 one-hot vectors (..., depth)."""
    out = np.zeros(tokens.shape + (depth,), dtype=np.float32)
    np.put_along_axis(out, tokens[..., None].astype(np.intp), 1.0, axis=-1)
    return out


def _transpose_to_time_major(features: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(features.transpose(1, 0, 2), dtype=np.float32)


class SequenceDataset:
    """N labelled sequences, stored sample-major and compact on the host, served as time-major batches.

    ``features`` (N, ...) is the compact storage (uint8 images, integer symbols, float signals), one sample
    per row so that a batch is a contiguous gather. ``to_inputs`` turns ``features[idx]`` (B, ...) into the
    network input (T, B, D) float32; by default ``features`` is float (N, T, D) and is transposed.

    ``targets`` is one of:

    * (N,) int64: one class per sequence (classification from the last step);
    * (N, K) float32: K regression values per sequence;
    * (N, T) int64 with ``per_step_targets=True``: one class per time step, served as (T, B).
    """

    def __init__(self, features: np.ndarray, targets: np.ndarray, *,
                 to_inputs: Callable[[np.ndarray], np.ndarray] | None = None, per_step_targets: bool = False):
        if len(features) != len(targets):
            raise ValueError(f"SequenceDataset: features hold {len(features)} samples but targets hold "
                             f"{len(targets)}; they must match along axis 0")
        if len(features) == 0:
            raise ValueError("SequenceDataset: features must hold at least one sample, got 0")
        self.features = features
        self.targets = targets
        self.per_step_targets = per_step_targets
        self._to_inputs = to_inputs or _transpose_to_time_major
        probe = self._to_inputs(features[:1])
        if probe.ndim != 3 or probe.shape[1] != 1:
            raise ValueError(f"SequenceDataset: to_inputs must map (B, ...) to (T, B, D), got shape "
                             f"{probe.shape} for B = 1")
        self.seq_len, _, self.input_size = (int(n) for n in probe.shape)

    @classmethod
    def from_time_major(cls, inputs: np.ndarray, targets: np.ndarray, **kwargs) -> "SequenceDataset":
        """A data set from float ``inputs`` (T, N, D) and ``targets`` as in the class docstring, with
        per-step targets given time-major (T, N)."""
        features = np.ascontiguousarray(inputs.transpose(1, 0, 2), dtype=np.float32)
        if kwargs.get("per_step_targets"):
            targets = np.ascontiguousarray(targets.T)
        return cls(features, targets, **kwargs)

    def __len__(self) -> int:
        return len(self.features)

    def subset(self, indices) -> "SequenceDataset":
        """The samples ``indices`` (in that order) as a new data set served the same way (a copy of them)."""
        indices = np.asarray(indices, dtype=np.intp)
        return SequenceDataset(self.features[indices], self.targets[indices], to_inputs=self._to_inputs,
                               per_step_targets=self.per_step_targets)

    def batch(self, indices) -> tuple[np.ndarray, np.ndarray]:
        """The samples ``indices`` (B,) as host arrays: inputs (T, B, D) float32 and targets (B,) int64,
        (B, K) float32, or (T, B) int64 for per-step targets."""
        indices = np.asarray(indices, dtype=np.intp)
        x = self._to_inputs(self.features[indices])
        y = self.targets[indices]
        if self.per_step_targets:
            y = np.ascontiguousarray(y.T)
        return x, y

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The whole set as one batch: inputs (T, N, D) float32 and targets as in :meth:`batch`."""
        return self.batch(np.arange(len(self)))
