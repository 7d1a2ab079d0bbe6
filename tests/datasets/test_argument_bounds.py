"""Every declared integer bound of the data sets' and loaders' arguments, at its edge: hypothesis draws values
around each bound; the lowest allowed value (and everything above it) is taken, the one below is refused
with a ValueError naming the owner and the argument."""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given

from rnnlab.datasets import SequenceDataset, adding_task, copying_task, holdout_indices
from rnnlab.datasets.loader import BatchLoader, TokenStreamLoader


def data(n: int = 6) -> SequenceDataset:
    return SequenceDataset(np.zeros((n, 3, 1), np.float32), np.zeros(n, np.int64))


TOKENS = np.arange(40, dtype=np.int64)

# (what, build with the value, the lowest allowed value, the highest (or None), the words of the refusal)
BOUNDS = {
    "adding n": (lambda v: adding_task(v, 4, 0), 1, None, "adding_task: n"),
    "adding seq_len": (lambda v: adding_task(2, v, 0), 2, None, "adding_task: seq_len"),
    "copying n": (lambda v: copying_task(v, 3, 0), 1, None, "copying_task: n"),
    "copying seq_len": (lambda v: copying_task(2, v, 0), 1, None, "copying_task: seq_len"),
    "batch batch_size": (lambda v: BatchLoader(data(), v), 1, None, "BatchLoader: batch_size"),
    "batch seed": (lambda v: BatchLoader(data(), 2, seed=v), 0, None, "BatchLoader: seed"),
    "batch world_size": (lambda v: BatchLoader(data(), 1, world_size=v), 1, None, "BatchLoader: world_size"),
    "batch rank": (lambda v: BatchLoader(data(), 1, rank=v, world_size=3), 0, 2, "BatchLoader: rank"),
    "tokens batch_size": (lambda v: TokenStreamLoader(TOKENS, v, 4), 1, None, "TokenStreamLoader: batch_size"),
    "tokens bptt": (lambda v: TokenStreamLoader(TOKENS, 2, v), 1, None, "TokenStreamLoader: bptt"),
    "holdout size": (lambda v: holdout_indices(5, v, 0), 0, 4, "holdout_indices: val_size"),
    "holdout seed": (lambda v: holdout_indices(5, 1, v), 0, None, "holdout_indices: seed"),
    "state epoch": (lambda v: BatchLoader(data(), 2).load_state_dict({"epoch": v, "position": 0}), 0, None,
                    "BatchLoader: state['epoch']"),
    "state position": (lambda v: BatchLoader(data(), 2).load_state_dict({"epoch": 0, "position": v}), 0, 3,
                       "BatchLoader: state['position']"),
}


@pytest.mark.parametrize("what", sorted(BOUNDS))
@given(offset=st.integers(-3, 3))
def test_each_integer_argument_takes_its_bound_and_refuses_the_value_below(what, offset):
    build, low, high, words = BOUNDS[what]
    for edge in (low, high) if high is not None else (low,):
        value = edge + offset
        if low <= value and (high is None or value <= high):
            build(value)
        else:
            with pytest.raises(ValueError, match=words.replace("[", r"\[").replace("]", r"\]")) as caught:
                build(value)
            assert repr(value) in str(caught.value) or str(value) in str(caught.value), caught.value


def test_a_loader_serves_one_sample_at_the_smallest_sizes():
    x, y = copying_task(1, 1, 0)
    assert x.shape == y.shape == (21, 1)
    x, y = adding_task(1, 2, 0)
    assert x.shape == (2, 1, 2) and y.shape == (1, 1)
    loader = BatchLoader(data(1), 1)
    assert len(loader) == 1 and [b[0].shape for b in loader] == [(3, 1, 1)]


@pytest.mark.parametrize("shuffle", [True, False])
def test_the_order_of_an_epoch_is_refused_for_a_negative_epoch_and_the_same_when_asked_twice(shuffle):
    loader = BatchLoader(data(6), 2, shuffle=shuffle, seed=3)
    for epoch in (0, 1, 0):
        first = loader.order(epoch)
        assert sorted(first.tolist()) == list(range(6))
        np.testing.assert_array_equal(loader.order(epoch), first)
    for epoch in (-1, -2):
        with pytest.raises(ValueError, match="BatchLoader: epoch must be an integer >= 0"):
            loader.order(epoch)
