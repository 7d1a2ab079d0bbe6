"""A configuration is frozen: ``train(cfg)`` never changes its argument (a second call with the same object
trains again), ``validate`` returns a checked copy, and config.json records what ran (the steps chosen)."""
import dataclasses
import json

import pytest

from rnnlab.training import TrainConfig, train
from rnnlab.training.config import DEFAULT_STEPS

TINY = dict(task="adding", seq_len=4, train_size=8, val_size=4, test_size=4, hidden=2, batch_size=4, steps=1,
            eval_every=1, progress=False)


def test_a_configuration_cannot_be_changed_in_place():
    cfg = TrainConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.hidden = 8
    checked = cfg.validate()
    assert checked is not cfg and cfg.backend == "" and checked.backend in ("numpy", "cupy", "strict")


def test_train_twice_with_the_same_object(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RNNLAB_BACKEND", raising=False)
    cfg = TrainConfig(**TINY, lr=1)              # an int where a float goes: validate's copy holds the float
    before = cfg.to_dict()
    first = train(cfg)
    second = train(cfg)                          # out unset: a second fresh directory, not the first one's
    assert cfg.to_dict() == before and cfg.out == "" and cfg.lr == 1 and isinstance(cfg.lr, int)
    assert first["config"]["out"] != second["config"]["out"]
    assert first["config"]["lr"] == 1.0 and first["config"]["backend"] == "numpy"
    assert {k: v for k, v in first.items() if k.startswith("test_")} == \
        {k: v for k, v in second.items() if k.startswith("test_")}


def test_config_json_records_the_steps_the_run_chose(tmp_path, monkeypatch):
    monkeypatch.setattr("rnnlab.training.loop.DEFAULT_STEPS", 3)    # the choice, kept short for the test
    cfg = TrainConfig(**{**TINY, "steps": 0}, out=str(tmp_path / "run"))
    summary = train(cfg)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    assert recorded["steps"] == summary["steps"] == 3 and cfg.steps == 0
    assert DEFAULT_STEPS == 2000


def test_a_run_saved_before_cell_args_existed_still_resumes(tmp_path):
    """A checkpoint and config.json without the ``cell_args`` key (older runs) resume as runs without them."""
    from rnnlab.training import checkpoints, resume
    cfg = TrainConfig(**{**TINY, "steps": 2}, checkpoint_every=1, out=str(tmp_path / "run"))
    train(cfg)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    del config["cell_args"]
    (tmp_path / "run" / "config.json").write_text(json.dumps(config))
    path = tmp_path / "run" / checkpoints.CHECKPOINT
    arrays, meta = checkpoints.load(path)
    del meta["config"]["cell_args"]
    checkpoints.save(path, arrays, meta)
    assert resume(tmp_path / "run", steps=3, progress=False)["steps"] == 3
