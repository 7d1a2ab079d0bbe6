"""Every setting of ``rnnlab train``, declared once: its type, default, range, one-line help, group and where
it applies.

:class:`~rnnlab.training.config.TrainConfig`'s fields, the flags and their grouped ``--help``
(:mod:`.flags`), the README's table, the parsing of flags and TOML values (:func:`parse`) and the range and
"does not apply" checks (:func:`check_value`, :func:`check_applies`) are all read from :data:`SETTINGS`.
Where a cell setting or a task setting applies is not written here: it is read from the cells' constructor
signatures and the tasks' factory signatures (``applies=CELL`` / ``TASK``).
"""
from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Callable

GROUPS = ("task", "model", "optimizer", "schedule", "run")
CELL, TASK = "cell", "task"
"""``applies`` markers: the setting applies to the cells (tasks) whose constructor (factory) takes it."""


class SettingError(ValueError):
    """A value a setting cannot take; the message names the setting. (:class:`ConfigError` derives from it.)"""


@dataclass(frozen=True)
class Range:
    """``lo`` .. ``hi`` (None: unbounded), each end closed unless ``lo_open`` / ``hi_open``; ``why`` says why."""
    lo: float | None = None
    hi: float | None = None
    lo_open: bool = False
    hi_open: bool = False
    why: str = ""

    def holds(self, v) -> bool:
        return ((self.lo is None or (v > self.lo if self.lo_open else v >= self.lo))
                and (self.hi is None or (v < self.hi if self.hi_open else v <= self.hi)))

    def text(self, kind: type = float) -> str:
        if self.hi is None and self.lo == 0:
            return ("at least 1" if kind is int else "a positive number") if self.lo_open else "not negative"
        if self.hi is None:
            return f"{'more than' if self.lo_open else 'at least'} {self.lo}"
        if self.lo is None:
            return f"{'less than' if self.hi_open else 'at most'} {self.hi}"
        return f"in {'(' if self.lo_open else '['}{self.lo}, {self.hi}{')' if self.hi_open else ']'}"


@dataclass(frozen=True)
class Where:
    """A setting applies only when ``when(cfg)``; ``text`` says when (for the error)."""
    text: str
    when: Callable


@dataclass(frozen=True)
class Setting:
    name: str
    kind: type
    default: object
    help: str
    group: str
    range: Range | None = None
    applies: object = None          # None: always; CELL, TASK or a Where
    allow_inf: bool = False         # floats: inf is a meaning (e.g. the l-inf ball); otherwise finite only
    main: bool = False              # listed in the README's table
    spelled: str = ""               # the flag, where it is not --<name with dashes>

    @property
    def flag(self) -> str:
        return self.spelled or "--" + self.name.replace("_", "-")


OWN = object()
"""A cell setting's default: the default of the constructor parameter of rnnlab's own cells (:func:`own_default`)."""
CELL_PARAMETER = {"nesterov_form": "form"}
"""Cell settings whose constructor parameter has another name; every other cell setting is the parameter of the
same name."""


def own_cell(cls) -> bool:
    """Whether cell class ``cls`` is one of rnnlab's own (defined in :mod:`rnnlab.cells`): only those take the
    declared cell settings (``mu``, ...); any other registered cell takes its hyperparameters from
    ``cell_args`` alone, so that a same-named setting never fills one silently."""
    return cls.__module__.split(".")[:2] == ["rnnlab", "cells"]


def own_default(name: str):
    """The default of cell setting ``name``: its constructor parameter's default in rnnlab's own cells, which
    all agree (one default per hyperparameter, in Python and on the command line)."""
    from ..cells import CELLS
    from ..cells.registry import cell_hyperparameters
    param = CELL_PARAMETER.get(name, name)
    found = {repr(p.default): p.default for cls in CELLS.values() if own_cell(cls)
             for n, p in cell_hyperparameters(cls).items() if n == param}
    if len(found) != 1:
        raise RuntimeError(f"settings: rnnlab's cells give parameter {param!r} the defaults {sorted(found)}; "
                           "a cell setting needs exactly one")
    return next(iter(found.values()))


def _outer(cfg) -> str:
    """The step optimizer that runs: ``optimizer``, or for fw its ``fw_outer`` (``none``: a plain step)."""
    return cfg.fw_outer if cfg.optimizer == "fw" else cfg.optimizer


def _orthogonal_cells() -> tuple:
    from .registry import orthogonal_cells
    return orthogonal_cells()


FW = Where("optimizer fw", lambda c: c.optimizer == "fw")
MOMENTUM_OPT = Where("optimizer sgd or rmsprop (or fw with fw_outer sgd or rmsprop)",
                     lambda c: _outer(c) in ("sgd", "rmsprop"))
SGD = Where("optimizer sgd (or fw with fw_outer sgd)", lambda c: _outer(c) == "sgd")
RMSPROP = Where("optimizer rmsprop (or fw with fw_outer rmsprop)", lambda c: _outer(c) == "rmsprop")
STEP_OPT = Where("a step optimizer (sgd, adam, rmsprop, or fw with an outer one)", lambda c: _outer(c) != "none")
SCHEDULED = Where("a schedule (schedule step, exp or plateau)", lambda c: c.schedule != "none")
STEP_SCHEDULE = Where("schedule step", lambda c: c.schedule == "step")
PLATEAU = Where("schedule plateau", lambda c: c.schedule == "plateau")
NO_STEPS = Where("runs set by epochs (steps 0)", lambda c: c.steps == 0)
TBPTT = Where("truncated BPTT (tbptt > 0)", lambda c: c.tbptt > 0)
ORTHOGONAL = Where("an orthogonal cell", lambda c: c.cell in _orthogonal_cells())
GPU = Where("backend cupy or strict", lambda c: c.backend != "numpy")


def _text_task(cfg) -> bool:
    from ..datasets.tasks import TEXT_TASKS
    return cfg.task in TEXT_TASKS


def _stream_task(cfg) -> bool:
    from ..datasets.tasks import STREAM_TASKS
    return cfg.task in STREAM_TASKS


TEXT = Where("a text task (ptb-char)", _text_task)
STREAM = Where("a token-stream task (ptb, ptb-char)", _stream_task)

POS = Range(0, None, lo_open=True)
NONNEG = Range(0, None)
UNIT = Range(0, 1, hi_open=True, why="a fraction")
PROB = Range(0, 1, hi_open=True, why="a probability of dropping a unit")
POSITIVE = Range(0, None, lo_open=True)
SEED = Range(0, 2**32 - 1, why="NumPy seeds are integers in [0, 2^32 - 1]")

S = Setting
SETTINGS: tuple[Setting, ...] = (
    # what to learn
    S("task", str, "adding", "what to learn", "task", main=True),
    S("seq_len", int, 50, "sequence length T of generated tasks (0: the task's default, 100)", "task", NONNEG,
      TASK, main=True),
    S("train_size", int, 0, "generated tasks: training sequences (0: the task's default, 20000); ptb-char: "
      "characters from the file's start (0: all)", "task", NONNEG, TASK),
    S("val_size", int, 0, "validation examples (0: the task's default, e.g. 5000 MNIST images held out of "
      "train; ptb-char: characters, 0: all)", "task", NONNEG, main=True),
    S("test_size", int, 0, "generated tasks: test sequences (0: the task's default, 2000); ptb-char: characters "
      "(0: all)", "task", NONNEG, TASK),
    S("range_sum", bool, False, "adding task: the FW paper's range-sum target instead of the standard sum",
      "task", applies=TASK),
    S("har_mapping", str, "", "HAR-2: the six-to-two class merge, e.g. 1:1,2:0,3:1,4:0,5:1,6:0", "task",
      applies=TASK),
    S("pixels", str, "standardized", "mnist tasks: pixel input, standardized ((p - mean) / std of the training "
      "pixels) or raw (p / 255 in [0, 1], as the MomentumRNN code)", "task", applies=TASK),
    S("data_dir", str, "", "data directory (else $RNNLAB_DATA, else ~/.cache/rnnlab)", "task", main=True),
    # the model
    S("cell", str, "lstm", "recurrent cell (--plugins MODULE imports modules that register more)", "model",
      main=True),
    S("plugins", str, "", "comma-separated Python modules imported first (they may register cells)", "model"),
    S("layers", int, 1, "stacked recurrent layers", "model", POS, main=True),
    S("hidden", int, 64, "hidden units per layer", "model", POS, main=True),
    S("nonlinearity", str, OWN, "rnn cells: the activation of h_t", "model", applies=CELL),
    S("forget_bias", float, OWN, "lstm cells: initial forget-gate bias (the reference: 1 in each of two biases)",
      "model", applies=CELL),
    S("mu", float, OWN, "momentum cells: momentum coefficient mu of v_t = mu v_{t-1} + s W x_t", "model",
      Range(0, 1, hi_open=True, why="mu >= 1 makes the momentum state grow without bound"), CELL),
    S("s", float, OWN, "momentum cells: step size s on the input term", "model", POSITIVE, CELL),
    S("beta", float, OWN, "adam/rmsprop cells: decay beta of the squared-input average", "model",
      Range(0, 1, lo_open=True, hi_open=True, why="an average's decay"), CELL),
    S("eps", float, OWN, "adam/rmsprop cells: epsilon added to the root of the average", "model",
      Range(0, None, lo_open=True, why="it keeps a division away from 0"), CELL),
    S("restart", int, OWN, "nesterov cells: restart period F in steps (0: no restart)", "model", NONNEG, CELL),
    S("nesterov_form", str, OWN, "nesterov cells: the paper's rule, or a released code's variant", "model",
      applies=CELL),
    S("momentum_clock", str, "sequence", "ptb, ptb-char: momentum step index runs on across chunks (sequence) or "
      "restarts per chunk (chunk, as the authors' PTB code)", "model", applies=STREAM),
    S("mag", float, OWN, "indrnn: recurrent weights bounded by |u| <= mag^(1/T)", "model",
      Range(0, None, lo_open=True, why="a bound on |u|"), CELL),
    S("skew_init", str, OWN, "orthogonal cells: initialization of the skew matrix A", "model",
      applies=CELL),
    S("rebase_every", int, 0, "orthogonal cells: DTRIV period K in optimizer steps, B_0 <- B and A <- 0 after "
      "every K-th (0: never, which is expRNN)", "model", NONNEG, ORTHOGONAL),
    S("cell_args", dict, {}, "a hyperparameter of the cell's constructor that no setting here declares (a plugin "
      "cell's own, or e.g. weight_init), NAME=VALUE, typed by the constructor (repeatable; TOML: a [cell] "
      "table)", "model", spelled="--cell-arg", main=True),
    S("batch_norm", bool, False, "batch normalization between stacked layers", "model", main=True),
    S("dropout", float, 0.0, "dropout probability between stacked layers", "model", PROB, main=True),
    S("embedding", int, 0, "ptb, ptb-char: embedding size (0: = hidden)", "model", NONNEG, STREAM),
    S("fused", bool, True, "fused sequence path with hand-written BPTT (--no-fused or --composed: composed "
      "steps, autodiff)", "model", main=True),
    S("kernels", bool, True, "fused path: compiled kernels where present (--no-kernels: the readable loop)",
      "model", main=True),
    # the optimizer
    S("optimizer", str, "adam", "optimizer (fw: Frank-Wolfe, with --fw-k, --fw-delta, --fw-p, --fw-outer, "
      "--fw-norm)", "optimizer", main=True),
    S("lr", float, 3e-3, "learning rate (for fw: the outer optimizer's)", "optimizer", POSITIVE, main=True),
    S("momentum", float, 0.0, "sgd and rmsprop: heavy-ball momentum coefficient", "optimizer",
      Range(0, 1, hi_open=True, why="momentum >= 1 makes the step grow without bound"), MOMENTUM_OPT),
    S("nesterov", bool, False, "sgd: Nesterov momentum", "optimizer", applies=SGD),
    S("weight_decay", float, 0.0, "L2 weight decay coefficient added to the gradient", "optimizer", NONNEG,
      STEP_OPT),
    S("alpha", float, 0.99, "rmsprop: decay of the squared-gradient average", "optimizer", UNIT, RMSPROP),
    S("fw_k", int, 1, "Frank-Wolfe inner steps K per optimizer step", "optimizer", POS, FW),
    S("fw_delta", float, 1e-3, "Frank-Wolfe radius delta of the ball around the current weights", "optimizer",
      POSITIVE, FW),
    S("fw_p", float, 2.0, "Frank-Wolfe ball norm p (inf: the l-inf ball)", "optimizer",
      Range(1, None, why="an l-p norm needs p >= 1"), FW, allow_inf=True),
    S("fw_outer", str, "adam", "optimizer of the Frank-Wolfe outer step (none: a plain step)", "optimizer",
      applies=FW),
    S("fw_norm", str, "global", "Frank-Wolfe ball over all weights (global) or each tensor (per_tensor)",
      "optimizer", applies=FW),
    S("fw_cumulative", bool, False, "Frank-Wolfe: accumulate the inner directions instead of averaging",
      "optimizer", applies=FW),
    S("clip_norm", float, 0.0, "global gradient-norm clip (0: off)", "optimizer", NONNEG, main=True),
    S("clip_value", float, 0.0, "element-wise gradient clamp to [-v, v] (0: off)", "optimizer", NONNEG),
    # the schedule
    S("schedule", str, "none", "learning-rate schedule (plateau: on the validation loss)", "schedule", main=True),
    S("lr_decay", float, 0.1, "factor the schedule multiplies the learning rate by", "schedule",
      Range(0, 1, lo_open=True, why="a factor that lowers the rate"), SCHEDULED, main=True),
    S("lr_step", int, 1000, "step schedule: decay every lr_step optimizer steps", "schedule", POS, STEP_SCHEDULE),
    S("patience", int, 3, "plateau schedule: validation evaluations without improvement before a decay",
      "schedule", POS, PLATEAU),
    # the run
    S("steps", int, 0, "optimizer steps (0: from --epochs; both 0: 2000)", "run", NONNEG, main=True),
    S("epochs", int, 0, "passes over the training set (when --steps is 0)", "run", NONNEG, NO_STEPS, main=True),
    S("batch_size", int, 64, "training batch, in sequences (ptb, ptb-char: streams); global under MPI", "run", POS,
      main=True),
    S("tbptt", int, 0, "TBPTT chunk length k1 in steps (0: full BPTT; ptb, ptb-char: 35)", "run", NONNEG, main=True),
    S("tbptt_k2", int, 0, "TBPTT truncation length k2 >= k1 in steps (0: = k1)", "run", NONNEG, TBPTT, main=True),
    S("eval_every", int, 500, "optimizer steps between validation evaluations", "run", POS, main=True),
    S("eval_batch_size", int, 0, "evaluation batch (0: ptb and ptb-char 1, one continuous stream; others "
      "max(batch-size, 256))", "run", NONNEG),
    S("keep_best", bool, False, "keep the best-validation model (best.npz) and test it too", "run", main=True),
    S("log_every", int, 20, "optimizer steps between lines of metrics.jsonl and the progress bar", "run", POS),
    S("checkpoint_every", int, 500, "optimizer steps between checkpoints", "run", POS),
    S("record_grad_norms", bool, False, "record each layer's gradient norm in metrics.jsonl", "run"),
    S("sample_chars", int, 200, "text tasks: characters the model writes after each validation, printed "
      "(0: none); drawn from their own generator, seeded by --seed and the step", "run", NONNEG, TEXT),
    S("temperature", float, 1.0, "text tasks: sampling temperature tau, p_c ~ exp(y_c / tau): 1 draws from the "
      "model's distribution, lower is safer and more repetitive, higher is noisier", "run", POSITIVE, TEXT),
    S("backend", str, "", "array backend (else $RNNLAB_BACKEND, else numpy)", "run", main=True),
    S("device", str, "", "device index (cupy, strict)", "run", applies=GPU),
    S("dtype", str, "float32", "floating-point type of weights and data", "run", main=True),
    S("seed", int, 0, "seed of initialization, data order and generated data", "run", SEED, main=True),
    S("out", str, "", "run directory (default: a new runs/<task>-<cell>-<time>)", "run", main=True),
    S("progress", bool, True, "a progress bar on stderr", "run"),
    S("distributed", bool, False, "data parallelism over MPI (on by itself under mpiexec -n N > 1); "
      "--batch-size is global", "run"),
)
del S
SETTINGS = tuple(dataclasses.replace(s, default=own_default(s.name)) if s.default is OWN else s for s in SETTINGS)
BY_NAME = {s.name: s for s in SETTINGS}

_INT = re.compile(r"[+-]?[0-9]+([eE]\+?[0-9]+)?\Z", re.ASCII)
_FLOAT = re.compile(r"[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\Z|[+-]?(inf(inity)?|nan)\Z",
                    re.ASCII | re.IGNORECASE)
_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off")


def parse(name: str, value, source: str):
    """``value`` (from a flag, a TOML file or Python) as setting ``name``'s type, strictly: ASCII digits only,
    no float for an integer, no string for a bool but true/false/yes/no/on/off/1/0, no NaN."""
    s = BY_NAME[name]
    if s.kind is dict:
        return parse_pairs(value, f"{source}: {name}")
    return parse_as(s.kind, value, f"{source}: {name}")


def parse_pairs(value, where: str) -> dict:
    """``["NAME=VALUE", ...]`` (repeated flags) or a mapping (a TOML table, JSON) -> {NAME: VALUE}; the values
    are typed later, by the parameters they are for."""
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        pairs = [v.partition("=")[::2] for v in value]
        bad = [v for v in value if "=" not in v or not v.partition("=")[0].strip()]
        if bad:
            raise SettingError(f"{where} must be NAME=VALUE, got {bad[0]!r}")
        pairs = [(k.strip(), v.strip()) for k, v in pairs]
    else:
        raise SettingError(f"{where} must be a table of NAME = VALUE, got {value!r}")
    if any(not isinstance(k, str) for k, _ in pairs):
        raise SettingError(f"{where}: names must be strings, got {value!r}")
    return dict(pairs)


def parse_as(kind: type, value, where: str):
    """``value`` as ``kind`` (bool, int, float or str), strictly (see :func:`parse`); errors name ``where``."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
            return value.lower() in _TRUE
        raise SettingError(f"{where} must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT.match(value.strip()):
            mantissa, _, exponent = value.strip().lower().partition("e")
            return int(mantissa) * 10 ** int(exponent or 0)
        raise SettingError(f"{where} must be an integer, got {value!r} (ASCII digits, e.g. 64 or 1e4)")
    if kind is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            result = float(value)
        elif isinstance(value, str) and _FLOAT.match(value.strip()):
            result = float(value.strip())
        else:
            raise SettingError(f"{where} must be a float, got {value!r} (ASCII digits, e.g. 0.003 or 3e-3, or inf)")
        if math.isnan(result):
            raise SettingError(f"{where} must be a number, got {value!r}")
        return result
    if not isinstance(value, str):
        raise SettingError(f"{where} must be a string, got {value!r}")
    return value


def check_value(name: str, value, source: str = "config") -> None:
    """Refuse a value outside setting ``name``'s declared range (floats: finite unless ``allow_inf``)."""
    s = BY_NAME[name]
    text = s.range.text(s.kind) if s.range is not None else "a number"
    must = f"{source}: {name} must {'not be negative' if text == 'not negative' else 'be ' + text}"
    must += " (or inf)" if s.allow_inf else ""
    why = f" ({s.range.why})" if s.range is not None and s.range.why else ""
    if s.kind is float and math.isinf(value) and not (s.allow_inf and value > 0):
        raise SettingError(f"{must}, got {value}: a finite number")
    if s.range is not None and not s.range.holds(value):
        raise SettingError(f"{must}, got {value}{why}")


def check_applies(cfg, given, source: str) -> None:
    """Refuse a setting in ``given`` (those a user set) whose declared condition ``cfg`` does not meet."""
    for name in given:
        s = BY_NAME.get(name)
        if s is not None and isinstance(s.applies, Where) and not s.applies.when(cfg):
            raise SettingError(f"{source}: {name} does not apply here (it applies with {s.applies.text})")


def by_group() -> dict[str, list[Setting]]:
    return {g: [s for s in SETTINGS if s.group == g] for g in GROUPS}


__all__ = ["SETTINGS", "BY_NAME", "GROUPS", "Setting", "Range", "Where", "SettingError", "parse", "parse_as",
           "parse_pairs", "own_cell", "own_default", "CELL_PARAMETER", "check_value",
           "check_applies", "by_group", "CELL", "TASK"]
