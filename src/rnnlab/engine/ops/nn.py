"""Functions of neural-network losses and lookups: softmax, log_softmax, cross_entropy, mse_loss, embedding."""
from .. import backend
from ..function import Function


def _logsumexp(xp, x, axis):
    m = xp.max(x, axis=axis, keepdims=True)
    return m + xp.log(xp.sum(xp.exp(x - m), axis=axis, keepdims=True))


class Softmax(Function):
    """y_i = exp(x_i) / sum_j exp(x_j) along ``axis``;  dL/dx = y * (gy - sum(gy * y))."""

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        xp = self.xp
        e = xp.exp(x - xp.max(x, axis=self.axis, keepdims=True))
        self.y = e / xp.sum(e, axis=self.axis, keepdims=True)
        return self.y

    def backward(self, gy):
        y = self.y
        return y * (gy - self.xp.sum(gy * y, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """y = x - logsumexp(x) along ``axis``;  dL/dx = gy - softmax(x) * sum(gy)."""

    name = "log_softmax"

    def __init__(self, axis=-1):
        self.axis = axis

    def forward(self, x):
        self.y = x - _logsumexp(self.xp, x, self.axis)
        return self.y

    def backward(self, gy):
        xp = self.xp
        return gy - xp.exp(self.y) * xp.sum(gy, axis=self.axis, keepdims=True)


class CrossEntropy(Function):
    """L = reduce_n [ logsumexp(z_n) - z_n[t_n] ] for logits z of shape (..., C) and integer targets t of shape (...).

    ``reduction`` is ``mean`` (over all targets), ``sum`` or ``none``.
    dL/dz_n = (softmax(z_n) - onehot(t_n)) * gy_n  (divided by N for the mean).
    """

    name = "cross_entropy"

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"cross_entropy: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def forward(self, z, t):
        xp = self.xp
        if z.ndim < 1 or tuple(t.shape) != tuple(z.shape[:-1]):
            raise ValueError(f"cross_entropy: targets of shape {tuple(t.shape)} do not match logits of shape "
                             f"{tuple(z.shape)} (expected targets of shape {tuple(z.shape[:-1])})")
        if not xp.isdtype(t.dtype, "integral"):
            raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}")
        C = z.shape[-1]
        if t.size:
            lo, hi = int(xp.min(t)), int(xp.max(t))
            if lo < 0 or hi >= C:
                raise ValueError(f"cross_entropy: target values must lie in [0, {C}) for {C} classes, "
                                 f"got values from {lo} to {hi}")
        classes = xp.arange(C, dtype=t.dtype, **backend.device_kwargs(z))
        self.onehot = xp.astype(t[..., None] == classes, z.dtype)
        lse = _logsumexp(xp, z, -1)
        self.p = xp.exp(z - lse)
        losses = lse[..., 0] - xp.sum(z * self.onehot, axis=-1)
        self.n = 1
        for s in t.shape:
            self.n *= s
        if self.reduction == "none":
            return losses
        total = xp.sum(losses)
        return total / self.n if self.reduction == "mean" else total

    def backward(self, gy):
        g = self.p - self.onehot
        if self.reduction == "none":
            return g * gy[..., None], None
        if self.reduction == "mean":
            gy = gy / self.n
        return g * gy, None


class MSELoss(Function):
    """L = reduce (y - t)^2 over all elements (``mean``, ``sum`` or ``none``);  dL/dy = 2 (y - t) gy (/N)."""

    name = "mse_loss"

    def __init__(self, reduction="mean"):
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"mse_loss: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
        self.reduction = reduction

    def forward(self, y, t):
        if tuple(y.shape) != tuple(t.shape):
            raise ValueError(f"mse_loss: prediction of shape {tuple(y.shape)} and target of shape "
                             f"{tuple(t.shape)} differ")
        self.diff = y - t
        sq = self.diff * self.diff
        if self.reduction == "none":
            return sq
        total = self.xp.sum(sq)
        return total / sq.size if self.reduction == "mean" else total

    def backward(self, gy):
        g = 2 * self.diff * gy
        if self.reduction == "mean":
            g = g / self.diff.size
        return g, -g


class Embedding(Function):
    """y[..., :] = W[idx[...], :] for a table W of shape (V, D);  dL/dW scatter-adds gy into the looked-up rows."""

    def forward(self, w, idx):
        xp = self.xp
        if not xp.isdtype(idx.dtype, "integral"):
            raise TypeError(f"embedding: indices must be integers, got dtype {idx.dtype}")
        V = w.shape[0]
        if idx.size:
            lo, hi = int(xp.min(idx)), int(xp.max(idx))
            if lo < 0 or hi >= V:
                raise ValueError(f"embedding: indices must lie in [0, {V}) for a table of {V} rows, "
                                 f"got values from {lo} to {hi}")
        self.w_shape = w.shape
        self.flat = xp.reshape(idx, (-1,))
        rows = xp.take(w, self.flat, axis=0)
        return xp.reshape(rows, tuple(idx.shape) + (w.shape[1],))

    def backward(self, gy):
        xp = self.xp
        g = xp.reshape(gy, (-1, self.w_shape[1]))
        return backend.index_add(xp, self.w_shape, self.flat, g), None

