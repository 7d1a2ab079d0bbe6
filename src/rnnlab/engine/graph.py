"""Look at a recorded graph: DOT text of it, a PNG when Graphviz is installed, and a traced backward pass.

Three tools for reading what ``backward()`` does, none of which changes it:

* :func:`to_dot` -- the graph behind a tensor as Graphviz DOT text: tensors (ellipses: name, shape, dtype,
  and with ``grads`` their gradient) and functions (boxes: name, generation, and the position in which
  backward runs them), with edges input -> function -> output. Pure text; Graphviz is not needed for it.
* :func:`render` -- the same graph drawn to a PNG (or SVG, PDF) by Graphviz's ``dot`` program.
* :func:`trace_backward` -- the reverse sweep done step by step, as ``backward()`` does it (functions
  popped newest generation first, ties in the order they were queued), recording for each function the
  gradients it received (shape and norm) and those it passed on. It leaves ``.grad`` and the graph
  untouched, so ``backward()`` can still be called afterwards and computes the same numbers.

    from rnnlab.engine import graph
    print(graph.to_dot(loss))
    trace = graph.trace_backward(loss)
    print(trace)               # one line per function, in the order backward runs them

:func:`backward_order` gives just that order (the functions), without computing any gradient.

None of them walks the graph its own way: they watch the engine's walk,
:func:`~rnnlab.engine.tensor.backward_walk`, through its ``observe`` and ``deliver`` hooks.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from . import backend
from .tensor import Tensor, backward_walk, check_alive, root_gradient
from .norms import lp_norm

__all__ = ["to_dot", "render", "trace_backward", "backward_order", "BackwardStep", "BackwardTrace",
           "function_name"]

RENDER_FORMATS = ("png", "svg", "pdf")


def function_name(f) -> str:
    """The name a function shows in pictures and traces: its ``name`` if set, else its class name."""
    return f.name or type(f).__name__


def _check_root(tensor, owner: str) -> None:
    if not isinstance(tensor, Tensor):
        raise TypeError(f"{owner}: expected a rnnlab Tensor (the output whose graph to follow), got "
                        f"{type(tensor).__name__}")


def _ignore(tensor, g) -> None:
    """A ``deliver`` hook that writes no ``.grad``."""


def _order(root: Tensor, owner: str) -> list:
    """The functions of ``root``'s graph in the order the engine's walk runs them, without running them."""
    order = []
    if root.creator is not None:
        backward_walk([(root, root.data)], retain_graph=True, observe=lambda f, gys, gxs: order.append(f),
                      deliver=_ignore, compute=False, op=owner)
    return order


def backward_order(tensor) -> list:
    """The functions of ``tensor``'s graph in the order ``tensor.backward()`` runs their backward.

    Decreasing generation; among equal generations, the order in which they were queued. Empty for a
    leaf. Raises RuntimeError when the graph was freed by an earlier backward().
    """
    _check_root(tensor, "backward_order")
    return _order(tensor, "backward_order")


# ---------------------------------------------------------------------------------------------- DOT
def _collect(root: Tensor, owner: str):
    """Every tensor and function reachable from ``root`` (inputs of functions, live outputs), in discovery
    order, and the edges between them."""
    tensors: dict[int, Tensor] = {id(root): root}
    functions: dict[int, object] = {}
    edges: list[tuple[int, int]] = []          # (from id, to id): tensor -> function, function -> tensor
    todo = [root.creator] if root.creator is not None else []
    while todo:
        f = todo.pop(0)
        if id(f) in functions:
            continue
        check_alive(f, owner)
        functions[id(f)] = f
        for ref in f.outputs:
            out = ref()
            if out is not None:
                tensors.setdefault(id(out), out)
                edges.append((id(f), id(out)))
        for x in f.inputs:
            tensors.setdefault(id(x), x)
            edges.append((id(x), id(f)))
            if x.creator is not None and id(x.creator) not in functions:
                todo.append(x.creator)
    return tensors, functions, edges


def _tensor_label(t: Tensor, name: str | None, values: bool, grads) -> str:
    dtype = str(t.dtype).rsplit(".", 1)[-1]
    head = name or ("" if t.creator is not None else ("leaf" if t.requires_grad else "constant"))
    lines = [head] if head else []
    lines.append(f"{t.shape} {dtype}")
    if values and t.size == 1:
        lines.append(f"= {_scalar(t.data):.4g}")
    if grads is not False and t.requires_grad:
        g = t.grad if grads is True else grads.grad(t)
        if g is None:
            lines.append("grad -")
        else:
            lines.append(f"grad = {_scalar(g):.4g}" if t.size == 1 else f"|grad| = {_norm(g):.4g}")
    return "\\n".join(lines)


def _scalar(a) -> float:
    return float(backend.to_numpy(a).reshape(-1)[0])


def _quote(text: str) -> str:
    return '"' + text.replace('"', '\\"') + '"'


def to_dot(tensor, names: dict | None = None, values: bool = False, order: bool = True, grads=False) -> str:
    """Graphviz DOT text of the graph that computed ``tensor``.

    Tensors are ellipses labelled with their name (``names``: a dict {name: Tensor}, else the tensor's
    ``name`` attribute; unnamed leaves say 'leaf', inputs without gradient 'constant'), shape and dtype, and
    with ``values`` their value when they hold one element. ``grads`` adds the gradient of every tensor that
    requires grad ('grad = g' for one element, '|grad| = ||g||_2' otherwise, 'grad -' where there is none):
    ``True`` shows ``.grad`` as ``backward(retain_graph=True)`` left it (leaves, and intermediate tensors that
    asked ``retain_grad()``); a :class:`BackwardTrace` shows the trace's dL/dt for every tensor, without any
    backward. Functions are boxes labelled with their name and
    generation and, with ``order``, '#k': the k-th function backward runs (1-based). Edges run input ->
    function -> output, in the forward direction. Tensors the program no longer holds (an unused output of a
    multi-output function) are left out. Raises TypeError for a non-Tensor and RuntimeError for a graph that
    backward() has freed.
    """
    _check_root(tensor, "to_dot")
    if not (grads is True or grads is False or isinstance(grads, BackwardTrace)):
        raise TypeError(f"to_dot: grads must be True, False or a BackwardTrace (from trace_backward), got "
                        f"{type(grads).__name__}")
    labels = {id(t): n for n, t in (names or {}).items()}
    tensors, functions, edges = _collect(tensor, "to_dot")
    rank = {id(f): k for k, f in enumerate(_order(tensor, "to_dot"), 1)} if order else {}
    ids = {}
    lines = ["digraph rnnlab {", "  rankdir=TB;", '  node [fontname="Helvetica", fontsize=11];']
    for k, (key, t) in enumerate(tensors.items()):
        ids[key] = f"t{k}"
        style = ', style="dashed"' if not t.requires_grad else ""
        fill = ', style="filled", fillcolor="#fde2b8"' if key == id(tensor) else ""
        label = _tensor_label(t, labels.get(key, t.name), values, grads)
        lines.append(f"  t{k} [shape=ellipse, label={_quote(label)}{style or fill}];")
    for k, (key, f) in enumerate(functions.items()):
        ids[key] = f"f{k}"
        label = f"{function_name(f)}\\ngen {f.generation}"
        if key in rank:
            label += f", backward #{rank[key]}"
        lines.append(f'  f{k} [shape=box, style="filled", fillcolor="#cfe3f7", label={_quote(label)}];')
    for a, b in edges:
        lines.append(f"  {ids[a]} -> {ids[b]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(tensor, path, names: dict | None = None, values: bool = False, order: bool = True,
           dpi: int | None = None, grads=False) -> Path:
    """Draw ``tensor``'s graph (as :func:`to_dot`) to ``path`` with Graphviz; the format is the file's
    suffix: .png, .svg or .pdf. ``dpi``: resolution of a PNG (Graphviz's default, 96, when None).
    Returns the path. Needs the ``dot`` program: RuntimeError otherwise (and when ``dot`` fails)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in RENDER_FORMATS:
        raise ValueError(f"render: the file name must end in one of {', '.join('.' + f for f in RENDER_FORMATS)} "
                         f"(the format to draw), got {path.name!r}")
    text = to_dot(tensor, names=names, values=values, order=order, grads=grads)
    dot = shutil.which("dot")
    if dot is None:
        raise RuntimeError("render: Graphviz's 'dot' program is not installed (apt-get install graphviz, or "
                           "brew install graphviz); graph.to_dot(tensor) gives the DOT text without it")
    args = [dot, f"-T{fmt}", "-o", str(path)] + ([f"-Gdpi={int(dpi)}"] if dpi else [])
    done = subprocess.run(args, input=text.encode(), capture_output=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"render: dot failed with exit status {done.returncode}: "
                           f"{done.stderr.decode(errors='replace').strip()}")
    return path


# ---------------------------------------------------------------------------------------------- trace
def _norm(g) -> float:
    """||g||_2, scaled so that tiny and huge gradients are not read as 0 or inf."""
    return float(backend.to_numpy(lp_norm([g])))


def _shape(g) -> tuple:
    return tuple(int(s) for s in g.shape)


@dataclass(frozen=True)
class BackwardStep:
    """One function's backward in a traced pass.

    ``index``: its position (1-based) in the order backward runs; ``function``: its name; ``generation``;
    ``grad_shapes``/``grad_norms``: for each output, the shape and L2 norm of dL/d(output) it received
    (an output that does not lead to the loss gets zeros, as in backward; its norm is 0.0);
    ``input_grad_norms``: for each input, the norm of the dL/d(input) it passed on (None where it passed
    nothing: an input that does not require grad).
    """

    index: int
    function: str
    generation: int
    grad_shapes: tuple
    grad_norms: tuple
    input_grad_norms: tuple

    @property
    def grad_norm(self) -> float:
        """The norm of dL/d(output) for a single-output function (the first output's otherwise)."""
        return self.grad_norms[0]

    def __str__(self) -> str:
        shapes = ", ".join(str(s) for s in self.grad_shapes)
        norms = ", ".join(f"{n:.4g}" for n in self.grad_norms)
        passed = ", ".join("-" if n is None else f"{n:.4g}" for n in self.input_grad_norms)
        return f"{self.index:>3}  {self.function:<18} {self.generation:>4}  {shapes:<18} {norms:<14} {passed}"


class BackwardTrace(list):
    """The :class:`BackwardStep` s of one traced backward pass, in the order backward runs them.

    ``str(trace)`` is a table with one line per function. ``trace.grad(t)`` is the total dL/dt (a backend
    array) the pass computed for any tensor ``t`` of the graph that requires grad (leaf or intermediate),
    None for a tensor it never reached.
    """

    def __init__(self, steps=(), grads=None):
        super().__init__(steps)
        self._grads = grads or {}

    def grad(self, tensor):
        entry = self._grads.get(id(tensor))
        return None if entry is None or entry[0] is not tensor else entry[1]

    @property
    def functions(self) -> list:
        """The function names, in backward order."""
        return [s.function for s in self]

    def __str__(self) -> str:
        head = f"{'#':>3}  {'function':<18} {'gen':>4}  {'dL/dy shape':<18} {'|dL/dy|':<14} |dL/dx| per input"
        return "\n".join([head] + [str(s) for s in self])


def trace_backward(tensor, grad=None) -> BackwardTrace:
    """Run the reverse sweep of ``tensor.backward(grad)`` step by step and record it, without changing
    anything: no ``.grad`` is written and no node is freed (each function's backward is called as with
    ``retain_graph=True``), so ``backward()`` may run afterwards and gives the same gradients.

    ``grad``: dL/d(tensor), as for ``backward`` (omitted only for a one-element tensor: then 1).
    Returns a :class:`BackwardTrace`. Raises RuntimeError when ``tensor`` does not require grad or its
    graph was freed, ValueError when ``grad`` has the wrong shape. A function whose backward can run only
    once (the compiled LSTM kernel's fused sequence on NumPy) cannot be traced and then backpropagated.
    """
    _check_root(tensor, "trace_backward")
    grad = root_gradient(tensor, grad, "trace_backward")
    grads: dict[int, tuple] = {id(tensor): (tensor, grad)}     # id -> (tensor, total dL/dtensor so far)
    steps = []

    def observe(f, gys, gxs):
        passed = []
        for x, gx in zip(f.inputs, gxs):
            if gx is None or not x.requires_grad:
                passed.append(None)
                continue
            passed.append(_norm(gx))
            entry = grads.get(id(x))
            grads[id(x)] = (x, gx if entry is None else entry[1] + gx)
        steps.append(BackwardStep(len(steps) + 1, function_name(f), f.generation,
                                  tuple(_shape(g) for g in gys), tuple(_norm(g) for g in gys), tuple(passed)))

    if tensor.creator is not None:
        backward_walk([(tensor, grad)], retain_graph=True, observe=observe, deliver=_ignore, op="trace_backward")
    return BackwardTrace(steps, grads)
