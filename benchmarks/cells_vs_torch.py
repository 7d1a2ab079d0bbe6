"""One training step of rnnlab's recurrent cells beside PyTorch CPU ``nn.LSTM`` / ``nn.RNN``, in one process.

    python benchmarks/cells_vs_torch.py [--quick] [--rounds N] [--cases lstm784,lstm196,...] [--no-memory]

A step is: forward over the whole sequence, a loss on the last step (cross-entropy over a linear head, or
squared error for the adding task), BPTT, and an Adam update (``rnnlab.optim.Adam`` when it exists, else
Adam written inline with NumPy). float32, 2 threads on both sides. Cases (issue 3):

* ``lstm784`` / ``lstm196``: LSTM 1 -> 128, batch 128, T = 784 / 196, 10 classes (pixel MNIST);
* ``rnn_har2``: tanh RNN 9 -> 80, batch 128, T = 128, 2 classes (HAR-2);
* ``rnn_adding``: tanh RNN 2 -> 128, batch 128, T = 100, one regression output (adding task);
* ``vanishing``: LSTM 1 -> 128, batch 128, T = 784, run twice with different forget-gate biases: -3, where
  dL/dh_t vanishes within the sequence (and would pass through the denormal range), and +8, where it does
  not. The same arithmetic runs in both; only the values differ. Target: time(vanishing) / time(not) <= 1.2.

Columns, for each path of rnnlab against PyTorch: median step time of each, ``ratio`` = median(rnnlab) /
median(PyTorch), ``per-round`` = the median of the ratios of runs taken back to back, and ``best`` = the
ratio of the fastest runs (the last two are less sensitive to other jobs on a shared machine). Runs
alternate (rnnlab, PyTorch, rnnlab, ...) after one warm-up step each, with a pause before each run.
rnnlab paths: ``kernels`` (``rnnlab.cells.kernels`` called directly), and, when ``rnnlab.cells.Recurrent``
exists, ``fused`` and ``composed`` (the full model through the engine). Targets: kernels and fused at most
1.0x on LSTM T = 784 and 0.8x on the RNN cases; composed at most 2x on the LSTM cases.

Denormals: ``torch.set_flush_denormal(True)`` is switched on just before each PyTorch run and off before each
rnnlab run, because it sets the flush bits of the calling thread, which rnnlab's kernels share: rnnlab is
timed with the CPU flushing nothing, so it has to rely on its own explicit flush.

Memory (``lstm784``; each side in a fresh subprocess, after a warm-up step at T = 8 that loads compiled code
and library state): the growth of the process's resident set over two training steps (peak RSS, ``VmHWM``
after resetting it through ``/proc/self/clear_refs``, minus RSS before the first step: the same method for
both libraries, counting every allocator and any buffer kept from one step for the next), and for rnnlab
also the peak of NumPy's allocations seen by ``tracemalloc`` over the same two steps (NumPy reports its
buffers to it; PyTorch's allocator does not, so RSS is the comparable figure). Target: rnnlab's peak no
more than PyTorch's.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import tracemalloc

import numpy as np

CASES = {
    "lstm784": dict(cell="lstm", D=1, H=128, B=128, T=784, classes=10),
    "lstm196": dict(cell="lstm", D=1, H=128, B=128, T=196, classes=10),
    "rnn_har2": dict(cell="rnn", D=9, H=80, B=128, T=128, classes=2),
    "rnn_adding": dict(cell="rnn", D=2, H=128, B=128, T=100, classes=0),
}
VANISHING = dict(cell="lstm", D=1, H=128, B=128, T=784, classes=10)
FORGET_BIAS = {"vanishing": -3.0, "not vanishing": 8.0}
THREADS = 2
LR = 1e-3
SETTLE_S = 0.3
"""Pause before each timed run: BLAS and OpenMP worker threads busy-wait for a while after a call, and on two
cores the other library's spinning threads would otherwise slow the next run down."""


def _limit_threads():
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(THREADS)
    except ImportError:
        pass


# --------------------------------------------------------------------------------------------- problem
class Problem:
    """One case's data and initial weights (from PyTorch's initialization, so both sides start equal)."""

    def __init__(self, spec, seed=0, forget_bias=None):
        import torch
        self.spec = spec
        torch.manual_seed(seed)
        rng = np.random.default_rng(seed)
        D, H, B, T, C = spec["D"], spec["H"], spec["B"], spec["T"], spec["classes"]
        module = torch.nn.LSTM(D, H) if spec["cell"] == "lstm" else torch.nn.RNN(D, H, nonlinearity="tanh")
        if forget_bias is not None:
            with torch.no_grad():
                module.bias_ih_l0[H:2 * H] = forget_bias
                module.bias_hh_l0[H:2 * H] = 0.0
        head = torch.nn.Linear(H, max(C, 1))
        self.torch_modules = (module, head)
        self.x = (rng.random((T, B, D)) if spec["cell"] == "lstm" else rng.standard_normal((T, B, D))).astype(
            np.float32)
        self.y = rng.integers(0, C, B) if C else rng.standard_normal((B, 1)).astype(np.float32)
        get = lambda p: p.detach().numpy().copy()
        self.weights = {"W_ih": get(module.weight_ih_l0).T.copy(), "W_hh": get(module.weight_hh_l0).T.copy(),
                        "b": get(module.bias_ih_l0) + get(module.bias_hh_l0),
                        "W_out": get(head.weight).T.copy(), "b_out": get(head.bias)}


def head_loss_grad(h_last, W_out, b_out, y, classes):
    """Loss on the last step and its gradients: (dW_out, db_out, dL/dh_last). Mean cross-entropy or MSE."""
    out = h_last @ W_out + b_out
    B = out.shape[0]
    if classes:
        out -= out.max(axis=1, keepdims=True)
        p = np.exp(out)
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(B), y] -= 1
        d = p / B
    else:
        d = 2 * (out - y) / out.size
    return h_last.T @ d, d.sum(axis=0), d @ W_out.T


class InlineAdam:
    """Adam (as torch.optim.Adam's defaults) on a list of NumPy arrays, in place."""

    def __init__(self, params, lr=LR, betas=(0.9, 0.999), eps=1e-8):
        self.params, self.lr, self.betas, self.eps, self.t = params, lr, betas, eps, 0
        self.m = [np.zeros_like(p) for p in params]
        self.v = [np.zeros_like(p) for p in params]

    def step(self, grads):
        self.t += 1
        b1, b2 = self.betas
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            denom = np.sqrt(v / (1 - b2 ** self.t)) + self.eps
            p -= (self.lr / (1 - b1 ** self.t)) * m / denom


def _rnnlab_adam():
    try:
        from rnnlab.optim import Adam
        return Adam
    except ImportError:
        return None


# --------------------------------------------------------------------------------------------- steps
def kernels_step(problem):
    """A step function calling rnnlab.cells.kernels directly (Adam: rnnlab.optim.Adam, else inline)."""
    from rnnlab.cells import kernels
    spec, w = problem.spec, {k: v.copy() for k, v in problem.weights.items()}
    names = ["W_ih", "W_hh", "b", "W_out", "b_out"]
    B, H = spec["B"], spec["H"]
    Adam = _rnnlab_adam()
    if Adam is not None:
        import rnnlab
        params = [rnnlab.Parameter(w[n]) for n in names]
        opt = Adam(params, lr=LR)

        def current():
            return [p.data for p in params]

        def update(grads):
            for p, g in zip(params, grads):
                p.grad = g
            opt.step()
    else:
        arrays = [w[n] for n in names]
        opt = InlineAdam(arrays)
        current = lambda: arrays
        update = opt.step
    x, y = problem.x, problem.y
    stats = {}

    def step():
        W_ih, W_hh, b, W_out, b_out = current()
        h0 = np.zeros((B, H), np.float32)
        if spec["cell"] == "lstm":
            hs, _, cache = kernels.lstm_forward(x, W_ih, W_hh, b, h0, h0)
            dW_out, db_out, dh = head_loss_grad(hs[-1], W_out, b_out, y, spec["classes"])
            dx, dW_ih, dW_hh, db, _, _ = kernels.lstm_backward(cache, None, dh, None)
        else:
            hs, cache = kernels.rnn_forward(x, W_ih, W_hh, b, h0, "tanh")
            dW_out, db_out, dh = head_loss_grad(hs[-1], W_out, b_out, y, spec["classes"])
            dx, dW_ih, dW_hh, db, _ = kernels.rnn_backward(cache, None, dh)
        update([dW_ih, dW_hh, db, dW_out, db_out])
        stats["dx"] = dx
    step.stats = stats
    step.adam = "rnnlab.optim.Adam" if Adam is not None else "inline NumPy Adam"
    return step


def full_step(problem, fused):
    """A step through rnnlab.cells.Recurrent (fused or composed), or None when it does not exist yet."""
    try:
        import rnnlab
        from rnnlab import cells
        Cell = cells.LSTM if problem.spec["cell"] == "lstm" else cells.RNN
        Recurrent = cells.Recurrent
    except (ImportError, AttributeError):
        return None
    Adam = _rnnlab_adam()
    if Adam is None:
        return None
    spec = problem.spec
    rnnlab.set_default_dtype("float32")
    rnn = Recurrent(Cell(spec["D"], spec["H"]), fused=fused)
    head = rnnlab.Linear(spec["H"], max(spec["classes"], 1))
    opt = Adam(rnn.parameters() + head.parameters(), lr=LR)
    x, y = rnnlab.Tensor(problem.x), problem.y
    target = y if spec["classes"] else rnnlab.Tensor(y)

    def step():
        outputs, _ = rnn(x)
        out = head(outputs[-1])
        loss = rnnlab.cross_entropy(out, target) if spec["classes"] else rnnlab.mse_loss(out, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def torch_step(problem):
    import torch
    module, head = problem.torch_modules
    opt = torch.optim.Adam(list(module.parameters()) + list(head.parameters()), lr=LR)
    x = torch.from_numpy(problem.x)
    y = torch.from_numpy(problem.y)
    loss_fn = torch.nn.functional.cross_entropy if problem.spec["classes"] else torch.nn.functional.mse_loss

    def step():
        out, _ = module(x)
        loss = loss_fn(head(out[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


# --------------------------------------------------------------------------------------------- timing
def _flush_denormals(on: bool):
    import torch
    torch.set_flush_denormal(on)


def alternate(steps: dict, rounds: int) -> dict:
    """Time each named step ``rounds`` times, interleaved, after one warm-up each. name -> list of seconds."""
    times = {name: [] for name in steps}
    for name, fn in steps.items():
        _flush_denormals(name == "torch")
        fn()
    for _ in range(rounds):
        for name, fn in steps.items():
            _flush_denormals(name == "torch")
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    _flush_denormals(False)
    return times


def ratio_line(label, times, name, ref="torch"):
    a, b = times[name], times[ref]
    per_round = statistics.median(x / y for x, y in zip(a, b))
    return (f"  {label:<26} {statistics.median(a) * 1e3:8.1f} vs {statistics.median(b) * 1e3:8.1f} ms  "
            f"ratio {statistics.median(a) / statistics.median(b):5.2f}x  per-round {per_round:5.2f}x  "
            f"best {min(a) / min(b):5.2f}x  (spread {min(a) * 1e3:.0f}-{max(a) * 1e3:.0f} / "
            f"{min(b) * 1e3:.0f}-{max(b) * 1e3:.0f} ms)")


def run_case(name, spec, rounds, paths):
    problem = Problem(spec)
    steps = {"kernels": kernels_step(problem), "torch": torch_step(problem)}
    for label, fused in (("fused", True), ("composed", False)):
        fn = full_step(problem, fused) if label in paths else None
        if fn is not None:
            steps[label] = fn
    if spec["T"] >= 784 and "composed" in steps:
        rounds = max(3, rounds // 2)
    times = alternate(steps, rounds)
    s = spec
    print(f"{name}: {s['cell'].upper()} {s['D']}->{s['H']}, batch {s['B']}, T = {s['T']}, {rounds} rounds "
          f"(rnnlab Adam: {steps['kernels'].adam})")
    for label in steps:
        if label != "torch":
            print(ratio_line(f"rnnlab {label} / PyTorch", times, label))
    if "fused" in paths and "fused" not in steps:
        print("  (rnnlab.cells.Recurrent not available: full-path rows skipped)")


def run_vanishing(rounds, T):
    spec = dict(VANISHING, T=T)
    steps, diagnostics = {}, {}
    for label, bias in FORGET_BIAS.items():
        problem = Problem(spec, forget_bias=bias)
        steps[label] = kernels_step(problem)
        steps[f"torch {label}"] = torch_step(problem)
    order = {k: steps[k] for k in ("vanishing", "not vanishing", "torch vanishing", "torch not vanishing")}
    times = {}
    for name, fn in order.items():
        _flush_denormals(name.startswith("torch"))
        fn()
    for name in ("vanishing", "not vanishing", "torch vanishing", "torch not vanishing"):
        times[name] = []
    for _ in range(rounds):
        for name, fn in order.items():
            _flush_denormals(name.startswith("torch"))
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    _flush_denormals(False)
    for label in FORGET_BIAS:
        dx = np.abs(steps[label].stats["dx"][:, :, 0])
        per_step = dx.max(axis=1)
        zero_steps = int(np.sum(per_step == 0))
        tiny = np.finfo(np.float32).tiny
        denormal = int(np.sum((dx > 0) & (dx < tiny)))
        diagnostics[label] = (f"max|dL/dx_0| = {per_step[0]:.2e}, steps with dL/dx_t == 0: {zero_steps}/{T}, "
                              f"denormal entries: {denormal}")
    print(f"vanishing: LSTM 1->128, batch 128, T = {T}, forget-gate bias {FORGET_BIAS['vanishing']:+g} "
          f"(vanishing) vs {FORGET_BIAS['not vanishing']:+g} (not), {rounds} rounds, rnnlab kernels")
    for label in FORGET_BIAS:
        print(f"  {label:<14}: {diagnostics[label]}")
    med = {k: statistics.median(v) for k, v in times.items()}
    per_round = statistics.median(a / b for a, b in zip(times["vanishing"], times["not vanishing"]))
    print(f"  rnnlab vanishing / not vanishing: {med['vanishing'] * 1e3:.1f} / {med['not vanishing'] * 1e3:.1f} ms"
          f" = {med['vanishing'] / med['not vanishing']:.2f}x (per-round {per_round:.2f}x; target <= 1.2x)")
    print(f"  PyTorch (flush-to-zero on) vanishing / not vanishing: {med['torch vanishing'] * 1e3:.1f} / "
          f"{med['torch not vanishing'] * 1e3:.1f} ms = {med['torch vanishing'] / med['torch not vanishing']:.2f}x")
    print(f"  rnnlab / PyTorch: vanishing {med['vanishing'] / med['torch vanishing']:.2f}x, "
          f"not vanishing {med['not vanishing'] / med['torch not vanishing']:.2f}x")


# --------------------------------------------------------------------------------------------- memory
def _rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(side):
    """Run in a subprocess: print JSON with the peak RSS growth over two steps (and tracemalloc's for NumPy)."""
    import torch
    torch.set_num_threads(THREADS)
    _limit_threads()
    make = {"kernels": kernels_step, "torch": torch_step, "fused": lambda p: full_step(p, True)}[side]
    warm = make(Problem(dict(CASES["lstm784"], T=8)))     # loads compiled code and library state
    if warm is None:
        print(json.dumps({"side": side, "skipped": True}))
        return
    warm()
    del warm
    step = make(Problem(CASES["lstm784"]))
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    rss_before = _rss_kib("VmRSS")
    tracemalloc.start()
    for _ in range(2):
        step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak = _rss_kib("VmHWM")
    print(json.dumps({"side": side, "rss_mib": (rss_peak - rss_before) / 1024, "tracemalloc_mib": peak / 2**20}))


def run_memory():
    results = {}
    for side in ("kernels", "torch", "fused"):
        out = subprocess.run([sys.executable, __file__, "--memory-child", side], capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  memory ({side}) failed:\n{out.stderr[-2000:]}")
            continue
        results[side] = json.loads(out.stdout.strip().splitlines()[-1])
    print("memory: LSTM 1->128, batch 128, T = 784, two training steps, peak RSS above the RSS before them")
    torch_mib = results.get("torch", {}).get("rss_mib")
    for side in ("kernels", "fused"):
        r = results.get(side)
        if r is None or r.get("skipped"):
            continue
        ratio = f"   ratio {r['rss_mib'] / torch_mib:.2f}x" if torch_mib else ""
        print(f"  rnnlab {side:<8} {r['rss_mib']:8.1f} MiB (tracemalloc, NumPy buffers: "
              f"{r['tracemalloc_mib']:.1f} MiB){ratio}")
    if torch_mib is not None:
        print(f"  PyTorch         {torch_mib:8.1f} MiB")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, vanishing pair at T = 196")
    parser.add_argument("--rounds", type=int, default=None, help="timed runs per side (default 7, quick 3)")
    parser.add_argument("--cases", default=",".join([*CASES, "vanishing"]),
                        help="comma-separated subset of: " + ", ".join([*CASES, "vanishing"]))
    parser.add_argument("--paths", default="kernels,fused,composed",
                        help="rnnlab paths to time: kernels (always), fused, composed")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument("--memory-child", choices=["kernels", "torch", "fused"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.memory_child:
        memory_child(args.memory_child)
        return
    try:
        import torch
    except ImportError:
        sys.exit("cells_vs_torch: PyTorch is needed for the comparison: pip install torch==2.13.0")
    from rnnlab.cells import kernels
    if not kernels.available():
        sys.exit(f"cells_vs_torch: the compiled kernels are unavailable ({kernels.unavailable_reason()}); "
                 "pip install 'rnnlab[fast]'")
    torch.set_num_threads(THREADS)
    _limit_threads()
    rounds = args.rounds or (3 if args.quick else 7)
    chosen = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(chosen) - set(CASES) - {"vanishing"}
    if unknown:
        parser.error(f"--cases: unknown case(s) {', '.join(sorted(unknown))}")
    print(f"rnnlab vs PyTorch {torch.__version__}, float32, {THREADS} threads, one training step "
          f"(forward, BPTT, Adam); medians over alternating runs\n")
    for name in chosen:
        if name in CASES:
            run_case(name, CASES[name], rounds, args.paths.split(","))
    if "vanishing" in chosen:
        run_vanishing(rounds, 196 if args.quick else VANISHING["T"])
    if not args.no_memory:
        run_memory()


if __name__ == "__main__":
    main()
