"""Per-operation overhead of the engine on small arrays, beside raw NumPy and PyTorch CPU eager.

    python benchmarks/op_overhead.py [--number 20000] [--repeat 7]

Every case runs on 8x8 float32 arrays, where the arithmetic itself costs well under a microsecond, so
the time measured is almost all per-call overhead: argument handling, graph recording, Python calls.
Four columns, each the best of ``--repeat`` runs of ``--number`` calls, in microseconds per call:

* ``numpy``     -- the raw NumPy call (the floor: what the arithmetic costs);
* ``rnnlab``    -- the same operation on Tensors that do not require grad (no graph is recorded);
* ``rnnlab+g``  -- on Tensors with ``requires_grad=True`` (a graph node is recorded);
* ``torch`` / ``torch+g`` -- PyTorch eager on CPU, without and with ``requires_grad`` (when installed).

The ratio columns divide rnnlab's time by PyTorch's, like for like. The target of issue 2 is an engine
overhead per operation of no more than 2x PyTorch's eager overhead. PyTorch runs single-threaded here
(``torch.set_num_threads(1)``), as NumPy does for arrays this small.
"""
from __future__ import annotations

import argparse
import timeit

import numpy as np

import rnnlab


def _best_us(fn, number: int, repeat: int) -> float:
    fn()  # warm up caches and lazy imports
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def _cases(a, b, w, lib):
    """(name, thunk) pairs for one library's tensors ``a``, ``b`` (8x8) and ``w`` (8x8, used by matmul)."""
    if lib == "numpy":
        return [
            ("add", lambda: a + b),
            ("mul", lambda: a * b),
            ("matmul", lambda: a @ w),
            ("tanh", lambda: np.tanh(a)),
            ("sum", lambda: a.sum()),
        ]
    tanh = rnnlab.tanh if lib == "rnnlab" else _torch().tanh
    return [
        ("add", lambda: a + b),
        ("mul", lambda: a * b),
        ("matmul", lambda: a @ w),
        ("tanh", lambda: tanh(a)),
        ("sum", lambda: a.sum()),
    ]


def _forward_backward(a, w, b, lib):
    """loss = sum(tanh(a @ w + b) * 2), then backward: 5 operations forward, 5 backward."""
    if lib == "numpy":
        def step():
            h = np.tanh(a @ w + b)
            loss = (h * 2.0).sum()
            g = 2.0 * (1.0 - h * h)
            return loss, a.T @ g, g.sum(axis=0)
        return step
    tanh = rnnlab.tanh if lib == "rnnlab" else _torch().tanh

    def step():
        loss = (tanh(a @ w + b) * 2.0).sum()
        loss.backward()
        w.grad = None
        b.grad = None
    return step


def _torch():
    import torch
    return torch


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--number", type=int, default=20000, help="calls per timing run")
    parser.add_argument("--repeat", type=int, default=7, help="timing runs; the best is reported")
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    a_np, b_np, w_np = (rng.standard_normal((8, 8)).astype("float32") for _ in range(3))
    bias_np = rng.standard_normal(8).astype("float32")

    try:
        torch = _torch()
        torch.set_num_threads(1)
    except ImportError:
        torch = None

    columns = {"numpy": _cases(a_np, b_np, w_np, "numpy")}
    columns["rnnlab"] = _cases(rnnlab.Tensor(a_np), rnnlab.Tensor(b_np), rnnlab.Tensor(w_np), "rnnlab")
    columns["rnnlab+g"] = _cases(*(rnnlab.Tensor(x, requires_grad=True) for x in (a_np, b_np, w_np)),
                                 "rnnlab")
    if torch is not None:
        columns["torch"] = _cases(*(torch.from_numpy(x.copy()) for x in (a_np, b_np, w_np)), "torch")
        columns["torch+g"] = _cases(*(torch.from_numpy(x.copy()).requires_grad_() for x in (a_np, b_np, w_np)),
                                    "torch")
    fb = {"numpy": _forward_backward(a_np, w_np, bias_np, "numpy"),
          "rnnlab+g": _forward_backward(rnnlab.Tensor(a_np), rnnlab.Tensor(w_np, requires_grad=True),
                                        rnnlab.Tensor(bias_np, requires_grad=True), "rnnlab")}
    if torch is not None:
        fb["torch+g"] = _forward_backward(torch.from_numpy(a_np.copy()),
                                          torch.from_numpy(w_np.copy()).requires_grad_(),
                                          torch.from_numpy(bias_np.copy()).requires_grad_(), "torch")

    names = list(columns)
    times = {lib: {name: _best_us(fn, args.number, args.repeat) for name, fn in cases}
             for lib, cases in columns.items()}
    fb_number = max(args.number // 5, 1)
    fb_times = {lib: _best_us(fn, fb_number, args.repeat) for lib, fn in fb.items()}

    header = f"{'operation (8x8 float32)':<26}" + "".join(f"{n:>10}" for n in names)
    if torch is not None:
        header += f"{'rnnlab/torch':>14}{'(+g)':>8}{'overhead/torch':>16}{'(+g)':>8}"
    print("time per call in microseconds; overhead = time - numpy's time")
    print(header)
    for name, _ in columns["numpy"]:
        row = f"{name:<26}" + "".join(f"{times[lib][name]:>10.2f}" for lib in names)
        if torch is not None:
            base = times["numpy"][name]
            row += f"{times['rnnlab'][name] / times['torch'][name]:>14.2f}"
            row += f"{times['rnnlab+g'][name] / times['torch+g'][name]:>8.2f}"
            row += f"{(times['rnnlab'][name] - base) / (times['torch'][name] - base):>16.2f}"
            row += f"{(times['rnnlab+g'][name] - base) / (times['torch+g'][name] - base):>8.2f}"
        print(row)
    row = f"{'tanh(a@w+b)*2 sum + bwd':<26}"
    for lib in names:
        row += f"{fb_times[lib]:>10.2f}" if lib in fb_times else f"{'-':>10}"
    if torch is not None:
        base = fb_times["numpy"]
        ratio = fb_times["rnnlab+g"] / fb_times["torch+g"]
        overhead = (fb_times["rnnlab+g"] - base) / (fb_times["torch+g"] - base)
        row += f"{'-':>14}{ratio:>8.2f}{'-':>16}{overhead:>8.2f}"
    print(row)
    if torch is None:
        print("(PyTorch is not installed: pip install torch to add its columns)")


if __name__ == "__main__":
    main()
