"""Data-parallel training over MPI: throughput of 1 and 2 ranks, the Allreduce's share, and a projection.

    python benchmarks/distributed_allreduce.py [--steps 8] [--warmup 2] [--ranks 1 2]

Launches itself under ``mpiexec -n N`` (the mpich wheel's, from ``pip install 'rnnlab[mpi]'``) for each N,
one thread per rank, and trains with the real training program (``rnnlab.training.Run``, ``distributed`` on)
on generated data of the papers' shapes, at the same global batch B for every N:

* ``har2``  -- tanh RNN 9 -> 80, T = 128, B = 128, 2 classes (the HAR-2 model);
* ``lstm196`` -- LSTM 1 -> 128, T = 196, B = 128, 10 classes (the LSTM T = 196 case).

Columns: ``seq/s`` (B / mean step time), ``speed-up`` against 1 rank, ``allreduce %`` (rank 0's share of the
step spent in the gradient averaging: flatten, ``MPI.Allreduce``, unflatten), ``wait %`` (the share spent
waiting for the slower rank in a Barrier just before it: load imbalance, not communication), ``comm ms``
(one bare ``Allreduce`` of a buffer of the gradient's size after a Barrier, median of 50) and ``grad KiB``
(S, the bytes each rank sends into the Allreduce per gradient evaluation). On a machine of 2 shared cores
no real speed-up can show; what decides scaling is the communication per step, so the script ends with a
back-of-envelope projection for N machines:

    t_step(N) = t_compute(1) / N + t_allreduce(N),   t_allreduce(N) = 2 (N - 1) (alpha + S / (N beta))

(a ring Allreduce of S bytes: 2 (N - 1) messages of S / N bytes each), for two networks stated in the output.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODELS = {
    "har2": dict(cell="rnn", nonlinearity="tanh", hidden=80, inputs=9, classes=2, seq_len=128),
    "lstm196": dict(cell="lstm", hidden=128, inputs=1, classes=10, seq_len=196),
}
BATCH = 128
NETWORKS = {"10 GbE (alpha 20 us, beta 1.1 GB/s)": (20e-6, 1.1e9),
            "InfiniBand HDR 200 Gb/s (alpha 2 us, beta 22 GB/s)": (2e-6, 22e9)}


def generated_task(name: str):
    """A classification Task of the model's shapes, random inputs and labels (4 global batches)."""
    import numpy as np
    from rnnlab.datasets import SequenceDataset
    from rnnlab.datasets.tasks import Task
    m = MODELS[name]
    rng = np.random.default_rng(0)

    def split(n):
        x = rng.standard_normal((n, m["seq_len"], m["inputs"])).astype(np.float32)
        return SequenceDataset(x, rng.integers(0, m["classes"], n))
    return Task(name, split(4 * BATCH), split(BATCH), input_size=m["inputs"], output_size=m["classes"],
                input_kind="float", target="last", loss="cross_entropy", metric="accuracy",
                seq_len=m["seq_len"], num_classes=m["classes"], baseline_loss=float("nan"))


def worker(name: str, steps: int, warmup: int) -> None:
    """Under mpiexec: train ``steps`` timed steps after ``warmup``; rank 0 prints one JSON line."""
    import numpy as np
    from rnnlab import training as train
    from rnnlab.training.config import TrainConfig
    m = MODELS[name]
    import rnnlab.training.loop
    rnnlab.training.loop.task_from_config = lambda cfg: generated_task(name)
    with tempfile.TemporaryDirectory() as out:
        cfg = TrainConfig(task="adding", cell=m["cell"], hidden=m["hidden"], nonlinearity=m.get("nonlinearity", "tanh"),
                          batch_size=BATCH, steps=warmup + steps, optimizer="adam", progress=False,
                          distributed=True, out=out, eval_every=10**6, log_every=10**6, checkpoint_every=10**6)
        run = train.Run(cfg)
        comm, average, spent = run.comm, run.comm.average_gradients, [0.0, 0.0]

        def timed(*args):           # a Barrier first: waiting for the slower rank is counted apart
            start = time.perf_counter()
            comm.comm.Barrier()
            ready = time.perf_counter()
            result = average(*args)
            spent[0] += time.perf_counter() - ready
            spent[1] += ready - start
            return result
        comm.average_gradients = timed
        for _ in range(warmup):
            run.train_step()
        spent[:] = [0.0, 0.0]
        comm.comm.Barrier()
        start = time.perf_counter()
        for _ in range(steps):
            run.train_step()
        elapsed = time.perf_counter() - start
        size = sum(p.size for p in run.params)
        buffer = np.ones(size + 4, dtype=np.float32)
        calls = []
        for _ in range(50):
            comm.comm.Barrier()
            tick = time.perf_counter()
            comm.comm.Allreduce(comm.MPI.IN_PLACE, buffer, op=comm.MPI.SUM)
            calls.append(time.perf_counter() - tick)
        bare = float(np.median(calls))
    if comm.is_root:
        print(json.dumps({"model": name, "ranks": comm.size, "step_s": elapsed / steps,
                          "allreduce_s": spent[0] / steps, "wait_s": spent[1] / steps, "bare_s": bare, "params": size}))


def launch(name: str, ranks: int, steps: int, warmup: int) -> dict:
    mpiexec = Path(sys.executable).parent / "mpiexec"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    done = subprocess.run([str(mpiexec if mpiexec.exists() else "mpiexec"), "-n", str(ranks), sys.executable,
                           __file__, "--worker", name, "--steps", str(steps), "--warmup", str(warmup)],
                          capture_output=True, text=True, env=env, timeout=1800)
    if done.returncode:
        raise SystemExit(f"mpiexec -n {ranks} failed:\n{done.stdout}\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def projection(one: dict) -> list[str]:
    """Sequences/s (and the Allreduce's share) for N machines from the 1-rank compute time and gradient size."""
    compute, size = one["step_s"] - one["allreduce_s"] - one["wait_s"], 4 * (one["params"] + 4)
    machines = (1, 2, 4, 8, 16, 32, 64)
    lines = ["  " + " " * 52 + "".join(f"{f'N={n}':>15}" for n in machines)]
    for network, (alpha, beta) in NETWORKS.items():
        cells = []
        for n in machines:
            ring = 2 * (n - 1) * (alpha + size / (n * beta))
            step = compute / n + ring
            cells.append(f"{BATCH / step:8.0f} ({100 * ring / step:3.0f}%)")
        lines.append(f"  {network:52}" + "".join(f"{c:>15}" for c in cells))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--ranks", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=list(MODELS))
    parser.add_argument("--worker", choices=list(MODELS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker, args.steps, args.warmup)
    print(f"global batch {BATCH}, {args.steps} timed steps after {args.warmup}, Adam, float32, numpy backend, "
          f"one thread per rank, {os.cpu_count()} CPU cores")
    print(f"{'model':8} {'ranks':>5} {'seq/s':>8} {'speed-up':>8} {'step ms':>8} {'allreduce %':>11} {'wait %':>6} "
          f"{'comm ms':>8} {'grad KiB':>8}")
    for name in args.models:
        results = [launch(name, n, args.steps, args.warmup) for n in args.ranks]
        for r in results:
            print(f"{name:8} {r['ranks']:5d} {BATCH / r['step_s']:8.1f} {results[0]['step_s'] / r['step_s']:8.2f} "
                  f"{1e3 * r['step_s']:8.1f} {100 * r['allreduce_s'] / r['step_s']:11.2f} "
                  f"{100 * r['wait_s'] / r['step_s']:6.1f} {1e3 * r['bare_s']:8.3f} "
                  f"{4 * r['params'] / 1024:8.1f}")
        print(f"projection for {name} ({results[0]['params']} parameters, float32), sequences/s:")
        print("\n".join(projection(results[0])))


if __name__ == "__main__":
    main()
