"""Gradient clipping: rescale by the global norm, or clamp element-wise."""
from __future__ import annotations

import math

from ..engine import backend
from ..engine.tensor import Tensor
from .lmo import check_p
from ..engine.norms import lp_norm


def _grads(owner: str, params) -> list:
    params = [params] if isinstance(params, Tensor) else list(params)
    for i, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{owner}: params[{i}] must be a Tensor (a Parameter), got {type(p).__name__}")
    return [p for p in params if p.grad is not None]


def clip_grad_norm(params, max_norm: float, norm_type: float = 2.0) -> float:
    """Rescale the gradients of ``params`` together so that their global norm is at most ``max_norm``.

    With n = ||(g_1, ..., g_n)||_p over every gradient together (Pascanu et al., 2013)::

        g_i ← g_i · max_norm / (n + 1e-6)     when n > max_norm

    Returns n, the norm before clipping, as a Python float. When n is NaN or Inf the gradients are left
    as they are (so the optimizer's ``nonfinite`` check sees them).
    """
    ok = isinstance(max_norm, (int, float)) and not isinstance(max_norm, bool) and max_norm >= 0
    if not ok:
        raise ValueError(f"clip_grad_norm: max_norm must be a number >= 0, got {max_norm!r}")
    check_p("clip_grad_norm", norm_type, "norm_type")
    params = _grads("clip_grad_norm", params)
    if not params:
        return 0.0
    norm = float(lp_norm([p.grad for p in params], norm_type))
    if math.isfinite(norm) and norm > max_norm:
        coef = max_norm / (norm + 1e-6)
        for p in params:
            p.grad = p.grad * coef
    return norm


def clip_grad_value(params, clip_value: float) -> None:
    """Clamp every gradient element to [-clip_value, clip_value] (the IndRNN reference clamps at 10)."""
    ok = isinstance(clip_value, (int, float)) and not isinstance(clip_value, bool) and clip_value >= 0
    if not ok:
        raise ValueError(f"clip_grad_value: clip_value must be a number >= 0, got {clip_value!r}")
    for p in _grads("clip_grad_value", params):
        xp = backend.get_namespace(p.grad)
        p.grad = xp.clip(p.grad, -float(clip_value), float(clip_value))
