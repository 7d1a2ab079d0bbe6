"""Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay."""
from __future__ import annotations

from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD``.

    With gradient g_t, learning rate η, momentum μ, dampening τ and weight decay λ::

        g_t ← g_t + λ θ_{t-1}
        b_t = g_t                              (t = 1)
        b_t = μ b_{t-1} + (1 - τ) g_t          (t > 1)
        d_t = g_t + μ b_t   (Nesterov)   or   d_t = b_t   (μ > 0)   or   d_t = g_t   (μ = 0)
        θ_t = θ_{t-1} - η d_t

    Nesterov needs μ > 0 and τ = 0. State per parameter: ``momentum_buffer`` (b_t) when μ > 0.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0, nonfinite: str = "raise"):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov,
                                      weight_decay=weight_decay), nonfinite=nonfinite)

    def _check_hyper(self, group, where):
        self._require_real(group, where, "lr")
        self._require_real(group, where, "momentum")
        self._require_real(group, where, "dampening", high=1.0, high_open=False)
        self._require_real(group, where, "weight_decay")
        nesterov = group["nesterov"]
        self._require(isinstance(nesterov, bool), where, "nesterov", nesterov, "True or False")
        if nesterov and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"{self._name}: {where}nesterov=True needs momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")

    def _update(self, group, params, grads):
        lr, mu, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        new = []
        for p, g in zip(params, grads):
            if wd:
                g = g + wd * p.data
            if mu:
                state = self.state_of(p)
                buf = state.get("momentum_buffer")
                buf = g if buf is None else mu * buf + (1.0 - tau) * g
                state["momentum_buffer"] = buf
                g = g + mu * buf if group["nesterov"] else buf
            new.append(p.data - lr * g)
        return new
