"""The independently recurrent cell (IndRNN, Li et al. 2018): one recurrent weight per unit."""
from __future__ import annotations

import math

from ..engine import backend, init, ops
from ..engine.module import Parameter
from ._checks import positive_float, positive_int
from .base import Cell
from .fused import Core, SequenceArgs, empty_like_steps, flush_tiny, previous_states, step_norm
from .registry import register_cell


class IndRNNCore(Core):
    """Raw-array loops of h_t = relu(A_t + u * h_{t-1}), given the drive A (T, B, H) (A_t = x_t W + b).

    BPTT (the reference's manual loop): with dh_t = dL/dh_t from the output plus ``carry`` from step t+1,
        delta_t = dh_t * 1[h_t > 0];   carry = delta_t * u;   dL/du = sum_t,b delta_t * h_{t-1};   dL/dA_t = delta_t.
    Values below smallest_normal / eps are flushed to zero in the backward (``flush_tiny``), as the compiled
    kernel (``kernels/indrnn.py``, the fast path ``fast_forward``) does.
    """

    state_names = ("h",)
    fast_kinds = frozenset({None})

    def forward(self, xp, A, params, states):
        (u,), (h,) = params, states
        h0, T = h, A.shape[0]
        hs = empty_like_steps(xp, A, T, u.shape[0])
        for t in range(T):
            z = A[t, ...] + u * h
            h = xp.where(z > 0, z, xp.zeros_like(z))
            hs[t, ...] = h
        return hs, (h,), (u, h0, hs)

    def backward(self, xp, cache, dhs, dfinals, norms=None):
        u, h0, hs = cache
        (carry,) = dfinals
        delta = empty_like_steps(xp, hs, hs.shape[0], hs.shape[-1])
        for t in range(hs.shape[0] - 1, -1, -1):
            dh = dhs[t, ...] + carry
            if norms is not None:
                norms.append(step_norm(dh))
            d = flush_tiny(xp, xp.where(hs[t, ...] > 0, dh, xp.zeros_like(dh)))
            delta[t, ...] = d
            carry = flush_tiny(xp, d * u)
        du = flush_tiny(xp, xp.sum(delta * previous_states(xp, h0, hs), axis=(0, 1)))
        return delta, (du,), (carry,)

    def fast_forward(self, kernels, a: SequenceArgs, rule, t0: int):
        """The compiled pair (no momentum rule): ((hs, h_T), cache)."""
        hs, cache = kernels.indrnn_forward_input(a.x, a.W_ih, a.b_ih, a.params[0], a.states[0])
        return (hs, hs[-1, ...]), cache

    def fast_backward(self, kernels, cache, rule, dhs, dcore, drule) -> SequenceArgs:
        dx, dW_ih, db, du, dh0 = kernels.indrnn_backward_input(cache, dhs, dcore[0])
        return SequenceArgs(dx, dW_ih, db, None, (du,), (dh0,))


@register_cell("indrnn")
class IndRNN(Cell):
    """IndRNN cell:  h_t = relu(x_t W_ih + b + u * h_{t-1}),  u a vector (one recurrent weight per unit).

    Parameters: ``weight_ih`` (D, H), ``weight_hh`` (H,) (the vector u), ``bias`` (H,). State: (h,), (B, H).
    Recurrent weight bound (the reference's): before every forward over T steps the runner clamps
    |u| <= mag^(1/T'), with T' = ``seq_len`` when given (set it to the full sequence length when training
    with TBPTT, whose forwards are shorter) and T' = T otherwise. ``mag`` (MAG) is 5.0 in the reference code.
    Initialization (seeded by ``rng``): u ~ U(0, mag^(1/seq_len)) (U(0, 1) without ``seq_len``, the limit
    T -> infinity); W_ih U(-b, b), b = gain sqrt(3/D) with gain = sqrt(2/(1 + a^2)), a = 8 (b = 0.304/sqrt(D)),
    the reference initialization (Kaiming-uniform with negative slope a = 8); bias 0.
    """

    def __init__(self, input_size: int, hidden_size: int, mag: float = 5.0, seq_len: int | None = None, rng=None):
        super().__init__(input_size, hidden_size)
        name = type(self).__name__
        self.mag = positive_float(name, "mag", mag)
        self.seq_len = None if seq_len is None else positive_int(name, "seq_len", seq_len)
        self.core = IndRNNCore()
        rng = init.get_rng(rng)
        H = hidden_size
        high = self.bound(self.seq_len) if self.seq_len is not None else 1.0
        bound = math.sqrt(2.0 / (1 + 8 ** 2)) * math.sqrt(3.0 / input_size)
        self.weight_ih = Parameter(init.uniform((input_size, H), -bound, bound, rng))
        self.weight_hh = Parameter(init.uniform((H,), 0.0, high, rng))
        self.init_input_bias(init.zeros((H,)))

    def bound(self, T: int) -> float:
        """mag^(1/T): the largest |u| allowed for sequences of T steps."""
        return self.mag ** (1.0 / T)

    def prepare(self, T: int) -> None:
        """Clamp |u| <= mag^(1/T') in place (T' = seq_len or T), outside the graph, as the reference does."""
        b = self.bound(self.seq_len or T)
        xp = backend.get_namespace(self.weight_hh.data)
        self.weight_hh.data = xp.clip(self.weight_hh.data, -b, b)

    def core_params(self) -> tuple:
        return (self.weight_hh,)

    def recur(self, drive, state):
        """h_t = relu(drive + u * h_{t-1})."""
        return (ops.relu(drive + self.weight_hh * state[0]),)
