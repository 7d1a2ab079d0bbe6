"""Check analytic gradients against central finite differences.

For a function f with outputs y(x) and a random upstream gradient v, the quantity checked is the
vector-Jacobian product  g = J^T v = d<v, y>/dx.  Its numeric estimate, one element at a time, is

    g_j ~ ( <v, y(x + eps e_j)> - <v, y(x - eps e_j)> ) / (2 eps)        (error O(eps^2))

and an element passes when |analytic - numeric| <= atol + rtol |numeric|. A random v (not ones) catches
mistakes that sum to zero. In ``fast`` mode one random direction u per input replaces the unit vectors:
the check is  v^T J u  (one backward, two forwards per input), as in ``torch.autograd.gradcheck``.
Everything runs in float64, where eps = 1e-6 leaves about 1e-10 of error: float32 cannot tell a wrong
gradient from rounding.
"""
from __future__ import annotations

from . import backend
from .tensor import Tensor, no_grad


class GradcheckError(AssertionError):
    """An analytic gradient disagrees with its finite-difference estimate; the message says where."""


def gradcheck(fn, inputs, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              fast: bool = False, raise_exception: bool = True, seed: int = 0, names=None) -> bool:
    """Compare ``backward()`` with central differences for every input of ``fn`` that requires grad.

    ``fn(*inputs)`` returns a Tensor or a tuple of Tensors; ``inputs`` are Tensors (those with
    ``requires_grad=True`` and a float64 dtype are checked; others are passed through unchanged).
    ``names``: one name per input for the messages (``weight_hh (3, 12)``); default ``input i (shape ...)``.
    Returns True; on a mismatch raises :class:`GradcheckError` naming the input, the worst index, the
    numeric and analytic values and the largest absolute and relative errors (or returns False when
    ``raise_exception=False``).
    """
    host = backend.host
    inputs = list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input requires grad; pass Tensors made with requires_grad=True")
    for i in checked:
        if str(inputs[i].dtype).rsplit(".", 1)[-1] != "float64":
            raise TypeError(f"gradcheck: input {i} has dtype {inputs[i].dtype}; finite differences need "
                            "float64 (rnnlab.set_default_dtype('float64') or Tensor(x.astype('float64')))")
    rng = host.random.default_rng(seed)

    outputs = _as_tuple(fn(*inputs))
    upstream = [host.asarray(rng.standard_normal(o.shape)) for o in outputs]

    def probe() -> float:
        with no_grad():
            outs = _as_tuple(fn(*inputs))
        return float(sum((backend.to_numpy(o.data) * v).sum() for o, v in zip(outs, upstream)))

    for i in checked:
        inputs[i].grad = None
    total = None
    for o, v in zip(outputs, upstream):
        if not o.requires_grad:
            continue
        term = (o * Tensor(backend.asarray(v, like=o.data))).sum()
        total = term if total is None else total + term
    if total is None:
        raise ValueError("gradcheck: no output of fn depends on an input that requires grad")
    total.backward()

    for i in checked:
        t = inputs[i]
        original = t.data
        x0 = host.array(backend.to_numpy(original), dtype="float64", order="C")   # C order, 0-d kept 0-d
        analytic = (host.zeros_like(x0) if t.grad is None else backend.to_numpy(t.grad)).reshape(x0.shape)

        def at(x):
            t.data = backend.asarray(x, like=original)
            return probe()

        try:
            if fast:
                u = rng.standard_normal(x0.shape)
                numeric = host.asarray((at(x0 + eps * u) - at(x0 - eps * u)) / (2 * eps))
                analytic = host.asarray((analytic * u).sum())
            else:
                flat = host.zeros(x0.size)
                for j in range(x0.size):
                    x = x0.copy().reshape(-1)
                    x[j] = x0.reshape(-1)[j] + eps
                    plus = at(x.reshape(x0.shape))
                    x[j] = x0.reshape(-1)[j] - eps
                    minus = at(x.reshape(x0.shape))
                    flat[j] = (plus - minus) / (2 * eps)
                numeric = flat.reshape(x0.shape)
        finally:
            t.data = original
        err = host.abs(analytic - numeric)
        bad = err > atol + rtol * host.abs(numeric)
        if bad.any():
            if not raise_exception:
                return False
            label = f"input {i} (shape {t.shape})" if names is None else f"{names[i]} {tuple(t.shape)}"
            raise GradcheckError(_report(label, numeric, analytic, err, fast))
    return True


def _report(label, numeric, analytic, err, fast) -> str:
    host = backend.host
    rel = err / host.maximum(host.abs(numeric), 1e-300)
    if fast:
        return (f"gradcheck: {label} fails along a random direction u: "
                f"numeric v^T J u = {float(numeric):.10g} vs analytic {float(analytic):.10g}; "
                f"abs error {float(err):.3g}, rel error {float(rel):.3g}")
    worst = host.unravel_index(int(err.argmax()), err.shape) if err.ndim else ()
    return (f"gradcheck: {label} has a wrong gradient; worst index {tuple(int(w) for w in worst)}: "
            f"numeric {float(numeric[worst]):.10g} vs analytic {float(analytic[worst]):.10g}; "
            f"max abs error {float(err.max()):.3g}, max rel error {float(rel.max()):.3g}")


def _as_tuple(out):
    return tuple(out) if isinstance(out, (tuple, list)) else (out,)
