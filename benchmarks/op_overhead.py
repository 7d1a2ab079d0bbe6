"""Per-operation overhead of the engine on small arrays, beside raw NumPy and PyTorch CPU eager.

    python benchmarks/op_overhead.py [--number 10000] [--repeat 9]

Every case runs on 8x8 float32 arrays, where the arithmetic itself costs about a microsecond, so the time
measured is almost all per-call overhead: argument handling, graph recording, Python calls. Columns, in
microseconds per call, each the best of ``--repeat`` timing runs of ``--number`` calls (the libraries
take turns inside every run, so a noisy neighbour slows them alike):

* ``numpy``    -- the NumPy function the engine itself calls (``np.add``, ``np.matmul``, ``np.sum``, ...);
* ``rnnlab``   -- the operation on Tensors that do not require grad (no graph is recorded);
* ``rnnlab+g`` -- on Tensors with ``requires_grad=True`` (a graph node is recorded);
* ``torch`` / ``torch+g`` -- PyTorch eager on CPU, without and with ``requires_grad`` (when installed).

``overhead`` is rnnlab's time minus NumPy's: what the engine adds around the array call. At this size a
PyTorch eager call is nearly all overhead, so the last two columns divide rnnlab's overhead by PyTorch's
time, like for like (without and with grad). Issue 2's target: no more than 2. The last row is a whole
training step in miniature: loss = sum(2 tanh(a @ w + b)), forward and backward; its NumPy column is the
same forward and the hand-written backward.
"""
from __future__ import annotations

import argparse
import timeit

import numpy as np

import rnnlab


def _torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)   # NumPy runs arrays this small on one thread too
    return torch


def _ops(lib, torch):
    """name -> f(a, b, w) for one library; ``lib`` is "numpy", "rnnlab" or "torch"."""
    if lib == "numpy":
        return {"add": lambda a, b, w: np.add(a, b), "mul": lambda a, b, w: np.multiply(a, b),
                "matmul": lambda a, b, w: np.matmul(a, w), "tanh": lambda a, b, w: np.tanh(a),
                "sum": lambda a, b, w: np.sum(a)}
    tanh = rnnlab.tanh if lib == "rnnlab" else torch.tanh
    return {"add": lambda a, b, w: a + b, "mul": lambda a, b, w: a * b, "matmul": lambda a, b, w: a @ w,
            "tanh": lambda a, b, w: tanh(a), "sum": lambda a, b, w: a.sum()}


def _step(lib, torch, a, w, bias):
    """One forward and backward of loss = sum(2 tanh(a @ w + bias)), with ``w`` and ``bias`` trained."""
    if lib == "numpy":
        def step():
            h = np.tanh(a @ w + bias)
            loss = np.sum(h * 2.0)
            g = 2.0 * (1.0 - h * h)
            return loss, a.T @ g, np.sum(g, axis=0)
        return step
    tanh = rnnlab.tanh if lib == "rnnlab" else torch.tanh

    def step():
        loss = (tanh(a @ w + bias) * 2.0).sum()
        loss.backward()
        w.grad = None
        bias.grad = None
    return step


def _inputs(lib, torch, arrays, grad):
    if lib == "numpy":
        return arrays
    if lib == "rnnlab":
        return [rnnlab.Tensor(x.copy(), requires_grad=grad) for x in arrays]
    return [torch.from_numpy(x.copy()).requires_grad_(grad) for x in arrays]


def _race(thunks: dict, number: int, repeat: int) -> dict:
    """Best time per call (µs) of each thunk; every timing run times all thunks one after another."""
    for fn in thunks.values():
        fn()   # warm caches and lazy imports
    best = {k: float("inf") for k in thunks}
    for _ in range(repeat):
        for k, fn in thunks.items():
            best[k] = min(best[k], timeit.timeit(fn, number=number) / number * 1e6)
    return best


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=10000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=9, help="timing runs; the best is reported")
    args = parser.parse_args(argv)

    torch = _torch()
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((8, 8)).astype("float32") for _ in range(3)]
    bias = rng.standard_normal(8).astype("float32")
    columns = [("numpy", "numpy", False), ("rnnlab", "rnnlab", False), ("rnnlab+g", "rnnlab", True)]
    if torch is not None:
        columns += [("torch", "torch", False), ("torch+g", "torch", True)]
    ops = {lib: _ops(lib, torch) for _, lib, _ in columns}
    inputs = {col: _inputs(lib, torch, arrays, grad) for col, lib, grad in columns}

    header = f"{'8x8 float32, µs per call':<26}" + "".join(f"{c:>10}" for c, _, _ in columns)
    header += f"{'overhead':>10}{'(+g)':>8}"
    if torch is not None:
        header += f"{'overhead/torch':>16}{'(+g)':>8}"
    print(header)
    for name in ops["numpy"]:
        thunks = {col: (lambda f, xs: (lambda: f(*xs)))(ops[lib][name], inputs[col]) for col, lib, _ in columns}
        t = _race(thunks, args.number, args.repeat)
        print(_row(name, t, columns, torch))

    step_cols = [c for c in columns if c[0] in ("numpy", "rnnlab+g", "torch+g")]
    thunks = {}
    for col, lib, grad in step_cols:
        a, w, b = _inputs(lib, torch, [arrays[0], arrays[2], bias], grad)
        if lib != "numpy":
            a = a.detach()   # the data is not trained
        thunks[col] = _step(lib, torch, a, w, b)
    t = _race(thunks, max(args.number // 10, 1), args.repeat)
    print(_row("step: fwd+bwd (10 ops)", t, columns, torch))
    if torch is None:
        print("(PyTorch is not installed: pip install torch adds its columns)")


def _row(name, t, columns, torch) -> str:
    row = f"{name:<26}" + "".join(f"{t[c]:>10.2f}" if c in t else f"{'-':>10}" for c, _, _ in columns)
    over = t["rnnlab"] - t["numpy"] if "rnnlab" in t else None
    over_g = t["rnnlab+g"] - t["numpy"]
    row += (f"{over:>10.2f}" if over is not None else f"{'-':>10}") + f"{over_g:>8.2f}"
    if torch is not None:
        row += (f"{over / t['torch']:>16.2f}" if over is not None else f"{'-':>16}")
        row += f"{over_g / t['torch+g']:>8.2f}"
    return row


if __name__ == "__main__":
    main()
