"""The ``rnnlab`` command."""
from __future__ import annotations

import argparse
import sys


def _demo(args) -> int:
    """Build a small graph, run backward, and check the gradient against finite differences."""
    import rnnlab
    rnnlab.set_default_dtype("float64")
    rnnlab.manual_seed(0)
    x = rnnlab.Tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    layer = rnnlab.Linear(3, 2)
    loss = rnnlab.tanh(layer(x)).sum()
    loss.backward()
    print(f"loss = {loss.item():.6f}")
    print("dloss/dx =", x.grad)
    ok = rnnlab.gradcheck(lambda x, w, b: rnnlab.tanh(layer(x)), [x, layer.weight, layer.bias])
    print("gradcheck against central differences:", "passed" if ok else "FAILED")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="rnnlab", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="a graph, its backward pass and a gradient check")
    args = parser.parse_args(argv)
    return {"demo": _demo}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
