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
from dataclasses import fields

from . import registry
from .cell_args import check_cell_args
from .settings import SETTINGS, SettingError, check_value, parse

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

DEFAULT_STEPS = 2000
"""Steps when neither ``steps`` nor ``epochs`` is set. With the other defaults (an LSTM of 64 units, Adam
3e-3, batch 64, the adding task with T = 50) this solves the task (test MSE far below the 0.167 of
always predicting 1) in a few minutes on two CPU cores."""


BACKEND_VARIABLE = "RNNLAB_BACKEND"


class ConfigError(SettingError):
    """A setting is unknown or impossible; the message names it."""


def _validate(self) -> "TrainConfig":
    """Raise :class:`ConfigError` naming the first impossible setting: a value of the wrong type, out of its
    declared range, a name no registry holds, a combination that cannot run, or a run too big for this
    machine's memory (estimated before anything is allocated). Returns the checked configuration: a copy with
    floats as floats, the backend chosen and the cell's arguments typed (``self`` is never changed)."""
    cfg = dataclasses.replace(self)

    def put(name, value):   # the copy is not yet anyone else's
        object.__setattr__(cfg, name, value)
    for s in SETTINGS:
        value = getattr(cfg, s.name)
        if isinstance(value, bool) is not (s.kind is bool) or not isinstance(value, KINDS[s.kind]):
            raise ConfigError(f"config: {s.name} must be {KIND_TEXT[s.kind]}, got {value!r}")
        if s.kind is float:
            if math.isnan(value):
                raise ConfigError(f"config: {s.name} must be a number, got {value!r}")
            put(s.name, float(value))
    import_plugins(cfg.plugins)
    if not cfg.backend:
        put("backend", os.environ.get(BACKEND_VARIABLE, "") or "numpy")
        choice(f"backend (from ${BACKEND_VARIABLE})", cfg.backend, registry.choices()["backend"])
    for name, options in registry.choices().items():
        choice(name, getattr(cfg, name), options)
    for s in SETTINGS:
        try:
            check_value(s.name, getattr(cfg, s.name))
        except SettingError as exc:
            raise ConfigError(str(exc)) from None
    try:
        put("cell_args", check_cell_args(cfg.cell, cfg.cell_args))
    except SettingError as exc:
        raise ConfigError(str(exc)) from None
    if cfg.cell_args:
        check_cell_accepts(cfg)
    orthogonal = registry.orthogonal_cells()
    if cfg.rebase_every and cfg.cell not in orthogonal:
        raise ConfigError(f"config: rebase_every needs an orthogonal cell ({', '.join(orthogonal)}), "
                          f"got cell {cfg.cell!r}")
    if cfg.tbptt_k2 and not cfg.tbptt:
        raise ConfigError("config: tbptt_k2 needs tbptt (the chunk length k1) to be set")
    if cfg.tbptt and cfg.tbptt_k2 and cfg.tbptt_k2 < cfg.tbptt:
        raise ConfigError(f"config: tbptt_k2 ({cfg.tbptt_k2}) must be at least tbptt ({cfg.tbptt}): "
                          "k2 < k1 would leave steps of each chunk without a gradient path")
    if cfg.device and cfg.backend == "numpy":
        raise ConfigError(f"config: device {cfg.device!r} needs backend cupy or strict; numpy has one device")
    from .fit import check_fits
    check_fits(cfg)
    return cfg


def check_cell_accepts(cfg) -> None:
    """Build one tiny cell (1 -> 1 unit) with ``cfg``'s arguments, so that a value the cell's own checks refuse
    (a name not among its choices, a number out of its range) is one line now, not a traceback later."""
    from ..cells.registry import cell_class
    from .model import cell_options
    cls = cell_class(cfg.cell)
    try:
        cls(1, 1, rng=0, **cell_options(cls, cfg, None))
    except ValueError as exc:
        raise ConfigError(f"config: --cell-arg: cell {cfg.cell!r} refuses its arguments "
                          f"({', '.join(f'{k}={v!r}' for k, v in cfg.cell_args.items())}): {exc}") from None


def _to_dict(self) -> dict:
    return dataclasses.asdict(self)


KINDS = {int: int, float: (int, float), bool: bool, str: str, dict: dict}
KIND_TEXT = {int: "an integer", float: "a number", bool: "true or false", str: "a string",
             dict: "a table of NAME = VALUE"}


def _field(s):
    if isinstance(s.default, dict):
        return dataclasses.field(default_factory=lambda: dict(s.default))
    return dataclasses.field(default=s.default)


TrainConfig = dataclasses.make_dataclass(
    "TrainConfig", [(s.name, s.kind, _field(s)) for s in SETTINGS],
    frozen=True, namespace={"validate": _validate, "to_dict": _to_dict, "__module__": __name__, "__doc__":
               "Every setting of ``rnnlab train`` (fields, defaults and help: :data:`.settings.SETTINGS`), frozen: "
               "``dataclasses.replace(cfg, key=value)`` makes a changed copy."})


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
    changes = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in FIELDS:
            raise ConfigError(f"{source}: unknown key {key!r}")
        changes[name] = coerce(name, value, source)
    return dataclasses.replace(base if base is not None else TrainConfig(), **changes)


MAX_TOML_BYTES = 1 << 20
"""A settings file larger than this (1 MiB) is refused unread (``--config /dev/zero`` would never end)."""


def read_toml(path) -> dict:
    """The tables of a TOML file (UTF-8, a byte-order mark allowed); a :class:`ConfigError` naming the file when
    it cannot be read."""
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_TOML_BYTES + 1)
    except FileNotFoundError as exc:
        raise ConfigError(f"--config: file {path} does not exist") from exc
    except (IsADirectoryError, PermissionError) as exc:
        raise ConfigError(f"--config: {path} cannot be read as a TOML file ({exc.strerror or exc})") from exc
    if len(data) > MAX_TOML_BYTES:
        raise ConfigError(f"--config: {path} is larger than {MAX_TOML_BYTES} bytes; a settings file is a few lines")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"--config: {path} is not UTF-8 text (byte {exc.start}); TOML files are UTF-8") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"--config: {path} is not valid TOML ({exc})") from exc


def toml_settings(path) -> dict:
    """The settings of a TOML file: its top-level keys, or those under a ``[train]`` table (not both). A
    ``[cell]`` table (at the top level or in ``[train]``) holds the cell's arguments (``cell_args``) and may
    name the cell (``name = "..."``, instead of a ``cell`` key)."""
    data = read_toml(path)
    table = data.pop("cell") if isinstance(data.get("cell"), dict) else None
    if isinstance(data.get("train"), dict):
        others = sorted(set(data) - {"train"})
        if others:
            raise ConfigError(f"--config {path}: settings both at the top level ({', '.join(others)}) and in a "
                              "[train] table; put them all in one place")
        data = dict(data["train"])
        if table is not None and isinstance(data.get("cell"), dict):
            raise ConfigError(f"--config {path}: a [cell] table both at the top level and in [train]")
        table = data.pop("cell") if isinstance(data.get("cell"), dict) else table
    if table is not None:
        table = dict(table)
        if "cell_args" in data:
            raise ConfigError(f"--config {path}: cell arguments both in a [cell] table and in cell_args")
        if "name" in table:
            if "cell" in data:
                raise ConfigError(f"--config {path}: the cell named twice, cell = {data['cell']!r} and [cell] "
                                  f"name = {table['name']!r}")
            data["cell"] = table.pop("name")
        data["cell_args"] = table
    return data


def load_toml(path: str, base: TrainConfig | None = None) -> TrainConfig:
    """Read a TOML file of settings (see :func:`toml_settings`)."""
    return from_mapping(toml_settings(path), f"--config {path}", base)


def coerce(name: str, value, source: str):
    """``value`` parsed as setting ``name``'s declared type (see :func:`.settings.parse`); a
    :class:`ConfigError` naming ``source`` and the key when it is not one."""
    if name == "out" and value == "":
        raise ConfigError(f"{source}: out must name a directory, got an empty string (leave it out for a new "
                          "runs/<task>-<cell>-<time> directory)")
    try:
        return parse(name, value, source)
    except SettingError as exc:
        raise ConfigError(str(exc)) from None


__all__ = ["TrainConfig", "ConfigError", "load_toml", "toml_settings", "read_toml", "from_mapping", "coerce", "DEFAULT_STEPS"]
