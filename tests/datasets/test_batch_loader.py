"""Loaders: batches on the active device in the right dtypes, seeded order, bit-exact resume, sharding."""
import numpy as np
import pytest

import rnnlab
from rnnlab.datasets import BatchLoader, SequenceDataset, TokenStreamLoader, adding_dataset, copying_dataset
from rnnlab.engine import backend


def _on_active_device(a) -> bool:
    return backend.get_namespace(a) is backend.active_namespace() and backend.device_of(a) == backend.active_device()


def _indexed_dataset(n: int) -> SequenceDataset:
    """Sample i holds the value i at every step, so a batch tells which samples it holds."""
    features = np.repeat(np.arange(n, dtype=np.float32)[:, None, None], 3, axis=1)
    return SequenceDataset(features, np.arange(n, dtype=np.int64))


def _ids(batch) -> list[int]:
    return rnnlab.to_numpy(batch[1]).tolist()


def test_batches_are_moved_to_the_active_device_with_default_float_and_int64_targets(backend_name):
    x, y = next(iter(BatchLoader(copying_dataset(10, 3, seed=0), 4, seed=0)))
    assert _on_active_device(x) and _on_active_device(y)
    assert x.shape == (23, 4, 10) and y.shape == (23, 4)
    assert backend.to_numpy(x).dtype == np.dtype(backend.default_dtype_name())
    assert backend.to_numpy(y).dtype == np.int64


def test_regression_targets_follow_the_default_float_dtype(backend_name, float64):
    x, y = next(iter(BatchLoader(adding_dataset(10, 6, seed=0), 5, seed=0)))
    assert x.shape == (6, 5, 2) and y.shape == (5, 1)
    assert backend.to_numpy(x).dtype == np.float64 and backend.to_numpy(y).dtype == np.float64
    assert _on_active_device(y)


def test_batch_values_are_the_dataset_samples_in_the_epoch_order(backend_name):
    ds = adding_dataset(9, 5, seed=1)
    loader = BatchLoader(ds, 4, seed=3)
    order = loader.order(0)
    for i, (x, y) in enumerate(loader):
        want_x, want_y = ds.batch(order[4 * i:4 * i + 4])
        np.testing.assert_array_equal(rnnlab.to_numpy(x), want_x)
        np.testing.assert_array_equal(rnnlab.to_numpy(y), want_y)


def test_each_epoch_serves_every_sample_once_in_a_new_seeded_order(backend_name):
    loader = BatchLoader(_indexed_dataset(10), 3, seed=5)
    batches = [[_ids(b) for b in loader] for _ in range(3)]
    assert [len(b) for b in batches[0]] == [3, 3, 3, 1]
    epochs = [sum(epoch, []) for epoch in batches]
    for served in epochs:
        assert sorted(served) == list(range(10))
    assert epochs[0] != epochs[1] and loader.epoch == 3
    again = BatchLoader(_indexed_dataset(10), 3, seed=5)
    assert sum((_ids(b) for b in again), []) == epochs[0]
    assert sum((_ids(b) for b in BatchLoader(_indexed_dataset(10), 3, seed=6)), []) != epochs[0]


def test_without_shuffle_samples_come_in_order_and_drop_last_drops_the_short_batch(backend_name):
    loader = BatchLoader(_indexed_dataset(7), 3, shuffle=False, drop_last=True)
    assert len(loader) == 2 and [_ids(b) for b in loader] == [[0, 1, 2], [3, 4, 5]]


def test_resuming_from_a_state_dict_mid_epoch_continues_bit_exactly(backend_name):
    ds = adding_dataset(23, 4, seed=2)
    reference = BatchLoader(ds, 5, seed=9)
    straight = [rnnlab.to_numpy(x) for _ in range(3) for x, _ in reference]
    first = BatchLoader(ds, 5, seed=9)
    stream = first.stream()
    served = [rnnlab.to_numpy(next(stream)[0]) for _ in range(7)]   # epoch 1, batch 2 of 5
    state = first.state_dict()
    assert state == {"epoch": 1, "position": 2} and all(type(v) is int for v in state.values())
    resumed = BatchLoader(ds, 5, seed=9)
    resumed.load_state_dict(state)
    served += [rnnlab.to_numpy(x) for x, _ in resumed] + [rnnlab.to_numpy(x) for x, _ in resumed]
    assert len(served) == len(straight)
    for a, b in zip(served, straight):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("world_size", [2, 3])
def test_shards_of_an_epoch_are_disjoint_equal_and_follow_the_seeded_order(backend_name, world_size):
    n = 20
    shards = [BatchLoader(_indexed_dataset(n), 4, seed=1, rank=r, world_size=world_size) for r in range(world_size)]
    served = [sum((_ids(b) for b in loader), []) for loader in shards]
    assert all(len(s) == n // world_size for s in served)
    assert len(set().union(*map(set, served))) == world_size * (n // world_size)
    full = BatchLoader(_indexed_dataset(n), 4, seed=1).order(0)
    for r, s in enumerate(served):
        assert s == full[r::world_size][:n // world_size].tolist()


@pytest.mark.parametrize("kwargs, message", [
    ({"batch_size": 0}, "BatchLoader: batch_size must be an integer >= 1, got 0"),
    ({"batch_size": 2, "rank": 2, "world_size": 2}, r"BatchLoader: rank must lie in \[0, world_size\) = \[0, 2\)"),
    ({"batch_size": 2, "seed": -1}, "BatchLoader: seed must be an integer >= 0, got -1"),
    ({"batch_size": 8, "drop_last": True}, "BatchLoader: 5 samples make no batch of 8 for each of 1 worker"),
])
def test_batch_loader_rejects_bad_arguments_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BatchLoader(_indexed_dataset(5), **kwargs)


def test_load_state_dict_rejects_a_position_past_the_epoch():
    loader = BatchLoader(_indexed_dataset(5), 2)
    with pytest.raises(ValueError, match=r"BatchLoader: state\['position'\] = 4 exceeds the 3 batches of an epoch"):
        loader.load_state_dict({"epoch": 0, "position": 4})


def test_token_stream_chunks_are_inputs_and_next_token_targets_on_the_device(backend_name):
    tokens = np.arange(41)
    loader = TokenStreamLoader(tokens, 4, 3)         # 4 streams of 10 tokens, 9 prediction steps
    chunks = list(loader)
    assert len(loader) == len(chunks) == 3
    assert [tuple(x.shape) for x, _ in chunks] == [(3, 4), (3, 4), (3, 4)]
    for x, y in chunks:
        assert _on_active_device(x) and _on_active_device(y)
        assert backend.to_numpy(x).dtype == np.int64
        np.testing.assert_array_equal(rnnlab.to_numpy(y), rnnlab.to_numpy(x) + 1)
    inputs = np.concatenate([rnnlab.to_numpy(x) for x, _ in chunks])
    np.testing.assert_array_equal(inputs[:, 1], np.arange(10, 19))


def test_token_stream_last_chunk_is_shorter_and_resume_continues_in_place(backend_name):
    loader = TokenStreamLoader(np.arange(30), 2, 4)   # 2 streams of 15: 14 steps = 4 + 4 + 4 + 2
    shapes = [tuple(x.shape) for x, _ in loader]
    assert shapes == [(4, 2), (4, 2), (4, 2), (2, 2)]
    loader.load_state_dict({"epoch": 5, "position": 3})
    (x, y), = list(loader)
    np.testing.assert_array_equal(rnnlab.to_numpy(x)[:, 0], [12, 13])
    assert loader.state_dict() == {"epoch": 6, "position": 0}


def test_token_stream_shards_take_disjoint_streams():
    tokens = np.arange(48)
    a = TokenStreamLoader(tokens, 2, 5, rank=0, world_size=2)
    b = TokenStreamLoader(tokens, 2, 5, rank=1, world_size=2)
    np.testing.assert_array_equal(np.concatenate([a.data, b.data], axis=1), np.arange(48).reshape(4, 12).T)


def test_token_stream_rejects_non_integer_tokens():
    with pytest.raises(ValueError, match=r"TokenStreamLoader: tokens must be a 1-D integer array, got float64"):
        TokenStreamLoader(np.zeros(10), 2, 3)
