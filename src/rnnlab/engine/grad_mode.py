"""Whether operations record the graph: on by default, off inside ``no_grad()``.

``enabled`` is read by every :class:`~rnnlab.engine.function.Function` call (a module attribute, the
cheapest test there is); change it only through :func:`no_grad` and :func:`enable_grad`.
"""
from __future__ import annotations

import contextlib

enabled = True


def grad_enabled() -> bool:
    """Whether operations record the graph now."""
    return enabled


@contextlib.contextmanager
def no_grad():
    """Run a block without recording the graph (evaluation, optimizer updates)."""
    global enabled
    previous, enabled = enabled, False
    try:
        yield
    finally:
        enabled = previous


@contextlib.contextmanager
def enable_grad():
    """Record the graph inside a block even where an outer ``no_grad`` turned recording off."""
    global enabled
    previous, enabled = enabled, True
    try:
        yield
    finally:
        enabled = previous
