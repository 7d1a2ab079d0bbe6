"""Which of a cell's constructor parameters a configuration sets, and how: the declared cell settings (``mu``,
``forget_bias``, ... for rnnlab's own cells), the task (``seq_len``), and ``cell_args`` for the rest.

``cell_args`` (``--cell-arg NAME=VALUE``, repeatable, or a ``[cell]`` table in a ``--config`` file) sets the
parameters no declared setting covers: a plugin cell's own hyperparameters (every one of them: a plugin cell
never takes a value from a declared setting of the same name) and those of rnnlab's own cells that have no
setting (``weight_init``, ``weight_hh_init``). Each value is parsed as its parameter's type, read from the
annotation or else the default (bool, int, float, str), as strictly as a setting.
"""
from __future__ import annotations

import inspect
import math

from ..cells.registry import cell_class, cell_hyperparameters
from .settings import BY_NAME, CELL, CELL_PARAMETER, SettingError, own_cell, parse_as

FROM_TASK = ("seq_len",)
"""Constructor parameters the task fills (T of the sequences)."""
KINDS = {"bool": bool, "int": int, "float": float, "str": str}
SETTING_OF = {param: key for key, param in CELL_PARAMETER.items()}


def setting_of(param: str) -> str | None:
    """The declared cell setting for constructor parameter ``param`` (``form`` -> ``nesterov_form``), if any."""
    key = SETTING_OF.get(param, param)
    return key if key in BY_NAME and BY_NAME[key].applies == CELL else None


def cell_settings(cls) -> set:
    """The declared settings cell class ``cls`` takes: its parameters that have one, for rnnlab's own cells;
    none for any other cell."""
    if not own_cell(cls):
        return set()
    return {setting_of(p) for p in cell_hyperparameters(cls)} - {None}


def settable(cls) -> dict[str, inspect.Parameter]:
    """The constructor parameters of ``cls`` that ``cell_args`` may set: name -> parameter."""
    taken = {CELL_PARAMETER.get(k, k) for k in cell_settings(cls)}
    return {n: p for n, p in cell_hyperparameters(cls).items() if n not in FROM_TASK and n not in taken}


def kind_of(p: inspect.Parameter) -> type | None:
    """The type of parameter ``p``: its annotation (``float``, ``"int | None"``), else its default's type."""
    ann = p.annotation
    if isinstance(ann, str):
        parts = {a.strip() for a in ann.removeprefix("Optional[").rstrip("]").split("|")} - {"None"}
        ann = KINDS.get(parts.pop()) if len(parts) == 1 else None
    if ann in KINDS.values():
        return ann
    default = p.default
    return type(default) if type(default) in KINDS.values() else None


def check_cell_args(cell: str, args: dict) -> dict:
    """``args`` (NAME -> value, as given) typed by cell ``cell``'s constructor; a :class:`SettingError` naming
    the cell and its parameters for a name it does not take, a value of the wrong type, or a parameter without
    a default that is not given."""
    cls = cell_class(cell)
    params = settable(cls)
    names = ", ".join(params) or "none"
    out = {}
    for name, value in args.items():
        if name not in params:
            key = setting_of(name) if own_cell(cls) else None
            why = (f" ({name} is the task's)" if name in FROM_TASK else
                   f" ({name} is the setting {BY_NAME[key].flag}, {key} in a TOML file)" if key in cell_settings(cls)
                   else "")
            raise SettingError(f"config: --cell-arg {name}: cell {cell!r} takes no such argument{why}; "
                               f"its arguments: {names}")
        kind = kind_of(params[name])
        where = f"config: --cell-arg {name} (cell {cell!r})"
        if kind is None:
            raise SettingError(f"{where}: the parameter has no bool, int, float or str annotation or default, so "
                               "it cannot be given as text")
        out[name] = parse_as(kind, value, where)
        if kind is float and math.isinf(out[name]):
            raise SettingError(f"{where} must be a finite number, got {value!r}")
    missing = [n for n, p in params.items() if p.default is p.empty and n not in out]
    if missing:
        raise SettingError(f"config: cell {cell!r} needs --cell-arg {missing[0]}=VALUE (its constructor has no "
                           "default for it)")
    return out


__all__ = ["cell_settings", "settable", "setting_of", "kind_of", "check_cell_args", "FROM_TASK"]
