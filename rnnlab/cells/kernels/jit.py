"""The one place that configures numba for the compiled kernels (an ImportError here means no numba).

Every kernel is compiled with ``cache=True`` (machine code is stored next to the source, so the 2-5 s of
compilation is paid once per machine, not once per process), ``error_model="numpy"`` (no Python
ZeroDivisionError checks, which stop loops from vectorizing) and two fast-math flags: ``contract`` (fused
multiply-add) and ``reassoc`` (lets the compiler vectorize sums such as a row's dot product). Neither
changes results by more than a few units of rounding. No ``parallel=True``: numba's threads and the BLAS
library's threads oversubscribed the cores on the machines we measured. Nor threads over batch rows (each
share of the batch running its own time loop with a single-threaded BLAS, the rows' recurrences being
independent): on the 2-core machine we measured, two such threads ran an LSTM step no faster than one
thread with two-threaded BLAS, because two concurrent single-threaded products had the throughput of one
two-threaded product.

Maintainers: numba's cache is keyed on the file of each compiled function only. After editing
``activations.py`` or ``projection.py`` (inlined into the others), delete ``__pycache__/*.nbi`` and
``*.nbc`` in this folder so that the kernels in the other files are recompiled.
"""
from __future__ import annotations

import functools

import numba

jit = functools.partial(numba.njit, cache=True, error_model="numpy", fastmath={"contract", "reassoc"})
"""``@jit``: numba's ``njit`` with this package's settings."""
