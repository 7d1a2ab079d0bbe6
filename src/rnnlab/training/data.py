"""The task a configuration asks for, loaded with the options it sets."""
from __future__ import annotations

from ..datasets import TASKS, load_task, task_options
from .config import ConfigError, TrainConfig

TASK_OPTION = {"seq_len": "seq_len", "train_size": "n_train", "test_size": "n_test", "seed": "seed",
               "pixels": "pixels"}
"""Configuration key -> task option, for the options a task's factory accepts (see ``task_options``)."""


def task_from_config(cfg: TrainConfig):
    """Load the task ``cfg.task`` with the options the configuration sets (0 leaves a task's default)."""
    accepted = task_options(cfg.task)
    options = {}
    for key, option in TASK_OPTION.items():
        if option in accepted and getattr(cfg, key):
            options[option] = getattr(cfg, key)
    for option in ("val_size", "n_val"):
        if option in accepted and cfg.val_size:
            options[option] = cfg.val_size
    if "seed" in accepted:
        options["seed"] = cfg.seed
    if cfg.range_sum:
        if "target" not in accepted:
            raise ConfigError(f"config: range_sum applies to the adding task, not {cfg.task!r}")
        options["target"] = "range_sum"
    if cfg.har_mapping:
        if "merge" not in accepted:
            raise ConfigError(f"config: har_mapping applies to the har2 tasks, not {cfg.task!r}")
        options["merge"] = parse_mapping(cfg.har_mapping)
    return load_task(cfg.task, data_dir=cfg.data_dir or None, **options)


def check_task_keys(task: str, given, source: str) -> None:
    """Refuse a task setting in ``given`` that task ``task`` does not take (it would be silently ignored)."""
    accepted = task_options(task)
    for key, option in (*TASK_OPTION.items(), ("range_sum", "target"), ("har_mapping", "merge")):
        if key in given and key != "seed" and option not in accepted:
            raise ConfigError(f"{source}: {key} does not apply to task {task!r} (it applies to "
                              f"{', '.join(t for t in TASKS if option in task_options(t))})")


def parse_mapping(text: str) -> dict:
    """``"1:0,2:0,3:1"`` -> {1: 0, 2: 0, 3: 1}."""
    try:
        pairs = [item.split(":") for item in text.split(",") if item.strip()]
        return {int(a): int(b) for a, b in pairs}
    except ValueError as exc:
        raise ConfigError(f"config: har_mapping must look like '1:0,2:0,3:0,4:1,5:1,6:1', got {text!r}") from exc
