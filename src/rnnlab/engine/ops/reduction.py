"""Reductions over axes: sum, mean, max."""
from ..function import Function


def normalize_axes(axis, ndim, op):
    """``axis`` (None, int or tuple) as a sorted tuple of non-negative axes, checked against ``ndim``."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"{op}: axis {a} is out of range for an array of {ndim} dimensions")
        out.append(a % max(ndim, 1))
    return tuple(sorted(set(out)))


def _expand_back(xp, g, in_shape, axes, keepdims):
    """Reinsert the reduced axes of ``g`` as size-1 axes, so it broadcasts against the input."""
    if keepdims:
        return g
    return xp.reshape(g, tuple(1 if i in axes else n for i, n in enumerate(in_shape)))


class Sum(Function):
    """y = sum of x over ``axis``;  dL/dx = gy broadcast back over the summed axes."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        self.axes = normalize_axes(self.axis, x.ndim, "sum")
        self.shape = x.shape
        return self.xp.sum(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, gy):
        xp = self.xp
        return xp.broadcast_to(_expand_back(xp, gy, self.shape, self.axes, self.keepdims), self.shape)


class Mean(Sum):
    """y = mean of x over ``axis``;  dL/dx = gy / n broadcast back (n = number of elements averaged)."""

    def forward(self, x):
        y = super().forward(x)
        n = 1
        for a in self.axes:
            n *= x.shape[a]
        self.n = n
        return y / n

    def backward(self, gy):
        return super().backward(gy / self.n)


class Max(Function):
    """y = max of x over ``axis``;  the gradient goes to the maximal entries, split equally among ties."""

    def __init__(self, axis=None, keepdims=False):
        self.axis, self.keepdims = axis, keepdims

    def forward(self, x):
        xp = self.xp
        self.axes = normalize_axes(self.axis, x.ndim, "max")
        if 0 in x.shape:
            raise ValueError("max: cannot reduce an empty array")
        y = xp.max(x, axis=self.axes, keepdims=True)
        hit = xp.astype(x == y, x.dtype)
        self.weights = hit / xp.sum(hit, axis=self.axes, keepdims=True)
        return y if self.keepdims else xp.reshape(y, tuple(n for i, n in enumerate(x.shape) if i not in self.axes))

    def backward(self, gy):
        return _expand_back(self.xp, gy, self.weights.shape, self.axes, self.keepdims) * self.weights
