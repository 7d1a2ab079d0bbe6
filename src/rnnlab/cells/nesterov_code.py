"""The MNIST code's Nesterov cell (``form="mnist-code"`` of NesterovRNN and NesterovLSTM): the recurrent term
inside the momentum.

    a_t = x_t W_ih + b_ih                              (B, G): G = H (RNN base) or 4H (LSTM base, all gates)
    y_t = h_{t-1} W_hh + b_hh - s a_t                  part of the state, y_0 = 0 unless a state is passed
    z_t = y_t + mu_t (y_t - y_{t-1})                   the base cell's pre-activation (its gates for an LSTM)
    mu_t = (k - 1)/(k + 2),  k = t (F = 0) or k = ((t - 1) mod F) + 1 (F > 0)

k counts the steps from 1 and goes back to 0 after every F steps, so that the next step has k = 1 and mu = 0:
mu_t = ((t - 1) mod F)/(((t - 1) mod F) + 3), the released code's clock (``nesterov_mu`` with form
'mnist-code'). t is the global step index, continued across TBPTT chunks.

y_t depends on h_{t-1}, so unlike the other momentum rules it cannot be run over the inputs before the
recurrence: the cell's constructor makes :class:`NesterovCodeCore` (around the base core's activation) its
core, with no rule. BPTT, with dz_t from the base activation's backward (given dL/dh_t and the base's carried
state gradients):
    dy_t = (1 + mu_t) dz_t - mu_{t+1} dz_{t+1}   (plus dL/dy_T at the end)
    dL/dh_{t-1} (through step t) = dy_t W_hh^T,   dL/dW_hh = sum_t h_{t-1}^T dy_t,   dL/db_hh = sum_t,b dy_t
    dL/da_t = -s dy_t,   dL/dy_0 = -mu_1 dz_1.
Values below smallest_normal / eps are flushed to zero in the backward (``flush_tiny``), as in the other loops.
It has no compiled path (``fast_kinds`` empty): the fused path always runs this loop.
"""
from __future__ import annotations

import copy

from .fused import Core, empty_like_steps, flush_tiny, previous_states, step_norm, sum_steps_matmul


class NesterovCodeCore(Core):
    """Raw-array loops of the MNIST code's cell, given A (T, B, G) = x W_ih + b_ih: parameters (b_hh (G,),
    W_hh (H, G)), states (the base core's, then y (B, G)). ``base`` (an RNN or LSTM core) supplies the
    activation (``activate``, ``backprop_activation``); ``s`` and ``mu`` (mu(t), t 1-based and global) are
    the schedule's. :meth:`starting_at` gives the core of a sequence whose first step is t0 + 1."""

    def __init__(self, base, s: float, mu):
        self.base, self.s, self.mu, self.t0 = base, s, mu, 0
        self.state_names = base.state_names + ("y",)

    def state_widths(self, hidden: int, projection: int) -> tuple:
        return self.base.state_widths(hidden, projection) + (projection,)

    def starting_at(self, t0: int) -> "NesterovCodeCore":
        core = copy.copy(self)
        core.t0 = t0
        return core

    def forward(self, xp, A, params, states):
        (b_hh, W), n = params, len(self.base.state_names)
        core, y = tuple(states[:n]), states[n]
        T = A.shape[0]
        mus = [self.mu(self.t0 + 1 + k) for k in range(T)]
        hs = empty_like_steps(xp, A, T, W.shape[0])
        h0, steps = core[0], []
        for k, mu in enumerate(mus):
            y_next = xp.matmul(core[0], W) + b_hh - self.s * A[k, ...]
            z = y_next + mu * (y_next - y)
            core, step = self.base.activate(xp, z, core)
            y = y_next
            hs[k, ...] = core[0]
            steps.append(step)
        return hs, (*core, y), (W, h0, hs, mus, steps)

    def backward(self, xp, cache, dhs, dfinals, norms=None):
        W, h0, hs, mus, steps = cache
        n = len(self.base.state_names)
        dh_next, dcarry, dy_next = dfinals[0], tuple(dfinals[1:n]), dfinals[n]
        T = hs.shape[0]
        dY = empty_like_steps(xp, hs, T, W.shape[1])
        for k in range(T - 1, -1, -1):
            dh = flush_tiny(xp, dhs[k, ...] + dh_next)
            if norms is not None:
                norms.append(step_norm(dh))
            dz, dcarry = self.base.backprop_activation(xp, steps[k], dh, dcarry)
            dz, dcarry = flush_tiny(xp, dz), tuple(flush_tiny(xp, d) for d in dcarry)
            dy = flush_tiny(xp, dy_next + (1 + mus[k]) * dz)
            dy_next = flush_tiny(xp, -mus[k] * dz)
            dY[k, ...] = dy
            dh_next = xp.matmul(dy, W.T)
        dW = flush_tiny(xp, sum_steps_matmul(xp, previous_states(xp, h0, hs), dY))
        db_hh = flush_tiny(xp, xp.sum(dY, axis=(0, 1)))
        return -self.s * dY, (db_hh, dW), (flush_tiny(xp, dh_next), *dcarry, dy_next)

