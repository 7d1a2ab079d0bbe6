"""Momentum on the input projection: the recurrences of the MomentumRNN family, written once for every base.

A momentum cell feeds its base cell (RNN or LSTM) a *drive* computed from the input projection
a_t = x_t W_ih + b_ih (B, G) instead of a_t itself (Nguyen et al. 2020, eqs. 9 and 15; for LSTMs a_t holds
all four gates, bias included, as in the authors' code):

* heavy ball (Momentum, Nesterov):  v_t = mu_t v_{t-1} + s a_t;                          drive_t = v_t
* Adam (and RMSProp = Adam with mu = 0):
      v_t = mu v_{t-1} + s a_t;   m_t = beta m_{t-1} + (1 - beta) a_t^2;   drive_t = v_t / sqrt(m_t + eps)

v and m are part of the recurrent state (B, G). Neither depends on h, so the fused path runs them over
the whole sequence before the base recurrence (``scan``) and backpropagates through them after it
(``scan_backward``); the composed path calls ``step`` once per time step. On the numpy backend the fused
path runs the compiled scans of ``rnnlab.cells.kernels.momentum`` instead of these loops (same results).
"""
from __future__ import annotations

from ..engine import ops
from ._checks import in_interval, nonnegative_int, positive_float
from .fused import empty_like_steps, flush_tiny

NESTEROV_FORMS = ("paper", "mnist-code", "ptb-code")
"""The Nesterov cells' ``form``: the paper's schedule, the MNIST code's cell, or the PTB code's clock."""


def nesterov_mu(t: int, restart: int = 0, form: str = "paper") -> float:
    """mu_t = (t - 1)/(t + 2) (Nesterov), or with a scheduled restart every F = ``restart`` steps
    mu_t = k/(k + 3) with k = t mod F (``form`` 'paper': the paper's formula, Sec. 2.4) or k = (t - 1) mod F
    ('ptb-code' and 'mnist-code': the released code's clock, one step later). ``t`` counts steps from 1.

    With the paper's restart mu_1 = 1/4 (k = t mod F plays the role of t - 1) and every multiple of F restarts
    at mu = 0; with the code's clock mu_1 = 0 and every step after a multiple of F restarts, as without one.
    """
    if restart == 0:
        return (t - 1) / (t + 2)
    k = t % restart if form == "paper" else (t - 1) % restart
    return k / (k + 3)


class HeavyBall:
    """v_t = mu_t v_{t-1} + s a_t;  drive_t = v_t.  ``mu`` is a constant or a function of the step t.

    BPTT through it: with dv_t = dL/ddrive_t + mu_{t+1} dv_{t+1} (plus dL/dv_T at the end),
    dL/da_t = s dv_t and dL/dv_0 = mu_1 dv_1.
    """

    state_names = ("v",)

    def __init__(self, owner: str, s: float, mu=None, schedule=None):
        self.s = positive_float(owner, "s", s)
        self.mu_const = None if mu is None else in_interval(owner, "mu", mu, 0.0, 1.0, closed_low=True,
                                                              closed_high=False)
        self.schedule = schedule

    def mu(self, t: int) -> float:
        """The momentum coefficient of step t (1-based, global)."""
        return self.mu_const if self.schedule is None else self.schedule(t)

    def kernel_arguments(self, t0: int, T: int) -> dict:
        """The rule's coefficients for steps t0 + 1, ..., t0 + T, as the cores' rule kernels take them."""
        return {"mus": [self.mu(t0 + 1 + k) for k in range(T)], "s": self.s}

    def step(self, a, states, t: int):
        """Composed: (drive_t, new momentum states) from a_t (B, G) and (v_{t-1},)."""
        v = self.mu(t) * states[0] + self.s * a
        return v, (v,)

    def scan(self, xp, A, states, t0: int, kernels=None):
        """Fused forward over A (T, B, G): (drives (T, B, G), (v_T,), cache); ``kernels``: the compiled
        module (``rnnlab.cells.kernels``) to run the scan with (A's buffer then holds the drives: the fused
        path passes a fresh A), or None for this loop."""
        mus = [self.mu(t0 + 1 + k) for k in range(A.shape[0])]
        if kernels is not None:
            V, v = kernels.heavy_ball_scan(A, mus, self.s, states[0], overwrite=True)
            return V, (v,), mus
        V = empty_like_steps(xp, A, A.shape[0], A.shape[-1])
        v = states[0]
        for k, mu in enumerate(mus):
            v = mu * v + self.s * A[k, ...]
            V[k, ...] = v
        return V, (v,), mus

    def scan_backward(self, xp, mus, dV, dfinals, kernels=None, overwrite=False):
        """dL/dA (T, B, G) and (dL/dv_0,) from dL/ddrive (T, B, G) and (dL/dv_T,), flushed as the kernels
        flush (``fused.flush_tiny``); ``kernels`` as in :meth:`scan`; ``overwrite``: the kernel may write
        dL/dA into dV's buffer (the caller's own)."""
        if kernels is not None:
            dA, dv = kernels.heavy_ball_scan_backward(mus, self.s, dV, dfinals[0], overwrite=overwrite)
            return dA, (dv,)
        dv = dfinals[0]
        dA = empty_like_steps(xp, dV, dV.shape[0], dV.shape[-1])
        for k in range(dV.shape[0] - 1, -1, -1):
            dv = dv + dV[k, ...]
            dA[k, ...] = flush_tiny(xp, self.s * dv)
            dv = flush_tiny(xp, mus[k] * dv)
        return dA, (dv,)


class AdamRule:
    """v_t = mu v_{t-1} + s a_t;  m_t = beta m_{t-1} + (1 - beta) a_t^2;  drive_t = v_t / sqrt(m_t + eps).

    BPTT through it, with r_t = (m_t + eps)^(-1/2) and g_t = dL/ddrive_t:
        dv_t = g_t r_t + mu dv_{t+1};   dm_t = -g_t v_t r_t^3 / 2 + beta dm_{t+1}
        dL/da_t = s dv_t + 2 (1 - beta) a_t dm_t;   dL/dv_0 = mu dv_1;   dL/dm_0 = beta dm_1.
    No bias correction; v_0 = m_0 = 0 unless a state is passed (the authors' code).
    """

    state_names = ("v", "m")

    def __init__(self, owner: str, mu: float, s: float, beta: float, eps: float):
        self.mu_const = in_interval(owner, "mu", mu, 0.0, 1.0, closed_low=True, closed_high=False)
        self.s = positive_float(owner, "s", s)
        self.beta = in_interval(owner, "beta", beta, 0.0, 1.0, closed_low=False, closed_high=False)
        self.eps = positive_float(owner, "eps", eps)

    def mu(self, t: int) -> float:
        return self.mu_const

    def kernel_arguments(self, t0: int, T: int) -> dict:
        """As :meth:`HeavyBall.kernel_arguments`."""
        return {"mus": [self.mu_const] * T, "s": self.s, "beta": self.beta, "eps": self.eps}

    def step(self, a, states, t: int):
        v = self.mu_const * states[0] + self.s * a
        m = self.beta * states[1] + (1 - self.beta) * (a * a)
        return v / ops.sqrt(m + self.eps), (v, m)

    def scan(self, xp, A, states, t0: int, kernels=None):
        """As :meth:`HeavyBall.scan`: (drives, (v_T, m_T), cache)."""
        if kernels is not None:
            out, v, m, cache = kernels.adam_scan(A, self.mu_const, self.s, self.beta, self.eps, *states)
            return out, (v, m), cache
        T, G = A.shape[0], A.shape[-1]
        V, R, out = (empty_like_steps(xp, A, T, G) for _ in range(3))
        v, m = states
        for k in range(T):
            v = self.mu_const * v + self.s * A[k, ...]
            m = self.beta * m + (1 - self.beta) * (A[k, ...] * A[k, ...])
            r = 1 / xp.sqrt(m + self.eps)
            V[k, ...], R[k, ...] = v, r
            out[k, ...] = v * r
        return out, (v, m), (A, V, R)

    def scan_backward(self, xp, cache, dout, dfinals, kernels=None, overwrite=False):
        """As :meth:`HeavyBall.scan_backward`: dL/dA and (dL/dv_0, dL/dm_0)."""
        if kernels is not None:
            dA, dv, dm = kernels.adam_scan_backward(cache, dout, *dfinals, overwrite=overwrite)
            return dA, (dv, dm)
        A, V, R = cache
        dv_carry, dm_carry = dfinals
        dA = empty_like_steps(xp, A, A.shape[0], A.shape[-1])
        for k in range(A.shape[0] - 1, -1, -1):
            g = dout[k, ...]
            dv = dv_carry + g * R[k, ...]
            dm = dm_carry - 0.5 * g * V[k, ...] * R[k, ...] * R[k, ...] * R[k, ...]
            dA[k, ...] = flush_tiny(xp, self.s * dv + 2 * (1 - self.beta) * A[k, ...] * dm)
            dv_carry, dm_carry = flush_tiny(xp, self.mu_const * dv), flush_tiny(xp, self.beta * dm)
        return dA, (dv_carry, dm_carry)


def restart_period(owner: str, restart) -> int:
    """Check F, the Nesterov restart period (0: no restart)."""
    return nonnegative_int(owner, "restart", restart)
