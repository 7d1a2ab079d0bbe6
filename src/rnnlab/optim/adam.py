"""Adam (Kingma & Ba, 2015) with L2 or decoupled (AdamW) weight decay."""
from __future__ import annotations

import math

from ..engine import backend
from .optimizer import Optimizer


class Adam(Optimizer):
    """Adam with bias correction, as ``torch.optim.Adam`` (``decoupled_weight_decay=True``: as ``AdamW``).

    With gradient g_t, learning rate η, betas (β1, β2), ε and weight decay λ::

        g_t ← g_t + λ θ_{t-1}                   (L2 weight decay, the default)
        θ_{t-1} ← θ_{t-1} (1 - η λ)             (decoupled weight decay, Loshchilov & Hutter)
        m_t = β1 m_{t-1} + (1 - β1) g_t
        v_t = β2 v_{t-1} + (1 - β2) g_t²
        θ_t = θ_{t-1} - η m̂_t / (√v̂_t + ε),   m̂_t = m_t / (1 - β1^t),  v̂_t = v_t / (1 - β2^t)

    State per parameter: ``step`` (t), ``exp_avg`` (m_t), ``exp_avg_sq`` (v_t).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, nonfinite: str = "raise"):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay), nonfinite=nonfinite)

    def _check_hyper(self, group, where):
        self._require_real(group, where, "lr")
        betas = group["betas"]
        self._require(isinstance(betas, (tuple, list)) and len(betas) == 2, where, "betas", betas,
                      "a pair (beta1, beta2)")
        for i in range(2):
            self._require_real({f"betas[{i}]": betas[i]}, where, f"betas[{i}]", high=1.0)
        self._require_real(group, where, "eps")
        self._require_real(group, where, "weight_decay")
        decoupled = group["decoupled_weight_decay"]
        self._require(isinstance(decoupled, bool), where, "decoupled_weight_decay", decoupled, "True or False")

    def _update(self, group, params, grads):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        new = []
        for p, g in zip(params, grads):
            xp = backend.get_namespace(p.data)
            theta = p.data
            if wd and group["decoupled_weight_decay"]:
                theta = theta * (1.0 - lr * wd)
            elif wd:
                g = g + wd * theta
            state = self.state_of(p)
            t = state.get("step", 0) + 1
            m = state.get("exp_avg")
            v = state.get("exp_avg_sq")
            m = (1.0 - beta1) * g if m is None else beta1 * m + (1.0 - beta1) * g
            v = (1.0 - beta2) * (g * g) if v is None else beta2 * v + (1.0 - beta2) * (g * g)
            state.update(step=t, exp_avg=m, exp_avg_sq=v)
            step_size = lr / (1.0 - beta1 ** t)
            denom = xp.sqrt(v) / math.sqrt(1.0 - beta2 ** t) + eps
            new.append(theta - step_size * (m / denom))
        return new


class AdamW(Adam):
    """:class:`Adam` with decoupled weight decay (default λ = 0.01), as ``torch.optim.AdamW``."""

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, nonfinite: str = "raise"):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                         decoupled_weight_decay=True, nonfinite=nonfinite)
