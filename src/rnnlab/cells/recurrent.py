"""``Recurrent``: runs one cell or a stack of cells over a time-major sequence, on either path."""
from __future__ import annotations

from ..engine import backend, collector, init, ops
from ..engine.layers import BatchNorm, Dropout
from ..engine.module import Module
from ..engine.tensor import Tensor
from ._checks import in_interval, nonnegative_int
from .base import Cell
from .probe import GradNormProbe


def detach_state(state):
    """The same nested tuples of Tensors, each cut from the graph (what TBPTT carries across chunks)."""
    if isinstance(state, Tensor):
        return state.detach()
    return tuple(detach_state(s) for s in state)


def split_time(x):
    """The T steps of x (T, B, D) as T tensors (B, D), through one engine op (one backward for all steps)."""
    T, B, D = x.shape
    if T == 1:
        return [ops.reshape(x, (B, D))]
    return [ops.reshape(p, (B, D)) for p in ops.split(x, T, axis=0)]


def join_time(pieces):
    """Join time-major pieces, each (T_i, B, H) or one step (B, H), into one (sum T_i, B, H) tensor
    (the inverse of :func:`split_time`)."""
    B, H = pieces[0].shape[-2], pieces[0].shape[-1]
    pieces = [ops.reshape(p, (-1, B, H)) for p in pieces]
    return pieces[0] if len(pieces) == 1 else ops.concat(pieces, axis=0)


def unroll(cell: Cell, x, state, t0: int = 0, probe: GradNormProbe | None = None):
    """The composed path: ``cell.advance`` at t = t0+1, ..., t0+T; autodiff does BPTT.

    The input projections a_t = x_t W_ih + b_ih of all T steps are one matmul over the (T*B, D) rows
    (they do not depend on the state), then each step runs the cell's recurrence on its a_t, exactly as
    ``cell.step(x_t, state, t)`` would. Returns (outputs (T, B, H) = all h_t stacked, final state tuple).
    The graph is built with Python's cyclic collector paused (:func:`rnnlab.engine.collector.paused`).
    """
    T, B, D = x.shape
    with collector.paused():    # thousands of nodes, no cycles: see rnnlab.engine.collector
        projected = ops.reshape(cell.project(ops.reshape(x, (T * B, D))), (T, B, -1))
        hs = []
        for k, a_t in enumerate(split_time(projected)):
            state = cell.advance(a_t, state, t0 + 1 + k)
            hs.append(state[0])
        if probe is not None:
            probe.watch(hs)
        return join_time(hs), tuple(state)


def _name(dtype) -> str:
    return str(dtype).rsplit(".", 1)[-1]


class Recurrent(Module):
    """A stack of recurrent cells run over a time-major sequence:  ``outputs, state = rnn(x, state=None)``.

    ``cells``: one :class:`Cell` or a list (layer l's hidden_size must equal layer l+1's input_size).
    ``fused``: True runs each layer as one fused function with a hand-written BPTT backward; False unrolls
    ``cell.step`` so that autodiff does BPTT. Both give the same outputs, states and gradients.
    ``batch_norm``: batch normalization over time and batch after every layer; ``dropout``: probability of
    dropout after every layer with one mask per sequence shared across time (as the IndRNN reference:
    cell -> batch norm -> dropout, per layer). ``rng`` seeds the dropout masks.

    ``forward(x, state=None, t0=0, record_grad_norms=False)``:
      x (T, B, D) Tensor; state: None (zeros) or a tuple with one entry per layer, each the layer's state
      tuple in ``cell.state_names`` order (h (B, H) first; c, v, m as the cell has them); t0: global index of
      the step before x[0] (steps are t0+1..t0+T; the Nesterov schedule reads it; TBPTT passes the chunk
      start). Returns (outputs (T, B, H_top): every top-layer output, final state: same structure as state).
      With ``record_grad_norms=True``, after ``backward`` ``rnn.grad_norms`` is a list with, per layer, the
      host array (T,) of ||dL/dh_t|| (the layer's cell output h_t, before batch norm and dropout).
    """

    def __init__(self, cells, fused: bool = True, batch_norm: bool = False, dropout: float = 0.0, rng=None):
        super().__init__()
        if isinstance(cells, Cell):
            cells = [cells]
        if not isinstance(cells, (list, tuple)) or not cells or not all(isinstance(c, Cell) for c in cells):
            raise TypeError("Recurrent: cells must be a Cell or a non-empty list of Cells, got "
                            f"{type(cells).__name__}")
        for i in range(1, len(cells)):
            if cells[i].input_size != cells[i - 1].hidden_size:
                raise ValueError(f"Recurrent: layer {i} ({type(cells[i]).__name__}) has input_size "
                                 f"{cells[i].input_size}, but layer {i - 1} outputs hidden_size "
                                 f"{cells[i - 1].hidden_size}")
        self.dropout = in_interval("Recurrent", "dropout", dropout, 0.0, 1.0, closed_low=True, closed_high=False)
        self.cells = list(cells)
        self.fused = bool(fused)
        self.batch_norms = [BatchNorm(c.hidden_size) for c in cells] if batch_norm else None
        rng = init.get_rng(rng)     # one generator for every layer's masks (an int seed would repeat them)
        self.dropouts = [Dropout(self.dropout, shared_axis=0, rng=rng) for _ in cells] if self.dropout else None
        self._probes = None

    @property
    def input_size(self) -> int:
        return self.cells[0].input_size

    @property
    def hidden_size(self) -> int:
        """The top layer's hidden size H_top (the width of the outputs)."""
        return self.cells[-1].hidden_size

    def initial_state(self, batch: int, like=None) -> tuple:
        """Zero state for every layer: a tuple of the layers' state tuples."""
        return tuple(c.initial_state(batch, like) for c in self.cells)

    def check_input(self, x):
        if not isinstance(x, Tensor):
            x = Tensor(x)
        if x.ndim != 3:
            raise ValueError(f"Recurrent: x must be time-major with shape (T, B, input_size={self.input_size}), "
                             f"got {x.ndim} dimensions (shape {tuple(x.shape)})")
        T, B, D = x.shape
        if T == 0:
            raise ValueError("Recurrent: x has T = 0 time steps; a sequence needs at least one")
        if B == 0:
            raise ValueError("Recurrent: x has a batch of 0 sequences (shape (T, 0, D))")
        if D != self.input_size:
            raise ValueError(f"Recurrent: x has {D} features in its last axis, expected input_size="
                             f"{self.input_size} (shape {tuple(x.shape)})")
        weight = self.cells[0].weight_ih
        backend.get_namespace(x.data, weight.data, op="Recurrent")    # different backends: a BackendError first
        if x.dtype != weight.dtype:
            raise TypeError(f"Recurrent: x has dtype {_name(x.dtype)} but the parameters are "
                            f"{_name(weight.dtype)}; convert one of them (rnnlab.asarray(x, dtype=...), or "
                            "set_default_dtype before building)")
        return x

    def check_state(self, state, batch: int) -> tuple:
        if not isinstance(state, (tuple, list)) or len(state) != len(self.cells):
            got = f"{len(state)} entries" if isinstance(state, (tuple, list)) else type(state).__name__
            raise ValueError(f"Recurrent: state must be a tuple with one state tuple per layer "
                             f"({len(self.cells)}), got {got}")
        return tuple(c.check_state(s, batch, "Recurrent", f"state[{i}]")
                     for i, (c, s) in enumerate(zip(self.cells, state)))

    def forward(self, x, state=None, t0: int = 0, record_grad_norms: bool = False):
        x = self.check_input(x)
        t0 = nonnegative_int("Recurrent", "t0", t0)
        T, B = x.shape[0], x.shape[1]
        state = self.initial_state(B, like=x) if state is None else self.check_state(state, B)
        self._probes = [GradNormProbe() for _ in self.cells] if record_grad_norms else None
        out, final = x, []
        for i, cell in enumerate(self.cells):
            cell.prepare(T)
            probe = self._probes[i] if self._probes else None
            if self.fused:
                out, layer_state = cell.sequence(out, state[i], t0, probe)
            else:
                out, layer_state = unroll(cell, out, state[i], t0, probe)
            final.append(layer_state)
            if self.batch_norms is not None:
                out = self.batch_norms[i](out)
            if self.dropouts is not None:
                out = self.dropouts[i](out)
        return out, tuple(final)

    @property
    def grad_norms(self) -> list:
        """Per layer, the host array (T,) of ||dL/dh_t|| from the last ``rnn(x, record_grad_norms=True)``."""
        if self._probes is None:
            raise RuntimeError("Recurrent.grad_norms: nothing recorded; call rnn(x, record_grad_norms=True) "
                               "and then backward()")
        norms = [p.norms() for p in self._probes]
        if any(n is None for n in norms):
            raise RuntimeError("Recurrent.grad_norms: backward() has not run through the recorded forward yet")
        return norms
