"""Work buffers kept between calls are reused, never while visible: an earlier result stays intact."""
import gc

import numpy as np
import pytest

kernels = pytest.importorskip("rnnlab.cells.kernels")
if not kernels.available():
    pytest.skip(f"compiled kernels unavailable: {kernels.unavailable_reason()}", allow_module_level=True)

from tests.cells.kernels.kernels_reference import lstm_inputs

from rnnlab.cells.kernels import buffers


def test_freed_lstm_cache_buffers_are_reused_and_earlier_outputs_stay_intact():
    gc.collect()
    buffers.clear()
    rng = np.random.default_rng(3)
    first = lstm_inputs(rng, 5, 3, 2, 4)
    hs1, cT1, cache = kernels.lstm_forward(*first)
    grads1 = kernels.lstm_backward(cache, None, np.ones((3, 4)), None)
    kept_hs, kept_cT = hs1.copy(), cT1.copy()
    del cache
    gc.collect()
    assert len(buffers._kept) == 2, "the gate and cell-state buffers were kept"
    hs2, cT2, cache2 = kernels.lstm_forward(*lstm_inputs(rng, 5, 3, 2, 4))
    assert len(buffers._kept) == 0, "the next forward pass of the same shape took them"
    np.testing.assert_array_equal(hs1, kept_hs)
    np.testing.assert_array_equal(cT1, kept_cT)
    again = kernels.lstm_backward(kernels.lstm_forward(*first)[2], None, np.ones((3, 4)), None)
    for a, b in zip(grads1, again):
        np.testing.assert_array_equal(a, b)


def test_buffers_keep_at_most_max_kept_arrays_newest_first():
    buffers.clear()
    arrays = [np.empty(k + 1) for k in range(buffers.MAX_KEPT + 2)]
    buffers.give(*arrays)
    assert [a.shape for a in buffers._kept] == [a.shape for a in arrays[-buffers.MAX_KEPT:]]
    assert buffers.take((1,), np.float64).shape == (1,) and buffers.take(arrays[-1].shape, "float64") is arrays[-1]
    buffers.clear()
