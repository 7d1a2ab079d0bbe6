"""The adding task: layout of values and markers, both target variants, seeding, the 1/6 baseline."""
import numpy as np
import pytest

from rnnlab.datasets import ADDING_BASELINE_MSE, adding_dataset, adding_task


@pytest.mark.parametrize("seq_len", [2, 3, 7, 100])
def test_adding_inputs_are_time_major_with_one_marker_in_each_half(seq_len):
    x, y = adding_task(50, seq_len, seed=1)
    assert x.shape == (seq_len, 50, 2) and x.dtype == np.float32
    assert y.shape == (50, 1) and y.dtype == np.float32
    values, markers = x[..., 0], x[..., 1]
    assert np.all((values >= 0) & (values < 1))
    assert set(np.unique(markers)) <= {0.0, 1.0}
    half = seq_len // 2
    np.testing.assert_array_equal(markers[:half].sum(axis=0), 1)
    np.testing.assert_array_equal(markers[half:].sum(axis=0), 1)


def test_adding_standard_target_is_the_sum_of_the_two_marked_values():
    x, y = adding_task(40, 30, seed=2)
    for n in range(40):
        marked = np.flatnonzero(x[:, n, 1])
        assert y[n, 0] == pytest.approx(float(x[marked, n, 0].astype(np.float64).sum()), abs=1e-6)


def test_adding_range_sum_target_sums_the_values_from_first_to_second_marker_inclusive():
    x, y = adding_task(40, 30, seed=3, target="range_sum")
    for n in range(40):
        i1, i2 = np.flatnonzero(x[:, n, 1])
        assert y[n, 0] == pytest.approx(float(x[i1:i2 + 1, n, 0].astype(np.float64).sum()), abs=1e-5)


def test_adding_same_seed_gives_same_data_and_another_seed_differs():
    a = adding_task(20, 16, seed=7)
    b = adding_task(20, 16, seed=7)
    c = adding_task(20, 16, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_adding_marker_positions_cover_each_half_uniformly():
    x, _ = adding_task(20_000, 10, seed=4)
    counts = x[..., 1].sum(axis=1)
    # each of the 5 positions of a half holds the marker of about n/5 = 4000 sequences (sd ~57)
    np.testing.assert_allclose(counts, 4000, atol=300)


def test_adding_predicting_one_gives_mse_of_one_sixth():
    _, y = adding_task(20_000, 50, seed=5)
    assert ADDING_BASELINE_MSE == pytest.approx(1 / 6)
    # standard error of the estimate is about 0.0014
    assert float(np.mean((y.astype(np.float64) - 1.0) ** 2)) == pytest.approx(1 / 6, abs=0.01)


def test_adding_dataset_serves_the_generated_arrays_time_major():
    x, y = adding_task(12, 9, seed=6)
    ds = adding_dataset(12, 9, seed=6)
    bx, by = ds.batch([3, 0, 11])
    np.testing.assert_array_equal(bx, x[:, [3, 0, 11]])
    np.testing.assert_array_equal(by, y[[3, 0, 11]])
    assert (ds.seq_len, ds.input_size, len(ds)) == (9, 2, 12)


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 10, "seq_len": 1}, "seq_len must be an integer >= 2"),
    ({"n": 0, "seq_len": 10}, "n (number of sequences) must be a positive integer"),
    ({"n": 10, "seq_len": 10, "target": "product"}, "target must be one of sum, range_sum"),
])
def test_adding_rejects_bad_arguments_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=r"adding_task: " + message.replace("(", r"\(").replace(")", r"\)")):
        adding_task(seed=0, **kwargs)
