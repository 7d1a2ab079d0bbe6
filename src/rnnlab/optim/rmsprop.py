"""RMSProp (Tieleman & Hinton, 2012), in the form ``torch.optim.RMSprop`` uses."""
from __future__ import annotations

from ..engine import backend
from .optimizer import Optimizer


class RMSProp(Optimizer):
    """RMSProp, as ``torch.optim.RMSprop``.

    With gradient g_t, learning rate η, smoothing α, ε, momentum μ and weight decay λ::

        g_t ← g_t + λ θ_{t-1}
        v_t = α v_{t-1} + (1 - α) g_t²                          (v_0 = 0)
        ḡ_t = α ḡ_{t-1} + (1 - α) g_t,   ṽ_t = v_t - ḡ_t²        (centered only; else ṽ_t = v_t)
        b_t = μ b_{t-1} + g_t / (√ṽ_t + ε),   θ_t = θ_{t-1} - η b_t     (μ > 0)
        θ_t = θ_{t-1} - η g_t / (√ṽ_t + ε)                             (μ = 0)

    State per parameter: ``step``, ``square_avg`` (v_t), ``grad_avg`` (ḡ_t, centered),
    ``momentum_buffer`` (b_t, μ > 0).
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False,
                 nonfinite: str = "raise"):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered), nonfinite=nonfinite)

    def _check_hyper(self, group, where):
        self._require_real(group, where, "lr")
        self._require_real(group, where, "alpha", high=1.0, high_open=False)
        self._require_real(group, where, "eps")
        self._require_real(group, where, "weight_decay")
        self._require_real(group, where, "momentum")
        centered = group["centered"]
        self._require(isinstance(centered, bool), where, "centered", centered, "True or False")

    def _update(self, group, params, grads):
        lr, alpha, eps, wd, mu = (group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum"))
        new = []
        for p, g in zip(params, grads):
            xp = backend.get_namespace(p.data)
            if wd:
                g = g + wd * p.data
            state = self.state_of(p)
            state["step"] = state.get("step", 0) + 1
            v = state.get("square_avg", xp.zeros_like(p.data))
            v = alpha * v + (1.0 - alpha) * (g * g)
            state["square_avg"] = v
            if group["centered"]:
                gbar = alpha * state.get("grad_avg", xp.zeros_like(p.data)) + (1.0 - alpha) * g
                state["grad_avg"] = gbar
                v = v - gbar * gbar
            direction = g / (xp.sqrt(v) + eps)
            if mu:
                direction = mu * state.get("momentum_buffer", xp.zeros_like(p.data)) + direction
                state["momentum_buffer"] = direction
            new.append(p.data - lr * direction)
        return new
