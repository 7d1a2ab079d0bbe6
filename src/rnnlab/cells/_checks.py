"""Argument checks shared by the cells, the runner and TBPTT: each error names the class, the argument and
what was expected."""
from __future__ import annotations

import numbers


def positive_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise ValueError(f"{owner}: {name} must be a positive integer, got {value!r}")
    return int(value)


def nonnegative_int(owner: str, name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise ValueError(f"{owner}: {name} must be an integer >= 0, got {value!r}")
    return int(value)


def in_interval(owner: str, name: str, value, low: float, high: float, *, closed_low: bool,
                closed_high: bool) -> float:
    """``value`` as a float when it lies in the interval; else a ValueError such as 'mu must be in [0, 1)'."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok:
        value = float(value)
        ok = (value >= low if closed_low else value > low) and (value <= high if closed_high else value < high)
    if not ok:
        left = "[" if closed_low else "("
        right = "]" if closed_high else ")"
        raise ValueError(f"{owner}: {name} must be in {left}{low:g}, {high:g}{right}, got {value!r}")
    return value


def positive_float(owner: str, name: str, value) -> float:
    return in_interval(owner, name, value, 0.0, float("inf"), closed_low=False, closed_high=False)


def one_of(owner: str, name: str, value, choices) -> str:
    if value not in choices:
        raise ValueError(f"{owner}: {name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value
