"""The copying task: layout, seeding, one-hot inputs, and the 10 log(8)/(T+20) baseline."""
import math

import numpy as np
import pytest

from rnnlab.datasets import copying_baseline, copying_dataset, copying_task


@pytest.mark.parametrize("blanks", [1, 5, 100])
def test_copying_sequence_is_symbols_blanks_delimiter_and_targets_repeat_the_symbols(blanks):
    x, y = copying_task(30, blanks, seed=0)
    total = blanks + 20
    assert x.shape == y.shape == (total, 30) and x.dtype == y.dtype == np.int64
    symbols = x[:10]
    assert np.all((symbols >= 1) & (symbols <= 8))
    np.testing.assert_array_equal(x[10:10 + blanks], 0)
    np.testing.assert_array_equal(x[10 + blanks], 9)
    np.testing.assert_array_equal(x[11 + blanks:], 0)
    np.testing.assert_array_equal(y[:blanks + 10], 0)
    np.testing.assert_array_equal(y[blanks + 10:], symbols)


def test_copying_symbols_are_drawn_from_all_eight_categories_uniformly():
    x, _ = copying_task(4000, 3, seed=1)
    counts = np.bincount(x[:10].ravel(), minlength=9)[1:]
    np.testing.assert_allclose(counts / counts.sum(), 1 / 8, atol=0.01)


def test_copying_same_seed_gives_same_data_and_another_seed_differs():
    a, b, c = copying_task(10, 4, seed=3), copying_task(10, 4, seed=3), copying_task(10, 4, seed=4)
    np.testing.assert_array_equal(a[0], b[0])
    assert not np.array_equal(a[0], c[0])


@pytest.mark.parametrize("blanks", [10, 100, 1000])
def test_copying_baseline_equals_cross_entropy_of_blanks_then_uniform_guesses(blanks):
    _, y = copying_task(8, blanks, seed=2)
    probs = np.zeros((blanks + 20, 9))
    probs[:blanks + 10, 0] = 1.0
    probs[blanks + 10:, 1:] = 1 / 8
    ce = -np.log(np.take_along_axis(probs, y, axis=1)).mean()
    assert copying_baseline(blanks) == pytest.approx(ce, rel=1e-12)
    assert copying_baseline(blanks) == pytest.approx(10 * math.log(8) / (blanks + 20), rel=1e-12)


def test_copying_dataset_batches_are_one_hot_inputs_and_per_step_targets():
    x, y = copying_task(6, 5, seed=5)
    ds = copying_dataset(6, 5, seed=5)
    bx, by = ds.batch([4, 1])
    assert bx.shape == (25, 2, 10) and bx.dtype == np.float32
    np.testing.assert_array_equal(bx.sum(axis=-1), 1.0)
    np.testing.assert_array_equal(bx.argmax(axis=-1), x[:, [4, 1]])
    np.testing.assert_array_equal(by, y[:, [4, 1]])


@pytest.mark.parametrize("n, blanks, message", [(0, 5, "n \\(number of sequences\\)"),
                                                (5, 0, "seq_len \\(number of blanks T\\)")])
def test_copying_rejects_bad_arguments_naming_them(n, blanks, message):
    with pytest.raises(ValueError, match="copying_task: " + message):
        copying_task(n, blanks, seed=0)
