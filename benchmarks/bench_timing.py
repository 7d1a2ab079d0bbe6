"""Timing and memory measurement for ``cells_vs_torch.py``: alternating runs with a pause before each,
ratio lines with their spread, and the peak-RSS growth of two training steps in a fresh subprocess.

Denormals: ``torch.set_flush_denormal(True)`` is switched on just before each PyTorch run and off before
each rnnlab run, because it sets the flush bits of the calling thread, which rnnlab's kernels share: rnnlab
is timed with the CPU flushing nothing, so it has to rely on its own explicit flush.
"""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
import tracemalloc

SETTLE_S = 0.3
"""Pause before each timed run: BLAS and OpenMP worker threads busy-wait for a while after a call, and on two
cores the other library's spinning threads would otherwise slow the next run down."""


def flush_denormals(on: bool):
    import torch
    torch.set_flush_denormal(on)


def alternate(steps: dict, rounds: int) -> dict:
    """Time each named step ``rounds`` times, interleaved, after one warm-up each. name -> list of seconds.
    Names starting with 'torch' run with PyTorch's flush-to-zero on."""
    times = {name: [] for name in steps}
    for name, fn in steps.items():
        flush_denormals(name.startswith("torch"))
        fn()
    for _ in range(rounds):
        for name, fn in steps.items():
            flush_denormals(name.startswith("torch"))
            time.sleep(SETTLE_S)
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    flush_denormals(False)
    return times


def ratio_line(label, times, name, ref):
    """median(a) / median(b), the median of per-round ratios, the ratio of the best runs, and the spreads."""
    a, b = times[name], times[ref]
    per_round = statistics.median(x / y for x, y in zip(a, b))
    return (f"  {label:<34} {statistics.median(a) * 1e3:8.1f} vs {statistics.median(b) * 1e3:8.1f} ms  "
            f"ratio {statistics.median(a) / statistics.median(b):5.2f}x  per-round {per_round:5.2f}x  "
            f"best {min(a) / min(b):5.2f}x  (spread {min(a) * 1e3:.0f}-{max(a) * 1e3:.0f} / "
            f"{min(b) * 1e3:.0f}-{max(b) * 1e3:.0f} ms)")


def _rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(make_step, warm_problem, problem):
    """In a fresh process: print JSON with the peak RSS growth over two steps (and tracemalloc's peak)."""
    warm = make_step(warm_problem)     # loads compiled code and library state
    warm()
    del warm
    step = make_step(problem)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    rss_before = _rss_kib("VmRSS")
    tracemalloc.start()
    for _ in range(2):
        step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(json.dumps({"rss_mib": (_rss_kib("VmHWM") - rss_before) / 1024, "tracemalloc_mib": peak / 2**20}))


def run_memory(script, case, sides=("rnnlab", "torch")) -> dict:
    """side -> the child's JSON result (or None when it failed, with its error printed)."""
    results = {}
    for side in sides:
        out = subprocess.run([sys.executable, script, "--memory-child", side, "--cases", case],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print(f"  memory ({case}, {side}) failed:\n{out.stderr[-2000:]}")
            results[side] = None
            continue
        results[side] = json.loads(out.stdout.strip().splitlines()[-1])
    return results
