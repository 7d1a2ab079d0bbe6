"""``Tensor``: an array that remembers how it was computed, and reverse-mode differentiation over that record.

Every tensor produced by a :class:`~rnnlab.engine.function.Function` points at its ``creator``; the
creator points at its input tensors. ``backward()`` walks this graph from the output towards the leaves,
in decreasing ``generation`` (a node's generation is one more than its newest input's), so that every
function runs its backward exactly once, after all the functions that use its outputs have run theirs.
The walk is a loop over a heap, never a recursion: a 10,000-step unrolled sequence is just a long graph.
"""
from __future__ import annotations

import heapq
import re

from . import backend, collector
from .errors import FunctionError, TensorDataError
from .grad_mode import enable_grad, grad_enabled, no_grad  # noqa: F401  (part of this module's API)

_new = object.__new__
_ndarray, _generic, _host_asarray = backend.host.ndarray, backend.host.generic, backend.host.asarray


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


class Tensor:
    """An array with an optional gradient.

    ``Tensor(data, requires_grad=False)``: ``data`` is a backend array (kept as it is) or Python /
    NumPy data (copied to the active backend; Python floats take the default dtype). Data that holds no
    numbers (None, a ragged nested list, strings, other objects) is refused with a
    :class:`~rnnlab.engine.errors.TensorDataError`.

    Attributes: ``data`` (backend array), ``grad`` (backend array or None, accumulated by ``backward``
    until cleared), ``requires_grad``, ``creator`` (the Function that made it, None for a leaf),
    ``generation`` (its depth in the graph).
    """

    __slots__ = ("data", "grad", "requires_grad", "creator", "generation", "name", "_retain", "_own_grad",
                 "__weakref__")
    __array_priority__ = 1000  # NumPy defers `ndarray + Tensor` to Tensor.__radd__

    def __init__(self, data, requires_grad: bool = False, name: str | None = None):
        if isinstance(data, Tensor):
            data = data.data
        xp = backend.namespace_of(data)
        if xp is None or xp is backend.host or (
                xp is not backend.active_namespace() and backend.current_backend() != "numpy"):
            data = _from_python(data)
        self.data = data
        self.grad = None
        self.creator = None
        self.generation = 0
        self.name = name
        self._retain = False
        self._own_grad = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def wrap(cls, data, requires_grad: bool = False) -> "Tensor":
        """A Tensor around backend array ``data`` as it is: no copy, no conversion, no check (what
        operations return; a NumPy scalar becomes a 0-d array). ``requires_grad`` holds only for floating data."""
        t = _new(cls)
        if type(data) is not _ndarray and isinstance(data, _generic):
            data = _host_asarray(data)
        t.data = data
        t.grad = None
        t.creator = None
        t.generation = 0
        t.name = None
        t._retain = False
        t._own_grad = None
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
        return Tensor.wrap(self.data, False)

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
        backward_walk([(self, grad)], retain_graph)

    def _accumulate(self, g) -> None:
        """grad += g; the first gradient is copied, so that ``.grad`` is this tensor's own array, and later ones
        are added into it in place (no fresh array per contribution: a weight used at every time step gets T).
        A ``.grad`` assigned from outside is never written into: it is replaced by the sum."""
        if self.grad is None:
            self.grad = self._own_grad = _own(g)
        elif self.grad is self._own_grad and self.grad.dtype == g.dtype and self.grad.shape == g.shape:
            self.grad += g
        else:
            self.grad = self._own_grad = self.grad + g

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


def backward_walk(roots, retain_graph: bool = False, observe=None, deliver=None, compute: bool = True,
                  op: str = "backward") -> None:
    """The reverse sweep: pop functions newest-generation first, push each input's creator once.

    ``roots``: (tensor, dL/d(tensor)) pairs. ``pending`` holds, for every non-leaf tensor that has received
    gradient but whose creator has not run yet, the tensor (kept alive here, since its creator holds it only
    by weak reference) and the sum of the gradients it received so far. A function none of whose outputs
    leads to the roots is skipped; an output that does not gets zeros.

    Every gradient a function returns is checked: one per input, each of its input's shape (else a
    :class:`~rnnlab.engine.errors.FunctionError` naming the function, the input and both shapes).

    Hooks let tools watch this walk instead of writing it again (``rnnlab.engine.graph`` does):

    * ``observe(f, gys, gxs)`` is called after each function's backward, with the gradients it received
      (one per output) and those it returned (one per input, None where none);
    * ``deliver(t, g)`` is called instead of adding ``g`` into ``t.grad``: for a leaf once per gradient it
      receives, for a tensor that asked ``retain_grad`` once with its total;
    * ``compute=False`` runs no backward at all: every input that requires grad is handed its own data as a
      stand-in gradient, so the walk visits the functions in the same order at the cost of a few additions.

    ``op`` names the caller in errors. The walk runs with Python's cyclic collector paused
    (:func:`rnnlab.engine.collector.paused`): the graph it frees has no cycles.
    """
    with collector.paused():
        _walk(roots, retain_graph, observe, deliver, compute, op)


def _walk(roots, retain_graph, observe, deliver, compute, op) -> None:
    """The loop of :func:`backward_walk`."""
    pending: dict[int, tuple] = {}   # id(tensor) -> (tensor, summed gradient)
    heap: list = []
    queued: set[int] = set()
    for t, g in roots:
        pending[id(t)] = (t, g)
        _push(heap, queued, t.creator, op)

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
                out._accumulate(entry[1]) if deliver is None else deliver(out, entry[1])
            gys.append(entry[1])
        if missing:
            if missing == len(gys):     # no output of f leads to the root
                if not retain_graph:
                    f.release()
                continue
            gys = [g if g is not None else f.xp.zeros(shape, dtype=dtype, **device)
                   for g, (shape, dtype, device) in zip(gys, f.output_specs)]
        gxs = f.backward(*gys) if compute else tuple(x.data if x.requires_grad else None for x in f.inputs)
        if type(gxs) is not tuple:
            gxs = tuple(gxs) if type(gxs) is list else (gxs,)
        inputs = f.inputs
        if len(gxs) != len(inputs):
            raise FunctionError(f"{type(f).__name__}.backward returned {len(gxs)} gradient"
                                f"{'' if len(gxs) == 1 else 's'} for {len(inputs)} input"
                                f"{'' if len(inputs) == 1 else 's'}; return one per input (None for an input "
                                "that gets no gradient)")
        for x, gx in zip(inputs, gxs):
            if gx is None or not x.requires_grad:
                continue
            try:
                wrong = gx.shape != x.data.shape
            except AttributeError:
                wrong = True
            if wrong:
                raise _wrong_shape(f, inputs, gxs, x, gx)
            creator = x.creator
            if creator is None:
                x._accumulate(gx) if deliver is None else deliver(x, gx)
                continue
            entry = pending.get(id(x))
            pending[id(x)] = (x, gx if entry is None else entry[1] + gx)
            if id(creator) not in queued:
                _push(heap, queued, creator, op)
        if observe is not None:
            observe(f, gys, gxs)
        if not retain_graph:
            f.release()


def _wrong_shape(f, inputs, gxs, x, gx) -> FunctionError:
    k = next(k for k, (a, b) in enumerate(zip(inputs, gxs)) if a is x and b is gx)
    got = f"shape {tuple(gx.shape)}" if hasattr(gx, "shape") else f"a {type(gx).__name__}"
    return FunctionError(f"{type(f).__name__}.backward: the gradient for {f.input_label(k, x)} has {got}, expected that "
                         f"input's shape {tuple(x.data.shape)} (a broadcasting operation sums its gradient "
                         "back to the input's shape)")


def check_alive(f, op: str) -> None:
    """Raise RuntimeError, naming ``op``, when function ``f`` was released by an earlier backward."""
    if f.released:
        raise RuntimeError(f"{op}: part of this graph was already freed by backward(); pass retain_graph=True "
                           "to the first backward() to walk it again, or build the graph again")


def _push(heap: list, queued: set, f, op: str) -> None:
    """Queue function ``f`` for its backward (once), ordered by decreasing generation, then first come."""
    check_alive(f, op)
    if id(f) not in queued:
        queued.add(id(f))
        heapq.heappush(heap, (-f.generation, len(queued), f))


def _own(g):
    """A private, writable copy of gradient ``g``: a leaf's ``.grad`` never aliases another array."""
    return g.copy() if type(g) is _ndarray else backend.asarray(g, like=g, copy=True)


def _from_python(data):
    """Host data (lists, scalars, NumPy arrays) or another backend's array, moved to the active backend.

    Python data becomes an array of the default float dtype when it holds floats; a NumPy array keeps its
    dtype. Anything that is not numbers is refused with a TensorDataError."""
    host = backend.host
    xp = backend.namespace_of(data)
    if xp is None or xp is host:
        if data is None:
            raise TensorDataError("Tensor: cannot make a tensor from None; pass a number, a nested list of "
                                  "numbers or an array")
        try:
            arr = host.asarray(data)
        except ValueError as exc:
            depth = re.search(r"inhomogeneous shape after (\d+) dim", str(exc))
            what = f"its rows at depth {depth.group(1)} have different lengths" if depth else str(exc)
            raise TensorDataError(f"Tensor: cannot make a tensor from a ragged nested {type(data).__name__}: "
                                  f"{what}; nested lists must be rectangular") from None
        kind = arr.dtype.kind
        if kind not in "biuf":
            if kind == "O":
                kinds = ", ".join(sorted({type(v).__name__ for v in arr.reshape(-1).tolist()
                                          if not isinstance(v, (bool, int, float))})) or "Python objects"
                raise TensorDataError(f"Tensor: cannot make a tensor from data holding {kinds} (dtype object); "
                                      "every element must be a number")
            raise TensorDataError(f"Tensor: cannot make a tensor from data of dtype {arr.dtype}")
        if xp is None and kind == "f":
            arr = arr.astype(backend.default_dtype_name())
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
            return Tensor.wrap(backend.host.asarray(x, dtype=dtype), False)
        return Tensor.wrap(xp.asarray(x, dtype=dtype, device=like.device), False)
    if like is not None and backend.namespace_of(x) is None:
        return Tensor.wrap(backend.asarray(_from_python(x), like=like), False)
    return Tensor(x)

