"""The training configuration: every setting of ``rnnlab train``, its default, and its checks.

One :class:`TrainConfig` is built from defaults, then a TOML file (``--config``), then command-line flags,
later sources winning. Unknown keys, values of the wrong type and impossible values are errors that name
the key. The names a key accepts (cells, tasks, optimizers, ...) come from :mod:`.registry`.
"""
from __future__ import annotations

import dataclasses
import importlib
import math
import os
from dataclasses import dataclass, fields

from . import registry

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_STEPS = 2000
"""Steps when neither ``steps`` nor ``epochs`` is set. With the other defaults (an LSTM of 64 units, Adam
3e-3, batch 64, the adding task with T = 50) this solves the task (test MSE far below the 0.167 of
always predicting 1) in a few minutes on two CPU cores."""


BACKEND_VARIABLE = "RNNLAB_BACKEND"


class ConfigError(ValueError):
    """A setting is unknown or impossible; the message names it."""


@dataclass
class TrainConfig:
    # what to learn
    task: str = "adding"
    seq_len: int = 50           # generated tasks: T (0: the task's default, 100)
    train_size: int = 0         # generated tasks: number of training sequences (0: the task's default)
    val_size: int = 0           # validation examples held out (0: the task's default; MNIST 5000)
    test_size: int = 0          # generated tasks: number of test sequences (0: the task's default)
    range_sum: bool = False     # adding task: the FW paper's range-sum target instead of the standard one
    har_mapping: str = ""       # HAR-2: the six-to-two class merge, e.g. "1:1,2:0,3:1,4:0,5:1,6:0"
    pixels: str = "standardized"  # mnist tasks: standardized (training mean/std) or raw [0, 1] (MomentumRNN code)
    data_dir: str = ""
    # the model
    cell: str = "lstm"
    plugins: str = ""           # comma-separated modules imported first (they may register cells)
    layers: int = 1
    hidden: int = 64
    nonlinearity: str = "tanh"  # rnn cells
    forget_bias: float = 2.0    # lstm cells: initial forget-gate bias (the reference: 1 in each of two biases)
    mu: float = 0.6             # momentum cells
    s: float = 0.6
    beta: float = 0.9
    eps: float = 1e-8
    restart: int = 0            # nesterov cells: restart period F (0: no restart)
    nesterov_form: str = "paper"  # nesterov cells: the paper's rule, or a released code's variant
    momentum_clock: str = "sequence"  # ptb: momentum step index runs on across chunks, or restarts per chunk
    mag: float = 5.0            # indrnn: |u| <= mag^(1/T)
    skew_init: str = "cayley"   # orthogonal cells: initialization of A, 'cayley' or 'henaff'
    rebase_every: int = 0       # orthogonal cells: DTRIV period K, B_0 <- B and A <- 0 after every K-th optimizer
                                # step (0: never, which is expRNN; 1: the Riemannian-gradient limit)
    batch_norm: bool = False
    dropout: float = 0.0
    embedding: int = 0          # ptb: embedding size (0: = hidden)
    fused: bool = True
    kernels: bool = True        # fused path: compiled kernels where present (false: the readable loop)
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
    tbptt: int = 0              # k1: chunk length (0: full BPTT; ptb: 35)
    tbptt_k2: int = 0           # k2 >= k1: truncation length (0: = k1)
    eval_every: int = 500       # steps between validation evaluations
    eval_batch_size: int = 0    # evaluation batch (0: ptb one stream, 1; other tasks max(batch_size, 256))
    keep_best: bool = False     # keep the best-validation checkpoint (best.npz) and test it at the end
    log_every: int = 20
    checkpoint_every: int = 500
    record_grad_norms: bool = False
    # where and how
    backend: str = ""           # numpy | cupy | strict ("": $RNNLAB_BACKEND, else numpy)
    device: str = ""
    dtype: str = "float32"
    seed: int = 0
    out: str = ""               # run directory ("": a new runs/<task>-<cell>-<time>)
    progress: bool = True
    distributed: bool = False   # data parallelism over MPI (also on when mpiexec starts several ranks)

    def validate(self) -> "TrainConfig":
        """Raise :class:`ConfigError` naming the first impossible setting."""
        import_plugins(self.plugins)
        if not self.backend:
            self.backend = os.environ.get(BACKEND_VARIABLE, "") or "numpy"
            choice(f"backend (from ${BACKEND_VARIABLE})", self.backend, registry.choices()["backend"])
        for name, options in registry.choices().items():
            choice(name, getattr(self, name), options)
        for name in AT_LEAST_ONE:
            if getattr(self, name) < 1:
                raise ConfigError(f"config: {name} must be at least 1, got {getattr(self, name)}")
        for name in NOT_NEGATIVE:
            if getattr(self, name) < 0:
                raise ConfigError(f"config: {name} must not be negative, got {getattr(self, name)}")
        for name in ("lr", "fw_delta", "s", "eps", "mag"):
            if not getattr(self, name) > 0 or math.isinf(getattr(self, name)):
                raise ConfigError(f"config: {name} must be a positive number, got {getattr(self, name)}")
        for name, lo, hi, closed in INTERVALS:
            value = getattr(self, name)
            if not (lo <= value < hi or (closed and value == hi)) or (name in OPEN_BELOW and value == lo):
                left = "(" if name in OPEN_BELOW else "["
                raise ConfigError(f"config: {name} must be in {left}{lo}, {hi}{']' if closed else ')'}, got {value}")
        if not self.fw_p >= 1:
            raise ConfigError(f"config: fw_p must be at least 1 (or inf), got {self.fw_p}")
        orthogonal = registry.orthogonal_cells()
        if self.rebase_every and self.cell not in orthogonal:
            raise ConfigError(f"config: rebase_every needs an orthogonal cell ({', '.join(orthogonal)}), "
                              f"got cell {self.cell!r}")
        if self.tbptt_k2 and not self.tbptt:
            raise ConfigError("config: tbptt_k2 needs tbptt (the chunk length k1) to be set")
        if self.tbptt and self.tbptt_k2 and self.tbptt_k2 < self.tbptt:
            raise ConfigError(f"config: tbptt_k2 ({self.tbptt_k2}) must be at least tbptt ({self.tbptt}): "
                              "k2 < k1 would leave steps of each chunk without a gradient path")
        if self.device and self.backend == "numpy":
            raise ConfigError(f"config: device {self.device!r} needs backend cupy or strict; numpy has one device")
        return self

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


AT_LEAST_ONE = ("layers", "hidden", "batch_size", "eval_every", "log_every", "checkpoint_every", "fw_k", "lr_step",
                "patience")
NOT_NEGATIVE = ("seq_len", "train_size", "val_size", "test_size", "steps", "epochs", "tbptt", "tbptt_k2",
                "embedding", "restart", "rebase_every", "eval_batch_size", "clip_norm", "clip_value",
                "weight_decay", "momentum")
INTERVALS = (("mu", 0, 1, False), ("beta", 0, 1, False), ("dropout", 0, 1, False), ("lr_decay", 0, 1, True),
             ("alpha", 0, 1, False))
OPEN_BELOW = ("beta", "lr_decay")
"""(key, low, high, high included); keys in OPEN_BELOW exclude the low end too."""


def choice(name: str, value, options) -> None:
    if value not in options:
        raise ConfigError(f"config: unknown {name} {value!r}; choose one of {', '.join(map(str, options))}")


def import_plugins(plugins: str) -> None:
    """Import each module named in ``plugins`` (comma-separated), so that the cells they register exist."""
    for name in filter(None, (p.strip() for p in plugins.split(","))):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name.split(".")[0] and exc.name != name:
                raise               # the plugin itself imports something missing: its own traceback
            raise ConfigError(f"config: plugins: no module named {name!r} (is its folder on PYTHONPATH?)") from exc


FIELDS = {f.name: f for f in fields(TrainConfig)}


def from_mapping(values: dict, source: str, base: TrainConfig | None = None) -> TrainConfig:
    """A copy of ``base`` (or the defaults) with ``values`` applied; unknown keys name ``source``."""
    cfg = dataclasses.replace(base) if base is not None else TrainConfig()
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            raise ConfigError(f"{source}: unknown key {key!r}")
        setattr(cfg, name, coerce(name, value, source))
    return cfg


def read_toml(path) -> dict:
    """The tables of a TOML file; a :class:`ConfigError` naming the file when it cannot be read."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError as exc:
        raise ConfigError(f"--config: file {path} does not exist") from exc
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--config: {path} cannot be read as a TOML file ({exc.strerror or exc})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config: {path} is not valid TOML ({exc})") from exc


def toml_settings(path) -> dict:
    """The settings of a TOML file: its top-level keys, or those under a ``[train]`` table."""
    data = read_toml(path)
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    return data


def load_toml(path: str, base: TrainConfig | None = None) -> TrainConfig:
    """Read a TOML file of settings (see :func:`toml_settings`)."""
    return from_mapping(toml_settings(path), f"--config {path}", base)


def coerce(name: str, value, source: str):
    """``value`` as the type of key ``name``'s default; a :class:`ConfigError` when it is not one."""
    kind = type(FIELDS[name].default)
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise ConfigError(f"{source}: {name} must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ConfigError(f"{source}: {name} must be an integer, got {value!r}")
        if isinstance(value, float):
            return int(value)
    if kind is float and isinstance(value, bool):
        raise ConfigError(f"{source}: {name} must be a number, got {value!r}")
    if kind is str and not isinstance(value, str):
        raise ConfigError(f"{source}: {name} must be a string, got {value!r}")
    if name == "out" and value == "":
        raise ConfigError(f"{source}: out must name a directory, got an empty string (leave it out for a new "
                          "runs/<task>-<cell>-<time> directory)")
    try:
        if kind is float and isinstance(value, str) and value.lower() in ("inf", "infinity"):
            return math.inf
        result = kind(value)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: {name} must be {'an integer' if kind is int else 'a ' + kind.__name__}, "
                          f"got {value!r}") from exc
    if kind is float and math.isnan(result):
        raise ConfigError(f"{source}: {name} must be a number, got {value!r}")
    return result


__all__ = ["TrainConfig", "ConfigError", "load_toml", "toml_settings", "read_toml", "from_mapping", "coerce", "DEFAULT_STEPS"]
