"""The MomentumRNN family (Nguyen et al. 2020) for the RNN and LSTM bases.

Every member is its base cell fed a momentum *drive* instead of the input projection (momentum_rules.py):

    a_t = x_t W_ih + b_ih                          (B, G): G = H (RNN base) or 4H (LSTM base, all gates)
    drive_t = rule(a_1, ..., a_t)                  v_t, and m_t for Adam / RMSProp; part of the state
    RNN base:   h_t = phi(drive_t + b_hh + h_{t-1} W_hh)
    LSTM base:  [i, f, g, o] = [sigma, sigma, tanh, sigma](drive_t + b_hh + h_{t-1} W_hh), c_t, h_t as in LSTM

The recurrent term never gets momentum. Parameters: those of the base cell, with its ``bias`` split into
``bias_ih`` (G,) (inside the momentum, as b_ih in the authors' code) and ``bias_hh`` (G,) (outside it), each
initialized to half the base cell's bias: with mu = 0 and s = 1 a momentum cell computes exactly what its
base cell with the same seed computes. For the LSTM base with the reference init that is 1 in each bias's
forget block, as in the authors' code. State: the base cell's state followed by the momentum states, v
(and m for Adam / RMSProp), each (B, G): (h, v), (h, c, v), (h, v, m), (h, c, v, m); see ``state_names``.
"""
from __future__ import annotations

import functools

from ..engine.module import Parameter
from .lstm import LSTM
from .momentum_rules import AdamRule, HeavyBall, nesterov_mu, restart_period
from .rnn import RNN


class _InputMomentum:
    """Mixin that turns a base cell into its momentum variant; the subclass sets ``self.rule``."""

    def init_input_bias(self, b) -> None:
        self.bias_ih = Parameter(b * 0.5)
        self.bias_hh = Parameter(b * 0.5)

    def input_params(self) -> tuple:
        return self.weight_ih, self.bias_ih

    def recurrent_shift(self):
        return self.bias_hh

    def advance(self, a_t, state, t: int = 1) -> tuple:
        """drive_t from the momentum rule on a_t, then the base recurrence; returns base state + (v[, m])."""
        n = len(self.core.state_names)
        drive, momentum = self.rule.step(a_t, state[n:], t)
        return tuple(self.recur(drive + self.bias_hh, state[:n])) + momentum


def _nesterov(owner, s, restart):
    F = restart_period(owner, restart)
    return HeavyBall(owner, s=s, schedule=functools.partial(nesterov_mu, restart=F))


class MomentumRNN(_InputMomentum, RNN):
    """MomentumRNN (eq. 9):  v_t = mu v_{t-1} + s (x_t W_ih + b_ih);  h_t = phi(v_t + b_hh + h_{t-1} W_hh).

    ``mu`` in [0, 1) (default 0.9), ``s`` > 0 (default 0.1); other keyword arguments (nonlinearity,
    weight_hh_init, rng) as :class:`RNN`. State: (h (B, H), v (B, H)).
    """

    def __init__(self, input_size: int, hidden_size: int, mu: float = 0.9, s: float = 0.1, **base):
        rule = HeavyBall(type(self).__name__, s=s, mu=mu)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule


class MomentumLSTM(_InputMomentum, LSTM):
    """MomentumLSTM:  v_t = mu v_{t-1} + s (x_t W_ih + b_ih);  gates = v_t + b_hh + h_{t-1} W_hh (i, f, g, o).

    ``mu`` in [0, 1) (default 0.9), ``s`` > 0 (default 0.1); other keyword arguments (forget_bias,
    weight_init, rng) as :class:`LSTM`. State: (h (B, H), c (B, H), v (B, 4H)).
    """

    def __init__(self, input_size: int, hidden_size: int, mu: float = 0.9, s: float = 0.1, **base):
        rule = HeavyBall(type(self).__name__, s=s, mu=mu)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule


class NesterovRNN(_InputMomentum, RNN):
    """NAG RNN, and with ``restart`` = F > 0 the scheduled-restart RNN (SRRNN):
    v_t = mu_t v_{t-1} + s (x_t W_ih + b_ih);  h_t = phi(v_t + b_hh + h_{t-1} W_hh), with
    mu_t = (t-1)/(t+2) (F = 0) or mu_t = (t mod F)/((t mod F) + 3) (F > 0). t is the global step index
    (1-based), continued across TBPTT chunks. F = 1 gives mu_t = 0 at every step.
    ``s`` > 0 (default 0.1), ``restart`` F >= 0 (default 0); other keyword arguments as :class:`RNN`.
    State: (h, v).
    """

    def __init__(self, input_size: int, hidden_size: int, s: float = 0.1, restart: int = 0, **base):
        rule = _nesterov(type(self).__name__, s, restart)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule


class NesterovLSTM(_InputMomentum, LSTM):
    """NAG LSTM, and with ``restart`` = F > 0 the scheduled-restart LSTM (SRLSTM): the MomentumLSTM with
    mu_t = (t-1)/(t+2) (F = 0) or (t mod F)/((t mod F) + 3) (F > 0), t the global 1-based step index.
    ``s`` > 0 (default 0.1), ``restart`` F >= 0 (default 0); other keyword arguments as :class:`LSTM`.
    State: (h, c, v).
    """

    def __init__(self, input_size: int, hidden_size: int, s: float = 0.1, restart: int = 0, **base):
        rule = _nesterov(type(self).__name__, s, restart)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule


class AdamRNN(_InputMomentum, RNN):
    """AdamRNN (eq. 15), a_t = x_t W_ih + b_ih:
    v_t = mu v_{t-1} + s a_t;  m_t = beta m_{t-1} + (1 - beta) a_t^2;
    h_t = phi(v_t / sqrt(m_t + eps) + b_hh + h_{t-1} W_hh).

    ``mu`` in [0, 1) (0.9), ``s`` > 0 (0.1), ``beta`` in (0, 1) (0.9), ``eps`` > 0 (1e-8, the paper's; the
    authors' code uses 1e-16). Other keyword arguments as :class:`RNN`. State: (h, v, m).
    """

    def __init__(self, input_size: int, hidden_size: int, mu: float = 0.9, s: float = 0.1, beta: float = 0.9,
                 eps: float = 1e-8, **base):
        rule = AdamRule(type(self).__name__, mu=mu, s=s, beta=beta, eps=eps)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule


class AdamLSTM(_InputMomentum, LSTM):
    """AdamLSTM: the AdamRNN recurrences on all four gates' projection a_t = x_t W_ih + b_ih:
    gates = v_t / sqrt(m_t + eps) + b_hh + h_{t-1} W_hh.  Hyperparameters as :class:`AdamRNN`; other keyword
    arguments as :class:`LSTM`. State: (h, c, v, m).
    """

    def __init__(self, input_size: int, hidden_size: int, mu: float = 0.9, s: float = 0.1, beta: float = 0.9,
                 eps: float = 1e-8, **base):
        rule = AdamRule(type(self).__name__, mu=mu, s=s, beta=beta, eps=eps)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule


class RMSPropRNN(_InputMomentum, RNN):
    """RMSPropRNN: the AdamRNN with mu = 0:  m_t = beta m_{t-1} + (1 - beta) a_t^2;
    h_t = phi(s a_t / sqrt(m_t + eps) + b_hh + h_{t-1} W_hh). The state keeps v_t = s a_t for uniformity
    with AdamRNN: (h, v, m). ``s``, ``beta``, ``eps`` as :class:`AdamRNN`.
    """

    def __init__(self, input_size: int, hidden_size: int, s: float = 0.1, beta: float = 0.9, eps: float = 1e-8,
                 **base):
        rule = AdamRule(type(self).__name__, mu=0.0, s=s, beta=beta, eps=eps)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule


class RMSPropLSTM(_InputMomentum, LSTM):
    """RMSPropLSTM: the AdamLSTM with mu = 0. State: (h, c, v, m). ``s``, ``beta``, ``eps`` as :class:`AdamRNN`."""

    def __init__(self, input_size: int, hidden_size: int, s: float = 0.1, beta: float = 0.9, eps: float = 1e-8,
                 **base):
        rule = AdamRule(type(self).__name__, mu=0.0, s=s, beta=beta, eps=eps)
        super().__init__(input_size, hidden_size, **base)
        self.rule = rule
