"""The engine's errors for mistakes a user can fix: each message is one line naming what went wrong.

Both are ValueErrors, so the command line prints them as one line (as it does for bad flags), while a bug
in rnnlab itself keeps its traceback.
"""
from __future__ import annotations


class EngineError(ValueError):
    """A misuse of the engine: data that cannot become a tensor, or a Function that breaks its contract."""


class FunctionError(EngineError):
    """A :class:`~rnnlab.engine.function.Function` broke its contract: its ``backward`` returned the wrong
    number of gradients or a gradient of the wrong shape, or one instance was called twice in a graph."""


class TensorDataError(EngineError, TypeError):
    """Data that cannot become a tensor: None, a ragged nested list, objects that are not numbers."""
