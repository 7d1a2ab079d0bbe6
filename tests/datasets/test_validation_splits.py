"""Validation splits: seeded hold-outs of MNIST and HAR, separate seeded sets for adding and copying, PTB's file.

Each is disjoint from train and test, has the size asked for, and is a function of its seed alone.
"""
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import rnnlab
from rnnlab.datasets import (MNIST_MD5, PTB_MD5, SPLITS, TASKS, SequenceDataset, har_datasets, hold_out,
                             holdout_indices, load_mnist, load_task, task_options)
from tests.datasets.dataset_files import shared_folder, write_har, write_mnist, write_ptb


def _indexed(n: int) -> SequenceDataset:
    """Sample i holds the value i at each of its 2 steps and has target i."""
    return SequenceDataset(np.repeat(np.arange(n, dtype=np.float32)[:, None, None], 2, axis=1), np.arange(n))


@given(n=st.integers(2, 500), data=st.data(), seed=st.integers(0, 2**32 - 1))
def test_holdout_partitions_the_samples_into_sorted_sets_of_the_sizes_asked(n, data, seed):
    size = data.draw(st.integers(0, n - 1))
    kept, held = holdout_indices(n, size, seed)
    assert (len(kept), len(held)) == (n - size, size)
    np.testing.assert_array_equal(np.sort(np.concatenate([kept, held])), np.arange(n))
    assert np.all(np.diff(kept) > 0) and np.all(np.diff(held) > 0)
    again = holdout_indices(n, size, seed)
    np.testing.assert_array_equal(again[1], held)


@given(n=st.integers(3, 300), data=st.data(), seed=st.integers(0, 1000))
def test_a_smaller_holdout_is_part_of_a_larger_one_with_the_same_seed(n, data, seed):
    small = data.draw(st.integers(0, n - 2))
    large = data.draw(st.integers(small, n - 1))
    assert set(holdout_indices(n, small, seed)[1]) <= set(holdout_indices(n, large, seed)[1])


def test_holdout_depends_on_the_seed_and_not_on_the_loaders_epoch_orders():
    held = holdout_indices(1000, 100, 7)[1]
    assert not np.array_equal(held, holdout_indices(1000, 100, 8)[1])
    first_epoch = np.random.default_rng([7, 0]).permutation(1000)
    assert not np.array_equal(held, np.sort(first_epoch[:100]))


@pytest.mark.parametrize("size", [-1, 10, 2.5, True, None])
def test_holdout_of_an_impossible_size_is_an_error_naming_the_range(size):
    with pytest.raises(ValueError, match=rf"^load_task\('x'\): val_size must be an integer in \[0, 10\) \(training "
                                         rf"samples held out for validation; 0 for none\), got {size!r}$"):
        hold_out(_indexed(10), size, 0, owner="load_task('x')")


def test_hold_out_serves_the_held_samples_the_way_the_training_set_does():
    train, val = hold_out(_indexed(50), 12, seed=3)
    kept, held = holdout_indices(50, 12, 3)
    np.testing.assert_array_equal(train.targets, kept)
    x, y = val.arrays()
    assert x.shape == (2, 12, 1)
    np.testing.assert_array_equal(x[0, :, 0], held)
    same, none = hold_out(_indexed(50), 0, seed=3)
    assert none is None and len(same) == 50


def test_every_task_has_a_val_split_option_the_training_program_can_pass():
    for name in TASKS:
        options = task_options(name)
        if name in ("adding", "copying"):
            assert options["n_val"] == 2000 and "seed" in options
        elif name.startswith("mnist"):
            assert (options["val_size"], options["seed"]) == (5000, 0)
        elif name.startswith("har2"):
            assert (options["val_size"], options["seed"]) == (None, 0)
        elif name == "ptb-char":
            assert (options["n_val"], options["n_train"], options["n_test"]) == (None, None, None)
        else:
            assert name == "ptb" and "val_size" not in options
    assert SPLITS == ("train", "val", "test")


def _features(ds):
    return {row.tobytes() for row in ds.features}


@pytest.mark.parametrize("name", ["adding", "copying"])
def test_generated_val_set_is_new_data_of_its_size_reproduced_by_the_seed(backend_name, name):
    task = load_task(name, seq_len=12, n_train=300, n_test=200, n_val=150, seed=5)
    assert (len(task.train), len(task.val), len(task.test)) == (300, 150, 200)
    assert task.splits == SPLITS and task.valid is task.val and task.split("valid") is task.val
    val = _features(task.val)
    assert not val & _features(task.train) and not val & _features(task.test)
    again = load_task(name, seq_len=12, n_train=300, n_test=200, n_val=150, seed=5)
    np.testing.assert_array_equal(again.val.features, task.val.features)
    other = load_task(name, seq_len=12, n_train=300, n_test=200, n_val=150, seed=6)
    assert not np.array_equal(other.val.features, task.val.features)
    _, y = next(iter(task.loader("val", 150)))
    np.testing.assert_array_equal(rnnlab.to_numpy(y), task.val.batch(np.arange(150))[1])   # in order


@pytest.mark.parametrize("n_val", [-1, 1.5, "10"])
def test_generated_val_size_must_be_a_count(n_val):
    with pytest.raises(ValueError, match=rf"load_task\('adding'\): n_val must be an integer >= 0 \(validation "
                                         rf"sequences; 0 for none\), got {n_val!r}"):
        load_task("adding", n_train=4, n_test=4, n_val=n_val)


@pytest.fixture
def mnist_root(tmp_path, monkeypatch):
    """A data directory with a small MNIST (60 training images) whose checksums the loader expects."""
    for name, md5 in write_mnist(tmp_path / "mnist", n_train=60, n_test=12).items():
        monkeypatch.setitem(MNIST_MD5, name, md5)
    return tmp_path


@pytest.mark.parametrize("name", ["mnist-row", "mnist-pixel", "mnist-permuted"])
def test_mnist_val_is_a_seeded_holdout_removed_from_the_training_images(mnist_root, name):
    raw = load_mnist(mnist_root, download=False)
    task = load_task(name, mnist_root, download=False, val_size=15, seed=2)
    assert (len(task.train), len(task.val), len(task.test)) == (45, 15, 12) and task.info["val_size"] == 15
    kept, held = holdout_indices(60, 15, 2)
    np.testing.assert_array_equal(task.val.features, raw.train_images[held])
    np.testing.assert_array_equal(task.train.features, raw.train_images[kept])
    np.testing.assert_array_equal(task.test.features, raw.test_images)
    counts = np.bincount(raw.train_labels[kept], minlength=10) / 45
    assert task.baseline_loss == pytest.approx(-np.mean(np.log(counts[raw.test_labels])))
    other = load_task(name, mnist_root, download=False, val_size=15, seed=3)
    assert not np.array_equal(other.val.features, task.val.features)


def test_mnist_val_size_zero_trains_on_every_image_and_too_large_is_an_error(mnist_root):
    task = load_task("mnist-row", mnist_root, download=False, val_size=0)
    assert task.val is None and len(task.train) == 60 and task.splits == ("train", "test")
    with pytest.raises(ValueError, match=r"load_task\('mnist-row'\): val_size must be an integer in \[0, 60\)"):
        load_task("mnist-row", mnist_root, download=False, val_size=60)


def test_real_mnist_holds_out_5000_training_images_by_default():
    root = shared_folder("mnist", [f"{n}.gz" for n in MNIST_MD5]).parent
    task = load_task("mnist-row", root, download=False)
    assert (len(task.train), len(task.val), len(task.test)) == (55_000, 5_000, 10_000)
    assert not _features(task.val) & _features(task.train)
    assert np.all(np.bincount(task.val.targets, minlength=10) > 0)


@pytest.mark.parametrize("name", ["har2", "har2-noisy"])
def test_har_val_is_a_tenth_of_the_training_windows_by_default_held_out_by_seed(tmp_path, name):
    write_har(tmp_path / "har", n_train=40, n_test=10)
    task = load_task(name, tmp_path, seed=1)
    full, test, _ = har_datasets(tmp_path, noise_variance=task.info["noise_variance"], seed=1)
    kept, held = holdout_indices(40, 4, 1)
    assert (len(task.train), len(task.val), len(task.test)) == (36, 4, 10)
    np.testing.assert_array_equal(task.val.features, full.features[held])
    np.testing.assert_array_equal(task.train.features, full.features[kept])
    np.testing.assert_array_equal(task.test.features, test.features)
    sized = load_task(name, tmp_path, seed=1, val_size=9)
    assert (len(sized.train), len(sized.val)) == (31, 9)
    assert load_task(name, tmp_path, val_size=0).val is None


def test_har_baseline_comes_from_the_training_windows_left_after_the_holdout(tmp_path):
    write_har(tmp_path / "har", n_train=40, n_test=10)
    task = load_task("har2", tmp_path, val_size=13, seed=0)
    full, test, _ = har_datasets(tmp_path)
    kept = holdout_indices(40, 13, 0)[0]
    p = np.bincount(full.targets[kept], minlength=2) / len(kept)
    assert task.baseline_loss == pytest.approx(-np.mean(np.log(p[test.targets])))
    assert task.baseline_loss != pytest.approx(load_task("har2", tmp_path, val_size=0).baseline_loss)


@pytest.fixture
def ptb_root(tmp_path, monkeypatch):
    for name, md5 in write_ptb(tmp_path / "ptb").items():
        monkeypatch.setitem(PTB_MD5, name, md5)
    return tmp_path


@pytest.mark.parametrize("split", ["val", "test"])
@pytest.mark.parametrize("bptt", [1, 2, 3, 7])
def test_ptb_eval_with_batch_one_serves_the_whole_split_as_one_stream(backend_name, ptb_root, split, bptt):
    task = load_task("ptb", ptb_root, download=False)
    tokens = task.split(split)
    loader = task.loader(split, 1, bptt=bptt)
    chunks = [(rnnlab.to_numpy(x), rnnlab.to_numpy(y)) for x, y in loader]
    assert all(x.shape[1] == 1 and x.shape == y.shape for x, y in chunks)
    np.testing.assert_array_equal(np.concatenate([x for x, _ in chunks])[:, 0], tokens[:-1])
    np.testing.assert_array_equal(np.concatenate([y for _, y in chunks])[:, 0], tokens[1:])
    assert loader.at_epoch_start and loader.epoch == 1


def test_ptb_val_is_the_valid_file_and_baseline_the_training_unigrams(ptb_root):
    task = load_task("ptb", ptb_root, download=False)
    assert [task.info["vocab"][i] for i in task.val] == "the <unk> sat <eos>".split()
    assert task.split("valid") is task.val and task.info["val_size"] == 4


def test_real_ptb_val_stream_scores_every_token_after_the_first(backend_name):
    root = shared_folder("ptb", list(PTB_MD5)).parent
    task = load_task("ptb", root, download=False)
    loader = task.loader("val", 1, bptt=70)
    assert len(loader) == -(-73_759 // 70)
    assert sum(int(np.prod(y.shape)) for _, y in loader) == 73_759
