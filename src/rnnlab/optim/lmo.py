"""The linear minimization oracle of the l_p ball, in closed form."""
from __future__ import annotations

import math

from ..engine import backend
from ..engine.norms import max_abs, safe_divisor


def lmo(g, delta: float, p: float):
    """s = argmin_{||s||_p <= δ} <s, g>, for a gradient ``g`` of any shape (the norm over all its elements).

    By Hölder's inequality, with 1/p + 1/q = 1::

        s_i = -δ sign(g_i) |g_i|^(q-1) / ||g||_q^(q-1)        (1 < p < inf)
        p = 2:    s = -δ g / ||g||_2                          (δ-scaled normalized gradient)
        p = inf:  s = -δ sign(g)                              (δ-scaled sign gradient)
        p = 1:    s = -δ sign(g_j) e_j,  j = argmax_i |g_i|   (the first such j)

    Then <s, g> = -δ ||g||_q and ||s||_p = δ, except for g = 0, where s = 0. Elements are divided by
    max |g_i| before any power is taken, so no q (p near 1 gives a large q) overflows.
    """
    xp = backend.get_namespace(g)
    if p == math.inf:
        return -delta * xp.sign(g)
    u = g / safe_divisor(xp, max_abs([g]))
    if p == 1:
        flat = xp.reshape(u, (-1,))
        j = xp.argmax(xp.abs(flat))
        first_max = xp.arange(flat.shape[0], **backend.device_kwargs(flat)) == j
        return -delta * xp.reshape(xp.where(first_max, xp.sign(flat), xp.zeros_like(flat)), g.shape)
    if p == 2:
        return -delta * u / safe_divisor(xp, xp.sqrt(xp.sum(u * u)))
    q = p / (p - 1.0)
    a = xp.abs(u)
    norm_q = xp.sum(a ** q) ** (1.0 / q)
    return -delta * xp.sign(u) * a ** (q - 1.0) / safe_divisor(xp, norm_q) ** (q - 1.0)


def check_p(owner: str, p, name: str = "p") -> None:
    """Raise ValueError unless ``p`` is a number >= 1 (inf included): ||.||_p is a norm only then."""
    ok = isinstance(p, (int, float)) and not isinstance(p, bool) and not math.isnan(p) and p >= 1
    if not ok:
        raise ValueError(f"{owner}: {name} must be a number >= 1 (1, 2, inf or any p > 1), got {p!r}")
