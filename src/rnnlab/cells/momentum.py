"""The MomentumRNN family (Nguyen et al. 2020) for the RNN and LSTM bases.

Every member is its base cell fed a momentum *drive* instead of the input projection (momentum_rules.py):

    a_t = x_t W_ih + b_ih                          (B, G): G = H (RNN base) or 4H (LSTM base, all gates)
    drive_t = rule(a_1, ..., a_t)                  v_t, and m_t for Adam / RMSProp; part of the state
    RNN base:   h_t = phi(drive_t + b_hh + h_{t-1} W_hh)
    LSTM base:  [i, f, g, o] = [sigma, sigma, tanh, sigma](drive_t + b_hh + h_{t-1} W_hh), c_t, h_t as in LSTM

The recurrent term never gets momentum (except in the Nesterov cells' form 'mnist-code', nesterov_code.py).
Parameters: those of the base cell, with its ``bias`` split into ``bias_ih`` (G,) (inside the momentum, as
b_ih in the authors' code) and ``bias_hh`` (G,) (outside it), each initialized to half the base cell's bias:
with mu = 0 and s = 1 a momentum cell computes exactly what its base cell with the same seed computes. For
the LSTM base with the reference init that is 1 in each bias's forget block, as in the authors' code. State:
the base cell's state followed by the momentum states, v (and m for Adam / RMSProp), each (B, G): (h, v),
(h, c, v), (h, v, m), (h, c, v, m); see ``state_names``.

Each member is a declaration: its base, its :class:`MomentumRule` (``momentum = HEAVY_BALL``, ...) and its
docstring; :class:`InputMomentum` writes the constructor from the rule's hyperparameters.
"""
from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Callable

from ..engine.module import Parameter
from ._checks import one_of
from .lstm import LSTM
from .momentum_rules import NESTEROV_FORMS, AdamRule, HeavyBall, nesterov_mu, restart_period
from .nesterov_code import NesterovCodeCore
from .registry import register_cell
from .rnn import RNN


@dataclass(frozen=True)
class MomentumRule:
    """How a momentum cell builds its rule: ``make(owner, **hyperparameters)`` (checking every value, naming
    ``owner`` in the error) and ``defaults``, the hyperparameters in constructor order with their defaults."""

    make: Callable
    defaults: dict


def nesterov_rule(owner: str, s, restart, form, forms=NESTEROV_FORMS):
    """The Nesterov cells' rule for ``form`` (one of ``forms``): the heavy ball with the paper's, the PTB
    code's or the MNIST code's schedule (whose cell :class:`NesterovMomentum` builds around it)."""
    one_of(owner, "form", form, forms)
    F = restart_period(owner, restart)
    return HeavyBall(owner, s=s, schedule=functools.partial(nesterov_mu, restart=F, form=form))


HEAVY_BALL = MomentumRule(lambda owner, mu, s: HeavyBall(owner, s=s, mu=mu), {"mu": 0.9, "s": 0.1})
NESTEROV = MomentumRule(nesterov_rule, {"s": 0.1, "restart": 0, "form": "paper"})
ADAM = MomentumRule(lambda owner, mu, s, beta, eps: AdamRule(owner, mu=mu, s=s, beta=beta, eps=eps),
                    {"mu": 0.9, "s": 0.1, "beta": 0.9, "eps": 1e-8})
RMSPROP = MomentumRule(lambda owner, s, beta, eps: AdamRule(owner, mu=0.0, s=s, beta=beta, eps=eps),
                       {"s": 0.1, "beta": 0.9, "eps": 1e-8})


def momentum_constructor(cls):
    """``__init__(self, input_size, hidden_size, <cls.momentum.defaults>, **base)`` for a momentum cell class:
    it builds the rule first (so a bad value fails before any weight is drawn), then the base cell from
    ``**base``. Its ``__signature__`` lists the hyperparameters, as ``cell_hyperparameters`` reads them."""
    P = inspect.Parameter
    defaults = cls.momentum.defaults
    signature = inspect.Signature(
        [P("self", P.POSITIONAL_OR_KEYWORD)]
        + [P(name, P.POSITIONAL_OR_KEYWORD, annotation="int") for name in ("input_size", "hidden_size")]
        + [P(name, P.POSITIONAL_OR_KEYWORD, default=v, annotation=type(v).__name__) for name, v in defaults.items()]
        + [P("base", P.VAR_KEYWORD)])

    def __init__(self, *args, **kwargs):
        given = signature.bind(self, *args, **kwargs)
        given.apply_defaults()
        given = given.arguments
        hyper = {name: given[name] for name in defaults}
        rule = cls.momentum.make(type(self).__name__, **hyper)
        super(cls, self).__init__(given["input_size"], given["hidden_size"], **given["base"])
        self.attach_momentum(rule, hyper)

    __init__.__signature__ = signature
    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


class InputMomentum:
    """Mixin that turns a base cell into its momentum variant. A subclass that sets the class attribute
    ``momentum`` (a :class:`MomentumRule`) gets its constructor from :func:`momentum_constructor`."""

    momentum: MomentumRule | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "momentum" in vars(cls):
            cls.__init__ = momentum_constructor(cls)

    def attach_momentum(self, rule, hyperparameters: dict) -> None:
        """Called by the constructor once the base cell is built: the rule runs on the input projection."""
        self.rule = rule

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


class NesterovMomentum(InputMomentum):
    """The Nesterov cells: the heavy ball with a schedule, or, for ``form`` 'mnist-code', the MNIST code's cell,
    whose momentum holds the recurrent term: its constructor makes :class:`NesterovCodeCore` the core (around
    the base core) and sets no rule (nesterov_code.py)."""

    form = "paper"

    def attach_momentum(self, rule, hyperparameters: dict) -> None:
        self.form = hyperparameters["form"]
        if self.form == "mnist-code":
            self.core, self.rule = NesterovCodeCore(self.core, rule.s, rule.mu), None
        else:
            self.rule = rule

    def recurrent_shift(self):
        return None if self.form == "mnist-code" else self.bias_hh

    def core_params(self) -> tuple:
        return (self.bias_hh, self.weight_hh) if self.form == "mnist-code" else super().core_params()

    def advance(self, a_t, state, t: int = 1) -> tuple:
        """The MNIST code's step: y_t = h_{t-1} W_hh + b_hh - s a_t, z_t = y_t + mu_t (y_t - y_{t-1}), the base
        activation of z_t; returns base state + (y_t,). The other forms: :meth:`InputMomentum.advance`."""
        if self.form != "mnist-code":
            return super().advance(a_t, state, t)
        n = len(self.core.base.state_names)
        y = state[0] @ self.weight_hh + self.bias_hh - self.core.s * a_t
        mu = self.core.mu(t)
        z = y + mu * (y - state[n])
        return tuple(self.activate(z, state[:n])) + (y,)


@register_cell("momentum-rnn")
class MomentumRNN(InputMomentum, RNN):
    """MomentumRNN (eq. 9):  v_t = mu v_{t-1} + s (x_t W_ih + b_ih);  h_t = phi(v_t + b_hh + h_{t-1} W_hh).

    ``mu`` in [0, 1) (default 0.9), ``s`` > 0 (default 0.1); other keyword arguments (nonlinearity,
    weight_hh_init, rng) as :class:`RNN`. State: (h (B, H), v (B, H)).
    """

    momentum = HEAVY_BALL


@register_cell("momentum-lstm")
class MomentumLSTM(InputMomentum, LSTM):
    """MomentumLSTM:  v_t = mu v_{t-1} + s (x_t W_ih + b_ih);  gates = v_t + b_hh + h_{t-1} W_hh (i, f, g, o).

    ``mu`` in [0, 1) (default 0.9), ``s`` > 0 (default 0.1); other keyword arguments (forget_bias,
    weight_init, rng) as :class:`LSTM`. State: (h (B, H), c (B, H), v (B, 4H)).
    """

    momentum = HEAVY_BALL


@register_cell("nesterov-rnn")
class NesterovRNN(NesterovMomentum, RNN):
    """NAG RNN, and with ``restart`` = F > 0 the scheduled-restart RNN (SRRNN):
    v_t = mu_t v_{t-1} + s (x_t W_ih + b_ih);  h_t = phi(v_t + b_hh + h_{t-1} W_hh), with
    mu_t = (t-1)/(t+2) (F = 0) or mu_t = (t mod F)/((t mod F) + 3) (F > 0). t is the global step index
    (1-based), continued across TBPTT chunks. F = 1 gives mu_t = 0 at every step.
    ``s`` > 0 (default 0.1), ``restart`` F >= 0 (default 0); other keyword arguments as :class:`RNN`.
    ``form`` (one of ``NESTEROV_FORMS``): 'paper' (default, the above); 'ptb-code', the PTB code's clock,
    one step later: mu_t = ((t-1) mod F)/(((t-1) mod F) + 3); 'mnist-code', the MNIST code's cell, with the
    recurrent term inside the momentum (state (h, y), see nesterov_code.py):
    y_t = h_{t-1} W_hh + b_hh - s (x_t W_ih + b_ih),  h_t = phi(y_t + mu_t (y_t - y_{t-1})), mu_t as 'ptb-code'.
    State: (h, v), or (h, y) for 'mnist-code'.
    """

    momentum = NESTEROV


@register_cell("nesterov-lstm")
class NesterovLSTM(NesterovMomentum, LSTM):
    """NAG LSTM, and with ``restart`` = F > 0 the scheduled-restart LSTM (SRLSTM): the MomentumLSTM with
    mu_t = (t-1)/(t+2) (F = 0) or (t mod F)/((t mod F) + 3) (F > 0), t the global 1-based step index.
    ``s`` > 0 (default 0.1), ``restart`` F >= 0 (default 0); other keyword arguments as :class:`LSTM`.
    ``form``: 'paper' (default, the above), 'ptb-code' (the PTB code's clock, one step later) or
    'mnist-code' (the SRLSTM that the MNIST code trains): y_t = h_{t-1} W_hh + b_hh - s (x_t W_ih + b_ih),
    gates_t = y_t + mu_t (y_t - y_{t-1}); as :class:`NesterovRNN`.  State: (h, c, v), or (h, c, y) for
    'mnist-code' (y (B, 4H)).
    """

    momentum = NESTEROV


@register_cell("adam-rnn")
class AdamRNN(InputMomentum, RNN):
    """AdamRNN (eq. 15), a_t = x_t W_ih + b_ih:
    v_t = mu v_{t-1} + s a_t;  m_t = beta m_{t-1} + (1 - beta) a_t^2;
    h_t = phi(v_t / sqrt(m_t + eps) + b_hh + h_{t-1} W_hh).

    ``mu`` in [0, 1) (0.9), ``s`` > 0 (0.1), ``beta`` in (0, 1) (0.9), ``eps`` > 0 (1e-8, the paper's; the
    authors' code uses 1e-16). Other keyword arguments as :class:`RNN`. State: (h, v, m).
    """

    momentum = ADAM


@register_cell("adam-lstm")
class AdamLSTM(InputMomentum, LSTM):
    """AdamLSTM: the AdamRNN recurrences on all four gates' projection a_t = x_t W_ih + b_ih:
    gates = v_t / sqrt(m_t + eps) + b_hh + h_{t-1} W_hh.  Hyperparameters as :class:`AdamRNN`; other keyword
    arguments as :class:`LSTM`. State: (h, c, v, m).
    """

    momentum = ADAM


@register_cell("rmsprop-rnn")
class RMSPropRNN(InputMomentum, RNN):
    """RMSPropRNN: the AdamRNN with mu = 0:  m_t = beta m_{t-1} + (1 - beta) a_t^2;
    h_t = phi(s a_t / sqrt(m_t + eps) + b_hh + h_{t-1} W_hh). The state keeps v_t = s a_t for uniformity
    with AdamRNN: (h, v, m). ``s``, ``beta``, ``eps`` as :class:`AdamRNN`.
    """

    momentum = RMSPROP


@register_cell("rmsprop-lstm")
class RMSPropLSTM(InputMomentum, LSTM):
    """RMSPropLSTM: the AdamLSTM with mu = 0. State: (h, c, v, m). ``s``, ``beta``, ``eps`` as :class:`AdamRNN`."""

    momentum = RMSPROP
