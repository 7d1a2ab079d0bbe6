"""Shared pieces of the optimizer tests: parameters from host data, host views, a deterministic loss."""
import math

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
from hypothesis import HealthCheck, given, settings

import rnnlab
from rnnlab.engine import backend

host = backend.host   # NumPy, for the reference computations on the host


def given_on_backend(**strategies):
    """``@given`` for tests that take the ``backend_name`` fixture: the backend stays the same for every
    generated example, so the function-scoped fixture is safe to share (the profile's other settings stay)."""
    checks = list(settings().suppress_health_check) + [HealthCheck.function_scoped_fixture]

    def wrap(test):
        return settings(suppress_health_check=checks)(given(**strategies)(test))
    return wrap


def param(values):
    """A Parameter holding ``values`` (host data) on the active backend, in the default dtype."""
    return rnnlab.Parameter(host.asarray(values, dtype=backend.default_dtype_name()))


def on_host(x):
    """A Tensor's data (or a backend array) as a float64 NumPy array."""
    return host.asarray(rnnlab.to_numpy(x), dtype="float64")


def set_grad(p, values):
    p.grad = backend.asarray(host.asarray(values, dtype=backend.default_dtype_name()), like=p.data)


def lp(x, p):
    """||x||_p of a host array, all elements together."""
    a = host.abs(host.ravel(host.asarray(x, dtype="float64")))
    m = float(a.max(initial=0.0))
    return m if p == math.inf or m == 0 else m * float(((a / m) ** p).sum() ** (1.0 / p))


shapes = hnp.array_shapes(min_dims=1, max_dims=2, min_side=1, max_side=5)
finite = st.floats(-10.0, 10.0, allow_nan=False, allow_subnormal=False)


def float_arrays(shape=shapes, elements=finite):
    return hnp.arrays("float64", shape, elements=elements)


ps = st.one_of(st.sampled_from([1, 2, math.inf]), st.floats(1.05, 8.0))


class Quadratic:
    """L(W) = ½ Σ_i (W_i - C_i)ᵀ A_i (W_i - C_i) over a list of 2-D parameters (1, n_i), with its gradient
    on the host: a smooth convex loss whose minimum C is known."""

    def __init__(self, params, centers, matrices):
        self.params = params
        self.centers = [backend.asarray(c, like=p.data) for c, p in zip(centers, params)]
        self.matrices = [backend.asarray(a, like=p.data) for a, p in zip(matrices, params)]
        self.host_centers, self.host_matrices = centers, matrices
        self.calls = 0
        self.seen = []

    def loss(self):
        total = None
        for w, c, a in zip(self.params, self.centers, self.matrices):
            r = w - rnnlab.Tensor(c)
            term = ((r @ rnnlab.Tensor(a)) * r).sum() * 0.5
            total = term if total is None else total + term
        return total

    def closure(self):
        """Zero the gradients, record the weights seen, backward, return the loss."""
        self.calls += 1
        self.seen.append([on_host(w) for w in self.params])
        for w in self.params:
            w.grad = None
        loss = self.loss()
        loss.backward()
        return loss

    def host_grad(self, ws):
        return [(w - c) @ a for w, c, a in zip(ws, self.host_centers, self.host_matrices)]

    def host_value(self, ws):
        return sum(0.5 * float(((w - c) @ a * (w - c)).sum())
                   for w, c, a in zip(ws, self.host_centers, self.host_matrices))


def random_quadratic(rng, sizes, mu=0.1):
    """Symmetric positive-definite matrices A_i = B_iᵀ B_i / n_i + μ I and centers C_i ~ N(0, 1)."""
    matrices, centers = [], []
    for n in sizes:
        b = rng.standard_normal((n, n))
        matrices.append(b.T @ b / n + mu * host.eye(n))
        centers.append(rng.standard_normal((1, n)))
    return centers, matrices
