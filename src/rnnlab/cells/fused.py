"""The fused sequence path: one :class:`~rnnlab.engine.function.Function` per sequence and layer, and the one
place that decides how it runs (:func:`choose_path`).

Its forward runs the whole recurrence on raw arrays; its backward is backpropagation through time written
out by hand. Every cell family shares the same three stages, and only the middle one (the family's *core*)
differs::

    A_t = x_t W_ih + b_ih                      input projection, all T steps in one matmul      (T, B, G)
    A_t <- rule(A_1..A_t) + b_hh               momentum cells only: v_t (and m_t), see momentum_rules.py,
                                               then the recurrent bias, outside momentum
    h_t, ... = core(A_t, h_{t-1}, ...)         the family's recurrence: RNN, IndRNN, LSTM or GRU

A, what the core receives, is the *drive* (for the plain cells the projection itself), and dA its gradient,
in every core. The backward runs the stages in reverse: the core's BPTT loop gives dA = dL/dA_t for every t,
the momentum rule's reverse loop turns it, in place, into the projection's dL/dA_t, and the projection's
gradients are three matmuls over all steps: dL/dx = dA W_ih^T, dL/dW_ih = x^T dA, dL/db_ih = sum_t,b dA.

Two paths run it. The *readable loop* is the above, in backend-generic array code (the cores' ``forward``
and ``backward``, the rules' ``scan`` and ``scan_backward``). The *fast path* is one compiled pair of the
core (``fast_forward``, ``fast_backward``) that runs all three stages in one time loop (NumPy and numba,
``rnnlab.cells.kernels``). :func:`choose_path` takes the fast path only when the backend is NumPy, the kernels
are usable and on (``kernels.disabled()``, ``RNNLAB_KERNELS=0`` switch them off), no gradient-norm probe
records (it reads the loop's dL/dh_t), and the core *declares* that its pair computes the rule's kind
(``Core.fast_kinds`` holds the rules' ``kernel_kind``: None for no rule, 'heavy_ball', 'adam'). Every
backward, loop or kernel, flushes values below smallest_normal / eps to zero (``flush_tiny``), so vanishing
gradients never become slow denormal floats.
"""
from __future__ import annotations

from dataclasses import dataclass, fields

from ..engine import backend
from ..engine.function import Function
from . import kernels
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


def step_norm(dh):
    """||dh||_2 over the whole (B, H) batch, as a 0-d array (no host sync inside the loop), scaled against
    underflow and overflow (:func:`~rnnlab.cells.probe.grad_norm`)."""
    return grad_norm(dh)


def flush_tiny(xp, a):
    """``a`` with every entry of magnitude below FLUSH = smallest_normal / eps set to 0 (NaN kept): the
    kernels' denormal flush (``rnnlab.cells.kernels.activations``), for the readable loops' backward."""
    info = xp.finfo(a.dtype)
    return xp.where(xp.abs(a) < info.smallest_normal / info.eps, xp.zeros_like(a), a)


class Core:
    """Base of the cores: a family's recurrence on raw arrays, given the drive A (T, B, G).

    A core declares ``state_names`` (its states, each (B, H), h first), ``n_params`` (how many parameters its
    loop takes) and implements the readable loop: ``forward(xp, A, params, states) -> (hs, finals, cache)``
    and ``backward(xp, cache, dhs, dfinals, norms=None) -> (dA, dparams, dstates)`` (``norms``: a list that
    receives ||dL/dh_t|| per step, t = T..1, for the gradient-norm probe).

    The fast path, optional: ``fast_kinds``, the momentum rules' kinds (``kernel_kind``; None: no rule) that
    the compiled pair ``fast_forward(kernels, args, rule, t0) -> (outputs, cache)`` and ``fast_backward(kernels,
    cache, rule, dhs, dcore, drule) -> SequenceArgs of gradients`` compute. The declaration belongs to the
    class that writes it: a subclass that does not declare ``fast_kinds`` itself gets none, so a subclass
    that changes the readable math runs its own loop, never its parent's kernel.
    """

    state_names: tuple = ("h",)
    n_params: int = 1
    fast_kinds: frozenset = frozenset()

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "fast_kinds" not in vars(cls):
            cls.fast_kinds = frozenset()    # not inherited: the compiled pair computes its own class's math

    def state_widths(self, hidden: int, projection: int) -> tuple:
        """The width of each state entry: H for every state of the base cores."""
        return tuple(hidden for _ in self.state_names)

    def starting_at(self, t0: int) -> "Core":
        """The core for a sequence whose first step is t0 + 1: itself, unless its math reads the step index."""
        return self


@dataclass(frozen=True)
class SequenceArgs:
    """What one fused sequence takes (or, for its backward, the gradients of it), by name:

    x (T, B, D); W_ih (D, G); b_ih (G,); b_hh (G,) or None (the momentum cells' bias outside the rule);
    params (the core's parameters); states (the core's initial states); rule_states (the momentum rule's).
    It is flattened into one tuple only at the Function boundary (:meth:`flat`, :meth:`unflatten`).
    """

    x: object
    W_ih: object
    b_ih: object
    b_hh: object
    params: tuple
    states: tuple
    rule_states: tuple = ()

    def layout(self) -> tuple:
        """(has b_hh, number of params, of states, of rule states): what :meth:`unflatten` needs."""
        return self.b_hh is not None, len(self.params), len(self.states), len(self.rule_states)

    def flat(self, layout=None) -> tuple:
        """x, W_ih, b_ih, [b_hh,] *params, *states, *rule_states (b_hh's slot as ``layout`` says, default own)."""
        shift = (layout or self.layout())[0]
        return (self.x, self.W_ih, self.b_ih, *((self.b_hh,) if shift else ()), *self.params, *self.states,
                *self.rule_states)

    @classmethod
    def unflatten(cls, layout, items) -> "SequenceArgs":
        shift, n_params, n_states, _ = layout
        k = 3 + shift
        return cls(items[0], items[1], items[2], items[3] if shift else None, tuple(items[k:k + n_params]),
                   tuple(items[k + n_params:k + n_params + n_states]), tuple(items[k + n_params + n_states:]))

    def replace(self, **changes) -> "SequenceArgs":
        return type(self)(**{f.name: changes.get(f.name, getattr(self, f.name)) for f in fields(self)})


@dataclass(frozen=True)
class Path:
    """Which path a fused sequence runs: ``name`` 'kernel' (the core's compiled pair, no rule), 'rule kernel'
    (the pair with the momentum rule in its time loop) or 'loop' (the readable loops); ``reason``, in words;
    ``kernels``, the compiled module the fast path calls (None on the loop)."""

    name: str
    reason: str
    kernels: object = None

    @property
    def fast(self) -> bool:
        return self.kernels is not None


def kernels_in_use(xp):
    """``rnnlab.cells.kernels`` when it is usable for arrays of namespace ``xp``: NumPy arrays, numba usable,
    and the kernels not switched off (``kernels.disabled()``, ``RNNLAB_KERNELS=0``); else None."""
    if not backend.is_numpy(xp) or not kernels.enabled():
        return None
    try:
        return kernels if kernels.available() else None
    except Exception:  # a broken optional extra must not break the readable path
        return None


def choose_path(core, rule, xp, probe=None) -> Path:
    """THE dispatch of the fused path: the fast path (the core's compiled pair) when the backend is NumPy,
    the kernels are usable and on, no probe records, and the core declares (``fast_kinds``) the rule's
    ``kernel_kind``; otherwise the readable loop. The returned :class:`Path` says which and why."""
    kind = None if rule is None else rule.kernel_kind
    if not backend.is_numpy(xp):
        return Path("loop", "the compiled kernels are the NumPy backend's; this backend runs the readable loop")
    if probe is not None:
        return Path("loop", "the gradient-norm probe records dL/dh_t, which only the readable loop exposes")
    usable = kernels_in_use(xp)
    if usable is None:
        if not kernels.enabled():
            return Path("loop", f"compiled kernels switched off ({kernels.ENV_SWITCH}=0 or kernels.disabled())")
        return Path("loop", f"compiled kernels unavailable ({kernels.unavailable_reason()})")
    if rule is not None and kind is None:
        return Path("loop", f"the momentum rule {type(rule).__name__} declares no kernel_kind")
    if not isinstance(core, Core) or kind not in core.fast_kinds:
        what = "no momentum rule" if kind is None else f"the {kind} rule"
        return Path("loop", f"{type(core).__name__} declares no compiled path for {what} (fast_kinds)")
    return Path("kernel" if rule is None else "rule kernel",
                f"{type(core).__name__}.fast_forward on NumPy with numba" + ("" if rule is None else f", {kind} rule "
                                                                             "in the time loop"), usable)


class FusedSequence(Function):
    """One sequence through one cell: forward loop and explicit BPTT backward (see the module docstring).

    Its inputs are a :class:`SequenceArgs` flattened (``args.flat()``); ``names`` labels them (a SequenceArgs
    of strings, for error messages). Outputs: hs (T, B, H) (every h_t), then the core's final states, then
    the rule's final states. ``t0`` is the global index of the step before the first one (step t = t0 + 1,
    ..., t0 + T), which the Nesterov schedule needs. ``probe`` (a :class:`~rnnlab.cells.probe.GradNormProbe`)
    receives ||dL/dh_t|| for every step during backward.

    After forward, ``path`` is the chosen path's name and ``path_reason`` why (:func:`choose_path`).
    """

    def __init__(self, core, rule=None, t0=0, probe=None, layout=None, names=None):
        self.core, self.rule, self.t0, self.probe, self.layout = core, rule, t0, probe, layout
        self.name = f"{type(core).__name__}.sequence"
        if names is not None:
            self.input_names = names.flat(layout)

    def forward(self, *arrays):
        xp = self.xp
        args = SequenceArgs.unflatten(self.layout, arrays)
        chosen = choose_path(self.core, self.rule, xp, self.probe)
        self.path, self.path_reason, self.kernels = chosen.name, chosen.reason, chosen.kernels
        if chosen.fast:
            outputs, self.cache = self.core.fast_forward(self.kernels, args, self.rule, self.t0)
            return outputs
        self.x, self.W_ih = args.x, args.W_ih
        T, B, D = args.x.shape
        A = xp.reshape(xp.matmul(xp.reshape(args.x, (T * B, D)), args.W_ih) + args.b_ih, (T, B, args.W_ih.shape[1]))
        rule_finals = ()
        if self.rule is not None:
            A, rule_finals, self.rule_cache = self.rule.scan(xp, A, args.rule_states, self.t0)
        if args.b_hh is not None:
            A = A + args.b_hh
        hs, finals, self.cache = self.core.forward(xp, A, args.params, args.states)
        return (hs, *finals, *rule_finals)

    def backward(self, dhs, *dfinals):
        n_states = self.layout[2]
        dcore, drule = dfinals[:n_states], dfinals[n_states:]
        if self.kernels is not None:
            return self.core.fast_backward(self.kernels, self.cache, self.rule, dhs, dcore, drule).flat(self.layout)
        xp = self.xp
        norms = [] if self.probe is not None else None
        dA, dparams, dstates = self.core.backward(xp, self.cache, dhs, dcore, norms)
        if norms is not None:
            self.probe.record(xp.stack(norms[::-1]))
        db_hh = xp.sum(dA, axis=(0, 1)) if self.layout[0] else None
        drule_states = ()
        if self.rule is not None:
            dA, drule_states = self.rule.scan_backward(xp, self.rule_cache, dA, drule)
        x, W_ih = self.x, self.W_ih
        T, B, D = x.shape
        dA2 = xp.reshape(dA, (T * B, dA.shape[-1]))
        dx = None
        if self.inputs[0].requires_grad:
            dx = flush_tiny(xp, xp.reshape(xp.matmul(dA2, W_ih.T), (T, B, D)))
        dW_ih = flush_tiny(xp, sum_steps_matmul(xp, x, dA))
        db_ih = flush_tiny(xp, xp.sum(dA2, axis=0))
        return SequenceArgs(dx, dW_ih, db_ih, db_hh, dparams, dstates, drule_states).flat(self.layout)
