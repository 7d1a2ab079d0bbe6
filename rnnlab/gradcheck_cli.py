"""``rnnlab gradcheck CELL``: verify a cell's BPTT gradients against central differences, and say so.

For a random sequence x (T, B, D), initial state and random upstream gradient, every gradient that BPTT
computes (inputs, initial state, each parameter) is compared with finite differences in float64; one line
per quantity reports the check.
"""
from __future__ import annotations

from types import SimpleNamespace

from .engine import backend, init
from .engine.gradcheck import GradcheckError, gradcheck
from .engine.tensor import Tensor
from .models import CELL_CLASSES, make_cells


def check_cell(name: str, steps: int = 4, batch: int = 2, hidden: int = 3, fused: bool = True, seed: int = 0,
               input_size: int = 2, out=print) -> bool:
    """Run the check for cell ``name`` (a ``--cell`` name such as ``lstm``); True when every gradient passes."""
    from .cells import Recurrent
    from .config import TrainConfig, choice

    choice("cell", name, tuple(CELL_CLASSES))
    for arg, value in (("steps", steps), ("batch", batch), ("hidden", hidden)):
        if value < 1:
            raise ValueError(f"gradcheck: {arg} must be at least 1, got {value}")
    previous = backend.default_dtype_name()
    backend.set_default_dtype("float64")
    try:
        cfg = TrainConfig(cell=name, hidden=hidden, seed=seed, nonlinearity="tanh")
        cells = make_cells(SimpleNamespace(**{**cfg.to_dict(), "layers": 1}), input_size, steps)
        rnn = Recurrent(cells, fused=fused)
        rng = init.get_rng([seed, 9])
        x = Tensor(backend.asarray(rng.standard_normal((steps, batch, input_size))), requires_grad=True)
        names = [n.split(".")[-1] for n, _ in rnn.named_parameters()]
        params = rnn.parameters()
        path = "fused kernel, hand-written BPTT" if fused else "composed steps, autodiff BPTT"
        out(f"gradcheck {name}: T={steps}, B={batch}, D={input_size}, H={hidden}, float64, {path}")
        out("  comparing J^T v from backward() with central differences (eps 1e-6) for a random v")

        def fn(x, *ps):
            outputs, _ = rnn(x)
            return outputs

        inputs = [x, *params]
        ok = True
        for label, target in zip(["input x", *names], inputs):
            for t in inputs:
                t.requires_grad = t is target
            try:
                gradcheck(fn, inputs, atol=1e-6, rtol=1e-5)
                out(f"  {label:<14} {str(tuple(target.shape)):<12} ok")
            except GradcheckError as exc:
                ok = False
                out(f"  {label:<14} {str(tuple(target.shape)):<12} FAILED: {exc}")
        for t in inputs:
            t.requires_grad = True
        out("all gradients match" if ok else "some gradients are wrong")
        return ok
    finally:
        backend.set_default_dtype(previous)

