"""``Tensor``: an array that remembers how it was computed, and reverse-mode differentiation over that record.

Every tensor produced by a :class:`~rnnlab.engine.function.Function` points at its ``creator``; the
creator points at its input tensors. ``backward()`` walks this graph from the output towards the leaves,
in decreasing ``generation`` (a node's generation is one more than its newest input's), so that every
function runs its backward exactly once, after all the functions that use its outputs have run theirs.
The walk is a loop over a heap, never a recursion: a 10,000-step unrolled sequence is just a long graph.
"""
from __future__ import annotations

import contextlib
import heapq

from . import backend

_grad_enabled = True
_new = object.__new__
_ndarray, _generic, _host_asarray = backend.host.ndarray, backend.host.generic, backend.host.asarray


def grad_enabled() -> bool:
    return _grad_enabled


@contextlib.contextmanager
def no_grad():
    """Run a block without recording the graph (evaluation, optimizer updates)."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        yield
    finally:
        _grad_enabled = previous


@contextlib.contextmanager
def enable_grad():
    """Record the graph inside a block even where an outer ``no_grad`` turned recording off."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, True
    try:
        yield
    finally:
        _grad_enabled = previous


_floating_dtypes: dict = {}   # dtype -> whether it is a real floating dtype (asked once per dtype)


def is_floating(data) -> bool:
    """Whether a backend array has a real floating dtype (only those can carry gradients)."""
    dtype = data.dtype
    key = (type(dtype), dtype)   # the type first: NumPy and strict dtypes must never be compared
    known = _floating_dtypes.get(key)
    if known is None:
        xp = backend.get_namespace(data)
        known = _floating_dtypes[key] = bool(
            xp.isdtype(dtype, "real floating") if hasattr(xp, "isdtype") else dtype.kind == "f")
    return known


def _is_floating(xp, dtype) -> bool:
    """Whether ``dtype`` of namespace ``xp`` is a real floating dtype (kept for callers that hold a dtype)."""
    return bool(xp.isdtype(dtype, "real floating") if hasattr(xp, "isdtype") else dtype.kind == "f")


class Tensor:
    """An array with an optional gradient.

    ``Tensor(data, requires_grad=False)``: ``data`` is a backend array (kept as it is) or Python /
    NumPy data (copied to the active backend; Python floats take the default dtype).

    Attributes: ``data`` (backend array), ``grad`` (backend array or None, accumulated by ``backward``
    until cleared), ``requires_grad``, ``creator`` (the Function that made it, None for a leaf),
    ``generation`` (its depth in the graph).
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "generation", "name", "_retain",
                 "__weakref__")
    __array_priority__ = 1000  # NumPy defers `ndarray + Tensor` to Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        if backend._namespace_of(data) is None or (
                backend._namespace_of(data) is not backend.active_namespace()
                and backend.current_backend() != "numpy"):
            data = _from_python(data)
        self.data = data
        self.grad = None
        self.creator = None
        self.generation = 0
        self.name = name
        self._retain = False
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _from_op(cls, data, requires_grad: bool) -> "Tensor":
        t = _new(cls)
        if type(data) is not _ndarray and isinstance(data, _generic):
            data = _host_asarray(data)
        t.data = data
        t.grad = None
        t.creator = None
        t.generation = 0
        t.name = None
        t._retain = False
        t.requires_grad = requires_grad and is_floating(data)
        return t

    # ------------------------------------------------------------------ properties
    @property
    def shape(self) -> tuple:
        return tuple(self.data.shape)

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def dtype(self):
        return self.data.dtype

    @property
    def size(self) -> int:
        n = 1
        for s in self.data.shape:
            n *= s
        return n

    @property
    def device(self):
        return backend.device_of(self.data)

    @property
    def is_leaf(self) -> bool:
        return self.creator is None

    def __len__(self):
        return self.data.shape[0]

    def __repr__(self):
        arr = backend.to_numpy(self.data)
        grad = ", requires_grad=True" if self.requires_grad else ""
        return f"Tensor({arr!r}{grad})".replace("\n", "\n       ")

    # ------------------------------------------------------------------ graph control
    def requires_grad_(self, flag: bool = True) -> "Tensor":
        if flag and not is_floating(self.data):
            raise TypeError(f"Tensor.requires_grad: only floating-point tensors can require gradients "
                            f"(this one has dtype {self.data.dtype})")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self) -> "Tensor":
        """Keep this intermediate tensor's gradient in ``.grad`` after ``backward`` (leaves always keep it)."""
        self._retain = True
        return self

    def detach(self) -> "Tensor":
        """A new leaf sharing this tensor's data, cut from the graph (gradients stop here)."""
        return Tensor._from_op(self.data, False)

    def zero_grad(self) -> None:
        self.grad = None

    def numpy(self):
        """The data as a NumPy array on the host (a copy for device backends)."""
        return backend.to_numpy(self.data)

    def item(self) -> float:
        return backend.to_numpy(self.data).item()

    def to(self, name: str | None = None, device=None) -> "Tensor":
        """A copy of this tensor on another backend/device (a leaf; the graph does not cross backends)."""
        with backend.use_backend(name or backend.current_backend(), device=device):
            t = Tensor(backend.asarray(self.data if name is None else backend.to_numpy(self.data)))
        return t.requires_grad_(self.requires_grad)

    # ------------------------------------------------------------------ reverse mode
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf), contracted with ``grad``, into every leaf's ``.grad``.

        ``grad`` is dL/d(self), the upstream gradient; it may be omitted only for a tensor with one
        element (then it is 1). Unless ``retain_graph``, the graph is freed as it is walked.
        """
        grad = root_gradient(self, grad, "backward")
        if self.creator is None:
            self._accumulate(grad)
            return
        _run_backward([(self, grad)], retain_graph)

    def _accumulate(self, g) -> None:
        """grad += g; the first gradient is copied, so that ``.grad`` is this tensor's own array."""
        self.grad = _own(g) if self.grad is None else self.grad + g

    # operators are attached by rnnlab.engine.ops (one definition per operation)


def root_gradient(tensor: Tensor, grad, op: str):
    """dL/d(tensor) as a backend array of the tensor's shape and dtype, checked: ``grad`` may be omitted
    (then 1) only for a single-element tensor, which must require grad. ``op`` names the caller in errors."""
    if not tensor.requires_grad:
        raise RuntimeError(f"{op}: this tensor does not require grad (no input of the computation "
                           "had requires_grad=True, or it was computed under no_grad())")
    xp = backend.get_namespace(tensor.data)
    if grad is None:
        if tensor.size != 1:
            raise RuntimeError(f"{op}: grad can be implied only for a single-element output; this "
                               f"output has shape {tensor.shape}, so pass grad= of that shape")
        return xp.ones_like(tensor.data)
    grad = grad.data if isinstance(grad, Tensor) else backend.asarray(grad, like=tensor.data)
    backend.get_namespace(tensor.data, grad, op=op)
    if tuple(grad.shape) != tensor.shape:
        raise ValueError(f"{op}: grad has shape {tuple(grad.shape)} but the output has shape {tensor.shape}")
    if grad.dtype != tensor.data.dtype:
        grad = xp.astype(grad, tensor.data.dtype)
    return grad


def _run_backward(roots, retain_graph: bool) -> None:
    """The reverse sweep: pop functions newest-generation first, push each input's creator once.

    ``pending`` holds, for every non-leaf tensor that has received gradient but whose creator has not run
    yet, the tensor (kept alive here, since its creator holds it only by weak reference) and the sum of
    the gradients it received so far.
    """
    pending: dict[int, tuple] = {}   # id(tensor) -> (tensor, summed gradient)
    heap: list = []
    queued: set[int] = set()
    for t, g in roots:
        pending[id(t)] = (t, g)
        _push(heap, queued, t.creator)

    while heap:
        f = heapq.heappop(heap)[2]
        gys = []
        missing = 0
        for ref in f.outputs:
            out = ref()
            entry = pending.pop(id(out), None) if out is not None else None
            if entry is None:
                gys.append(None)
                missing += 1
                continue
            if out._retain:
                out._accumulate(entry[1])
            gys.append(entry[1])
        if missing:
            if missing == len(gys):     # no output of f leads to the root
                if not retain_graph:
                    f._release()
                continue
            gys = [g if g is not None else f.xp.zeros(shape, dtype=dtype, **device)
                   for g, (shape, dtype, device) in zip(gys, f._out_meta)]
        gxs = f.backward(*gys)
        if type(gxs) is not tuple:
            gxs = (gxs,)
        for x, gx in zip(f.inputs, gxs):
            if gx is None or not x.requires_grad:
                continue
            creator = x.creator
            if creator is None:
                x._accumulate(gx)
                continue
            entry = pending.get(id(x))
            pending[id(x)] = (x, gx if entry is None else entry[1] + gx)
            if id(creator) not in queued:
                _push(heap, queued, creator)
        if not retain_graph:
            f._release()


def _push(heap: list, queued: set, f) -> None:
    """Queue function ``f`` for its backward (once), ordered by decreasing generation, then first come."""
    if f.released:
        raise RuntimeError("backward: part of this graph was already freed by an earlier backward(); "
                           "pass retain_graph=True to the first backward() to walk it twice")
    if id(f) not in queued:
        queued.add(id(f))
        heapq.heappush(heap, (-f.generation, len(queued), f))


def _own(g):
    """A private, writable copy of gradient ``g``: a leaf's ``.grad`` never aliases another array."""
    return g.copy() if type(g) is _ndarray else backend.asarray(g, like=g, copy=True)


def _from_python(data):
    """Host data (lists, scalars, NumPy arrays) or another backend's array, moved to the active backend."""
    host = backend.host
    if backend._namespace_of(data) is None:
        arr = host.asarray(data)
        if arr.dtype.kind == "f" or arr.dtype.kind == "O":
            arr = arr.astype(backend.default_dtype_name())
        elif arr.dtype.kind not in "biu":
            raise TypeError(f"Tensor: cannot make a tensor from data of dtype {arr.dtype}")
        data = arr
    return backend.asarray(data)


def as_tensor(x, like=None) -> Tensor:
    """``x`` as a Tensor; Python scalars take the dtype and device of ``like`` (an array) when given.

    A Python float beside a non-floating ``like`` takes the default float dtype (never truncated to the
    integer or boolean dtype); a Python int beside a boolean ``like`` takes the default integer dtype.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None and isinstance(x, (int, float)) and not isinstance(x, bool):
        xp = backend.get_namespace(like)
        dtype = like.dtype
        if not is_floating(like):
            if isinstance(x, float):
                dtype = backend.get_default_dtype(xp)
            elif dtype == xp.bool:
                dtype = None
        if backend.is_numpy(xp):
            return Tensor._from_op(backend.host.asarray(x, dtype=dtype), False)
        return Tensor._from_op(xp.asarray(x, dtype=dtype, device=like.device), False)
    if like is not None and backend._namespace_of(x) is None:
        return Tensor._from_op(backend.asarray(_from_python(x), like=like), False)
    return Tensor(x)


from . import ops as _ops  # noqa: E402,F401  (attaches the operators to Tensor)
