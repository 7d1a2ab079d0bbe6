"""Epoch boundaries: ``at_epoch_start``, read before taking each batch, is true exactly for the first batch of
every epoch, in a run straight through and in one resumed from any saved state."""
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import rnnlab
from rnnlab.datasets import BatchLoader, SequenceDataset, TokenStreamLoader
from tests.cells.cell_configs import FIXTURE_SETTINGS


def _indexed(n: int) -> SequenceDataset:
    return SequenceDataset(np.zeros((n, 2, 1), np.float32), np.arange(n))


def _loader(kind: str, n: int, batch: int):
    """A BatchLoader of n samples or a TokenStreamLoader of n + 1 tokens in one stream: both serve
    ceil(n / batch) batches an epoch."""
    if kind == "batches":
        return BatchLoader(_indexed(n), batch, seed=1)
    return TokenStreamLoader(np.arange(n + 1), 1, batch)


@FIXTURE_SETTINGS
@given(kind=st.sampled_from(["batches", "tokens"]), n=st.integers(1, 30), batch=st.integers(1, 8),
       epochs=st.integers(1, 4))
def test_a_check_before_each_batch_sees_every_epoch_start_exactly_once(backend_name, kind, n, batch, epochs):
    loader = _loader(kind, n, batch)
    per_epoch = len(loader)
    stream = loader.stream()
    starts = []
    for i in range(per_epoch * epochs):
        starts.append(loader.at_epoch_start)
        next(stream)
        assert (loader.epoch, loader.position) == (i // per_epoch, i % per_epoch + 1)
    assert [i for i, s in enumerate(starts) if s] == list(range(0, per_epoch * epochs, per_epoch))
    assert loader.at_epoch_start


@FIXTURE_SETTINGS
@given(kind=st.sampled_from(["batches", "tokens"]), n=st.integers(1, 25), batch=st.integers(1, 6),
       stop=st.integers(0, 30))
def test_a_loader_resumed_from_any_state_serves_and_flags_what_the_straight_one_does(backend_name, kind, n, batch,
                                                                                     stop):
    def run(loader, steps):
        stream = loader.stream()
        out = []
        for _ in range(steps):
            flag = loader.at_epoch_start
            out.append((flag, rnnlab.to_numpy(next(stream)[1]).tolist()))
        return out

    straight = run(_loader(kind, n, batch), stop + 6)
    first = _loader(kind, n, batch)
    run(first, stop)
    resumed = _loader(kind, n, batch)
    resumed.load_state_dict(first.state_dict())
    assert run(resumed, 6) == straight[stop:]


def test_an_iterator_over_an_epoch_ends_and_the_next_serves_the_new_epoch_from_its_start(backend_name):
    loader = TokenStreamLoader(np.arange(13), 2, 3)           # 2 streams of 6 tokens: chunks of 3 and 2
    batches = iter(loader)
    next(batches)
    assert (loader.epoch, loader.position, loader.at_epoch_start) == (0, 1, False)
    next(batches)
    assert (loader.epoch, loader.position, loader.at_epoch_start) == (0, 2, True)
    assert next(batches, None) is None and (loader.epoch, loader.position) == (1, 0)
    x, _ = next(iter(loader))
    np.testing.assert_array_equal(rnnlab.to_numpy(x)[:, 1], [6, 7, 8])
