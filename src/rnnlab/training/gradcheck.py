"""``rnnlab gradcheck CELL``: verify a cell's BPTT gradients against central differences, on every path
that runs for that cell, and say so.

For a random sequence x (T, B, D), random initial state and random upstream gradients of the outputs and
the final state, every gradient that BPTT computes (inputs, initial state, each parameter) is compared with
finite differences in float64; one line per quantity reports the check. The paths (``PATHS``):

* ``composed``: the cell's step from engine operations, unrolled; autodiff does BPTT;
* ``loop``: the fused sequence with its readable per-step loop and hand-written BPTT (kernels switched off);
* ``kernel``: the fused sequence with the compiled kernels (numpy backend, numba installed, cells whose
  core declares a compiled path for the cell's momentum rule); reported as absent otherwise.

Each fused path prints the path ``rnnlab.cells.fused.choose_path`` picks and why. Each row names the
quantity: ``x``, the initial states (``h0``, ``c0``, ``v0``, ...) and the parameters by attribute name
(``weight_hh``, ``alpha``, ...), with their shapes; a gradient that breaks the Function contract
(:class:`~rnnlab.engine.errors.FunctionError`) is a FAILED row too.
"""
from __future__ import annotations

import contextlib
from types import SimpleNamespace

from ..cells import kernels as kernel_switch
from ..cells.fused import choose_path
from ..cells.registry import cell_class
from ..engine import backend, init
from ..engine.errors import FunctionError
from ..engine.gradcheck import GradcheckError, gradcheck
from ..engine.tensor import Tensor
from .config import ConfigError
from .model import make_cells

PATHS = ("composed", "loop", "kernel")
DESCRIPTIONS = {"composed": "composed steps, autodiff BPTT",
                "loop": "fused readable loop, hand-written BPTT",
                "kernel": "fused compiled kernels, hand-written BPTT"}


def check_cell(name: str, steps: int = 4, batch: int = 2, hidden: int = 3, fused: bool = True, seed: int = 0,
               input_size: int = 2, out=print, kernels: bool = True, paths=None) -> bool:
    """Run the check for cell ``name`` (a ``--cell`` name such as ``lstm``); True when every gradient of
    every checked path passes.

    ``paths``: names from ``PATHS`` to check; None checks every path that runs for the cell ('composed',
    'loop' and, when present, 'kernel'; only 'composed' when ``fused`` is False). ``kernels=False`` never
    checks the kernel path. A requested 'kernel' path that the cell does not have is reported, not failed.
    """
    cell_class(name)
    for arg, value in (("steps", steps), ("batch", batch), ("hidden", hidden), ("input_size", input_size)):
        if value < 1:
            raise ConfigError(f"gradcheck: {arg} must be at least 1, got {value}")
    chosen = _paths(paths, fused, kernels)
    previous = backend.default_dtype_name()
    backend.set_default_dtype("float64")
    try:
        out(f"gradcheck {name}: T={steps}, B={batch}, D={input_size}, H={hidden}, float64")
        out("  comparing J^T v from backward() with central differences (eps 1e-6) for a random v")
        results = {}
        for path in chosen:
            rnn, x, state = _build(name, path, steps, batch, hidden, seed, input_size)
            if path == "composed":
                out(f"  path {path} ({DESCRIPTIONS[path]})")
                results[path] = _check_path(rnn, x, state, out)
                continue
            with kernel_switch.disabled() if path == "loop" else _nothing():
                chosen = _chosen(rnn)
                if path == "kernel" and not chosen.fast:
                    out(f"  path {path}: not checked ({chosen.reason})")
                    continue
                out(f"  path {path} ({DESCRIPTIONS[path]}): runs '{chosen.name}': {chosen.reason}")
                results[path] = _check_path(rnn, x, state, out)
        ok = all(results.values())
        summary = ", ".join(f"{p} {'ok' if r else 'FAILED'}" for p, r in results.items())
        out(("all gradients match: " if ok else "some gradients are wrong: ") + summary)
        return ok
    finally:
        backend.set_default_dtype(previous)


@contextlib.contextmanager
def _nothing():
    yield


def _paths(paths, fused: bool, kernels: bool) -> tuple:
    if paths is None:
        chosen = PATHS if fused else ("composed",)
    else:
        chosen = (paths,) if isinstance(paths, str) else tuple(paths)
        unknown = [p for p in chosen if p not in PATHS]
        if unknown or not chosen:
            raise ConfigError(f"gradcheck: paths must be names from {', '.join(PATHS)}, got {paths!r}")
    return tuple(p for p in chosen if kernels or p != "kernel")


def _build(name, path, steps, batch, hidden, seed, input_size):
    """The same seeded one-layer stack, input and initial state for every path."""
    from ..cells import Recurrent
    from .config import TrainConfig

    cfg = TrainConfig(cell=name, hidden=hidden, seed=seed, nonlinearity="tanh")
    cells = make_cells(SimpleNamespace(**{**cfg.to_dict(), "layers": 1}), input_size, steps)
    rnn = Recurrent(cells, fused=path != "composed")
    rng = init.get_rng([seed, 9])
    x = Tensor(backend.asarray(rng.standard_normal((steps, batch, input_size))), requires_grad=True)
    cell = cells[0]
    state = []
    for state_name, shape in zip(cell.state_names, cell.state_shapes(batch)):
        v = 0.5 * rng.standard_normal(shape)
        state.append(Tensor(backend.asarray(abs(v) + 0.1 if state_name == "m" else v), requires_grad=True))
    return rnn, x, tuple(state)


def _chosen(rnn):
    """What the fused path will run for the stack's cell: :func:`rnnlab.cells.fused.choose_path`'s answer."""
    cell = rnn.cells[0]
    return choose_path(cell.core, cell.rule, backend.get_namespace(cell.weight_ih.data))


def _check_path(rnn, x, state, out) -> bool:
    names = [f"{state_name}0" for state_name in rnn.cells[0].state_names]
    names += [n.split(".")[-1] for n, _ in rnn.named_parameters()]
    params = rnn.parameters()

    def fn(x, *rest):
        outputs, final = rnn(x, (tuple(rest[:len(state)]),))
        return (outputs, *final[0])

    inputs = [x, *state, *params]
    labels = ["x", *names]
    ok = True
    for label, target in zip(["input x", *names], inputs):
        for t in inputs:
            t.requires_grad = t is target
        try:
            gradcheck(fn, inputs, atol=1e-6, rtol=1e-5, names=labels)
            out(f"    {label:<14} {str(tuple(target.shape)):<12} ok")
        except (GradcheckError, FunctionError) as exc:
            ok = False
            out(f"    {label:<14} {str(tuple(target.shape)):<12} FAILED: {exc}")
    for t in inputs:
        t.requires_grad = True
    return ok


__all__ = ["PATHS", "check_cell"]
