"""The fused sequence path: one :class:`~rnnlab.engine.function.Function` per sequence and layer.

Its forward runs the whole recurrence on raw arrays; its backward is backpropagation through time written
out by hand. Every cell family shares the same three stages, and only the middle one (the family's *core*)
differs::

    A_t = x_t W_ih + b_ih                      input projection, all T steps in one matmul      (T, B, G)
    D_t = rule(A_1..A_t)                       momentum cells only: v_t (and m_t), see momentum_rules.py
    D_t = D_t + b_hh                           momentum cells only: the recurrent bias, outside momentum
    h_t, ... = core(D_t, h_{t-1}, ...)         the family's recurrence: RNN, IndRNN, LSTM or GRU

and the backward runs them in reverse: the core's BPTT loop gives dL/dD_t for every t, the momentum
rule's reverse loop turns it into dL/dA_t, and the projection's gradients are three matmuls over all steps:
dL/dx = dA W_ih^T, dL/dW_ih = x^T dA, dL/db_ih = sum_t,b dA.

On the NumPy backend every core with ``has_kernel`` (LSTM, RNN, GRU, IndRNN, orthogonal) and the momentum
rules run compiled kernels from ``rnnlab.cells.kernels`` when that optional module is usable and not switched off
(``kernels.disabled()``, ``RNNLAB_KERNELS=0``): same contract and results as the loops here. They are
skipped while the gradient-norm probe records, since it reads the loop's dL/dh_t. Every backward, loop or
kernel, flushes values below smallest_normal / eps to zero (``flush_tiny``), so vanishing gradients never
become slow denormal floats.
"""
from __future__ import annotations

from ..engine import backend
from ..engine.function import Function
from .probe import grad_norm


def sigmoid(xp, z):
    """1 / (1 + exp(-z)), computed as (tanh(z/2) + 1) / 2 (no overflow), as the engine's ``sigmoid``."""
    return (xp.tanh(z * 0.5) + 1) * 0.5


def empty_like_steps(xp, ref, T, width):
    """An uninitialized (T, B, width) buffer with ``ref``'s dtype and device, filled one step at a time."""
    return xp.empty((T, ref.shape[-2], width), dtype=ref.dtype, **backend.device_kwargs(ref))


def previous_states(xp, h0, hs):
    """(h_0, ..., h_{T-1}) as one (T, B, H) array: the state each step started from."""
    return xp.concat([h0[None, ...], hs[:-1, ...]], axis=0)


def sum_steps_matmul(xp, a, b):
    """sum_t a_t^T b_t for (T, B, m) and (T, B, n) arrays: one (m, n) matmul over all T*B rows."""
    a2 = xp.reshape(a, (-1, a.shape[-1]))
    b2 = xp.reshape(b, (-1, b.shape[-1]))
    return xp.matmul(a2.T, b2)


def step_norm(xp, dh):
    """||dh||_2 over the whole (B, H) batch, as a 0-d array (no host sync inside the loop), scaled against
    underflow and overflow (:func:`~rnnlab.cells.probe.grad_norm`)."""
    return grad_norm(dh)


def flush_tiny(xp, a):
    """``a`` with every entry of magnitude below FLUSH = smallest_normal / eps set to 0 (NaN kept): the
    kernels' denormal flush (``rnnlab.cells.kernels.activations``), for the readable loops' backward."""
    info = xp.finfo(a.dtype)
    return xp.where(xp.abs(a) < info.smallest_normal / info.eps, xp.zeros_like(a), a)


def kernels_in_use(xp):
    """``rnnlab.cells.kernels`` when the fused path will use it for arrays of namespace ``xp``: NumPy
    arrays, numba usable, and the kernels not switched off (``kernels.disabled()``, ``RNNLAB_KERNELS=0``);
    else None."""
    if not backend.is_numpy(xp):
        return None
    try:
        from . import kernels
    except ImportError:
        return None
    if not kernels.enabled():
        return None
    try:
        return kernels if kernels.available() else None
    except Exception:  # a broken optional extra must not break the readable path
        return None


class FusedSequence(Function):
    """One sequence through one cell: forward loop and explicit BPTT backward (see the module docstring).

    Inputs, in order: x (T, B, D), W_ih (D, G), b_ih (G,), then b_hh (G,) when ``shift``, then the core's
    parameters, then the core's initial states (each (B, H)), then the momentum rule's initial states (each
    (B, G)). Outputs: hs (T, B, H) (every h_t), then the core's final states, then the rule's final states.

    ``t0`` is the global index of the step before the first one (step t = t0 + 1, ..., t0 + T), which the
    Nesterov schedule needs. ``probe`` (a :class:`~rnnlab.cells.probe.GradNormProbe`) receives ||dL/dh_t||
    for every step during backward.

    Paths (``self.path`` after forward): 'kernel' (the whole sequence in the core's compiled kernel,
    projection included: plain LSTM, RNN, GRU, IndRNN and orthogonal RNN), 'rule kernel' (projection, momentum
    rule and core in one compiled time loop: the momentum LSTMs, RNNs and orthogonal RNNs), 'drive kernel'
    (projection and rule here or in the compiled scans, then the core's kernel from the drive), 'loop' (the
    readable loops).
    """

    def __init__(self, core, rule=None, shift=False, t0=0, probe=None):
        self.core, self.rule, self.shift, self.t0, self.probe = core, rule, shift, t0, probe
        self.name = f"{type(core).__name__}.sequence"

    def _unpack(self, rest):
        n_shift = 1 if self.shift else 0
        n_params = self.core.n_params
        n_states = len(self.core.state_names)
        b_hh = rest[0] if self.shift else None
        params = rest[n_shift:n_shift + n_params]
        states = rest[n_shift + n_params:n_shift + n_params + n_states]
        rule_states = rest[n_shift + n_params + n_states:]
        return b_hh, params, states, rule_states

    def forward(self, x, W_ih, b_ih, *rest):
        xp = self.xp
        b_hh, params, states, rule_states = self._unpack(rest)
        self.x, self.W_ih = x, W_ih
        # the probe reads the loop's dL/dh_t, which the kernels do not expose
        self.kernels = kernels_in_use(xp) if self.probe is None else None
        core_kernel = self.kernels is not None and self.core.has_kernel
        if core_kernel and self.rule is None and not self.shift and hasattr(self.core, "kernel_forward"):
            self.path = "kernel"
            hs, finals, self.cache = self.core.kernel_forward(self.kernels, x, W_ih, b_ih, params, states)
            return (hs, *finals)
        if core_kernel and self.rule is not None and hasattr(self.core, "rule_kernel_forward"):
            self.path = "rule kernel"
            hs, finals, rule_finals, self.cache = self.core.rule_kernel_forward(
                self.kernels, x, W_ih, b_ih, b_hh if self.shift else xp.zeros_like(b_ih), params, states,
                rule_states, self.rule.kernel_arguments(self.t0, x.shape[0]))
            return (hs, *finals, *rule_finals)
        self.path = "drive kernel" if core_kernel else "loop"
        T, B, D = x.shape
        A = xp.matmul(xp.reshape(x, (T * B, D)), W_ih)
        if self.kernels is not None:
            A += b_ih       # NumPy: in place, no second (T, B, G) buffer
        else:
            A = A + b_ih
        A = xp.reshape(A, (T, B, W_ih.shape[1]))
        rule_finals = ()
        if self.rule is not None:
            A, rule_finals, self.rule_cache = self.rule.scan(xp, A, rule_states, self.t0, self.kernels)
        if core_kernel:
            hs, finals, self.cache = self.core.drive_kernel_forward(self.kernels, A, b_hh, params, states)
        else:
            hs, finals, self.cache = self.core.forward(xp, A if b_hh is None else A + b_hh, params, states)
        return (hs, *finals, *rule_finals)

    def backward(self, dhs, *dfinals):
        xp = self.xp
        n_states = len(self.core.state_names)
        dcore, drule = dfinals[:n_states], dfinals[n_states:]
        if self.path == "kernel":
            dx, dW_ih, db_ih, dparams, dstates = self.core.kernel_backward(self.kernels, self.cache, dhs, dcore)
            return (dx, dW_ih, db_ih, *dparams, *dstates)
        if self.path == "rule kernel":
            dx, dW_ih, db_ih, db_hh, dparams, dstates, drule_states = self.core.rule_kernel_backward(
                self.kernels, self.cache, dhs, dcore, drule)
            return (dx, dW_ih, db_ih, *((db_hh,) if self.shift else ()), *dparams, *dstates, *drule_states)
        if self.path == "drive kernel":
            dA, db_hh, dparams, dstates = self.core.drive_kernel_backward(self.kernels, self.cache, dhs, dcore)
            db_hh = (db_hh,) if self.shift else ()
        else:
            norms = [] if self.probe is not None else None
            dA, dparams, dstates = self.core.backward(xp, self.cache, dhs, dcore, norms)
            if norms is not None:
                self.probe.record(xp.stack(norms[::-1]))
            db_hh = (xp.sum(dA, axis=(0, 1)),) if self.shift else ()
        drule_states = ()
        if self.rule is not None:
            dA, drule_states = self.rule.scan_backward(xp, self.rule_cache, dA, drule, self.kernels,
                                                       overwrite=self.path == "drive kernel")
        x, W_ih = self.x, self.W_ih
        T, B, D = x.shape
        dA2 = xp.reshape(dA, (T * B, dA.shape[-1]))
        dx = None
        if self.inputs[0].requires_grad:
            dx = flush_tiny(xp, xp.reshape(xp.matmul(dA2, W_ih.T), (T, B, D)))
        dW_ih = flush_tiny(xp, sum_steps_matmul(xp, x, dA))
        db_ih = flush_tiny(xp, xp.sum(dA2, axis=0))
        return (dx, dW_ih, db_ih, *db_hh, *dparams, *dstates, *drule_states)
