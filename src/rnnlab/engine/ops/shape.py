"""Operations that move elements without changing them: reshape, permute, broadcast, index, join, split."""
from .. import backend
from ..function import Function


def sum_to(xp, g, shape):
    """Sum ``g`` down to ``shape``: the adjoint of broadcasting ``shape`` up to ``g.shape``.

    If y = broadcast(x), then dL/dx = sum of dL/dy over the axes that broadcasting added or stretched.
    """
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1)
    if axes:
        g = xp.sum(g, axis=axes, keepdims=True)
    if lead:
        g = xp.reshape(g, shape)
    return g


class Reshape(Function):
    """y = x viewed with ``shape``;  dL/dx = gy reshaped back."""

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.reshape(x, self.shape)

    def backward(self, gy):
        return self.xp.reshape(gy, self.in_shape)


class Permute(Function):
    """y = x with its axes reordered by ``axes`` (all axes reversed when None);  dL/dx = gy with the inverse order."""

    def __init__(self, axes=None):
        self.axes = None if axes is None else tuple(axes)

    def forward(self, x):
        axes = self.axes if self.axes is not None else tuple(range(x.ndim))[::-1]
        if (not all(-x.ndim <= a < x.ndim for a in axes)
                or sorted(a % x.ndim for a in axes) != list(range(x.ndim))):
            raise ValueError(f"permute: axes {axes} are not a permutation of the {x.ndim} axes of "
                             f"shape {tuple(x.shape)}")
        self.perm = tuple(a % x.ndim for a in axes)
        return self.xp.permute_dims(x, self.perm)

    def backward(self, gy):
        inverse = [0] * len(self.perm)
        for i, a in enumerate(self.perm):
            inverse[a] = i
        return self.xp.permute_dims(gy, tuple(inverse))


class BroadcastTo(Function):
    """y = x broadcast to ``shape``;  dL/dx = gy summed over the broadcast axes."""

    name = "broadcast_to"

    def __init__(self, shape):
        self.shape = tuple(shape)

    def forward(self, x):
        self.in_shape = x.shape
        return self.xp.broadcast_to(x, self.shape)

    def backward(self, gy):
        return sum_to(self.xp, gy, self.in_shape)


def _is_basic(index) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(isinstance(i, (int, slice)) or i is None or i is Ellipsis for i in items)


class GetItem(Function):
    """y = x[index] for basic (ints, slices, None, ...) and integer-array indices.

    dL/dx is zero except at the selected positions, where the gradient is scatter-added: an element
    selected twice by an integer array receives both gradients. One integer array on one axis with
    full slices elsewhere (``x[idx]``, ``x[:, idx]``) is a ``take`` along that axis on every backend;
    other integer-array indices follow NumPy's rules where the backend supports them.
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        xp = self.xp
        self.in_shape = tuple(x.shape)
        for i in self.index:
            if backend.namespace_of(i) is not None and not xp.isdtype(i.dtype, "integral"):
                raise TypeError(f"getitem: index arrays must hold integers, got dtype {i.dtype} "
                                "(for a boolean mask use rnnlab.where(mask, x, 0.0))")
        self.take = _take_axis(self.index, x.ndim)
        if self.take is not None:
            axis, idx = self.take
            self.flat = xp.reshape(idx, (-1,))
            out = xp.take(x, self.flat, axis=axis)
            return xp.reshape(out, self.in_shape[:axis] + tuple(idx.shape) + self.in_shape[axis + 1:])
        if _is_basic(self.index) and any(i is None for i in self.index):
            # the backward writes through the index without its new axes (setitem takes no None)
            self.base = tuple(i for i in self.index if i is not None)
            self.base_shape = tuple(x[self.base].shape)
        return x[self.index]

    def backward(self, gy):
        xp = self.xp
        if self.take is not None:
            axis, shape = self.take[0], self.in_shape
            gy = xp.reshape(gy, shape[:axis] + (self.flat.shape[0],) + shape[axis + 1:])
            front = (axis,) + tuple(i for i in range(len(shape)) if i != axis)
            if axis:
                gy = xp.permute_dims(gy, front)
            gx = backend.index_add(xp, tuple(shape[i] for i in front), self.flat, gy)
            return xp.permute_dims(gx, tuple(front.index(i) for i in range(len(shape)))) if axis else gx
        if _is_basic(self.index):
            gx = xp.zeros(self.in_shape, dtype=gy.dtype, **backend.device_kwargs(gy))
            if hasattr(self, "base"):
                gx[self.base] = xp.reshape(gy, self.base_shape)
            else:
                gx[self.index] = gy
            return gx
        return backend.index_add(xp, self.in_shape, self.index, gy)


def _take_axis(index, ndim):
    """(axis, array) when ``index`` is one integer array among full slices and ``...``, else None."""
    arrays = [k for k, i in enumerate(index) if backend.namespace_of(i) is not None]
    if len(arrays) != 1:
        return None
    k = arrays[0]
    full = slice(None)
    if not all(i is Ellipsis or (isinstance(i, slice) and i == full) for j, i in enumerate(index) if j != k):
        return None
    if any(i is Ellipsis for i in index[:k]):
        return ndim - (len(index) - k), index[k]
    return k, index[k]


class Concat(Function):
    """y = [x_1, ..., x_n] joined along ``axis``;  dL/dx_i = the slice of gy that x_i filled."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        self.sizes = [x.shape[self.axis] for x in xs]
        return self.xp.concat(xs, axis=self.axis)

    def backward(self, gy):
        return tuple(_split_at(self.xp, gy, self.sizes, self.axis))


class Stack(Function):
    """y = [x_1, ..., x_n] stacked along a new ``axis``;  dL/dx_i = gy taken at position i of that axis."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        return self.xp.stack(xs, axis=self.axis)

    def backward(self, gy):
        axis = self.axis % gy.ndim
        return tuple(gy[(slice(None),) * axis + (i, ...)] for i in range(gy.shape[axis]))


class Split(Function):
    """(y_1, ..., y_n) = x cut along ``axis`` into pieces of ``sizes``;  dL/dx = the pieces' gradients joined."""

    def __init__(self, sizes, axis=0):
        self.sizes, self.axis = list(sizes), axis

    def forward(self, x):
        if sum(self.sizes) != x.shape[self.axis]:
            raise ValueError(f"split: sizes {self.sizes} add up to {sum(self.sizes)}, but axis {self.axis} "
                             f"has length {x.shape[self.axis]}")
        return tuple(_split_at(self.xp, x, self.sizes, self.axis))

    def backward(self, *gys):
        return self.xp.concat(gys, axis=self.axis)


def _split_at(xp, x, sizes, axis):
    axis = axis % x.ndim
    out, start = [], 0
    for n in sizes:
        out.append(x[(slice(None),) * axis + (slice(start, start + n), ...)])
        start += n
    return out
