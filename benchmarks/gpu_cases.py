"""``cells_vs_torch.py --backend cupy``: rnnlab's fused and composed paths on CuPy beside PyTorch CUDA
(cuDNN's ``nn.LSTM`` / ``nn.GRU``) when PyTorch has a CUDA device, else rnnlab alone. float32; every timed
run ends with a device synchronization on both sides, so the times are the GPU's, not the launch queue's.
"""
from __future__ import annotations

import statistics
import time

from bench_steps import Problem, full_step

GPU_CASES = ("lstm196", "lstm784", "gru196", "momentum_lstm196")
ROUNDS = 5


def _synced(fn, sync):
    def step():
        fn()
        sync()
    return step


def _torch_cuda_step(problem):
    import torch
    module, head = (m.cuda() for m in problem.torch_modules)
    opt = torch.optim.Adam(list(module.parameters()) + list(head.parameters()), lr=1e-3)
    x, y = torch.from_numpy(problem.x).cuda(), torch.from_numpy(problem.y).cuda()

    def step():
        out, _ = module(x)
        loss = torch.nn.functional.cross_entropy(head(out[-1]), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return _synced(step, torch.cuda.synchronize)


def _time(steps, rounds):
    times = {name: [] for name in steps}
    for fn in steps.values():
        fn()
    for _ in range(rounds):
        for name, fn in steps.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return {name: (statistics.median(t), min(t), max(t)) for name, t in times.items()}


def run_gpu(args):
    import cupy
    import torch

    import rnnlab
    from cells_vs_torch import CASES
    cuda_torch = torch.cuda.is_available()
    print(f"rnnlab on CuPy {cupy.__version__} vs PyTorch {torch.__version__} "
          f"{'CUDA (cuDNN)' if cuda_torch else 'without CUDA: rnnlab alone'}, float32, {ROUNDS} rounds")
    sync = cupy.cuda.Device().synchronize
    for name in GPU_CASES:
        problem = Problem(CASES[name])
        with rnnlab.use_backend("cupy"):
            steps = {path: _synced(full_step(problem, path == "fused"), sync) for path in ("fused", "composed")}
            if cuda_torch:
                steps["torch"] = _torch_cuda_step(problem)
            result = _time(steps, ROUNDS)
        line = ", ".join(f"{k} {v[0] * 1e3:.1f} ms ({v[1] * 1e3:.0f}-{v[2] * 1e3:.0f})" for k, v in result.items())
        ratios = "".join(f"; {k}/torch {result[k][0] / result['torch'][0]:.2f}x" for k in ("fused", "composed")
                         if cuda_torch)
        print(f"  {name}: {line}{ratios}")
