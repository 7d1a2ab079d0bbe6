"""The Elman RNN cell: h_t = phi(x_t W_ih + b + h_{t-1} W_hh), phi = tanh or relu."""
from __future__ import annotations

from ..engine import init, ops
from ..engine.module import Parameter
from ._checks import one_of
from .base import Cell
from .fused import Core, SequenceArgs, empty_like_steps, flush_tiny, previous_states, step_norm, sum_steps_matmul
from .registry import register_cell

NONLINEARITIES = ("tanh", "relu")
RECURRENT_INITS = ("uniform", "orthogonal", "identity")


class RNNCore(Core):
    """Raw-array loops of h_t = phi(A_t + h_{t-1} U), given the drive A (T, B, H) (A_t = x_t W_ih + b).

    BPTT: with dh_t = dL/dh_t from the output plus dL/dh_t through step t+1,
        dz_t = dh_t * phi'(z_t),   dL/dh_{t-1} (through step t) = dz_t U^T,
        dL/dU = sum_t h_{t-1}^T dz_t (one matmul after the loop),   dL/dA_t = dz_t.
    phi'(z) is 1 - h^2 for tanh and 1[h > 0] for relu (0 at the kink). Values below smallest_normal / eps
    are flushed to zero in the backward (``flush_tiny``), as the compiled kernel (``kernels/rnn.py``) does.
    """

    state_names = ("h",)
    fast_kinds = frozenset({None, "heavy_ball", "adam"})

    def __init__(self, nonlinearity: str):
        self.nonlinearity = nonlinearity

    def phi(self, xp, z):
        return xp.tanh(z) if self.nonlinearity == "tanh" else xp.where(z > 0, z, xp.zeros_like(z))

    def backprop_phi(self, xp, h, dh):
        """dL/dz = dL/dh * phi'(z), written with h = phi(z)."""
        return dh * (1 - h * h) if self.nonlinearity == "tanh" else xp.where(h > 0, dh, xp.zeros_like(dh))

    def activate(self, xp, z, states):
        """One step's activation: ((h_t,), what its backward needs) from z_t = A_t + h_{t-1} U (B, H)."""
        h = self.phi(xp, z)
        return (h,), h

    def backprop_activation(self, xp, h, dh, dcarry):
        """(dL/dz_t, ()) from dL/dh_t; the RNN carries no other state."""
        return self.backprop_phi(xp, h, dh), ()

    def forward(self, xp, A, params, states):
        (U,), (h,) = params, states
        h0, T = h, A.shape[0]
        hs = empty_like_steps(xp, A, T, U.shape[0])
        for t in range(T):
            h = self.phi(xp, A[t, ...] + xp.matmul(h, U))
            hs[t, ...] = h
        return hs, (h,), (U, h0, hs)

    def backward(self, xp, cache, dhs, dfinals, norms=None):
        U, h0, hs = cache
        (dh_next,) = dfinals
        dA = empty_like_steps(xp, hs, hs.shape[0], hs.shape[-1])
        for t in range(hs.shape[0] - 1, -1, -1):
            dh = dhs[t, ...] + dh_next
            if norms is not None:
                norms.append(step_norm(dh))
            dz = flush_tiny(xp, self.backprop_phi(xp, hs[t, ...], dh))
            dA[t, ...] = dz
            dh_next = xp.matmul(dz, U.T)
        dU = flush_tiny(xp, sum_steps_matmul(xp, previous_states(xp, h0, hs), dA))
        return dA, (dU,), (flush_tiny(xp, dh_next),)

    def fast_forward(self, kernels, a: SequenceArgs, rule, t0: int):
        """The compiled pair (``kernels/rnn.py``; with a rule ``kernels/momentum_cores.py``, the rule in the time
        loop; ``t0`` the step before the first): ((hs, h_T, *rule finals), cache)."""
        if rule is None:
            hs, cache = kernels.rnn_forward(a.x, a.W_ih, a.params[0], a.b_ih, a.states[0], self.nonlinearity)
            return (hs, hs[-1, ...]), cache
        hs, vT, mT, cache = kernels.momentum_rnn_forward(a.x, a.W_ih, a.b_ih, a.params[0], a.b_hh, a.states[0],
                                                         nonlinearity=self.nonlinearity,
                                                         **rule.kernel_arguments(t0, a))
        return (hs, hs[-1, ...], *(vT, mT)[:len(rule.state_names)]), cache

    def fast_backward(self, kernels, cache, rule, dhs, dcore, drule) -> SequenceArgs:
        if rule is None:
            dx, dW_ih, dW_hh, db, dh0 = kernels.rnn_backward(cache, dhs, dcore[0])
            return SequenceArgs(dx, dW_ih, db, None, (dW_hh,), (dh0,))
        dx, dW_ih, db_ih, dW_hh, db_hh, dh0, dv0, dm0 = kernels.momentum_rnn_backward(cache, dhs, dcore[0], *drule)
        return SequenceArgs(dx, dW_ih, db_ih, db_hh, (dW_hh,), (dh0,), (dv0, dm0)[:len(rule.state_names)])


def recurrent_weight(kind: str, H: int, rng):
    """W_hh (H, H): U(-1/sqrt(H), 1/sqrt(H)) ('uniform', PyTorch's nn.RNN), orthogonal, or the identity (IRNN)."""
    if kind == "orthogonal":
        return init.orthogonal((H, H), rng)
    if kind == "identity":
        return init.identity(H)
    return init.kaiming_uniform((H, H), H, rng)


@register_cell("rnn")
class RNN(Cell):
    """Elman RNN cell:  h_t = phi(x_t W_ih + b + h_{t-1} W_hh),  phi = tanh (default) or relu.

    Parameters: ``weight_ih`` (D, H), ``weight_hh`` (H, H), ``bias`` (H,). State: (h,), h (B, H).
    Initialization (seeded by ``rng``: a numpy Generator, an int seed, or None for the global generator):
    PyTorch's nn.RNN, every entry U(-1/sqrt(H), 1/sqrt(H)); ``weight_hh_init`` = 'orthogonal' or
    'identity' (Le et al.'s IRNN, for relu) replaces the recurrent weight's.
    """

    def __init__(self, input_size: int, hidden_size: int, nonlinearity: str = "tanh",
                 weight_hh_init: str = "uniform", rng=None):
        super().__init__(input_size, hidden_size)
        name = type(self).__name__
        self.nonlinearity = one_of(name, "nonlinearity", nonlinearity, NONLINEARITIES)
        one_of(name, "weight_hh_init", weight_hh_init, RECURRENT_INITS)
        self.core = RNNCore(nonlinearity)
        rng = init.get_rng(rng)
        H = hidden_size
        self.weight_ih = Parameter(init.kaiming_uniform((input_size, H), H, rng))
        self.weight_hh = Parameter(recurrent_weight(weight_hh_init, H, rng))
        self.init_input_bias(init.kaiming_uniform((H,), H, rng))

    def core_params(self) -> tuple:
        return (self.weight_hh,)

    def recur(self, drive, state):
        """h_t = phi(drive + h_{t-1} W_hh)."""
        return self.activate(drive + state[0] @ self.weight_hh, state)

    def activate(self, z, state):
        """(h_t,) = (phi(z_t),) from the pre-activation z_t (B, H)."""
        return (ops.tanh(z) if self.nonlinearity == "tanh" else ops.relu(z),)
