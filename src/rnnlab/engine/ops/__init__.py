"""The differentiable operations, as functions (``rnnlab.tanh(x)``) and as Tensor operators (``x @ w``).

Each operation is one :class:`~rnnlab.engine.function.Function` subclass, defined beside its local
derivative in ``arithmetic``, ``elementwise``, ``reduction``, ``shape`` and ``nn``.
"""
from .. import backend
from ..tensor import Tensor, as_tensor
from .arithmetic import Add, Div, MatMul, Mul, Neg, Pow, Sub
from .elementwise import Abs, Clip, Exp, Log, Maximum, ReLU, Sigmoid, Sqrt, Tanh, Where
from .nn import CrossEntropy, Embedding, LogSoftmax, MSELoss, Softmax
from .reduction import Max, Mean, Sum
from .shape import BroadcastTo, Concat, GetItem, Permute, Reshape, Split, Stack

__all__ = [
    "add", "sub", "mul", "div", "pow", "neg", "matmul", "exp", "log", "sqrt", "tanh", "sigmoid", "relu",
    "abs", "clip", "maximum", "where", "sum", "mean", "max", "reshape", "transpose", "permute",
    "broadcast_to", "getitem", "concat", "stack", "split", "softmax", "log_softmax", "cross_entropy",
    "mse_loss", "embedding",
]


def add(a, b): return Add()(a, b)
def sub(a, b): return Sub()(a, b)
def mul(a, b): return Mul()(a, b)
def div(a, b): return Div()(a, b)
def pow(a, b): return Pow()(a, b)  # noqa: A001 - mirrors the operator
def neg(x): return Neg()(x)
def matmul(a, b): return MatMul()(a, b)
def exp(x): return Exp()(x)
def log(x): return Log()(x)
def sqrt(x): return Sqrt()(x)
def tanh(x): return Tanh()(x)
def sigmoid(x): return Sigmoid()(x)
def relu(x): return ReLU()(x)
def abs(x): return Abs()(x)  # noqa: A001
def maximum(a, b): return Maximum()(a, b)


def clip(x, lo=None, hi=None):
    """Clamp to [lo, hi]; the gradient passes where lo <= x <= hi (boundaries included) and is 0 outside."""
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo ({lo}) must not exceed hi ({hi})")
    return Clip(lo, hi)(x)


def where(cond, a, b):
    """Element-wise ``a if cond else b``; ``cond`` is a boolean array or tensor (never differentiated)."""
    cond = cond if isinstance(cond, Tensor) else as_tensor(cond, like=_data_of(a, b))
    return Where()(cond, a, b)


def sum(x, axis=None, keepdims=False): return Sum(axis, keepdims)(x)  # noqa: A001
def mean(x, axis=None, keepdims=False): return Mean(axis, keepdims)(x)
def max(x, axis=None, keepdims=False): return Max(axis, keepdims)(x)  # noqa: A001
def permute(x, axes): return Permute(axes)(x)
def transpose(x, axes=None): return Permute(axes)(x)
def broadcast_to(x, shape): return BroadcastTo(shape)(x)
def softmax(x, axis=-1): return Softmax(axis)(x)
def log_softmax(x, axis=-1): return LogSoftmax(axis)(x)
def mse_loss(y, t, reduction="mean"): return MSELoss(reduction)(y, t)


def reshape(x, *shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    return Reshape(shape)(x)


def getitem(x, index):
    """``x[index]``: ints, slices, None, Ellipsis, and integer arrays (or integer tensors)."""
    return GetItem(backend.complete_index(_index_to_backend(index, x), x.ndim))(x)


def concat(tensors, axis=0):
    return Concat(axis)(*tensors)


def stack(tensors, axis=0):
    return Stack(axis)(*tensors)


def split(x, sections, axis=0):
    """Cut ``x`` along ``axis`` into ``sections`` equal pieces (an int) or pieces of the given sizes (a list)."""
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(f"split: axis {axis} is out of range for an array of {x.ndim} dimensions")
    n = x.shape[axis]
    if isinstance(sections, int):
        if sections <= 0 or n % sections:
            raise ValueError(f"split: an axis of length {n} cannot be cut into {sections} equal pieces")
        sizes = [n // sections] * sections
    else:
        sizes = list(sections)
    return Split(sizes, axis)(x)


def cross_entropy(logits, target, reduction="mean"):
    """Softmax cross-entropy of ``logits`` (..., C) against integer class ``target`` (...)."""
    return CrossEntropy(reduction)(logits, _int_to_backend(target, logits))


def embedding(weight, indices):
    """Rows of ``weight`` (V, D) picked by integer ``indices`` (...): shape (..., D)."""
    return Embedding()(weight, _int_to_backend(indices, weight))


def _data_of(*xs):
    for x in xs:
        if isinstance(x, Tensor):
            return x.data
    return None


def _int_to_backend(idx, like):
    """Integer data (tensor, array, list) as an array beside ``like``'s data."""
    data = idx.data if isinstance(idx, Tensor) else idx
    ref = like.data if isinstance(like, Tensor) else like
    if backend.namespace_of(data) is not backend.namespace_of(ref) or backend.namespace_of(data) is None:
        data = backend.asarray(backend.to_numpy(data) if backend.namespace_of(data) else data, like=ref)
    return Tensor.wrap(data, False)


def _index_to_backend(index, x):
    items = index if isinstance(index, tuple) else (index,)
    out = []
    for i in items:
        if isinstance(i, Tensor) or (not isinstance(i, (int, slice)) and i is not None and i is not Ellipsis):
            i = _int_to_backend(i, x).data
        out.append(i)
    return tuple(out)


# ---------------------------------------------------------------- Tensor operators and methods
def _rev(fn):
    return lambda self, other: fn(other, self)


def _compare(op):
    def method(self, other):
        other = other.data if isinstance(other, Tensor) else other
        return Tensor.wrap(op(self.data, other), False)
    return method


def attach_tensor_methods() -> None:
    """Give ``Tensor`` its operators (+, @, [...], <, ...) and methods (``exp``, ``sum``, ``T``, ...), all
    built from the ops above; ``rnnlab.engine``'s ``__init__`` calls it once, after both modules exist."""
    Tensor.__add__ = add
    Tensor.__radd__ = _rev(add)
    Tensor.__sub__ = sub
    Tensor.__rsub__ = _rev(sub)
    Tensor.__mul__ = mul
    Tensor.__rmul__ = _rev(mul)
    Tensor.__truediv__ = div
    Tensor.__rtruediv__ = _rev(div)
    Tensor.__pow__ = pow
    Tensor.__rpow__ = _rev(pow)
    Tensor.__matmul__ = matmul
    Tensor.__rmatmul__ = _rev(matmul)
    Tensor.__neg__ = neg
    Tensor.__getitem__ = getitem
    Tensor.exp = exp
    Tensor.log = log
    Tensor.sqrt = sqrt
    Tensor.tanh = tanh
    Tensor.sigmoid = sigmoid
    Tensor.relu = relu
    Tensor.abs = abs
    Tensor.clip = clip
    Tensor.sum = sum
    Tensor.mean = mean
    Tensor.max = max
    Tensor.reshape = reshape
    Tensor.transpose = transpose
    Tensor.permute = permute
    Tensor.broadcast_to = broadcast_to
    Tensor.softmax = softmax
    Tensor.log_softmax = log_softmax
    Tensor.T = property(lambda self: transpose(self))
    Tensor.__gt__ = _compare(lambda a, b: a > b)
    Tensor.__ge__ = _compare(lambda a, b: a >= b)
    Tensor.__lt__ = _compare(lambda a, b: a < b)
    Tensor.__le__ = _compare(lambda a, b: a <= b)
