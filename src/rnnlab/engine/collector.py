"""Pausing Python's cyclic garbage collector while a long graph is built: ``with collector.paused(): ...``.

The engine's graph has no reference cycles (a node holds its inputs strongly and its outputs only by weak
reference), so reference counting frees it the moment its output is dropped or ``backward`` releases it; the
cyclic collector is never needed for it. It still costs time. Every node brings a few objects that the
collector tracks (the Function, its inputs tuple, the output Tensor, a weak reference), and while an unrolled
sequence of thousands of nodes is built they all survive one collection after another and are promoted to
the oldest generation. Once the objects promoted since the last full collection number a quarter of that
generation, Python runs a full collection, which walks every tracked object of the process, numba's and
PyTorch's included if they are imported. Measured (``benchmarks/cells_vs_torch.py``'s process, LSTM
1 -> 128, batch 128): one full collection of about 130 ms in most training steps at T = 784, in about one
step of four at T = 196, on top of the younger generations' collections.

:func:`paused` turns the collector off for a block and back on after it, only if it was on: blocks nest, and
a collector the program turned off stays off. Any reference cycle created inside the block is found by the
first collection after it. ``rnnlab.cells.Recurrent``'s unrolled (composed) path builds its time loop inside
it; wrap a hand-written loop that builds a long graph the same way.
"""
from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def paused():
    """Run a block with the cyclic garbage collector off (restored afterwards, also on an exception)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
