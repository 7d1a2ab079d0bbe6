"""One training step of rnnlab's recurrent cells beside PyTorch CPU's fused modules, in one process.

    python benchmarks/cells_vs_torch.py [--quick] [--rounds N] [--cases lstm196,gru784,...]
                                        [--paths kernels,fused,composed] [--memory-cases lstm784,...]
                                        [--heap tuned|default]

A step is: forward over the whole sequence, a loss on the last step (cross-entropy over a linear head, or
squared error for the adding task), BPTT, and an Adam update (``rnnlab.optim.Adam``). float32, 2 threads on
both sides (``bench_steps.py``). The reference is PyTorch in its best state: the script starts itself again
with glibc's malloc tuned as PyTorch's CPU guide tunes it, for both sides (``bench_heap.py`` says why;
``--heap default`` measures against PyTorch's fresh-process state instead). Cases, each at T = 196 and 784 (batch 128, 1 -> 128, 10 classes: pixel
MNIST) unless stated: ``lstm``, ``momentum_lstm``, ``adam_lstm``, ``nesterov_lstm`` (against
``torch.nn.LSTM``; momentum_lstm also against the authors' style, a PyTorch loop over time), ``gru``
(``torch.nn.GRU``), ``indrnn`` (``torch.nn.RNN(nonlinearity="relu")`` of the same size), ``momentum_rnn``,
``adam_rnn``, ``orthogonal_rnn``, ``momentum_orthogonal_rnn`` (``torch.nn.RNN``, tanh, of the same size: PyTorch
has no modReLU cell; the orthogonal cells' B = expm(A - A^T) is computed once per step); ``rnn_har2``
(tanh RNN 9 -> 80, T = 128, 2 classes) and ``rnn_adding`` (tanh RNN 2 -> 128, T = 100, regression).

rnnlab paths: ``products`` (LSTM only: the step's matrix products alone, with the kernels' shapes, through
NumPy's BLAS: the floor of any implementation on this BLAS; PyTorch's products, measured alone, took about as
long as NumPy's), ``kernels`` (``rnnlab.cells.kernels`` called directly; LSTM and RNN), ``fused`` (the model
through ``rnnlab.cells.Recurrent``, compiled kernels on) and ``composed`` (the unrolled graph, LSTM and GRU).
Columns: median step time of each side, ``ratio`` = median(rnnlab) / median(PyTorch), ``per-round`` = the
median of the ratios of runs taken back to back, ``best`` = the ratio of the fastest runs, and the spread
(min-max) of each side. Runs alternate after one warm-up step each, with a pause before each run
(``bench_timing.py``): on a shared machine quote per-round and best beside the ratio.

``vanishing``: LSTM, MomentumLSTM and GRU at T = 784 (196 with --quick), run twice with different gate
biases (LSTM forget gate, GRU update gate: -3 vs +8; in PyTorch's GRU convention z near 1 carries h_{t-1}):
dL/dh_t vanishes within the sequence in the first (and would pass through the denormal range), not in
the second. Target: time(vanishing) / time(not) <= 1.2.

Memory (``--memory-cases``; each side in a fresh subprocess, after a warm-up step at T = 8): the growth of
the process's resident set over two training steps (peak RSS, ``VmHWM`` after resetting it through
``/proc/self/clear_refs``, minus RSS before the first step), and for rnnlab also tracemalloc's peak of
NumPy's allocations. Target: rnnlab's peak no more than PyTorch's.
"""
from __future__ import annotations

import argparse
import statistics
import sys

from bench_heap import describe as describe_heap, reexec_with_tuned_heap

import numpy as np
from bench_steps import THREADS, Problem, full_step, kernels_step, limit_threads, products_step, torch_loop_momentum_step, \
    torch_step
from bench_timing import alternate, memory_child, ratio_line, run_memory

MNIST = dict(D=1, H=128, B=128, classes=10)
FAMILIES = {
    "lstm": dict(cell="lstm", torch="lstm", paths=("products", "kernels", "fused", "composed")),
    "momentum_lstm": dict(cell="momentum-lstm", torch="lstm", paths=("fused",), loop_reference=True),
    "adam_lstm": dict(cell="adam-lstm", torch="lstm", paths=("fused",)),
    "nesterov_lstm": dict(cell="nesterov-lstm", torch="lstm", paths=("fused",)),
    "gru": dict(cell="gru", torch="gru", paths=("fused", "composed")),
    "indrnn": dict(cell="indrnn", torch="rnn_relu", paths=("fused",)),
    "momentum_rnn": dict(cell="momentum-rnn", torch="rnn", paths=("fused",)),
    "adam_rnn": dict(cell="adam-rnn", torch="rnn", paths=("fused",)),
    "orthogonal_rnn": dict(cell="orthogonal-rnn", torch="rnn", paths=("fused",)),
    "momentum_orthogonal_rnn": dict(cell="momentum-orthogonal-rnn", torch="rnn", paths=("fused",)),
}
CASES = {f"{name}{T}": dict(MNIST, T=T, **spec) for name, spec in FAMILIES.items() for T in (196, 784)}
CASES["rnn_har2"] = dict(cell="rnn", torch="rnn", D=9, H=80, B=128, T=128, classes=2, paths=("kernels", "fused"))
CASES["rnn_adding"] = dict(cell="rnn", torch="rnn", D=2, H=128, B=128, T=100, classes=0, paths=("kernels", "fused"))
VANISHING = {"lstm": (-3.0, 8.0), "momentum_lstm": (-3.0, 8.0), "gru": (-3.0, 8.0)}
"""family: (gate bias of the vanishing run, of the not-vanishing run)."""


def run_case(name, spec, rounds, paths):
    problem = Problem(spec)
    steps = {}
    for path in spec["paths"]:
        if path in paths:
            steps[path] = (kernels_step(problem) if path == "kernels" else products_step(problem)
                           if path == "products" else full_step(problem, path == "fused"))
    steps["torch"] = torch_step(problem)
    if spec.get("loop_reference"):
        steps["torch loop"] = torch_loop_momentum_step(problem)
    if spec["T"] >= 784 and ("composed" in steps or "torch loop" in steps):
        rounds = max(3, rounds // 2)
    times = alternate(steps, rounds)
    print(f"{name}: {spec['cell']} {spec['D']}->{spec['H']}, batch {spec['B']}, T = {spec['T']}, {rounds} rounds")
    for label in steps:
        if not label.startswith("torch"):
            print(ratio_line(f"rnnlab {label} / PyTorch", times, label, "torch"))
            if "torch loop" in steps:
                print(ratio_line(f"rnnlab {label} / PyTorch loop over time", times, label, "torch loop"))


def run_vanishing(family, rounds, T):
    spec = dict(CASES[f"{family}784"], T=T)
    steps = {}
    for label, bias in zip(("vanishing", "not vanishing"), VANISHING[family]):
        problem = Problem(spec, gate_bias=bias)
        steps[label] = kernels_step(problem) if family == "lstm" else full_step(problem, True)
        steps[f"torch {label}"] = torch_step(problem)
    times = alternate(steps, rounds)
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"vanishing {family}: T = {T}, gate bias {VANISHING[family][0]:+g} (vanishing) vs "
          f"{VANISHING[family][1]:+g} (not), {rounds} rounds, rnnlab {'kernels' if family == 'lstm' else 'fused'}")
    for label in ("vanishing", "not vanishing"):
        dx = np.abs(steps[label].stats["dx"][:, :, 0])
        per_step = dx.max(axis=1)
        denormal = int(np.sum((dx > 0) & (dx < np.finfo(np.float32).tiny)))
        print(f"  {label:<14}: max|dL/dx_0| = {per_step[0]:.2e}, steps with dL/dx_t == 0: "
              f"{int(np.sum(per_step == 0))}/{T}, denormal entries: {denormal}")
    per_round = statistics.median(a / b for a, b in zip(times["vanishing"], times["not vanishing"]))
    print(f"  rnnlab vanishing / not: {med['vanishing'] * 1e3:.1f} / {med['not vanishing'] * 1e3:.1f} ms = "
          f"{med['vanishing'] / med['not vanishing']:.2f}x (per-round {per_round:.2f}x; target <= 1.2x)")
    print(f"  PyTorch (flush-to-zero on) vanishing / not: {med['torch vanishing'] / med['torch not vanishing']:.2f}x;"
          f" rnnlab / PyTorch: {med['vanishing'] / med['torch vanishing']:.2f}x vanishing, "
          f"{med['not vanishing'] / med['torch not vanishing']:.2f}x not")


def print_memory(case):
    results = run_memory(__file__, case)
    mine, theirs = results.get("rnnlab"), results.get("torch")
    if mine is None or theirs is None:
        return
    print(f"memory {case}: two training steps, peak RSS above the RSS before them: rnnlab fused "
          f"{mine['rss_mib']:.1f} MiB (NumPy buffers by tracemalloc {mine['tracemalloc_mib']:.1f} MiB), PyTorch "
          f"{theirs['rss_mib']:.1f} MiB, ratio {mine['rss_mib'] / max(theirs['rss_mib'], 1e-9):.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    every = [*CASES, *(f"vanishing_{f}" for f in VANISHING)]
    parser.add_argument("--quick", action="store_true", help="3 rounds, vanishing pairs at T = 196")
    parser.add_argument("--rounds", type=int, default=None, help="timed runs per side (default 7, quick 3)")
    parser.add_argument("--cases", default=",".join(every), help="comma-separated subset of: " + ", ".join(every))
    parser.add_argument("--paths", default="products,kernels,fused,composed",
                        help="rnnlab paths: products, kernels, fused, composed")
    parser.add_argument("--memory-cases", default="lstm784,momentum_lstm784,gru784,indrnn784",
                        help="cases whose peak memory is measured ('' for none)")
    parser.add_argument("--backend", default="numpy", choices=["numpy", "cupy"],
                        help="rnnlab's backend (cupy: against PyTorch CUDA when it has a device)")
    parser.add_argument("--heap", default="tuned", choices=["tuned", "default"],
                        help="glibc malloc for both sides: tuned (PyTorch's best state, the reference) or default")
    parser.add_argument("--memory-child", choices=["rnnlab", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.heap == "tuned" and not args.memory_child and args.backend == "numpy":
        reexec_with_tuned_heap([__file__, *(sys.argv[1:] if argv is None else argv)])
    try:
        import torch
    except ImportError:
        sys.exit("cells_vs_torch: PyTorch is needed for the comparison: pip install torch==2.13.0")
    torch.set_num_threads(THREADS)
    limit_threads()
    if args.memory_child:
        spec = CASES[args.cases]
        make = (lambda p: full_step(p, True)) if args.memory_child == "rnnlab" else torch_step
        memory_child(make, Problem(dict(spec, T=8)), Problem(spec))
        return
    if args.backend == "cupy":
        from gpu_cases import run_gpu
        return run_gpu(args)
    from rnnlab.cells import kernels
    if not kernels.available():
        sys.exit(f"cells_vs_torch: the compiled kernels are unavailable ({kernels.unavailable_reason()}); "
                 "pip install 'rnnlab[fast]'")
    rounds = args.rounds or (3 if args.quick else 7)
    chosen = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(chosen) - set(every)
    if unknown:
        parser.error(f"--cases: unknown case(s) {', '.join(sorted(unknown))}")
    print(f"rnnlab vs PyTorch {torch.__version__}, float32, {THREADS} threads, one training step "
          f"(forward, BPTT, Adam); medians over alternating runs; {describe_heap()}\n")
    for name in chosen:
        if name in CASES:
            run_case(name, CASES[name], rounds, args.paths.split(","))
        else:
            run_vanishing(name[len("vanishing_"):], rounds, 196 if args.quick else 784)
    for case in filter(None, (c.strip() for c in args.memory_cases.split(","))):
        print_memory(case)


if __name__ == "__main__":
    main()
