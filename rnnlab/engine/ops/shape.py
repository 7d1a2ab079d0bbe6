"""Operations that move elements without changing them: reshape, permute, broadcast, index, join, split."""
from .. import backend
from ..function import Function
from ._broadcast import sum_to


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
        if sorted(a % max(x.ndim, 1) for a in axes) != list(range(x.ndim)):
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
    selected twice by an integer array receives both gradients.
    """

    def __init__(self, index):
        self.index = index

    def forward(self, x):
        self.in_shape = x.shape
        if self._rows() is not None:
            xp, rows = self.xp, self._rows()
            self.flat = xp.reshape(rows, (-1,))
            out = xp.take(x, self.flat, axis=0)
            return xp.reshape(out, tuple(rows.shape) + tuple(x.shape[1:]))
        return x[self.index]

    def _rows(self):
        """The integer array when the index is one integer array (rows), else None."""
        first = self.index[0]
        rest = self.index[1:]
        if backend._namespace_of(first) is not None and all(i is Ellipsis for i in rest):
            return first
        return None

    def backward(self, gy):
        xp = self.xp
        if self._rows() is not None:
            values = xp.reshape(gy, (-1,) + tuple(self.in_shape[1:]))
            return backend.index_add(xp, self.in_shape, self.flat, values)
        if _is_basic(self.index):
            gx = xp.zeros(self.in_shape, dtype=gy.dtype, **backend.device_kwargs(gy))
            gx[self.index] = gy
            return gx
        return backend.index_add(xp, self.in_shape, self.index, gy)



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
        return tuple(gy[(slice(None),) * axis + (i,)] for i in range(gy.shape[axis]))


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
        out.append(x[(slice(None),) * axis + (slice(start, start + n),)])
        start += n
    return out
