"""Truncated backpropagation through time, BPTT(k2; k1) of Williams and Peng (1990).

Every k1 steps the sequence yields a chunk whose outputs cover the k1 new steps, with a graph that begins
k2 - k1 steps before the chunk's first new step, so a full chunk's last output is backpropagated k2 steps
deep (k2 >= k1; k1 = k2: consecutive, non-overlapping chunks, the common case; a short last chunk keeps
the same start). Before that the whole
state (h, c and the momentum states v, m of every layer) is carried from the previous chunk and detached.
With k1 = k2 = T it is exactly full BPTT. Step indices are global: the chunk over steps w+1..e runs with
t0 = w, so the Nesterov schedule continues across chunks instead of restarting at every chunk.

The same iterator serves a training loop and an optimizer that asks a closure for one gradient per inner
step (Frank-Wolfe), because it runs each chunk's forward only when the chunk is requested, with the
parameters of that moment::

    for chunk in tbptt(rnn, x, k1=196):
        loss = loss_fn(head(chunk.outputs), y[chunk.slice])
        opt.zero_grad(); loss.backward(); opt.step()

    chunks = iter(tbptt(rnn, x, k1=16))
    def closure():
        chunk = next(chunks)
        loss = loss_fn(head(chunk.outputs), y[chunk.slice]); loss.backward(); return loss
"""
from __future__ import annotations

from dataclasses import dataclass

from ..engine.tensor import Tensor
from ._checks import nonnegative_int, positive_int
from .recurrent import Recurrent, detach_state, join_time


@dataclass
class Chunk:
    """One TBPTT chunk: ``outputs`` (stop - start, B, H) for steps start..stop-1 (0-based, relative to x),
    whose graph reaches back to step ``window_start``; ``state`` the state after step stop-1 (still attached
    to the graph, e.g. for a loss on the last step)."""

    outputs: Tensor
    state: tuple
    start: int
    stop: int
    window_start: int

    @property
    def slice(self) -> slice:
        """slice(start, stop): the targets that belong to this chunk's outputs, ``y[chunk.slice]``."""
        return slice(self.start, self.stop)


class TBPTT:
    """Iterator over the :class:`Chunk` s of one sequence; see :func:`tbptt`. ``state`` holds the detached
    state after the last chunk produced so far (the whole sequence's final state once exhausted).

    To continue an interrupted sequence exactly, pass ``start`` (the next chunk's first step) and
    ``window_start`` w with ``state`` the detached state at step w: after each chunk, ``resume_point`` is
    (w, start) of the next chunk and ``carried`` the state to pass with it."""

    def __init__(self, rnn: Recurrent, x, k1: int, k2: int | None = None, state=None, t0: int = 0,
                 start: int = 0, window_start: int | None = None):
        if not isinstance(rnn, Recurrent):
            raise TypeError(f"tbptt: rnn must be a rnnlab.cells.Recurrent, got {type(rnn).__name__}")
        self.k1 = positive_int("tbptt", "k1", k1)
        self.k2 = self.k1 if k2 is None else positive_int("tbptt", "k2", k2)
        if self.k2 < self.k1:
            raise ValueError(f"tbptt: k2 (gradient depth, {self.k2}) must be >= k1 (steps between updates, "
                             f"{self.k1}); every output needs its gradient through its own chunk")
        self.rnn, self.x = rnn, rnn.check_input(x)
        self.t0 = nonnegative_int("tbptt", "t0", t0)
        self.start = nonnegative_int("tbptt", "start", start)
        self.window_start = self.start if window_start is None else nonnegative_int("tbptt", "window_start",
                                                                                     window_start)
        if not self.start - (self.k2 - self.k1) <= self.window_start <= self.start or self.window_start < 0:
            raise ValueError(f"tbptt: window_start ({self.window_start}) must be in [start - (k2 - k1), start] "
                             f"= [{self.start - (self.k2 - self.k1)}, {self.start}]")
        self.resume_point = (self.window_start, self.start)
        B = self.x.shape[1]
        self.state = rnn.initial_state(B, like=self.x) if state is None else \
            detach_state(rnn.check_state(state, B))
        self.carried = self.state

    def __iter__(self):
        T, lag = self.x.shape[0], self.k2 - self.k1
        carried, w = self.state, self.window_start    # detached state at step w, where the next window starts
        start = self.start
        while start < T:
            stop = min(start + self.k1, T)
            next_w = max(0, stop - lag)     # the next chunk's window start, in [w, stop]
            if w < next_w < stop:           # split this window there, so the state at next_w comes for free
                out_a, mid = self.rnn(self.x[w:next_w], carried, t0=self.t0 + w)
                out_b, final = self.rnn(self.x[next_w:stop], mid, t0=self.t0 + next_w)
                outputs = join_time([out_a, out_b])
                next_carried = detach_state(mid)
            else:
                outputs, final = self.rnn(self.x[w:stop], carried, t0=self.t0 + w)
                next_carried = detach_state(final) if next_w == stop else carried
            if start > w:
                outputs = outputs[start - w:]
            self.state = detach_state(final)
            self.carried, self.resume_point = next_carried, (next_w, stop)
            yield Chunk(outputs, final, start, stop, w)
            carried, w, start = next_carried, next_w, stop


def tbptt(rnn: Recurrent, x, k1: int, k2: int | None = None, state=None, t0: int = 0, start: int = 0,
          window_start: int | None = None) -> TBPTT:
    """Chunks of ``x`` (T, B, D) for truncated BPTT through ``rnn``: every ``k1`` steps, gradients ``k2`` (>= k1,
    default k1) steps deep. ``state``: initial state (detached; zeros when None). ``t0``: global index of the
    step before x[0]. Yields :class:`Chunk` (outputs, state, start, stop, slice)."""
    return TBPTT(rnn, x, k1, k2, state, t0, start, window_start)
