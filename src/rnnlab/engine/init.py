"""Parameter initialization, seeded, drawn on the host so every backend starts from the same numbers.

Each initializer returns a backend array of the default dtype: ``init.orthogonal((n, n), rng)``.
``rng`` is a ``numpy.random.Generator``; when omitted, the library-wide generator that
``rnnlab.manual_seed(seed)`` resets is used.
"""
from __future__ import annotations

import math

from . import backend

_host = backend.host
_global_rng = _host.random.default_rng(0)


def manual_seed(seed: int) -> None:
    """Reset the generator that initializers and dropout use when no ``rng`` is given.

    The generator is reseeded in place, so layers that already hold it (a Dropout made without ``rng``)
    follow the new seed too.
    """
    _global_rng.bit_generator.state = _host.random.default_rng(seed).bit_generator.state


def get_rng(rng=None):
    """``rng`` itself (a Generator), a new generator seeded with it (an int or a list of ints), or the
    global generator (None)."""
    if rng is None:
        return _global_rng
    if isinstance(rng, (int, list, tuple)):
        return _host.random.default_rng(rng)
    return rng


def _device(a):
    return backend.asarray(a.astype(backend.default_dtype_name()))


def zeros(shape):
    return _device(_host.zeros(shape))


def constant(shape, value):
    return _device(_host.full(shape, value, dtype="float64"))


def uniform(shape, low, high, rng=None):
    """U(low, high)."""
    return _device(get_rng(rng).uniform(low, high, size=shape))


def normal(shape, std=1.0, rng=None):
    """N(0, std^2)."""
    return _device(get_rng(rng).standard_normal(shape) * std)


def kaiming_uniform(shape, fan_in, rng=None):
    """U(-b, b) with b = 1/sqrt(fan_in) (PyTorch's default for Linear and RNN layers)."""
    bound = 1.0 / math.sqrt(fan_in)
    return uniform(shape, -bound, bound, rng)


def kaiming_normal(shape, fan_in, rng=None):
    """N(0, 2 / fan_in) (He et al.), for ReLU layers."""
    return normal(shape, math.sqrt(2.0 / fan_in), rng)


def orthogonal(shape, rng=None, gain=1.0):
    """A (semi-)orthogonal matrix: Q of the QR decomposition of a Gaussian matrix, signs fixed by diag(R)."""
    rows, cols = shape
    a = get_rng(rng).standard_normal((max(rows, cols), min(rows, cols)))
    q, r = _host.linalg.qr(a)
    q = q * _host.sign(_host.diag(r))
    if rows < cols:
        q = q.T
    return _device(gain * q[:rows, :cols])


def identity(n, gain=1.0):
    return _device(gain * _host.eye(n))
