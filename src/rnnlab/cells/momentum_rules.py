"""Momentum on the input projection: the recurrences of the MomentumRNN family, written once for every base.

A momentum cell feeds its base cell (RNN or LSTM) a *drive* computed from the input projection
a_t = x_t W_ih + b_ih (B, G) instead of a_t itself (Nguyen et al. 2020, eqs. 9 and 15; for LSTMs a_t holds
all four gates, bias included, as in the authors' code):

* heavy ball (Momentum, Nesterov):  v_t = mu_t v_{t-1} + s a_t;                          drive_t = v_t
* Adam (and RMSProp = Adam with mu = 0):
      v_t = mu v_{t-1} + s a_t;   m_t = beta m_{t-1} + (1 - beta) a_t^2;   drive_t = v_t / sqrt(m_t + eps)

v and m are part of the recurrent state (B, G). Neither depends on h, so the fused path runs them over
the whole sequence before the base recurrence (``scan``) and backpropagates through them after it
(``scan_backward``); the composed path calls ``step`` once per time step.

A rule declares its ``kernel_kind``: what the cores' compiled pairs compute for it ('heavy_ball', 'adam'), or
None: then the fused path runs these readable loops (``fused.choose_path``). The declaration is not
inherited: a subclass that changes the math declares its kind itself or runs the loop.
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


class Rule:
    """Base of the momentum rules: ``state_names`` (each (B, G)), ``kernel_kind`` (None unless the class itself
    declares one), ``mu(t)``, ``step`` (composed path), ``scan`` and ``scan_backward`` (the readable loop), and,
    for a declared kind, ``kernel_arguments`` (the compiled pairs' keyword arguments)."""

    state_names: tuple = ()
    kernel_kind: str | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "kernel_kind" not in vars(cls):
            cls.kernel_kind = None      # the compiled path computes the declaring class's math, not a subclass's


class HeavyBall(Rule):
    """v_t = mu_t v_{t-1} + s a_t;  drive_t = v_t.  ``mu`` is a constant or a function of the step t.

    BPTT through it: with dv_t = dL/ddrive_t + mu_{t+1} dv_{t+1} (plus dL/dv_T at the end),
    dL/da_t = s dv_t and dL/dv_0 = mu_1 dv_1.
    """

    state_names = ("v",)
    kernel_kind = "heavy_ball"

    def __init__(self, owner: str, s: float, mu=None, schedule=None):
        self.s = positive_float(owner, "s", s)
        self.mu_const = None if mu is None else in_interval(owner, "mu", mu, 0.0, 1.0, closed_low=True,
                                                              closed_high=False)
        self.schedule = schedule

    def mu(self, t: int) -> float:
        """The momentum coefficient of step t (1-based, global)."""
        return self.mu_const if self.schedule is None else self.schedule(t)

    def kernel_arguments(self, t0: int, args) -> dict:
        """The compiled pairs' keyword arguments for the sequence ``args`` (a ``fused.SequenceArgs``): the initial
        v and the coefficients of steps t0 + 1, ..., t0 + T."""
        return {"v0": args.rule_states[0], "mus": [self.mu(t0 + 1 + k) for k in range(args.x.shape[0])], "s": self.s}

    def step(self, a, states, t: int):
        """Composed: (drive_t, new momentum states) from a_t (B, G) and (v_{t-1},)."""
        v = self.mu(t) * states[0] + self.s * a
        return v, (v,)

    def scan(self, xp, A, states, t0: int):
        """Fused forward over A (T, B, G): (drives (T, B, G), (v_T,), cache)."""
        mus = [self.mu(t0 + 1 + k) for k in range(A.shape[0])]
        V = empty_like_steps(xp, A, A.shape[0], A.shape[-1])
        v = states[0]
        for k, mu in enumerate(mus):
            v = mu * v + self.s * A[k, ...]
            V[k, ...] = v
        return V, (v,), mus

    def scan_backward(self, xp, mus, dV, dfinals):
        """dL/dA (T, B, G) and (dL/dv_0,) from dL/ddrive (T, B, G) and (dL/dv_T,), flushed as the kernels
        flush (``fused.flush_tiny``)."""
        dv = dfinals[0]
        dA = empty_like_steps(xp, dV, dV.shape[0], dV.shape[-1])
        for k in range(dV.shape[0] - 1, -1, -1):
            dv = dv + dV[k, ...]
            dA[k, ...] = flush_tiny(xp, self.s * dv)
            dv = flush_tiny(xp, mus[k] * dv)
        return dA, (dv,)


class AdamRule(Rule):
    """v_t = mu v_{t-1} + s a_t;  m_t = beta m_{t-1} + (1 - beta) a_t^2;  drive_t = v_t / sqrt(m_t + eps).

    BPTT through it, with r_t = (m_t + eps)^(-1/2) and g_t = dL/ddrive_t:
        dv_t = g_t r_t + mu dv_{t+1};   dm_t = -g_t v_t r_t^3 / 2 + beta dm_{t+1}
        dL/da_t = s dv_t + 2 (1 - beta) a_t dm_t;   dL/dv_0 = mu dv_1;   dL/dm_0 = beta dm_1.
    No bias correction; v_0 = m_0 = 0 unless a state is passed (the authors' code).
    """

    state_names = ("v", "m")
    kernel_kind = "adam"

    def __init__(self, owner: str, mu: float, s: float, beta: float, eps: float):
        self.mu_const = in_interval(owner, "mu", mu, 0.0, 1.0, closed_low=True, closed_high=False)
        self.s = positive_float(owner, "s", s)
        self.beta = in_interval(owner, "beta", beta, 0.0, 1.0, closed_low=False, closed_high=False)
        self.eps = positive_float(owner, "eps", eps)

    def mu(self, t: int) -> float:
        return self.mu_const

    def kernel_arguments(self, t0: int, args) -> dict:
        """As :meth:`HeavyBall.kernel_arguments`, with the initial m, beta and eps."""
        v0, m0 = args.rule_states
        return {"v0": v0, "m0": m0, "mus": [self.mu_const] * args.x.shape[0], "s": self.s, "beta": self.beta,
                "eps": self.eps}

    def step(self, a, states, t: int):
        v = self.mu_const * states[0] + self.s * a
        m = self.beta * states[1] + (1 - self.beta) * (a * a)
        return v / ops.sqrt(m + self.eps), (v, m)

    def scan(self, xp, A, states, t0: int):
        """As :meth:`HeavyBall.scan`: (drives, (v_T, m_T), cache)."""
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

    def scan_backward(self, xp, cache, dout, dfinals):
        """As :meth:`HeavyBall.scan_backward`: dL/dA and (dL/dv_0, dL/dm_0)."""
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
