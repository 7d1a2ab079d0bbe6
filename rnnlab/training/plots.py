"""``rnnlab plot RUN_DIR [RUN_DIR ...]``: loss and metric curves (several runs overlaid), and gradient norms.

Reads each run's ``metrics.jsonl`` (and ``grad_norms.npz`` when the run recorded the per-time-step
norms ||dL/dh_t||) and writes PNG files into the first run directory, or into ``--out``.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np  # host-side plotting data

from .config import ConfigError
from .rundir import RunDirError


def read_metrics(run_dir) -> list[dict]:
    """The rows of a run's ``metrics.jsonl``; a :class:`RunDirError` naming the file and line when it cannot be read."""
    path = Path(run_dir) / "metrics.jsonl"
    if not path.is_file():
        raise RunDirError(f"plot: {path} does not exist (is {run_dir} a run directory of rnnlab train?)")
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise RunDirError(f"plot: {path} line {number} is not valid JSON ({exc})") from exc
    return rows


def _metric_name(records) -> str | None:
    for key in ("accuracy", "perplexity"):
        if any(key in r for r in records):
            return key
    return None


def plot_runs(run_dirs, out_dir=None) -> list[Path]:
    """Write ``loss.png`` (train and test loss against step), the metric's PNG, and ``grad_norms.png``."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("plot: matplotlib is not installed: pip install 'rnnlab[plot]'") from exc
    run_dirs = [Path(d) for d in run_dirs]
    out = Path(out_dir) if out_dir else run_dirs[0]
    out.mkdir(parents=True, exist_ok=True)
    runs = [(d, read_metrics(d)) for d in run_dirs]
    written = []
    metric = next((m for m in (_metric_name(r) for _, r in runs) if m), None)
    for key, fname in (("loss", "loss.png"), (metric, f"{metric}.png")):
        if key is None:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for n, (d, records) in enumerate(runs):
            label = d.name if len(runs) > 1 else ""
            color = f"C{n % 10}"                  # one colour a run; the split is the line style
            for split, style in (("train", "-"), ("val", "o-"), ("test", "*")):
                pts = [(r["step"], r[key]) for r in records if r.get("split") == split and key in r]
                if pts:
                    s, v = zip(*pts)
                    ax.plot(s, v, style, color=color, label=f"{label} {split}".strip(),
                            alpha=0.35 if split == "train" else 1, markersize=12 if split == "test" else 3)
        ax.set_xlabel("optimizer step")
        ax.set_ylabel(key)
        if key == "loss" or key == "perplexity":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        ax.legend()
        names = ", ".join(d.name for d in run_dirs)
        ax.set_title(f"{key} ({names if len(names) <= 70 else f'{len(run_dirs)} runs'})")
        fig.tight_layout()
        fig.savefig(out / fname, dpi=110)
        plt.close(fig)
        written.append(out / fname)
    norm_runs = [d for d in run_dirs if (d / "grad_norms.npz").exists()]
    if norm_runs:
        from .checkpoints import load
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for d in norm_runs:
            arrays, _ = load(d / "grad_norms.npz")
            steps = arrays.pop("steps")
            for name, norms in sorted(arrays.items()):
                rows = sorted({0, len(steps) - 1})
                for r in rows:
                    t = np.arange(1, norms.shape[1] + 1)
                    ax.semilogy(t, np.maximum(norms[r], 1e-300), alpha=0.5 if r == 0 and len(rows) > 1 else 1,
                                label=f"{d.name + ' ' if len(norm_runs) > 1 else ''}{name}, step {int(steps[r])}")
        ax.set_xlabel("time step t")
        ax.set_ylabel("||dL/dh_t||")
        ax.set_title("gradient flow through time")
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        fig.savefig(out / "grad_norms.png", dpi=110)
        plt.close(fig)
        written.append(out / "grad_norms.png")
    return written
