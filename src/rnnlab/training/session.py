"""The three things a user does with a run: start it, continue it, score it."""
from __future__ import annotations

from pathlib import Path

from . import checkpoints, rundir
from .config import ConfigError, TrainConfig, from_mapping
from .evaluation import evaluate
from .loop import Run
from .settings import SettingError, check_applies

SPLITS = ("val", "test")
WHICH = {"last": checkpoints.CHECKPOINT, "best": checkpoints.BEST}


def train(cfg: TrainConfig, overwrite: bool = False) -> dict:
    """Train as ``cfg`` says; returns the summary (also written to ``summary.json``). A run directory that
    already holds a run is refused unless ``overwrite``."""
    return Run(cfg, overwrite=overwrite).run()


def check_applicable(cfg: TrainConfig, keys, source: str) -> None:
    """Refuse settings in ``keys`` (those a user gave) that the chosen task or cell would ignore."""
    from .data import check_task_keys
    from .model import check_cell_keys
    cfg.validate()
    keys = {k.replace("-", "_") for k in keys}
    try:
        check_applies(cfg, keys, source)
    except SettingError as exc:
        raise ConfigError(str(exc)) from None
    check_task_keys(cfg.task, keys, source)
    check_cell_keys(cfg.cell, keys, source)


def saved_config(run_dir, what: str) -> TrainConfig:
    """The configuration a run directory was started with (``config.json``), checked."""
    path = Path(run_dir) / "config.json"
    if not Path(run_dir).is_dir():
        raise rundir.RunDirError(f"{what}: {run_dir} is not a directory")
    values = rundir.read_json(path, what)
    if not isinstance(values, dict):
        raise rundir.RunDirError(f"{what}: {path} does not hold a configuration (a JSON object)")
    cfg = from_mapping(values, str(path))
    cfg.out = str(run_dir)
    return cfg


def resume(run_dir, steps: int = 0, epochs: int = 0, progress: bool = True,
           distributed: bool | None = None) -> dict:
    """Continue the run in ``run_dir`` from its checkpoint (optionally to a larger ``steps`` or ``epochs``, on
    any number of ranks: ``distributed`` overrides the saved setting)."""
    cfg = saved_config(run_dir, "--resume")
    if epochs and cfg.steps:
        raise ConfigError(f"--epochs: the run in {run_dir} is defined by steps ({cfg.steps}); give --steps to "
                          "train it longer")
    if steps < 0 or epochs < 0:
        raise ConfigError(f"--resume: steps and epochs must not be negative, got {steps or epochs}")
    cfg.progress = progress
    if steps:
        cfg.steps = steps
    if epochs:
        cfg.epochs = epochs
    if distributed is not None:
        cfg.distributed = distributed
    return Run(cfg, resume=True).run()


def evaluate_run(run_dir, split: str = "test", checkpoint: str = "last", data_dir=None) -> dict:
    """Score a saved run's ``checkpoint`` (``last`` or ``best``) on ``split`` (``val`` or ``test``); writes
    nothing. Returns the metrics. ``data_dir`` replaces the run's data directory (the data moved; the files
    are still checked against their checksums)."""
    if split not in SPLITS:
        raise ConfigError(f"evaluate: --split must be one of {', '.join(SPLITS)}, got {split!r}")
    if checkpoint not in WHICH:
        raise ConfigError(f"evaluate: --checkpoint must be one of {', '.join(WHICH)}, got {checkpoint!r}")
    cfg = saved_config(run_dir, "evaluate")
    path = Path(run_dir) / WHICH[checkpoint]
    if not path.exists():
        hint = " (the run was not started with --keep-best)" if checkpoint == "best" else ""
        raise checkpoints.CheckpointError(f"evaluate: {path} does not exist{hint}")
    cfg.progress = False
    if data_dir:
        cfg.data_dir = str(data_dir)
    run = Run(cfg, evaluate_only=True)
    try:
        meta = checkpoints.load_model(run.model, path, config=cfg.to_dict())
        metrics = evaluate(cfg, run.task, run.model, split, comm=run.comm)
    finally:
        run.close()
    return {"split": split, "checkpoint": checkpoint, "step": meta.get("step"), **metrics}
