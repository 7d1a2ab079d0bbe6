"""Orthogonal RNNs: expRNN and dynamic trivialization (DTRIV), and their momentum variants.

    z_t = x_t W_ih + b_ih + h_{t-1} B,        h_t = modReLU(z_t) = sign(z_t) * relu(|z_t| + b)
    B = B_0 expm(A - A^T)                     (H, H), orthogonal for every A

The trained parameter is A (H, H); A - A^T is skew-symmetric, so its exponential is orthogonal (Lezcano-Casado
and Martínez-Rubio 2019, "Cheap orthogonal constraints in neural networks"). B_0 (the buffer ``base``) is the
identity for expRNN. Dynamic trivialization (Lezcano-Casado 2019, "Trivializations for gradient-based
optimization on manifolds") moves the base every K optimizer steps:  B_0 <- B, A <- 0  (:meth:`rebase`), so
that A stays small where expm is well conditioned. K = infinity (never rebase) is expRNN; K = 1 is the limit
of Riemannian gradient descent along geodesics. The training loop calls ``rebase`` (or
:class:`DynamicTrivialization` counts the steps), after ``opt.step()``; the optimizer's state for A (momentum,
Adam moments) is kept across a rebase, as in the reference code.

With the modReLU bias b = 0 the cell is linear (modReLU(z) = z): h_T = h_0 B^T + (terms in x), with B^T the
T-th power of B, so the Jacobian dh_T/dh_0 is orthogonal and every singular value is 1 through any number of
steps, which is what makes these cells immune to vanishing and exploding gradients through B.

The momentum variants (Nguyen et al. 2020, MomentumDTRIV and Appendix C) put the MomentumRNN family's
momentum on the input projection (``momentum_rules.py``, shared with the RNN and LSTM bases):
drive_t = rule(a_1..a_t), a_t = x_t W_ih + b_ih, and z_t = drive_t + b_hh + h_{t-1} B.
"""
from __future__ import annotations

import functools
import math
import numbers

from ..engine import backend, init, ops
from ..engine.expm import expm, expm_array
from ..engine.module import Module, Parameter
from ..engine.tensor import Tensor, no_grad
from ._checks import one_of
from .base import Cell
from .fused import Core, SequenceArgs, empty_like_steps, flush_tiny, previous_states, step_norm, sum_steps_matmul
from .momentum import ADAM, HEAVY_BALL, NESTEROV, RMSPROP, InputMomentum, MomentumRule, nesterov_rule
from .registry import register_cell

SKEW_INITS = ("cayley", "henaff")
NESTEROV_SCHEDULES = MomentumRule(functools.partial(nesterov_rule, forms=("paper", "ptb-code")), NESTEROV.defaults)
"""The orthogonal Nesterov cell's rule: the Nesterov forms that are schedules (not the MNIST code's cell)."""


def modrelu(z, bias):
    """modReLU(z) = sign(z) * relu(|z| + b), z (B, H), b (H,), from engine operations.

    sign(z) is piecewise constant, so it enters as a constant: dmodReLU/dz = 1[|z| + b > 0] (0 at z = 0),
    dmodReLU/db = sign(z) 1[|z| + b > 0].
    """
    sign = Tensor.wrap(backend.get_namespace(z.data).sign(z.data), False)
    return ops.relu(ops.abs(z) + bias) * sign


def initial_A(kind: str, H: int, rng):
    """A (H, H) on the host, zero but for A[2k, 2k+1] = theta_k (k < H/2), so that expm(A - A^T) is block
    diagonal with 2 x 2 rotations: 'henaff' (Henaff et al. 2016) theta ~ U(-pi, pi); 'cayley' (Helfrich
    et al. 2018) theta = -tan(phi / 2) = -sqrt((1 - cos phi) / (1 + cos phi)), phi ~ U(0, pi/2)."""
    host = backend.host
    if kind == "henaff":
        theta = rng.uniform(-math.pi, math.pi, H // 2)
    else:
        phi = rng.uniform(0.0, math.pi / 2, H // 2)
        theta = -host.sqrt((1.0 - host.cos(phi)) / (1.0 + host.cos(phi)))
    a = host.zeros((H, H))
    k = host.arange(H // 2)
    a[2 * k, 2 * k + 1] = theta
    return a


class OrthogonalCore(Core):
    """Raw-array loops of h_t = modReLU(A_t + h_{t-1} B), given the drive A (T, B, H) (A_t: the drive, as in
    every core; not the cell's skew parameter ``A``, which the core never sees: it gets B).

    BPTT, with dh_t = dL/dh_t from the output plus dL/dh_t through step t+1, and g_t = 1[|z_t| + b > 0],
    s_t = sign(z_t):
        dz_t = dh_t * g_t * s_t^2,   dL/dh_{t-1} (through step t) = dz_t B^T,   dL/dA_t = dz_t,
        dL/dB = sum_t h_{t-1}^T dz_t,   dL/db = sum_t,batch dh_t * s_t * g_t = sum_t,batch dz_t * s_t.
    Values below smallest_normal / eps are flushed to zero in the backward (``flush_tiny``), as the compiled
    kernels do (the fast path: ``kernels.modrelu_rnn_forward``, or ``momentum_modrelu_rnn_forward`` with the
    momentum rule in the loop).
    """

    state_names = ("h",)
    fast_kinds = frozenset({None, "heavy_ball", "adam"})

    @staticmethod
    def modrelu(xp, z, b):
        r = xp.abs(z) + b
        return xp.sign(z) * xp.where(r > 0, r, xp.zeros_like(r))

    def forward(self, xp, A, params, states):
        (B, b), (h,) = params, states
        h0, T = h, A.shape[0]
        hs, Z = (empty_like_steps(xp, A, T, B.shape[0]) for _ in range(2))
        for t in range(T):
            z = A[t, ...] + xp.matmul(h, B)
            h = self.modrelu(xp, z, b)
            Z[t, ...], hs[t, ...] = z, h
        return hs, (h,), (B, b, h0, hs, Z)

    def backward(self, xp, cache, dhs, dfinals, norms=None):
        B, b, h0, hs, Z = cache
        (dh_next,) = dfinals
        dA = empty_like_steps(xp, Z, Z.shape[0], Z.shape[-1])
        for t in range(Z.shape[0] - 1, -1, -1):
            dh = dhs[t, ...] + dh_next
            if norms is not None:
                norms.append(step_norm(dh))
            z = Z[t, ...]
            dz = flush_tiny(xp, xp.where((xp.abs(z) + b > 0) & (z != 0), dh, xp.zeros_like(dh)))
            dA[t, ...] = dz
            dh_next = xp.matmul(dz, B.T)
        dB = flush_tiny(xp, sum_steps_matmul(xp, previous_states(xp, h0, hs), dA))
        db = flush_tiny(xp, xp.sum(dA * xp.sign(Z), axis=(0, 1)))
        return dA, (dB, db), (flush_tiny(xp, dh_next),)

    def fast_forward(self, kernels, a: SequenceArgs, rule, t0: int):
        """The compiled pair (``kernels/rnn.py``, with a rule ``kernels/momentum_cores.py``): ((hs, h_T, *rule
        finals), cache)."""
        (B, b), (h0,) = a.params, a.states
        if rule is None:
            hs, cache = kernels.modrelu_rnn_forward(a.x, a.W_ih, B, a.b_ih, b, h0)
            return (hs, hs[-1, ...]), cache
        hs, vT, mT, cache = kernels.momentum_modrelu_rnn_forward(a.x, a.W_ih, a.b_ih, B, a.b_hh, b, h0,
                                                                 **rule.kernel_arguments(t0, a))
        return (hs, hs[-1, ...], *(vT, mT)[:len(rule.state_names)]), cache

    def fast_backward(self, kernels, cache, rule, dhs, dcore, drule) -> SequenceArgs:
        if rule is None:
            dx, dW_ih, dB, db_ih, db, dh0 = kernels.modrelu_rnn_backward(cache, dhs, dcore[0])
            return SequenceArgs(dx, dW_ih, db_ih, None, (dB, db), (dh0,))
        dx, dW_ih, db_ih, dB, db_hh, db, dh0, dv0, dm0 = kernels.momentum_modrelu_rnn_backward(cache, dhs, dcore[0],
                                                                                                *drule)
        return SequenceArgs(dx, dW_ih, db_ih, db_hh, (dB, db), (dh0,), (dv0, dm0)[:len(rule.state_names)])


@register_cell("orthogonal-rnn")
class OrthogonalRNN(Cell):
    """expRNN / DTRIV cell:  h_t = modReLU(x_t W_ih + b_ih + h_{t-1} B),  B = B_0 expm(A - A^T).

    Parameters: ``weight_ih`` (D, H), ``A`` (H, H), ``modrelu_bias`` b (H,), ``bias`` b_ih (H,). Buffer:
    ``base`` B_0 (H, H), the identity until :meth:`rebase`. State: (h,), h (B, H).

    Initialization (seeded by ``rng``), as the reference code (github.com/Lezcano/expRNN): ``skew_init``
    'cayley' (default) or 'henaff' for A (see :func:`initial_A`; A is zero but for the entries above the
    diagonal at (2k, 2k+1), so A - A^T is the reference's skew initialization); W_ih Kaiming-normal,
    N(0, 2/D); modReLU bias U(-0.01, 0.01). The reference has no input bias; b_ih starts at 0 (so the initial
    cell is the reference's) and is trained, as in the other cells: it is what the momentum variants carry
    their momentum on, and with mu = 0, s = 1 they compute what this cell computes.

    The reference takes A's strict upper triangle, triu(A, 1) - triu(A, 1)^T: the same B, but there each
    entry of the skew matrix is one entry of A, here it is A_ij - A_ji, so an optimizer that moves each
    entry by about lr (Adam, RMSProp) moves the skew matrix twice as fast: halve the reference's learning
    rate for A to reproduce its runs.

    Both paths read B from the last :meth:`prepare`, which the runner calls before every forward (and
    ``cell(x_t, state)`` itself), so that expm runs once per sequence, not once per step. Calling ``step`` or
    ``sequence`` directly after an optimizer step needs a ``prepare`` first, as for IndRNN's clamp.
    """

    def __init__(self, input_size: int, hidden_size: int, skew_init: str = "cayley", rng=None):
        super().__init__(input_size, hidden_size)
        self.skew_init = one_of(type(self).__name__, "skew_init", skew_init, SKEW_INITS)
        self.core = OrthogonalCore()
        rng = init.get_rng(rng)
        H = hidden_size
        self.weight_ih = Parameter(init.kaiming_normal((input_size, H), input_size, rng))
        self.A = Parameter(backend.asarray(initial_A(skew_init, H, rng), dtype=backend.default_dtype_name()))
        self.modrelu_bias = Parameter(init.uniform((H,), -0.01, 0.01, rng))
        self.register_buffer("base", init.identity(H))
        self.init_input_bias(init.zeros((H,)))
        self._B = None

    def recurrent_weight(self):
        """B = B_0 expm(A - A^T) (H, H), a Tensor whose graph leads back to A."""
        return Tensor.wrap(self.base, False) @ expm(self.A - self.A.T)

    def prepare(self, T: int) -> None:
        """Compute B for the coming forward over T steps (every step of either path uses it)."""
        self._B = self.recurrent_weight()

    def prepared_weight(self):
        """B from the last :meth:`prepare`."""
        if self._B is None:
            raise RuntimeError(f"{type(self).__name__}: B is not computed; call prepare(T) before step or sequence "
                               "(Recurrent does, and so does cell(x_t, state))")
        return self._B

    def rebase(self) -> None:
        """Dynamic trivialization's change of base: B_0 <- B_0 expm(A - A^T), A <- 0 (B itself is unchanged).

        Call it every K optimizer steps, after ``opt.step()`` (or use :class:`DynamicTrivialization`).
        """
        with no_grad():
            A = self.A.data
            xp = backend.get_namespace(A)
            self.base = xp.matmul(self.base, expm_array(A - A.T))
            self.A.data = xp.zeros_like(A)
        self._B = None

    def core_params(self) -> tuple:
        return (self.prepared_weight(), self.modrelu_bias)

    def parameter_label(self, tensor, fallback: str) -> str:
        return "B = base expm(A - A^T)" if tensor is self._B else super().parameter_label(tensor, fallback)

    def recur(self, drive, state):
        """h_t = modReLU(drive + h_{t-1} B), with B from the last ``prepare``."""
        return (modrelu(drive + state[0] @ self.prepared_weight(), self.modrelu_bias),)

    def forward(self, x_t, state=None, t: int = 1) -> tuple:
        self.prepare(1)
        return super().forward(x_t, state, t)


@register_cell("momentum-orthogonal-rnn")
class MomentumOrthogonalRNN(InputMomentum, OrthogonalRNN):
    """MomentumDTRIV / momentum expRNN:  v_t = mu v_{t-1} + s (x_t W_ih + b_ih);  h_t = modReLU(v_t + b_hh + h_{t-1} B).

    ``mu`` in [0, 1) (default 0.9), ``s`` > 0 (default 0.1); other keyword arguments (skew_init, rng) as
    :class:`OrthogonalRNN`. Parameters: its own with ``bias`` split into ``bias_ih`` and ``bias_hh`` (both 0).
    State: (h (B, H), v (B, H)).
    """

    momentum = HEAVY_BALL


@register_cell("nesterov-orthogonal-rnn")
class NesterovOrthogonalRNN(InputMomentum, OrthogonalRNN):
    """NAG orthogonal RNN, and with ``restart`` = F > 0 the scheduled-restart one (SRDTRIV): the
    MomentumOrthogonalRNN with mu_t = (t-1)/(t+2) (F = 0) or (t mod F)/((t mod F) + 3) (F > 0), t the global
    1-based step index. ``s`` > 0 (default 0.1), ``restart`` F >= 0 (default 0). ``form``: 'paper' (default)
    or 'ptb-code' (the PTB code's clock, one step later: mu_t = ((t-1) mod F)/(((t-1) mod F) + 3)).
    State: (h, v).
    """

    momentum = NESTEROV_SCHEDULES


@register_cell("adam-orthogonal-rnn")
class AdamOrthogonalRNN(InputMomentum, OrthogonalRNN):
    """AdamDTRIV, a_t = x_t W_ih + b_ih:  v_t = mu v_{t-1} + s a_t;  m_t = beta m_{t-1} + (1 - beta) a_t^2;
    h_t = modReLU(v_t / sqrt(m_t + eps) + b_hh + h_{t-1} B).  ``mu`` in [0, 1) (0.9), ``s`` > 0 (0.1), ``beta``
    in (0, 1) (0.9), ``eps`` > 0 (1e-8). State: (h, v, m).
    """

    momentum = ADAM


@register_cell("rmsprop-orthogonal-rnn")
class RMSPropOrthogonalRNN(InputMomentum, OrthogonalRNN):
    """RMSPropDTRIV: the AdamOrthogonalRNN with mu = 0. ``s``, ``beta``, ``eps`` as :class:`AdamOrthogonalRNN`.
    State: (h, v, m).
    """

    momentum = RMSPROP


class DynamicTrivialization:
    """Calls :meth:`OrthogonalRNN.rebase` on every orthogonal cell of ``module`` every ``K`` optimizer steps.

    ``K``: a positive integer, or ``math.inf`` for never (expRNN). Call ``step()`` after every ``opt.step()``;
    it returns True when it rebased::

        trivialization = DynamicTrivialization(model, K=100)
        for x, y in batches:
            ...; opt.step(); trivialization.step()

    The reference code also rebases once before training (B_0 = B_init, A = 0): call ``rebase()`` on the
    cells first to do the same. It re-projects B_0 onto the orthogonal group every M = 100 rebases; that is
    left out here, as B_0 B_0^T stays within 1e-10 of I through many updates and rebases (tested).
    """

    def __init__(self, module: Module, K):
        name = type(self).__name__
        if not isinstance(module, Module):
            raise TypeError(f"{name}: module must be a rnnlab Module (a cell or a model), got {type(module).__name__}")
        if not (K == math.inf or (isinstance(K, numbers.Integral) and not isinstance(K, bool) and K >= 1)):
            raise ValueError(f"{name}: K must be a positive integer or math.inf, got {K!r}")
        self.cells = [m for _, m in module.named_modules() if isinstance(m, OrthogonalRNN)]
        if not self.cells:
            raise ValueError(f"{name}: module has no orthogonal cell (OrthogonalRNN or a momentum variant) to rebase")
        self.K, self.steps = K, 0

    def step(self) -> bool:
        self.steps += 1
        if self.K == math.inf or self.steps % self.K:
            return False
        for cell in self.cells:
            cell.rebase()
        return True
