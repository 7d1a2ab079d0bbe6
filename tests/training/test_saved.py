"""rnnlab.load_run: a saved run's model, configuration and task, back in Python, scoring what the run reported."""
import shutil
import sys

import numpy as np
import pytest

import rnnlab
from rnnlab.datasets import TASKS
from rnnlab.engine import backend, init
from rnnlab.training import CheckpointError, ConfigError, TrainConfig, evaluate, train

TINY = dict(task="adding", seq_len=8, train_size=48, val_size=24, test_size=24, hidden=5, batch_size=8, steps=6,
            eval_every=2, keep_best=True, progress=False, dtype="float64", cell="momentum-lstm")


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("saved") / "run"
    return out, train(TrainConfig(**TINY, out=str(out)))


@pytest.mark.parametrize("which", ["last", "best"])
def test_the_loaded_model_scores_what_the_run_reported(finished, which, backend_name):
    out, summary = finished
    before = backend.default_dtype_name(), init.get_rng().bit_generator.state
    saved = rnnlab.load_run(out, checkpoint=which)
    assert (backend.default_dtype_name(), init.get_rng().bit_generator.state) == before     # nothing global moved
    prefix = "best_" if which == "best" else ""
    assert saved.step == summary["best_step" if which == "best" else "steps"]
    assert saved.checkpoint.name == ("best.npz" if which == "best" else "checkpoint.npz")
    assert (saved.config.task, saved.config.hidden, saved.task.name) == ("adding", 5, "adding")
    assert not saved.model.training
    xp = backend.get_namespace(rnnlab.asarray([0.0]))          # the current backend's
    assert all(backend.get_namespace(p.data) is xp and p.data.dtype == xp.float64 for p in saved.model.parameters())
    rnnlab.set_default_dtype(saved.config.dtype)       # inputs in the model's dtype, as the module says
    metrics = evaluate(saved.config, saved.task, saved.model, "test")
    np.testing.assert_allclose(metrics["loss"], summary[f"{prefix}test_loss"], rtol=1e-10)


def test_a_checkpoint_that_is_missing_mistyped_or_another_runs_is_one_clear_error(finished, tmp_path):
    out, _ = finished
    with pytest.raises(ConfigError, match="load_run: checkpoint must be one of last, best, got 'first'"):
        rnnlab.load_run(out, checkpoint="first")
    other = tmp_path / "other"
    train(TrainConfig(**{**TINY, "keep_best": False, "hidden": 4}, out=str(other)))
    with pytest.raises(CheckpointError, match=r"best\.npz does not exist \(the run was not started with --keep-best"):
        rnnlab.load_run(other, checkpoint="best")
    shutil.copy(out / "checkpoint.npz", other / "checkpoint.npz")
    with pytest.raises(CheckpointError, match="belongs to another run: hidden"):
        rnnlab.load_run(other)
    with pytest.raises(rnnlab.training.RunDirError, match="is not a directory"):
        rnnlab.load_run(tmp_path / "nowhere")


PLUGIN = '''
import numpy as np
from rnnlab.datasets import SequenceDataset, Task, register_task


@register_task("parity-test")
def parity(data_dir, *, seq_len: int = 6, n_train: int = 64, n_test: int = 32, seed: int = 0):
    """Is the number of ones in a 0/1 sequence odd? Served as x (T, B, 1), y (B,) classes."""
    def draw(n, which):
        bits = np.random.default_rng([seed, which]).integers(0, 2, size=(n, seq_len, 1)).astype(np.float32)
        return SequenceDataset(bits, bits.sum(axis=(1, 2)).astype(np.int64) % 2)
    train, test = draw(n_train, 0), draw(n_test, 1)
    return Task("parity-test", train, test, val=draw(16, 2), input_size=1, output_size=2, input_kind="float",
                target="last", loss="cross_entropy", metric="accuracy", seq_len=seq_len, num_classes=2,
                baseline_loss=float(np.log(2)))
'''


@pytest.fixture
def parity_plugin(tmp_path, monkeypatch):
    (tmp_path / "parity_plugin.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "parity_plugin"
    TASKS.pop("parity-test", None)                 # the next test sees the papers' tasks alone
    sys.modules.pop("parity_plugin", None)


def test_a_plugin_registers_a_task_that_trains_and_loads(parity_plugin, tmp_path, capsys):
    from rnnlab.cli import main
    out = tmp_path / "parity"
    assert "parity-test" not in TASKS
    assert main(["train", "--plugins", parity_plugin, "--task", "parity-test", "--seq-len", "5", "--cell", "gru",
                 "--hidden", "4", "--steps", "3", "--batch-size", "8", "--no-progress", "--out", str(out)]) == 0
    capsys.readouterr()
    TASKS.pop("parity-test")                       # a fresh session: load_run imports the run's plugins itself
    sys.modules.pop(parity_plugin)
    saved = rnnlab.load_run(out)
    assert (saved.task.name, saved.task.seq_len, saved.config.plugins) == ("parity-test", 5, parity_plugin)
    x, _ = saved.task.test.batch([0, 1, 2])
    y, _ = saved.model(rnnlab.Tensor(x))
    assert y.shape == (3, 2)


def test_a_task_name_taken_by_another_factory_is_refused(parity_plugin):
    from rnnlab.datasets import DatasetError, register_task
    with pytest.raises(DatasetError, match="register_task: 'adding' is already the name of rnnlab.datasets.tasks"):
        register_task("adding")(lambda data_dir: None)
