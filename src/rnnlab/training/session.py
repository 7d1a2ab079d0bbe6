"""The three things a user does with a run: start it, continue it, score it."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from . import checkpoints, rundir
from .config import ConfigError, TrainConfig, from_mapping
from .evaluation import evaluate
from .loop import Run
from .settings import SETTINGS, SettingError, check_applies

SPLITS = ("val", "test")
WHICH = {"last": checkpoints.CHECKPOINT, "best": checkpoints.BEST}


def train(cfg: TrainConfig, overwrite: bool = False) -> dict:
    """Train as ``cfg`` says; returns the summary (also written to ``summary.json``). A run directory that
    already holds a run is refused unless ``overwrite``."""
    return Run(cfg, overwrite=overwrite).run()


def check_applicable(cfg: TrainConfig, keys, source: str) -> TrainConfig:
    """Refuse settings in ``keys`` (those a user gave) that the chosen task or cell would ignore; returns the
    validated configuration."""
    from .data import check_task_keys
    from .model import check_cell_keys
    cfg = cfg.validate()
    keys = {k.replace("-", "_") for k in keys}
    try:
        check_applies(cfg, keys, source)
    except SettingError as exc:
        raise ConfigError(str(exc)) from None
    check_task_keys(cfg.task, keys, source)
    check_cell_keys(cfg.cell, keys, source)
    return cfg


def applying(cfg: TrainConfig) -> list:
    """The settings that take effect in ``cfg`` (a validated configuration), in their declared order: those a
    ``--config`` file may set without being refused as not applying."""
    from .data import check_task_keys
    from .model import check_cell_keys
    out = []
    for s in SETTINGS:
        try:
            check_applies(cfg, {s.name}, "")
            check_task_keys(cfg.task, {s.name}, "")
            check_cell_keys(cfg.cell, {s.name}, "")
        except SettingError:
            continue
        out.append(s.name)
    return out


def saved_config(run_dir, what: str) -> TrainConfig:
    """The configuration a run directory was started with (``config.json``), checked."""
    path = Path(run_dir) / "config.json"
    if not Path(run_dir).is_dir():
        raise rundir.RunDirError(f"{what}: {run_dir} is not a directory")
    values = rundir.read_json(path, what)
    if not isinstance(values, dict):
        raise rundir.RunDirError(f"{what}: {path} does not hold a configuration (a JSON object)")
    return from_mapping({**values, "out": str(run_dir)}, str(path))


def resume(run_dir, steps: int = 0, epochs: int = 0, progress: bool = True,
           distributed: bool | None = None) -> dict:
    """Continue the run in ``run_dir`` from its checkpoint (optionally to a larger ``steps`` or ``epochs``, on
    any number of ranks: ``distributed`` overrides the saved setting)."""
    cfg = saved_config(run_dir, "--resume")
    if steps < 0 or epochs < 0:
        raise ConfigError(f"--resume: steps and epochs must not be negative, got {steps or epochs}")
    if epochs and cfg.steps:
        raise ConfigError(f"--epochs: the run in {run_dir} is defined by steps ({cfg.steps}); give --steps to "
                          "train it longer")
    changes = {"progress": progress, "steps": steps or cfg.steps, "epochs": epochs or cfg.epochs}
    if distributed is not None:
        changes["distributed"] = distributed
    return Run(dataclasses.replace(cfg, **changes), resume=True).run()


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
    cfg = dataclasses.replace(cfg, progress=False, **({"data_dir": str(data_dir)} if data_dir else {}))
    run = Run(cfg, evaluate_only=True)
    try:
        meta = checkpoints.load_model(run.model, path, config=cfg.to_dict())
        metrics = evaluate(cfg, run.task, run.model, split, comm=run.comm)
    finally:
        run.close()
    return {"split": split, "checkpoint": checkpoint, "step": meta.get("step"), **metrics}
