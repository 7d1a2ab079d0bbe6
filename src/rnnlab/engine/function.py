"""``Function``: one node of the define-by-run graph.

A function's ``forward`` maps raw input arrays to raw output arrays; its ``backward`` maps the gradients
of the outputs, dL/dy, to the gradients of the inputs, dL/dx = (dy/dx)^T dL/dy, again as raw arrays.
Calling a function on tensors runs ``forward`` and, when gradients are wanted, records the node: it keeps
its inputs (strong references, so the graph stays alive as long as its output does) and its outputs by
weak reference (so an output that nobody holds is freed, and with it the part of the graph only it used).

A node belongs to one graph: calling the same instance a second time would overwrite what its first call
saved for backward, so it is refused (:class:`~rnnlab.engine.errors.FunctionError`); make a new instance
per call, as the operators do.
"""
from __future__ import annotations

import weakref

from . import backend, grad_mode
from .errors import FunctionError
from .tensor import Tensor, as_tensor, is_floating


class Function:
    """Base class of every differentiable operation.

    Subclasses implement ``forward(*arrays) -> array | tuple`` and ``backward(*grads) -> array | tuple``,
    with one gradient (or None) per input, each of its input's shape (a broadcasting operation sums its
    gradient back to the input's shape itself). ``self.xp`` is the inputs' namespace during both.
    Save what backward needs as attributes in ``forward``.

    Attributes of a recorded node: ``inputs`` (Tensors), ``outputs`` (weak references to the output Tensors),
    ``generation``, ``output_specs`` (for a function of several outputs: ``(shape, dtype, device kwargs)``
    of each, from which backward makes zeros for an output that did not lead to the loss) and ``released``.
    """

    inputs = None
    outputs = None
    output_specs = None
    released = False    # set once backward has run and the node has dropped what it held
    name: str | None = None
    input_names: tuple | None = None    # names of the inputs for error messages (default: their positions)

    def input_label(self, k: int, x) -> str:
        """How errors name input ``k`` (Tensor ``x``): ``weight_hh (3, 12)`` when named, else ``input k``."""
        if self.input_names is None:
            return f"input {k}"
        return f"{self.input_names[k]} {tuple(x.shape)}"

    def __call__(self, *inputs):
        """Run ``forward`` on the inputs' arrays; record this node when a gradient will be wanted.

        Inputs that are not Tensors (Python numbers, host data) become constants beside the first
        floating-point Tensor. Errors of the array library are re-raised prefixed with the operation's
        name and the input shapes. Raises FunctionError when this instance is already part of a graph.
        """
        if self.inputs is not None:     # recorded before (a released node keeps inputs = ())
            raise FunctionError(f"{type(self).__name__}: this Function instance was already called in a graph; "
                                f"calling it again would overwrite what backward needs, so make a new instance "
                                f"per call ({type(self).__name__}()(...))")
        tensors = inputs
        for x in inputs:
            if not isinstance(x, Tensor):
                tensors = _as_tensors(inputs)
                break
        datas = [t.data for t in tensors]
        self.xp = backend.get_namespace(*datas, op=self)
        try:
            ys = self.forward(*datas)
        except (ValueError, TypeError, IndexError) as exc:
            message = str(exc)
            if message.startswith(self.op_name + ":"):
                raise
            shapes = ", ".join(str(tuple(d.shape)) for d in datas)
            text = f"{self.op_name}: {message} (inputs of shapes {shapes})"
            try:
                wrapped = type(exc)(text)
            except Exception:    # an exception class whose constructor wants more than a message
                wrapped = next(t for t in (ValueError, TypeError, IndexError) if isinstance(exc, t))(text)
            raise wrapped from exc
        needs_grad = False
        if grad_mode.enabled:
            for t in tensors:
                if t.requires_grad:
                    needs_grad = True
                    break
        if type(ys) is not tuple:
            out = Tensor.wrap(ys, needs_grad)
            if needs_grad:
                self._record(tensors, (out,))
            return out
        outputs = tuple(Tensor.wrap(y, needs_grad) for y in ys)
        if needs_grad:
            self._record(tensors, outputs)
            self.output_specs = [(y.shape, y.dtype, backend.device_kwargs(y)) for y in ys]
        return outputs

    def _record(self, tensors, outputs) -> None:
        """Make this function the creator of ``outputs`` (one generation above its newest input)."""
        generation = 0
        for t in tensors:
            if t.generation > generation:
                generation = t.generation
        self.generation = generation
        for o in outputs:
            o.creator = self
            o.generation = generation + 1
        self.inputs = tensors
        self.outputs = [weakref.ref(o) for o in outputs]

    @property
    def op_name(self) -> str:
        return self.name or type(self).__name__.lower()

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, *gys):
        raise NotImplementedError

    def release(self) -> None:
        """Drop everything the node holds (inputs, saved arrays); the backward walk calls it once the
        node's backward has run, unless ``retain_graph``."""
        self.__dict__.clear()
        self.released = True
        self.inputs = ()

    def __repr__(self):
        return f"<{type(self).__name__} generation={getattr(self, 'generation', '?')}>"


def _as_tensors(inputs) -> list:
    """Inputs as Tensors; Python scalars and host data join the first floating Tensor's backend and dtype."""
    like = None
    for x in inputs:
        if isinstance(x, Tensor) and (like is None or is_floating(x.data)):
            like = x.data
            if is_floating(like):
                break
    return [x if isinstance(x, Tensor) else as_tensor(x, like=like) for x in inputs]
