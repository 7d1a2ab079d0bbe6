"""The training configuration: every setting of ``rnnlab train``, its default, and its checks.

One :class:`TrainConfig` is built from defaults, then a TOML file (``--config``), then command-line flags,
later sources winning. Unknown keys and impossible values are errors that name the key.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, fields

from .cells.orthogonal import SKEW_INITS

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

TASKS = ("adding", "copying", "mnist-row", "mnist-pixel", "mnist-permuted", "har2", "har2-noisy", "ptb")
CELLS = ("rnn", "indrnn", "lstm", "gru", "momentum-rnn", "momentum-lstm", "nesterov-rnn", "nesterov-lstm",
         "adam-rnn", "adam-lstm", "rmsprop-rnn", "rmsprop-lstm", "orthogonal-rnn", "momentum-orthogonal-rnn",
         "nesterov-orthogonal-rnn", "adam-orthogonal-rnn", "rmsprop-orthogonal-rnn")
ORTHOGONAL_CELLS = tuple(c for c in CELLS if c.endswith("orthogonal-rnn"))
OPTIMIZERS = ("sgd", "adam", "rmsprop", "fw")
SCHEDULES = ("none", "step", "exp", "plateau")


DEFAULT_STEPS = 2000
"""Steps when neither ``steps`` nor ``epochs`` is set. With the other defaults (an LSTM of 64 units, Adam
3e-3, batch 64, the adding task with T = 50) this solves the task (test MSE far below the 0.167 of
always predicting 1) in a minute or two on two CPU cores."""


class ConfigError(ValueError):
    """A setting is unknown or impossible; the message names it."""


@dataclass
class TrainConfig:
    # what to learn
    task: str = "adding"
    seq_len: int = 50           # generated tasks: T (0: the task's default, 100)
    train_size: int = 0         # generated tasks: number of training sequences (0: the task's default)
    test_size: int = 0
    range_sum: bool = False     # adding task: the FW paper's range-sum target instead of the standard one
    har_mapping: str = ""       # HAR-2: the six-to-two class merge, e.g. "1:1,2:0,3:1,4:0,5:1,6:0"
    data_dir: str = ""
    # the model
    cell: str = "lstm"
    layers: int = 1
    hidden: int = 64
    nonlinearity: str = "tanh"  # rnn cells
    forget_bias: float = 2.0    # lstm cells: initial forget-gate bias (the reference: 1 in each of two biases)
    mu: float = 0.6             # momentum cells
    s: float = 0.6
    beta: float = 0.9
    eps: float = 1e-8
    restart: int = 0            # nesterov cells: restart period F (0: no restart)
    mag: float = 5.0            # indrnn: |u| <= mag^(1/T)
    skew_init: str = "cayley"   # orthogonal cells: initialization of A, 'cayley' or 'henaff'
    rebase_every: int = 0       # orthogonal cells: DTRIV period K, B_0 <- B and A <- 0 after every K-th optimizer
                                # step (0: never, which is expRNN; 1: the Riemannian-gradient limit)
    batch_norm: bool = False
    dropout: float = 0.0
    embedding: int = 0          # ptb: embedding size (0: = hidden)
    fused: bool = True
    # the optimizer
    optimizer: str = "adam"
    lr: float = 3e-3
    momentum: float = 0.0       # sgd and rmsprop
    nesterov: bool = False
    weight_decay: float = 0.0
    alpha: float = 0.99         # rmsprop
    fw_k: int = 1
    fw_delta: float = 1e-3
    fw_p: float = 2.0
    fw_outer: str = "adam"      # none | sgd | adam | rmsprop
    fw_norm: str = "global"     # global | per_tensor
    fw_cumulative: bool = False
    clip_norm: float = 0.0      # global gradient-norm clipping (0: off)
    clip_value: float = 0.0     # element-wise clamp (0: off)
    schedule: str = "none"
    lr_decay: float = 0.1
    lr_step: int = 1000         # step schedule: decay every lr_step steps
    patience: int = 3           # plateau schedule: evaluations without improvement
    # the loop
    steps: int = 0              # optimizer steps (0: use epochs; both 0: DEFAULT_STEPS)
    epochs: int = 0
    batch_size: int = 64
    tbptt: int = 0              # k1: chunk length (0: full BPTT)
    tbptt_k2: int = 0           # k2: truncation length (0: = k1)
    eval_every: int = 500
    log_every: int = 20
    checkpoint_every: int = 500
    record_grad_norms: bool = False
    # where and how
    backend: str = "numpy"
    device: str = ""
    dtype: str = "float32"
    seed: int = 0
    out: str = "runs/latest"
    progress: bool = True
    distributed: bool = False   # data parallelism over MPI (also on when mpiexec starts several ranks)

    def validate(self) -> "TrainConfig":
        """Raise :class:`ConfigError` naming the first impossible setting."""
        choice("task", self.task, TASKS)
        choice("cell", self.cell, CELLS)
        choice("optimizer", self.optimizer, OPTIMIZERS)
        choice("schedule", self.schedule, SCHEDULES)
        choice("backend", self.backend, ("numpy", "cupy", "strict"))
        choice("dtype", self.dtype, ("float32", "float64"))
        choice("nonlinearity", self.nonlinearity, ("tanh", "relu"))
        choice("fw_outer", self.fw_outer, ("none", "sgd", "adam", "rmsprop"))
        choice("fw_norm", self.fw_norm, ("global", "per_tensor"))
        choice("skew_init", self.skew_init, SKEW_INITS)
        for name in ("layers", "hidden", "batch_size", "eval_every", "log_every", "checkpoint_every", "fw_k",
                     "lr_step", "patience"):
            if getattr(self, name) < 1:
                raise ConfigError(f"config: {name} must be at least 1, got {getattr(self, name)}")
        for name in ("seq_len", "train_size", "test_size", "steps", "epochs", "tbptt", "tbptt_k2", "embedding",
                     "restart", "rebase_every"):
            if getattr(self, name) < 0:
                raise ConfigError(f"config: {name} must not be negative, got {getattr(self, name)}")
        for name in ("lr", "fw_delta", "s", "eps", "mag"):
            if not getattr(self, name) > 0 or math.isinf(getattr(self, name)):
                raise ConfigError(f"config: {name} must be a positive number, got {getattr(self, name)}")
        for name in ("clip_norm", "clip_value", "weight_decay", "momentum"):
            if getattr(self, name) < 0:
                raise ConfigError(f"config: {name} must not be negative, got {getattr(self, name)}")
        if not 0 <= self.mu < 1:
            raise ConfigError(f"config: mu must be in [0, 1), got {self.mu}")
        if not 0 < self.beta < 1:
            raise ConfigError(f"config: beta must be in (0, 1), got {self.beta}")
        if not 0 <= self.dropout < 1:
            raise ConfigError(f"config: dropout must be in [0, 1), got {self.dropout}")
        if not 0 < self.lr_decay <= 1:
            raise ConfigError(f"config: lr_decay must be in (0, 1], got {self.lr_decay}")
        if not self.fw_p >= 1:
            raise ConfigError(f"config: fw_p must be at least 1 (or inf), got {self.fw_p}")
        if self.rebase_every and self.cell not in ORTHOGONAL_CELLS:
            raise ConfigError(f"config: rebase_every needs an orthogonal cell ({', '.join(ORTHOGONAL_CELLS)}), "
                              f"got cell {self.cell!r}")
        if self.tbptt_k2 and not self.tbptt:
            raise ConfigError("config: tbptt_k2 needs tbptt (the chunk length k1) to be set")
        if self.tbptt and self.tbptt_k2 > self.tbptt:
            raise ConfigError(f"config: tbptt_k2 ({self.tbptt_k2}) must not exceed tbptt ({self.tbptt})")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def choice(name: str, value, options) -> None:
    if value not in options:
        raise ConfigError(f"config: unknown {name} {value!r}; choose one of {', '.join(map(str, options))}")


FIELDS = {f.name: f for f in fields(TrainConfig)}


def from_mapping(values: dict, source: str, base: TrainConfig | None = None) -> TrainConfig:
    """A copy of ``base`` (or the defaults) with ``values`` applied; unknown keys name ``source``."""
    cfg = dataclasses.replace(base) if base is not None else TrainConfig()
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            raise ConfigError(f"{source}: unknown key {key!r}")
        setattr(cfg, name, _coerce(name, value, source))
    return cfg


def load_toml(path: str, base: TrainConfig | None = None) -> TrainConfig:
    """Read a TOML file of settings (top-level keys, or under a ``[train]`` table)."""
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(f"--config: file {path} does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config: {path} is not valid TOML ({exc})") from exc
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    return from_mapping(data, f"--config {path}", base)


def _coerce(name: str, value, source: str):
    kind = type(FIELDS[name].default)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{source}: {name} must be true or false, got {value!r}")
    try:
        if kind is float and isinstance(value, str) and value.lower() in ("inf", "infinity"):
            return math.inf
        return kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {name} must be a {kind.__name__}, got {value!r}") from exc


__all__ = ["TrainConfig", "ConfigError", "load_toml", "from_mapping", "TASKS", "CELLS", "OPTIMIZERS"]
