"""``Cell``: what every recurrent cell shares: sizes, state layout, the composed step and the fused sequence.

A cell maps (x_t, state_{t-1}) to state_t. The state is a tuple of Tensors named by ``cell.state_names``;
its first entry is always h_t (B, H), the cell's output. The other entries are the LSTM's c_t (B, H) and
the momentum cells' v_t and m_t (B, G), where G is the width of the input projection (H for RNN bases,
4H for LSTM bases).

Two paths compute the same thing:

* ``step(x_t, state, t)``: one time step built from engine operations. A runner that calls it T times
  builds the unrolled graph, and autodiff does BPTT through it (the teaching path).
* ``sequence(x, state, t0)``: all T steps in one :class:`~rnnlab.cells.fused.FusedSequence`, whose backward
  is the BPTT loop written out (the fast path).

The time index t counts steps from 1 and is global: a sequence processed in chunks passes the number of
steps already processed as ``t0`` so that step indices (which the Nesterov schedule reads) continue.
"""
from __future__ import annotations

from ..engine import backend, ops
from ..engine.module import Module, Parameter
from ..engine.tensor import Tensor
from ._checks import positive_int
from .fused import FusedSequence, SequenceArgs


class Cell(Module):
    """Base class of the recurrent cells. Subclasses set ``core`` (the raw-array loops of their family) and
    implement ``project`` (the input projection) and ``recur`` (the rest of one step)."""

    core = None
    rule = None  # a momentum rule (momentum cells only)

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)

    # ------------------------------------------------------------------ state layout
    @property
    def state_names(self) -> tuple:
        """Names of the state entries, h first: ('h',), ('h', 'c'), ('h', 'v'), ('h', 'c', 'v', 'm'), ..."""
        return self._checked_core().state_names + (self.rule.state_names if self.rule is not None else ())

    def _checked_core(self):
        if self.core is None:
            raise NotImplementedError(
                f"{type(self).__name__}: a Cell subclass must set core, the raw-array loops of its family (an object "
                "with state_names, n_params, forward and backward, such as RNNCore), in the class or in __init__")
        return self.core

    @property
    def projection_size(self) -> int:
        """G, the width of the input projection x_t W_ih (H, 3H or 4H)."""
        return self.weight_ih.shape[1]

    def state_shapes(self, batch: int) -> tuple:
        """The shape of each state entry for a batch of ``batch``: (B, H) for the core's (as its
        ``state_widths`` says), (B, G) for momentum's."""
        core = tuple((batch, w) for w in self._checked_core().state_widths(self.hidden_size, self.projection_size))
        rule = tuple((batch, self.projection_size) for _ in (self.rule.state_names if self.rule else ()))
        return core + rule

    def initial_state(self, batch: int, like=None) -> tuple:
        """All-zero state for a batch of ``batch``, with the dtype and device of ``like`` (a Tensor or array)."""
        ref = self.weight_ih.data if like is None else getattr(like, "data", like)
        xp = backend.get_namespace(ref)
        return tuple(Tensor(xp.zeros(shape, dtype=ref.dtype, **backend.device_kwargs(ref)))
                     for shape in self.state_shapes(batch))

    def check_state(self, state, batch: int, owner: str | None = None, where: str = "state") -> tuple:
        """``state`` as a tuple after checking its length and every entry's shape; raises ValueError otherwise."""
        owner = owner or type(self).__name__
        names = self.state_names
        if not isinstance(state, (tuple, list)) or len(state) != len(names):
            got = f"{len(state)} entries" if isinstance(state, (tuple, list)) else type(state).__name__
            raise ValueError(f"{owner}: {where} must be a tuple of {len(names)} tensors {names}, got {got}")
        for i, (s, shape) in enumerate(zip(state, self.state_shapes(batch))):
            if not isinstance(s, Tensor):
                raise ValueError(f"{owner}: {where}[{i}] ({names[i]}) must be a Tensor, got {type(s).__name__}")
            if tuple(s.shape) != shape:
                width = "hidden_size" if shape[1] == self.hidden_size else "G"
                raise ValueError(f"{owner}: {where}[{i}] ({names[i]}) has shape {tuple(s.shape)}, expected "
                                 f"{shape} (batch, {width})")
        return tuple(state)

    def prepare(self, T: int) -> None:
        """Called by the runner before each forward over T steps (IndRNN clamps its recurrent weights here)."""

    # ------------------------------------------------------------------ the two paths
    def init_input_bias(self, b) -> None:
        """Register the input-projection bias drawn by the subclass as ``bias`` (momentum cells split it)."""
        self.bias = Parameter(b)

    def input_params(self) -> tuple:
        """(W_ih, b_ih): the weight and bias of the input projection a_t = x_t W_ih + b_ih."""
        return self.weight_ih, self.bias

    def recurrent_shift(self):
        """The bias added after the momentum rule (momentum cells' ``bias_hh``), None for the base cells."""
        return None

    def core_params(self) -> tuple:
        """The parameters the core's recurrence uses, in the order the core expects them."""
        raise NotImplementedError(
            f"{type(self).__name__}: the fused path (Recurrent(..., fused=True), cell.sequence) needs core_params(), "
            "the parameters the core's forward and backward take, in their order; implement it, or use fused=False")

    def project(self, x_t):
        """a_t = x_t W_ih + b_ih: (B, D) -> (B, G)."""
        W, b = self.input_params()
        return x_t @ W + b

    def recur(self, drive, state):
        """The family's recurrence given the (B, G) drive that replaces the input projection."""
        raise NotImplementedError(
            f"{type(self).__name__}: the composed path (Recurrent(..., fused=False), cell.step) needs "
            "recur(drive, state), one step of the family's recurrence from engine operations given the (B, G) "
            "drive; implement it")

    def step(self, x_t, state, t: int = 1) -> tuple:
        """One time step from engine operations: returns the new state tuple (its first entry is h_t).

        ``x_t`` (B, D); ``state`` as ``state_names``; ``t`` the global 1-based step index.
        """
        return self.advance(self.project(x_t), state, t)

    def advance(self, a_t, state, t: int = 1) -> tuple:
        """The step after the input projection: the new state from a_t = x_t W_ih + b_ih (B, G)."""
        return self.recur(a_t, state)

    def sequence_args(self, x, state) -> SequenceArgs:
        """The fused sequence's arguments for input ``x`` and ``state`` (Tensors), by name."""
        W_ih, b_ih = self.input_params()
        n = len(self.core.state_names)
        return SequenceArgs(x, W_ih, b_ih, self.recurrent_shift(), tuple(self.core_params()), tuple(state[:n]),
                            tuple(state[n:]))

    def parameter_label(self, tensor, fallback: str) -> str:
        """``tensor``'s attribute name when it is one of this cell's parameters, else ``fallback``."""
        for name, p in self.named_parameters():
            if p is tensor:
                return name
        return fallback

    def sequence_names(self, args: SequenceArgs) -> SequenceArgs:
        """The names of ``args`` for error messages: x, the parameters' attribute names, h0, c0, v0, ..."""
        label = self.parameter_label
        names = self.state_names
        n = len(args.states)
        return SequenceArgs("x", label(args.W_ih, "W_ih"), label(args.b_ih, "b_ih"),
                            None if args.b_hh is None else label(args.b_hh, "b_hh"),
                            tuple(label(p, f"core parameter {i}") for i, p in enumerate(args.params)),
                            tuple(f"{s}0" for s in names[:n]), tuple(f"{s}0" for s in names[n:]))

    def sequence(self, x, state, t0: int = 0, probe=None) -> tuple:
        """All T steps of ``x`` (T, B, D) in one fused function: returns (hs (T, B, H), final state tuple)."""
        args = self.sequence_args(x, state)
        fn = FusedSequence(self.core.starting_at(t0), self.rule, t0, probe, args.layout(), self.sequence_names(args))
        outs = fn(*args.flat())
        return outs[0], tuple(outs[1:])

    def forward(self, x_t, state=None, t: int = 1) -> tuple:
        """One checked step: ``cell(x_t, state=None, t=1)`` returns the new state (h_t first)."""
        name = type(self).__name__
        if not isinstance(x_t, Tensor):
            x_t = Tensor(x_t)
        if x_t.ndim != 2 or x_t.shape[1] != self.input_size:
            raise ValueError(f"{name}: x_t must have shape (batch, input_size={self.input_size}), got shape "
                             f"{tuple(x_t.shape)}")
        state = self.initial_state(x_t.shape[0], like=x_t) if state is None else \
            self.check_state(state, x_t.shape[0])
        return self.step(x_t, state, t)


def split_gates(z, n: int):
    """Cut a (B, n*H) tensor into n (B, H) tensors along the feature axis (gate blocks)."""
    return ops.split(z, n, axis=1)
