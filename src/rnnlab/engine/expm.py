"""The matrix exponential and its derivative, written once in the backend's array math (numpy, cupy, strict).

Scaling and squaring with a Padé approximant (Higham 2005, "The scaling and squaring method for the
matrix exponential revisited", Algorithm 2.3):

    expm(X) = r_m(X / 2^s)^(2^s),    r_m(Y) = q_m(Y)^{-1} p_m(Y),    p_m(Y) = sum_{j=0..m} b_j Y^j,
    q_m(Y) = p_m(-Y),                b_j = (2m - j)! m! / ((2m)! j! (m - j)!)

The degree m is the smallest of 3, 5, 7, 9, 13 whose bound theta_m covers ||X||_1 (then s = 0); beyond
theta_13, m = 13 and s = ceil(log2(||X||_1 / theta_13)). The theta_m keep the backward error of r_m under
the unit roundoff of float64 (2^-53).

The Fréchet derivative L(X, E) = d/dt expm(X + t E) at t = 0 is the top-right block of the exponential of
a block matrix (Higham 2008, "Functions of Matrices", Theorem 3.6):

    expm([[X, E], [0, X]]) = [[expm(X), L(X, E)], [0, expm(X)]]

and since <G, L(X, E)> = <L(X^T, G), E> (trace inner product), the gradient of a loss through
Y = expm(X) is  dL/dX = L(X^T, dL/dY).
"""
from __future__ import annotations

import math

from . import backend
from .function import Function
from .tensor import is_floating

__all__ = ["Expm", "expm", "expm_array", "expm_frechet_array"]

_THETA = {3: 1.495585217958292e-2, 5: 2.539398330063230e-1, 7: 9.504178996162932e-1,
          9: 2.097847961257068e0, 13: 5.371920351148152e0}


def _pade_coefficients(m: int) -> tuple:
    f = math.factorial
    return tuple(f(2 * m - j) * f(m) / (f(2 * m) * f(j) * f(m - j)) for j in range(m + 1))


_PADE = {m: _pade_coefficients(m) for m in _THETA}


def _check_square(where: str, name: str, a) -> None:
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"{where}: {name} must be a square matrix of shape (n, n), got shape {tuple(a.shape)}")
    if not is_floating(a):
        raise TypeError(f"{where}: {name} must have a real floating dtype (float32 or float64), got {a.dtype}")


def _norm1(xp, a) -> float:
    """||a||_1, the largest column sum of |a|, as a host float."""
    return float(xp.max(xp.sum(xp.abs(a), axis=0)))


def _pade_terms(xp, a, m: int):
    """(U, V), the odd and even parts of p_m(a): p_m(a) = V + U and q_m(a) = V - U.

    U = a (b_1 I + b_3 a^2 + ...), V = b_0 I + b_2 a^2 + ...; degree 13 groups the powers as Higham's
    eq. (2.11) so that it needs only a^2, a^4, a^6 (six matrix products in all).
    """
    b = _PADE[m]
    eye = xp.eye(a.shape[0], dtype=a.dtype, **backend.device_kwargs(a))
    a2 = a @ a
    if m < 13:
        powers = [eye, a2]
        while len(powers) < (m + 1) // 2:
            powers.append(powers[-1] @ a2)
        u = a @ sum(b[2 * k + 1] * p for k, p in enumerate(powers))
        v = sum(b[2 * k] * p for k, p in enumerate(powers))
        return u, v
    a4 = a2 @ a2
    a6 = a4 @ a2
    u = a @ (a6 @ (b[13] * a6 + b[11] * a4 + b[9] * a2)
             + b[7] * a6 + b[5] * a4 + b[3] * a2 + b[1] * eye)
    v = a6 @ (b[12] * a6 + b[10] * a4 + b[8] * a2) + b[6] * a6 + b[4] * a4 + b[2] * a2 + b[0] * eye
    return u, v


def expm_array(a):
    """expm(a) for a backend array ``a`` of shape (n, n), by Padé scaling and squaring; shape (n, n)."""
    _check_square("expm", "the input", a)
    xp = backend.get_namespace(a, op="expm")
    if a.shape[0] == 0:
        return xp.zeros_like(a)
    norm = _norm1(xp, a)
    if not math.isfinite(norm):
        raise ValueError("expm: the input has non-finite entries (inf or nan)")
    m = next((m for m, theta in _THETA.items() if norm <= theta), 13)
    s = max(0, math.ceil(math.log2(norm / _THETA[13]))) if m == 13 else 0
    u, v = _pade_terms(xp, a / 2.0 ** s, m)
    r = xp.linalg.solve(v - u, v + u)
    for _ in range(s):
        r = r @ r
    return r


def expm_frechet_array(x, e):
    """L(x, e), the Fréchet derivative of expm at ``x`` (n, n) in direction ``e`` (n, n); shape (n, n).

    The top-right block of expm([[x, c e], [0, x]]), divided by c: L is linear in e, and
    c = ||x||_1 / ||e||_1 makes the block's norm, hence the number of squarings, depend on x alone.
    """
    _check_square("expm_frechet", "x", x)
    _check_square("expm_frechet", "e", e)
    if tuple(e.shape) != tuple(x.shape):
        raise ValueError(f"expm_frechet: e must have the shape of x {tuple(x.shape)}, got {tuple(e.shape)}")
    xp = backend.get_namespace(x, e, op="expm_frechet")
    n = x.shape[0]
    if n == 0:
        return xp.zeros_like(x)
    nx, ne = _norm1(xp, x), _norm1(xp, e)
    c = nx / ne if nx > 0 and ne > 0 else 1.0
    block = xp.concat([xp.concat([x, c * e], axis=1),
                       xp.concat([xp.zeros_like(x), x], axis=1)], axis=0)
    return expm_array(block)[:n, n:] / c


class Expm(Function):
    """Y = expm(X) for X of shape (n, n);  dL/dX = L(X^T, dL/dY), the adjoint of the Fréchet derivative."""

    def forward(self, x):
        self.x = x
        return expm_array(x)

    def backward(self, gy):
        return expm_frechet_array(self.x.T, gy)


def expm(x):
    """The matrix exponential exp(X) = sum_k X^k / k! of a square Tensor X (n, n), differentiable."""
    return Expm()(x)
