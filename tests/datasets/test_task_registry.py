"""load_task: every task's metadata agrees with the batches it serves; unknown names and options are errors."""
import numpy as np
import pytest

import rnnlab
from tests.datasets.dataset_files import shared_folder, write_har
from rnnlab.datasets import MNIST_MD5, PTB_MD5, TASKS, copying_baseline, load_task, task_options


def _check_batch_matches_metadata(task, x, y, batch):
    y = rnnlab.to_numpy(y)
    assert x.shape == (task.seq_len, batch, task.input_size)
    if task.target == "last" and task.loss == "mse":
        assert y.shape == (batch, task.output_size)
    elif task.target == "last":
        assert y.shape == (batch,) and 0 <= y.min() and y.max() < task.num_classes
    else:
        assert y.shape == (task.seq_len, batch) and y.max() < task.num_classes


def test_registry_names_the_nine_tasks_of_the_training_program():
    assert tuple(TASKS) == ("adding", "copying", "mnist-row", "mnist-pixel", "mnist-permuted", "har2", "har2-noisy", "ptb",
                           "ptb-char")


@pytest.mark.parametrize("name, options, expect", [
    ("adding", {"seq_len": 30, "n_train": 500, "n_test": 200}, {"loss": "mse", "metric": "mse", "input_size": 2}),
    ("adding", {"seq_len": 30, "n_train": 50, "n_test": 20, "target": "range_sum"}, {"loss": "mse"}),
    ("copying", {"seq_len": 15, "n_train": 50, "n_test": 20},
     {"loss": "cross_entropy", "metric": "accuracy", "input_size": 10, "num_classes": 9, "seq_len": 35}),
])
def test_generated_tasks_metadata_agrees_with_their_batches(backend_name, name, options, expect):
    task = load_task(name, **options)
    for key, value in expect.items():
        assert getattr(task, key) == value
    assert (len(task.train), len(task.test)) == (options["n_train"], options["n_test"])
    x, y = next(iter(task.loader("train", 8, seed=0)))
    _check_batch_matches_metadata(task, x, y, 8)


def test_adding_baseline_is_predicting_the_training_mean_near_one_sixth():
    task = load_task("adding", seq_len=20, n_train=4000, n_test=4000)
    assert task.baseline_loss == pytest.approx(1 / 6, abs=0.015)
    assert load_task("copying", seq_len=30, n_train=2, n_test=2).baseline_loss == copying_baseline(30)


def test_generated_train_and_test_sets_differ_and_the_seed_reproduces_them():
    a, b = load_task("adding", n_train=20, n_test=20, seed=4), load_task("adding", n_train=20, n_test=20, seed=4)
    np.testing.assert_array_equal(a.train.features, b.train.features)
    assert not np.array_equal(a.train.features, a.test.features)


def test_test_loader_keeps_order_and_train_loader_shuffles(backend_name):
    task = load_task("adding", seq_len=4, n_train=30, n_test=30)
    _, y = next(iter(task.loader("test", 30)))
    np.testing.assert_array_equal(rnnlab.to_numpy(y), task.test.targets)
    _, y = next(iter(task.loader("train", 30)))
    assert not np.array_equal(rnnlab.to_numpy(y), task.train.targets)


@pytest.mark.parametrize("name, seq_len, input_size", [("har2", 128, 9), ("har2-noisy", 128, 9)])
def test_har_tasks_from_the_uci_layout_agree_with_their_batches(backend_name, tmp_path, name, seq_len, input_size):
    write_har(tmp_path / "har")
    task = load_task(name, tmp_path)
    assert (task.seq_len, task.input_size, task.num_classes) == (seq_len, input_size, 2)
    assert task.info["noise_variance"] == (2.0 if name == "har2-noisy" else 0.0)
    x, y = next(iter(task.loader("train", 6)))
    _check_batch_matches_metadata(task, x, y, 6)


@pytest.fixture(scope="module")
def shared_root():
    return shared_folder("mnist", [f"{n}.gz" for n in MNIST_MD5]).parent


@pytest.mark.parametrize("name, seq_len, input_size", [("mnist-row", 28, 28), ("mnist-permuted", 784, 1)])
def test_mnist_tasks_agree_with_their_batches(shared_root, name, seq_len, input_size):
    task = load_task(name, shared_root, download=False)
    assert (task.seq_len, task.input_size, task.num_classes, task.loss) == (seq_len, input_size, 10, "cross_entropy")
    assert task.baseline_loss == pytest.approx(np.log(10), abs=0.01)
    x, y = next(iter(task.loader("test", 16)))
    _check_batch_matches_metadata(task, x, y, 16)


@pytest.fixture(scope="module")
def ptb_task():
    return load_task("ptb", shared_folder("ptb", list(PTB_MD5)).parent, download=False)


def test_ptb_task_serves_tbptt_chunks_and_reports_perplexity(backend_name, ptb_task):
    task = ptb_task
    assert (task.input_kind, task.metric, task.input_size, task.num_classes) == ("tokens", "perplexity", 10_000,
                                                                                 10_000)
    assert len(task.val) == 73_760 and task.valid is task.val
    loader = task.loader("valid", 20, bptt=35)
    x, y = next(iter(loader))
    assert x.shape == y.shape == (35, 20)
    np.testing.assert_array_equal(rnnlab.to_numpy(x)[1:], rnnlab.to_numpy(y)[:-1])
    with pytest.raises(ValueError, match="Task.loader: task 'ptb' serves TBPTT chunks; pass bptt"):
        task.loader("train", 20)


def test_unknown_task_is_an_error_listing_the_tasks():
    with pytest.raises(ValueError, match="load_task: unknown task 'mnist'; expected one of adding, copying, "
                                         "mnist-row"):
        load_task("mnist")


def test_unknown_option_is_an_error_listing_the_accepted_ones():
    with pytest.raises(ValueError, match="load_task: unknown option\\(s\\) 'steps' for task 'copying'; it accepts "
                                         "seq_len, n_train, n_test, n_val, seed"):
        load_task("copying", steps=3)
    assert task_options("mnist-permuted") == {"download": True, "val_size": 5000, "seed": 0, "permutation_seed": 0,
                                             "pixels": "standardized"}


def test_missing_split_is_an_error_naming_the_splits_there_are():
    task = load_task("adding", n_train=4, n_test=4, n_val=0)
    assert task.splits == ("train", "test")
    for name in ("val", "valid", "dev"):
        with pytest.raises(ValueError, match=f"Task.split: task 'adding' has no split '{name}'; it has train, test$"):
            task.loader(name, 2)
