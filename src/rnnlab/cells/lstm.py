"""The LSTM cell, gate order i, f, g, o."""
from __future__ import annotations

from ..engine import backend, init, ops
from ..engine.module import Parameter
from ._checks import one_of
from .base import Cell, split_gates
from .fused import Core, SequenceArgs, empty_like_steps, flush_tiny, previous_states, sigmoid, step_norm, sum_steps_matmul
from .registry import register_cell

LSTM_INITS = ("reference", "uniform")


class LSTMCore(Core):
    """Raw-array loops of the LSTM given the drive A (T, B, 4H) (A_t = x_t W_ih + b):

        z_t = A_t + h_{t-1} U,   [i, f, g, o] = [sigma, sigma, tanh, sigma](z_t split in four (B, H) blocks)
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    BPTT, with dh_t = dL/dh_t (output + through step t+1) and dc_t = dL/dc_t through step t+1 plus h_t's share:
        do = dh_t tanh(c_t);   dc_t += dh_t o (1 - tanh(c_t)^2)
        di = dc_t g;  dg = dc_t i;  df = dc_t c_{t-1};   dL/dc_{t-1} = dc_t f
        dz_t = [di i(1-i), df f(1-f), dg (1-g^2), do o(1-o)];   dL/dh_{t-1} = dz_t U^T
        dL/dU = sum_t h_{t-1}^T dz_t (one matmul after the loop);   dL/dA_t = dz_t.
    Values below smallest_normal / eps are flushed to zero in the backward (``flush_tiny``), as the kernel does.
    The fast path (``fast_forward``) calls ``kernels/lstm.py``, or with a momentum rule ``kernels/momentum_cores.py``.
    """

    state_names = ("h", "c")
    fast_kinds = frozenset({None, "heavy_ball", "adam"})

    def activate(self, xp, z, states):
        """One step's gates from z_t (B, 4H) and c_{t-1}: ((h_t, c_t), (gates, tanh(c_t), c_{t-1}))."""
        c_prev, H = states[1], states[1].shape[-1]
        act = xp.concat([sigmoid(xp, z[:, :2 * H]), xp.tanh(z[:, 2 * H:3 * H]), sigmoid(xp, z[:, 3 * H:])], axis=1)
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        c = f * c_prev + i * g
        tanh_c = xp.tanh(c)
        return (o * tanh_c, c), (act, tanh_c, c_prev)

    def backprop_activation(self, xp, step, dh, dcarry):
        """(dL/dz_t (B, 4H), (dL/dc_{t-1},)) from dL/dh_t and dL/dc_t through step t+1 (``dcarry`` = (dc,))."""
        act, tanh_c, c_prev = step
        H = tanh_c.shape[-1]
        i, f, g, o = act[:, :H], act[:, H:2 * H], act[:, 2 * H:3 * H], act[:, 3 * H:]
        do = dh * tanh_c
        dc = dcarry[0] + dh * o * (1 - tanh_c * tanh_c)
        di, df, dg = dc * g, dc * c_prev, dc * i
        dz = xp.concat([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g), do * o * (1 - o)], axis=1)
        return dz, (dc * f,)

    def forward(self, xp, A, params, states):
        (U,), (h, c) = params, states
        h0, c0, T = h, c, A.shape[0]
        H = U.shape[0]
        hs = empty_like_steps(xp, A, T, H)
        cs = empty_like_steps(xp, A, T, H)
        tanh_cs = empty_like_steps(xp, A, T, H)
        gates = empty_like_steps(xp, A, T, 4 * H)
        for t in range(T):
            (h, c), (act, tanh_c, _) = self.activate(xp, A[t, ...] + xp.matmul(h, U), (h, c))
            hs[t, ...], cs[t, ...], tanh_cs[t, ...], gates[t, ...] = h, c, tanh_c, act
        return hs, (h, c), (U, h0, c0, hs, cs, tanh_cs, gates)

    def backward(self, xp, cache, dhs, dfinals, norms=None):
        U, h0, c0, hs, cs, tanh_cs, gates = cache
        dh_next, dc_next = dfinals
        T, H = hs.shape[0], hs.shape[-1]
        dA = empty_like_steps(xp, hs, T, 4 * H)
        for t in range(T - 1, -1, -1):
            dh = flush_tiny(xp, dhs[t, ...] + dh_next)
            if norms is not None:
                norms.append(step_norm(dh))
            c_prev = cs[t - 1, ...] if t > 0 else c0
            dz, (dc_next,) = self.backprop_activation(xp, (gates[t, ...], tanh_cs[t, ...], c_prev), dh, (dc_next,))
            dz, dc_next = flush_tiny(xp, dz), flush_tiny(xp, dc_next)
            dA[t, ...] = dz
            dh_next = xp.matmul(dz, U.T)
        dU = flush_tiny(xp, sum_steps_matmul(xp, previous_states(xp, h0, hs), dA))
        return dA, (dU,), (flush_tiny(xp, dh_next), dc_next)

    def fast_forward(self, kernels, a: SequenceArgs, rule, t0: int):
        """The compiled pair: ((hs, h_T, c_T, *rule finals), cache)."""
        if rule is None:
            hs, cT, cache = kernels.lstm_forward(a.x, a.W_ih, a.params[0], a.b_ih, *a.states)
            return (hs, hs[-1, ...], cT), cache
        hs, cT, vT, mT, cache = kernels.momentum_lstm_forward(a.x, a.W_ih, a.b_ih, a.params[0], a.b_hh, *a.states,
                                                              **rule.kernel_arguments(t0, a))
        return (hs, hs[-1, ...], cT, *(vT, mT)[:len(rule.state_names)]), cache

    def fast_backward(self, kernels, cache, rule, dhs, dcore, drule) -> SequenceArgs:
        if rule is None:
            dx, dW_ih, dW_hh, db, dh0, dc0 = kernels.lstm_backward(cache, dhs, *dcore)
            return SequenceArgs(dx, dW_ih, db, None, (dW_hh,), (dh0, dc0))
        dx, dW_ih, db_ih, dW_hh, db_hh, dh0, dc0, dv0, dm0 = kernels.momentum_lstm_backward(cache, dhs, *dcore, *drule)
        return SequenceArgs(dx, dW_ih, db_ih, db_hh, (dW_hh,), (dh0, dc0), (dv0, dm0)[:len(rule.state_names)])


def lstm_weights(init_kind: str, D: int, H: int, forget_bias: float, rng):
    """(W_ih (D, 4H), W_hh (H, 4H), b (4H,)) at initialization.

    'reference' (the MomentumRNN authors' code): W_ih orthogonal; W_hh the identity on the input-gate block
    and zero elsewhere; b zero except the forget-gate block, ``forget_bias``. 'uniform' (PyTorch's nn.LSTM):
    weights U(-1/sqrt(H), 1/sqrt(H)), and b zero except the forget gate as above.
    """
    host = backend.host
    if init_kind == "reference":
        W_ih = init.orthogonal((D, 4 * H), rng)
        W_hh = backend.asarray(host.concat([host.eye(H), host.zeros((H, 3 * H))], axis=1),
                               like=W_ih, dtype=W_ih.dtype)
    else:
        W_ih = init.kaiming_uniform((D, 4 * H), H, rng)
        W_hh = init.kaiming_uniform((H, 4 * H), H, rng)
    b = host.zeros(4 * H)
    b[H:2 * H] = forget_bias
    return W_ih, W_hh, backend.asarray(b, like=W_ih, dtype=W_ih.dtype)


@register_cell("lstm")
class LSTM(Cell):
    """LSTM cell (Hochreiter & Schmidhuber, with the forget gate of Gers et al.), gate order i, f, g, o:

        [i_t, f_t, g_t, o_t] = [sigma, sigma, tanh, sigma](x_t W_ih + b + h_{t-1} W_hh)
        c_t = f_t * c_{t-1} + i_t * g_t,    h_t = o_t * tanh(c_t)

    Parameters: ``weight_ih`` (D, 4H), ``weight_hh`` (H, 4H), ``bias`` (4H,), each 4H axis laid out as the
    blocks [i | f | g | o]. State: (h, c), each (B, H).
    ``weight_init``: 'reference' (default; the MomentumRNN code's: W_ih orthogonal, W_hh identity on the input-gate
    block and zero elsewhere) or 'uniform' (PyTorch's). ``forget_bias``: the forget-gate bias at
    initialization, 2.0 by default, as the reference code (which sets 1 in each of PyTorch's two biases).
    ``rng``: seed (int), numpy Generator, or None for the global generator.
    """

    def __init__(self, input_size: int, hidden_size: int, forget_bias: float = 2.0,
                 weight_init: str = "reference", rng=None):
        super().__init__(input_size, hidden_size)
        one_of(type(self).__name__, "weight_init", weight_init, LSTM_INITS)
        self.core = LSTMCore()
        W_ih, W_hh, b = lstm_weights(weight_init, input_size, hidden_size, float(forget_bias),
                                    init.get_rng(rng))
        self.weight_ih = Parameter(W_ih)
        self.weight_hh = Parameter(W_hh)
        self.init_input_bias(b)

    def core_params(self) -> tuple:
        return (self.weight_hh,)

    def recur(self, drive, state):
        """(h_t, c_t) from the drive (B, 4H) that stands for x_t W_ih + b, and (h_{t-1}, c_{t-1})."""
        return self.activate(drive + state[0] @ self.weight_hh, state)

    def activate(self, z, state):
        """(h_t, c_t) from the pre-activation z_t (B, 4H) (gates i, f, g, o) and c_{t-1} = state[1]."""
        zi, zf, zg, zo = split_gates(z, 4)
        c = ops.sigmoid(zf) * state[1] + ops.sigmoid(zi) * ops.tanh(zg)
        h = ops.sigmoid(zo) * ops.tanh(c)
        return h, c
