"""The GRU cell (Cho et al. 2014), in PyTorch's convention (gate order r, z, n; reset applied after W_hn)."""
from __future__ import annotations

from ..engine import init, ops
from ..engine.module import Parameter
from .base import Cell, split_gates
from .fused import Core, SequenceArgs, empty_like_steps, flush_tiny, previous_states, sigmoid, step_norm, sum_steps_matmul
from .registry import register_cell


class GRUCore(Core):
    """Raw-array loops of the GRU given the drive A (T, B, 3H) (A_t = x_t W_ih + b_ih, blocks [r | z | n]):

        e_t = h_{t-1} W_hh + b_hh                                       (B, 3H), blocks [e_r | e_z | e_n]
        r_t = sigma(A_r + e_r),  z_t = sigma(A_z + e_z),  n_t = tanh(A_n + r_t * e_n)
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    BPTT, with dh_t = dL/dh_t (output + through step t+1):
        dn = dh_t (1 - z);  dz = dh_t (h_{t-1} - n);  da_n = dn (1 - n^2);  dr = da_n e_n
        dL/dA_t = [dr r(1-r), dz z(1-z), da_n];   dL/de_t = [dr r(1-r), dz z(1-z), da_n r]
        dL/dh_{t-1} = dh_t z + dL/de_t W_hh^T;   dL/dW_hh = sum_t h_{t-1}^T dL/de_t;   dL/db_hh = sum_t,b dL/de_t.
    Values below smallest_normal / eps are flushed to zero in the backward (``flush_tiny``), as the compiled
    kernel (``kernels/gru.py``, the fast path ``fast_forward``) does.
    """

    state_names = ("h",)
    fast_kinds = frozenset({None})

    def forward(self, xp, A, params, states):
        (U, b), (h,) = params, states
        h0, T = h, A.shape[0]
        H = U.shape[0]
        hs = empty_like_steps(xp, A, T, H)
        gates = empty_like_steps(xp, A, T, 3 * H)   # [r | z | n]
        e_ns = empty_like_steps(xp, A, T, H)
        for t in range(T):
            e = xp.matmul(h, U) + b
            rz = sigmoid(xp, A[t, ...][:, :2 * H] + e[:, :2 * H])
            r, z = rz[:, :H], rz[:, H:]
            n = xp.tanh(A[t, ...][:, 2 * H:] + r * e[:, 2 * H:])
            h = (1 - z) * n + z * h
            hs[t, ...], e_ns[t, ...] = h, e[:, 2 * H:]
            gates[t, ...] = xp.concat([rz, n], axis=1)
        return hs, (h,), (U, h0, hs, gates, e_ns)

    def backward(self, xp, cache, dhs, dfinals, norms=None):
        U, h0, hs, gates, e_ns = cache
        (dh_next,) = dfinals
        T, H = hs.shape[0], hs.shape[-1]
        dA = empty_like_steps(xp, hs, T, 3 * H)
        dE = empty_like_steps(xp, hs, T, 3 * H)
        for t in range(T - 1, -1, -1):
            dh = flush_tiny(xp, dhs[t, ...] + dh_next)
            if norms is not None:
                norms.append(step_norm(dh))
            act = gates[t, ...]
            r, z, n = act[:, :H], act[:, H:2 * H], act[:, 2 * H:]
            h_prev = hs[t - 1, ...] if t > 0 else h0
            da_n = dh * (1 - z) * (1 - n * n)
            da_r = da_n * e_ns[t, ...] * r * (1 - r)
            da_z = dh * (h_prev - n) * z * (1 - z)
            da_r, da_z, da_n = flush_tiny(xp, da_r), flush_tiny(xp, da_z), flush_tiny(xp, da_n)
            dA[t, ...] = xp.concat([da_r, da_z, da_n], axis=1)
            de = xp.concat([da_r, da_z, flush_tiny(xp, da_n * r)], axis=1)
            dE[t, ...] = de
            dh_next = flush_tiny(xp, dh * z) + xp.matmul(de, U.T)
        dU = flush_tiny(xp, sum_steps_matmul(xp, previous_states(xp, h0, hs), dE))
        db = flush_tiny(xp, xp.sum(dE, axis=(0, 1)))
        return dA, (dU, db), (flush_tiny(xp, dh_next),)

    def fast_forward(self, kernels, a: SequenceArgs, rule, t0: int):
        """The compiled pair (no momentum rule): ((hs, h_T), cache)."""
        hs, cache = kernels.gru_forward_input(a.x, a.W_ih, a.b_ih, a.params[0], a.params[1], a.states[0])
        return (hs, hs[-1, ...]), cache

    def fast_backward(self, kernels, cache, rule, dhs, dcore, drule) -> SequenceArgs:
        dx, dW_ih, db_ih, dW_hh, db_hh, dh0 = kernels.gru_backward_input(cache, dhs, dcore[0])
        return SequenceArgs(dx, dW_ih, db_ih, None, (dW_hh, db_hh), (dh0,))


@register_cell("gru")
class GRU(Cell):
    """GRU cell (PyTorch's nn.GRUCell equations), gate order r, z, n:

        r_t = sigma(x_t W_ir + b_ir + h_{t-1} W_hr + b_hr)
        z_t = sigma(x_t W_iz + b_iz + h_{t-1} W_hz + b_hz)
        n_t = tanh(x_t W_in + b_in + r_t * (h_{t-1} W_hn + b_hn))
        h_t = (1 - z_t) * n_t + z_t * h_{t-1}

    Parameters: ``weight_ih`` (D, 3H) = [W_ir | W_iz | W_in], ``weight_hh`` (H, 3H), ``bias_ih`` (3H,),
    ``bias_hh`` (3H,) (two biases, because b_hn sits inside the reset product). State: (h,), (B, H).
    Initialization (seeded by ``rng``): PyTorch's, every entry U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, input_size: int, hidden_size: int, rng=None):
        super().__init__(input_size, hidden_size)
        self.core = GRUCore()
        rng = init.get_rng(rng)
        H = hidden_size
        self.weight_ih = Parameter(init.kaiming_uniform((input_size, 3 * H), H, rng))
        self.weight_hh = Parameter(init.kaiming_uniform((H, 3 * H), H, rng))
        self.bias_ih = Parameter(init.kaiming_uniform((3 * H,), H, rng))
        self.bias_hh = Parameter(init.kaiming_uniform((3 * H,), H, rng))

    def input_params(self) -> tuple:
        return self.weight_ih, self.bias_ih

    def core_params(self) -> tuple:
        return self.weight_hh, self.bias_hh

    def recur(self, drive, state):
        """h_t from the drive (B, 3H) that stands for x_t W_ih + b_ih, and h_{t-1}."""
        h = state[0]
        a_r, a_z, a_n = split_gates(drive, 3)
        e_r, e_z, e_n = split_gates(h @ self.weight_hh + self.bias_hh, 3)
        r = ops.sigmoid(a_r + e_r)
        z = ops.sigmoid(a_z + e_z)
        n = ops.tanh(a_n + r * e_n)
        return ((1 - z) * n + z * h,)
