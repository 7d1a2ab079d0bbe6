"""The cell registry: every ``--cell`` name, registered once, beside its class.

    @register_cell("peephole-lstm")
    class PeepholeLSTM(Cell):
        def __init__(self, input_size, hidden_size, peephole_init: float = 0.0, rng=None): ...

The training program, ``rnnlab gradcheck CELL``, the experiments and the README's table all read
:data:`CELLS`. A cell's hyperparameters are its constructor's keyword parameters (following ``**base`` up
to the base cell's constructor), read by :func:`cell_hyperparameters`: there is no second list to keep.
"""
from __future__ import annotations

import inspect

CELLS: dict[str, type] = {}
"""``--cell`` name -> cell class, in registration order."""

STRUCTURAL = ("self", "input_size", "hidden_size", "rng")
"""Constructor parameters every cell has, which no configuration key sets."""


class CellRegistryError(ValueError):
    """A cell name is unknown or registered twice; the message names it."""


def register_cell(name: str):
    """Class decorator: make the cell class available as ``--cell name``."""
    def register(cls):
        old = CELLS.get(name)
        redefined = old is not None and (old.__module__, old.__qualname__) == (cls.__module__, cls.__qualname__)
        if old is not None and old is not cls and not redefined:     # a notebook cell run again redefines it
            raise CellRegistryError(f"register_cell: {name!r} is already the name of {old.__module__}.{old.__qualname__}")
        CELLS[name] = cls
        cls.registered_name = name
        return cls
    return register


def cell_class(name: str) -> type:
    """The class registered as ``name``, or a :class:`CellRegistryError` listing the names."""
    try:
        return CELLS[name]
    except KeyError:
        raise CellRegistryError(f"cell: unknown cell {name!r}; choose one of {', '.join(CELLS)}") from None


def cell_hyperparameters(cls) -> dict[str, inspect.Parameter]:
    """The keyword parameters of ``cls``'s constructor, its base cells' included where it passes ``**base``
    on: name -> :class:`inspect.Parameter` (with its default)."""
    found: dict[str, inspect.Parameter] = {}
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        params = inspect.signature(vars(klass)["__init__"]).parameters.values()
        forwards = False
        for p in params:
            if p.kind is inspect.Parameter.VAR_KEYWORD:
                forwards = True
            elif p.name not in STRUCTURAL and p.kind is not inspect.Parameter.VAR_POSITIONAL:
                found.setdefault(p.name, p)
        if not forwards:
            break
    return found


__all__ = ["CELLS", "register_cell", "cell_class", "cell_hyperparameters", "CellRegistryError"]
