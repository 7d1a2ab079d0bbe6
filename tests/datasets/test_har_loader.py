"""HAR-2 and Noisy-HAR-2 from files written here in the real UCI HAR layout."""
import numpy as np
import pytest

from tests.datasets.dataset_files import write_har
from rnnlab.datasets import (FASTGRNN_MERGE, HAR_ACTIVITIES, DataFormatError, MissingDataError, har_datasets,
                             load_har)


@pytest.fixture
def har_dir(tmp_path):
    """A data directory with a small UCI HAR under har/; yields (data dir, arrays written)."""
    written = write_har(tmp_path / "har")
    return tmp_path, written


def test_har_reads_nine_signal_files_in_order_into_windows_of_128_steps(har_dir):
    root, written = har_dir
    raw = load_har(root)
    assert raw.train_signals.shape == (24, 128, 9) and raw.test_signals.shape == (12, 128, 9)
    np.testing.assert_allclose(raw.train_signals, written["train"][0], rtol=1e-6)
    np.testing.assert_array_equal(raw.test_labels, written["test"][1])


def test_har2_batches_are_time_major_normalized_per_channel_from_training_statistics(har_dir):
    root, written = har_dir
    train, test, info = har_datasets(root)
    x, y = train.arrays()
    assert x.shape == (128, 24, 9) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_allclose(x.mean(axis=(0, 1)), 0, atol=1e-5)
    np.testing.assert_allclose(x.std(axis=(0, 1)), 1, atol=1e-5)
    signals = written["train"][0].astype(np.float64)
    np.testing.assert_allclose(info["mean"], signals.mean(axis=(0, 1)), rtol=1e-6)
    raw_test = written["test"][0]
    np.testing.assert_allclose(test.arrays()[0], ((raw_test - info["mean"]) / info["std"]).transpose(1, 0, 2),
                               rtol=1e-4, atol=1e-5)


def test_har2_default_merge_is_fastgrnn_sitting_laying_upstairs_against_the_rest(har_dir):
    root, written = har_dir
    train, _, info = har_datasets(root)
    labels = written["train"][1]
    in_class_one = np.isin(labels, [HAR_ACTIVITIES.index(a) + 1 for a in ("SITTING", "LAYING", "WALKING_UPSTAIRS")])
    np.testing.assert_array_equal(train.targets, in_class_one.astype(np.int64))
    assert info["merge"] == FASTGRNN_MERGE and info["num_classes"] == 2


def test_har_merge_is_a_parameter_taking_names_or_labels(har_dir):
    root, written = har_dir
    merge = {1: 0, 2: 0, 3: 0, "SITTING": 1, "STANDING": 1, "LAYING": 2}
    train, _, info = har_datasets(root, merge=merge)
    np.testing.assert_array_equal(train.targets, np.array([0, 0, 0, 1, 1, 2])[written["train"][1] - 1])
    assert info["num_classes"] == 3


def test_noisy_har2_adds_seeded_gaussian_noise_of_variance_two_to_normalized_inputs(tmp_path):
    write_har(tmp_path / "har", n_train=40, n_test=10)
    clean, clean_test, _ = har_datasets(tmp_path)
    noisy, noisy_test, _ = har_datasets(tmp_path, noise_variance=2.0, seed=3)
    again, _, _ = har_datasets(tmp_path, noise_variance=2.0, seed=3)
    other, _, _ = har_datasets(tmp_path, noise_variance=2.0, seed=4)
    noise = noisy.features.astype(np.float64) - clean.features
    # 46,080 draws: the sample mean has sd 0.007, the sample variance sd 0.013
    assert abs(noise.mean()) < 0.05 and noise.var() == pytest.approx(2.0, abs=0.08)
    assert np.var(noisy_test.features - clean_test.features) == pytest.approx(2.0, abs=0.2)
    np.testing.assert_array_equal(noisy.features, again.features)
    assert not np.array_equal(noisy.features, other.features)


def test_missing_har_files_error_says_which_files_and_where_to_unzip(tmp_path):
    write_har(tmp_path / "har")
    (tmp_path / "har" / "UCI HAR Dataset" / "test" / "Inertial Signals" / "body_gyro_y_test.txt").unlink()
    with pytest.raises(MissingDataError, match=r"load_har: missing UCI HAR Dataset/test/Inertial Signals/"
                                               rf"body_gyro_y_test\.txt in {tmp_path / 'har'}; download the UCI HAR "
                                               rf"zip from https://\S+ and unzip it in {tmp_path / 'har'}"):
        load_har(tmp_path)


def test_har_signal_rows_of_the_wrong_length_are_an_error_naming_the_file(tmp_path):
    write_har(tmp_path / "har")
    path = tmp_path / "har" / "UCI HAR Dataset" / "train" / "Inertial Signals" / "total_acc_z_train.txt"
    path.write_text("\n".join(" ".join(["0.5"] * 127) for _ in range(24)) + "\n")
    with pytest.raises(DataFormatError, match=rf"load_har: {path} holds 24 rows of 127 values, expected 24 rows "
                                              r"\(one per line of y_train\.txt\) of 128 values"):
        load_har(tmp_path)


def test_har_unparsable_signal_file_is_an_error_naming_the_file(tmp_path):
    write_har(tmp_path / "har")
    path = tmp_path / "har" / "UCI HAR Dataset" / "test" / "Inertial Signals" / "body_acc_x_test.txt"
    path.write_text("0.1 0.2 oops\n")
    with pytest.raises(DataFormatError, match=rf"load_har: {path} cannot be parsed as whitespace-separated numbers"):
        load_har(tmp_path)


def test_har_labels_outside_one_to_six_are_an_error_naming_the_file(tmp_path):
    write_har(tmp_path / "har")
    path = tmp_path / "har" / "UCI HAR Dataset" / "train" / "y_train.txt"
    path.write_text("".join(f"{v}\n" for v in [7] + [1] * 23))
    with pytest.raises(DataFormatError, match=rf"load_har: {path} must hold one integer label in 1\.\.6 per line"):
        load_har(tmp_path)


@pytest.mark.parametrize("merge, message", [
    ({"WALKING": 0}, "merge must map all six activities, missing WALKING_UPSTAIRS"),
    ({**FASTGRNN_MERGE, "JUMPING": 1}, "merge keys must be activity names .* or labels 1..6, got 'JUMPING'"),
    ({**FASTGRNN_MERGE, "LAYING": -1}, "merge maps 'LAYING' to -1, expected a class index >= 0"),
    ({a: (0 if a == "WALKING" else 2) for a in HAR_ACTIVITIES}, r"merge must use the classes 0..C-1 .*got \[0, 2\]"),
])
def test_har_bad_merge_is_an_error_explaining_the_mapping(har_dir, merge, message):
    with pytest.raises(ValueError, match="har_datasets: " + message):
        har_datasets(har_dir[0], merge=merge)


@pytest.mark.parametrize("text, shown", [("nan", "nan"), ("-inf", "-inf"), ("Infinity", "inf"), ("1e39", "inf")])
@pytest.mark.parametrize("row", [1, 5, 24])
def test_har_non_finite_signal_value_is_an_error_naming_the_file_and_row(tmp_path, text, shown, row):
    write_har(tmp_path / "har")
    path = tmp_path / "har" / "UCI HAR Dataset" / "train" / "Inertial Signals" / "body_gyro_z_train.txt"
    lines = path.read_text().splitlines()
    values = lines[row - 1].split()
    values[17] = text
    lines[row - 1] = " ".join(values)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=rf"^load_har: {path} row {row} holds the non-finite value {shown}; "
                                              r"expected finite numbers$"):
        load_har(tmp_path)


def test_har_non_finite_label_is_an_error_naming_the_file_and_row(tmp_path):
    write_har(tmp_path / "har", n_test=6)
    path = tmp_path / "har" / "UCI HAR Dataset" / "test" / "y_test.txt"
    path.write_text("1\n2\n3\nnan\n5\n6\n")
    with pytest.raises(DataFormatError, match=rf"^load_har: {path} row 4 holds the non-finite value nan"):
        load_har(tmp_path)


@pytest.mark.parametrize("variance", [float("inf"), float("nan"), -1.0, "2", True])
def test_har_noise_variance_must_be_a_finite_number(har_dir, variance):
    with pytest.raises(ValueError, match=rf"har_datasets: noise_variance must be a finite number >= 0, got "
                                         rf"{variance!r}"):
        har_datasets(har_dir[0], noise_variance=variance)
