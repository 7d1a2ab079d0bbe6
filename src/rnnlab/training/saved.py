"""A finished (or interrupted) run, loaded back into Python: its model, configuration and task.

    import rnnlab
    saved = rnnlab.load_run("runs/row", checkpoint="best")
    y, _ = saved.model(x)                  # x (T, B, D) time-major; y (B, K) or (T, B, K) per the task
    saved.config.hidden, saved.task.metric, saved.step

The model is the network ``rnnlab train`` built (:class:`~rnnlab.training.model.SequenceModel`), in
evaluation mode, with the checkpoint's parameters and buffers, on the current backend (``rnnlab.use_backend``
chooses) and in the run's dtype (``saved.config.dtype``; make inputs in it too). The task is loaded with the
run's settings, from ``data_dir`` when given (the data moved) or the run's own. Nothing global changes: the
default dtype and the random generator are as they were.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from ..engine import backend, init
from . import checkpoints
from .config import ConfigError, TrainConfig
from .data import task_from_config
from .model import SequenceModel
from .session import WHICH, saved_config


@dataclass(frozen=True)
class SavedRun:
    """What :func:`load_run` returns."""
    model: SequenceModel
    config: TrainConfig
    task: object          # rnnlab.datasets.Task
    step: int             # the optimizer step the checkpoint was written at
    checkpoint: Path      # the file the parameters came from


def load_run(run_dir, checkpoint: str = "last", data_dir: str | None = None) -> SavedRun:
    """The model of run directory ``run_dir`` at its ``checkpoint`` (``last``: ``checkpoint.npz``; ``best``:
    ``best.npz`` of a ``--keep-best`` run), with the run's configuration and task. A checkpoint of another run,
    a damaged one or a missing one is refused with one line (:class:`CheckpointError`, :class:`ConfigError`)."""
    if checkpoint not in WHICH:
        raise ConfigError(f"load_run: checkpoint must be one of {', '.join(WHICH)}, got {checkpoint!r}")
    cfg = saved_config(run_dir, "load_run")
    cfg = dataclasses.replace(cfg, progress=False, **({} if data_dir is None else {"data_dir": str(data_dir)}))
    path = Path(run_dir) / WHICH[checkpoint]
    if not path.exists():
        hint = " (the run was not started with --keep-best)" if checkpoint == "best" else ""
        raise checkpoints.CheckpointError(f"load_run: {path} does not exist{hint}")
    cfg = cfg.validate()                         # imports the run's plugins (cells and tasks they register)
    dtype, rng = backend.default_dtype_name(), init.get_rng().bit_generator.state
    try:
        backend.set_default_dtype(cfg.dtype)
        task = task_from_config(cfg)
        model = SequenceModel(cfg, task)
        meta = checkpoints.load_model(model, path, config=cfg.to_dict())
    finally:
        backend.set_default_dtype(dtype)
        init.get_rng().bit_generator.state = rng
    model.eval()
    return SavedRun(model, cfg, task, meta.get("step"), path)


__all__ = ["SavedRun", "load_run"]
