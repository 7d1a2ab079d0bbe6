"""Whether a configuration fits this machine's memory and its task's data, checked before anything is allocated
or written.

:func:`check_fits` runs in :meth:`TrainConfig.validate`, before the task is loaded: it checks a generated task's shortest T and estimates the bytes
the largest arrays a run would hold need and refuses a run that cannot fit in the machine's memory, naming
the setting that asks for most. :func:`check_against_task` runs once the task is loaded, before the run
directory exists: the batch against the data set's size, the chunk lengths against T.
"""
from __future__ import annotations

import os

from ..datasets import task_options
from ..datasets.tasks import STREAM_TASKS
from .evaluation import PTB_DEFAULT_BPTT, SEQUENCE_EVAL_BATCH

GATES = 8
"""Arrays a cell keeps per unit and step for its backward pass (an LSTM: four gates, c, tanh c, h and its
input share), an upper-middle value for the registered cells: the estimate is an order of magnitude."""
OPTIMIZER_COPIES = 4
"""A weight, its gradient and an optimizer's two moment estimates."""
SHORTEST_T = {"adding": 2, "copying": 1}
"""Generated tasks' shortest sequence (adding: one marker in each half)."""


def machine_memory() -> int:
    """Bytes of physical memory (16 GiB when the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 16 * 2**30


def estimate(cfg) -> dict[tuple, int]:
    """(the settings that scale an array, ...) -> bytes the arrays would need, roughly."""
    item = 8 if cfg.dtype == "float64" else 4
    options = task_options(cfg.task)
    generated = "seq_len" in options
    T = (cfg.seq_len or options["seq_len"]) if generated else None
    chunk = cfg.tbptt or T or (PTB_DEFAULT_BPTT if cfg.task in STREAM_TASKS else 1)
    along = ("tbptt",) if cfg.tbptt else ("seq_len",) if generated else ()
    h, layers = cfg.hidden, cfg.layers
    width = max(h, cfg.embedding)
    need = {("hidden", "layers", "embedding"): OPTIMIZER_COPIES * layers * GATES // 2 * h * (h + width) * item}
    need[("batch_size", *along, "hidden", "layers")] = GATES * layers * chunk * cfg.batch_size * width * item
    eval_batch = cfg.eval_batch_size or (1 if cfg.task in STREAM_TASKS else max(cfg.batch_size, SEQUENCE_EVAL_BATCH))
    need[("eval_batch_size", *along, "hidden", "layers")] = GATES * layers * chunk * eval_batch * width * item // 2
    if generated:
        per_sequence = T * 8 * 8   # generated in float64, up to 8 inputs a step (copying's one-hot)
        for key, option in (("train_size", "n_train"), ("val_size", "n_val"), ("test_size", "n_test")):
            size = getattr(cfg, key) or options.get(option)     # a plugin task may not take every size
            if size:
                need[(key, "seq_len")] = size * per_sequence
    return need


def check_fits(cfg) -> None:
    """Refuse a generated task's T below its shortest, and a run the machine's memory cannot hold (naming the
    settings, set away from their defaults, that scale the largest arrays)."""
    from .config import ConfigError
    from .settings import BY_NAME
    shortest = SHORTEST_T.get(cfg.task)
    T = cfg.seq_len or task_options(cfg.task).get("seq_len")
    if shortest and T < shortest:
        raise ConfigError(f"config: seq_len {T} is too short for the {cfg.task} task (at least {shortest})")
    need = estimate(cfg)
    total, have = sum(need.values()), machine_memory()
    if total > have:
        names = max(need, key=need.get)
        name = next((n for n in names if getattr(cfg, n) != BY_NAME[n].default), names[0])
        raise ConfigError(f"config: {name} {getattr(cfg, name)}: the run would need about {total / 2**30:.3g} GiB "
                          f"of memory (this machine has {have / 2**30:.3g} GiB); lower {name}")


def check_against_task(cfg, task) -> None:
    """Refuse settings the loaded ``task`` cannot serve (before anything is written)."""
    from .config import ConfigError
    T = task.seq_len
    for name in ("tbptt", "tbptt_k2"):
        if T is not None and getattr(cfg, name) > T:
            raise ConfigError(f"config: {name} ({getattr(cfg, name)}) is longer than the {cfg.task} sequences "
                              f"(T = {T}); use {name} <= {T}, or 0 for full BPTT")
    if task.input_kind == "tokens":
        if cfg.tbptt_k2 and cfg.tbptt_k2 != cfg.tbptt:
            raise ConfigError(f"config: {cfg.task} is served in consecutive chunks; tbptt_k2 must equal tbptt")
        for name, split in (("batch_size", "train"), ("eval_batch_size", "val"), ("eval_batch_size", "test")):
            tokens = len(task.split(split))
            if getattr(cfg, name) > tokens // 2:
                raise ConfigError(f"config: {name} {getattr(cfg, name)} is more streams than the {split} split's "
                                  f"{tokens} tokens can fill (at most {tokens // 2}: two tokens a stream)")
    elif cfg.batch_size > len(task.train):
        raise ConfigError(f"config: batch_size {cfg.batch_size} is larger than the {cfg.task} training set "
                          f"({len(task.train)} sequences)")
