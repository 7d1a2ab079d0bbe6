"""Loaders: minibatches of a :class:`SequenceDataset`, and TBPTT chunks of a token stream, on the device.

Both move every batch to the active backend's device with :func:`rnnlab.engine.backend.asarray`: float data in
the default float dtype, class targets and tokens as int64. Both keep their place as two plain integers,
``epoch`` (of the last batch served) and ``position`` (batches already served in it, up to ``len(loader)``);
the loader moves to the next epoch when it is asked for a batch past the last one (an iterator over the
epoch then ends with ``StopIteration``, and ``stream()`` goes on). ``at_epoch_start``, read before taking a
batch, says that batch opens an epoch (``position`` is 0 or ``len(loader)``), every epoch, and after a resume
as well. The order of an epoch is a function of the seed and the epoch number only, so ``state_dict()`` saved
in a checkpoint and ``load_state_dict()`` resume bit-exactly mid-epoch. ``rank`` and ``world_size`` give each
data-parallel worker a disjoint share.
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

from ..engine.backend import asarray, default_dtype_name
from .ptb import batchify
from .sequence import SequenceDataset

__all__ = ["BatchLoader", "TokenStreamLoader", "to_device"]


def to_device(array: np.ndarray):
    """A host array on the active backend's device: integers as int64, floats in the default float dtype."""
    kind = np.asarray(array).dtype.kind
    return asarray(array, dtype="int64" if kind in "iub" else default_dtype_name())


def _check_int(owner: str, name: str, value, low: int) -> int:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low}, got {value!r}")
    return int(value)


class _EpochLoader:
    """Epoch bookkeeping shared by the loaders: ``epoch``, ``position``, iteration and state."""

    def __init__(self, owner: str, rank: int, world_size: int):
        self.world_size = _check_int(owner, "world_size", world_size, 1)
        self.rank = _check_int(owner, "rank", rank, 0)
        if self.rank >= self.world_size:
            raise ValueError(f"{owner}: rank must lie in [0, world_size) = [0, {world_size}), got {rank}")
        self.epoch = 0
        self.position = 0

    def __len__(self) -> int:
        """Batches per epoch (for this rank)."""
        raise NotImplementedError

    def _batch(self, epoch: int, index: int):
        raise NotImplementedError

    @property
    def at_epoch_start(self) -> bool:
        """True when the next batch served is the first of an epoch: ``position`` is 0 (nothing served yet)
        or ``len(self)`` (the epoch is served; the next batch opens the next one)."""
        return self.position == 0 or self.position >= len(self)

    def __iter__(self) -> Iterator:
        """The remaining batches of the current epoch; asked for one more, it moves to the next epoch
        (``epoch + 1``, ``position`` 0) and ends."""
        epoch = self.epoch
        while self.position < len(self):
            batch = self._batch(epoch, self.position)
            self.position += 1
            yield batch
        self.epoch, self.position = epoch + 1, 0

    def stream(self) -> Iterator:
        """Batches without end, epoch after epoch (for training by number of steps)."""
        while True:
            yield from self

    def state_dict(self) -> dict:
        """Where the loader stands: ``{"epoch": int, "position": int}`` (plain ints, for a checkpoint).

        Save it after the step that used the last batch served; a loader restored from it serves the next.
        """
        return {"epoch": int(self.epoch), "position": int(self.position)}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict`: the next batch is the one that would have come next."""
        owner = type(self).__name__
        epoch = _check_int(owner, "state['epoch']", int(state["epoch"]), 0)
        position = _check_int(owner, "state['position']", int(state["position"]), 0)
        if position > len(self):
            raise ValueError(f"{owner}: state['position'] = {position} exceeds the {len(self)} batches of an epoch")
        self.epoch, self.position = epoch, position


class BatchLoader(_EpochLoader):
    """Minibatches of a :class:`SequenceDataset`, shuffled per epoch from a seed, on the active device.

    Yields ``(x, y)``: x (T, B, D) in the default float dtype; y (B,) int64 classes, (B, K) float values,
    or (T, B) int64 per-step classes. The order of epoch e is
    ``np.random.default_rng([seed, e]).permutation(N)`` (``arange(N)`` without shuffling); with
    ``world_size`` W, rank r takes ``order[r::W][:N // W]``: disjoint shards of equal length. The last batch
    is smaller unless ``drop_last``.
    """

    def __init__(self, dataset: SequenceDataset, batch_size: int, *, shuffle: bool = True, seed: int = 0,
                 drop_last: bool = False, rank: int = 0, world_size: int = 1):
        super().__init__("BatchLoader", rank, world_size)
        self.dataset = dataset
        self.batch_size = _check_int("BatchLoader", "batch_size", batch_size, 1)
        self.seed = _check_int("BatchLoader", "seed", seed, 0)
        self.shuffle = shuffle
        self.drop_last = drop_last
        self.shard_size = len(dataset) // self.world_size
        self._cached_order = (None, None)        # (epoch, its order): the last epoch asked for
        if self.shard_size < 1 or (drop_last and self.shard_size < self.batch_size):
            raise ValueError(f"BatchLoader: {len(dataset)} samples make no batch of {batch_size} for each of "
                             f"{world_size} worker(s){' with drop_last' if drop_last else ''}")

    def __len__(self) -> int:
        full, rest = divmod(self.shard_size, self.batch_size)
        return full + (1 if rest and not self.drop_last else 0)

    def order(self, epoch: int) -> np.ndarray:
        """This rank's sample indices for ``epoch``, in the order they are served: (N // world_size,) int64."""
        epoch = _check_int("BatchLoader", "epoch", epoch, 0)
        if self._cached_order[0] == epoch:
            return self._cached_order[1]
        n = len(self.dataset)
        order = np.random.default_rng([self.seed, epoch]).permutation(n) if self.shuffle else np.arange(n)
        order = order[self.rank::self.world_size][:self.shard_size]
        self._cached_order = (epoch, order)
        return order

    def _batch(self, epoch: int, index: int):
        indices = self.order(epoch)[index * self.batch_size:(index + 1) * self.batch_size]
        x, y = self.dataset.batch(indices)
        return to_device(x), to_device(y)


class TokenStreamLoader(_EpochLoader):
    """A token stream (L,) in TBPTT chunks: ``batch_size`` = B parallel streams, chunks of ``bptt`` = k steps.

    The stream is cut by :func:`rnnlab.datasets.batchify` into data (n, B) (with ``world_size`` W into B*W
    streams, of which rank r takes columns r*B .. r*B + B - 1). Chunk i yields inputs ``data[s:s + k]`` and
    next-token targets ``data[s + 1:s + 1 + k]``, s = i*k, both (k, B) int64 on the active device; the
    last chunk is shorter when n - 1 is not a multiple of k. Chunks come in order (a hidden state carried
    from one to the next continues each stream); reset it when an epoch begins (``at_epoch_start`` before
    taking the chunk). With ``batch_size`` 1 the whole stream is one column: L - 1 predictions, in order.
    """

    def __init__(self, tokens: np.ndarray, batch_size: int, bptt: int, *, rank: int = 0, world_size: int = 1):
        super().__init__("TokenStreamLoader", rank, world_size)
        self.batch_size = _check_int("TokenStreamLoader", "batch_size", batch_size, 1)
        self.bptt = _check_int("TokenStreamLoader", "bptt", bptt, 1)
        tokens = np.asarray(tokens)
        if tokens.ndim != 1 or tokens.dtype.kind not in "iu":
            raise ValueError(f"TokenStreamLoader: tokens must be a 1-D integer array, got {tokens.dtype} of "
                             f"shape {tokens.shape}")
        streams = batchify(tokens, self.batch_size * self.world_size)
        self.data = np.ascontiguousarray(streams[:, self.rank * self.batch_size:(self.rank + 1) * self.batch_size])

    def __len__(self) -> int:
        return -(-(len(self.data) - 1) // self.bptt)

    def _batch(self, epoch: int, index: int):
        start = index * self.bptt
        stop = min(start + self.bptt, len(self.data) - 1)
        return to_device(self.data[start:stop].copy()), to_device(self.data[start + 1:stop + 1].copy())
