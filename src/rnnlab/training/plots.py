"""``rnnlab plot RUN_DIR [RUN_DIR ...]``: loss and metric curves (several runs overlaid), and gradient norms.

Reads each run's ``metrics.jsonl`` (and ``grad_norms.npz`` when the run recorded the per-time-step
norms ||dL/dh_t||) and writes PNG files into ``--out``, else the run directory (one run) or the current
directory (several runs).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np  # host-side plotting data

from .config import ConfigError
from . import rundir
from .rundir import RunDirError


def read_metrics(run_dir, x: str = "step") -> list[dict]:
    """The rows of a run's ``metrics.jsonl`` (each with ``x``); a :class:`RunDirError` naming the
    file and line when it cannot be read, and when it holds no rows (nothing to plot)."""
    path = Path(run_dir) / "metrics.jsonl"
    if not Path(run_dir).is_dir():
        raise RunDirError(f"plot: {run_dir} is not a directory (give the run directories of rnnlab train)")
    rows = rundir.read_rows(path, "plot", need=(x,))
    if not rows:
        raise RunDirError(f"plot: {path} holds no rows yet; nothing to plot")
    return rows


def _metric_name(records) -> str | None:
    for key in ("accuracy", "perplexity"):
        if any(key in r for r in records):
            return key
    return None


X_AXES = {"step": "optimizer step", "grad_evals": "gradient evaluations"}


def baseline_of(run_dir):
    """The run's ``baseline_loss`` from ``summary.json`` (None when it has none yet)."""
    summary = rundir.read_json_or_none(Path(run_dir) / "summary.json")
    return summary.get("baseline_loss") if isinstance(summary, dict) else None


def plot_runs(run_dirs, out_dir=None, x: str = "step") -> list[Path]:
    """Write ``loss.png`` (train, val and test loss against ``x``: ``step`` or ``grad_evals``; the input-blind
    baseline as a dashed line), the metric's PNG, and ``grad_norms.png``. With ``x = "grad_evals"`` the
    files are ``loss_by_grad_evals.png`` and so on."""
    if x not in X_AXES:
        raise ConfigError(f"plot: --x must be one of {', '.join(X_AXES)}, got {x!r}")
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ConfigError("plot: matplotlib is not installed: pip install 'rnnlab[plot]'") from exc
    run_dirs = [rundir.check_path(d, "plot") for d in run_dirs]
    # one run: its own folder; several: the current directory (no run's folder holds the others' plots)
    out = rundir.check_path(out_dir, "plot: --out") if out_dir else (run_dirs[0] if len(run_dirs) == 1 else Path("."))
    runs = [(d, read_metrics(d, x)) for d in run_dirs]      # every input read and checked before anything is made
    norms = {d: load_norms(d) for d in run_dirs if (d / "grad_norms.npz").exists()}
    if out.exists() and not out.is_dir():
        raise RunDirError(f"plot: --out {out} is a file; give a folder for the PNGs")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RunDirError(f"plot: cannot create --out {out} ({exc.strerror})") from exc
    written = []
    metric = next((m for m in (_metric_name(r) for _, r in runs) if m), None)
    suffix = "" if x == "step" else f"_by_{x}"
    for key, fname in (("loss", f"loss{suffix}.png"), (metric, f"{metric}{suffix}.png")):
        if key is None:
            continue
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for n, (d, records) in enumerate(runs):
            label = d.name if len(runs) > 1 else ""
            color = f"C{n % 10}"                  # one colour a run; the split is the line style
            for split, style in (("train", "-"), ("val", "o-"), ("test", "*")):
                pts = [(r[x], r[key]) for r in records if r.get("split") == split and r.get(key) is not None]
                if pts:
                    s, v = zip(*pts)
                    ax.plot(s, v, style, color=color, label=f"{label} {split}".strip(),
                            alpha=0.35 if split == "train" else 1, markersize=12 if split == "test" else 3)
        baselines = {baseline_of(d) for d in run_dirs} - {None}
        if key == "loss" and len(baselines) == 1:
            ax.axhline(baselines.pop(), color="gray", linestyle="--", linewidth=1, label="input-blind baseline")
        ax.set_xlabel(X_AXES[x])
        ax.set_ylabel(key)
        if key == "loss" or key == "perplexity":
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
        place_legend(fig, ax)
        names = ", ".join(d.name for d in run_dirs)
        ax.set_title(f"{key} ({names if len(names) <= 70 else f'{len(run_dirs)} runs'})")
        fig.tight_layout()
        fig.savefig(out / fname, dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(out / fname)
    norm_runs = list(norms)
    if norm_runs:
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for d in norm_runs:
            arrays = dict(norms[d])
            steps = arrays.pop("steps")
            for name, curves in sorted(arrays.items()):
                rows = sorted({0, len(steps) - 1})          # the first and the last logged step
                for r in rows:
                    t = np.arange(1, curves.shape[1] + 1)
                    ax.semilogy(t, np.maximum(curves[r], 1e-300), alpha=0.5 if r == 0 and len(rows) > 1 else 1,
                                label=f"{d.name + ' ' if len(norm_runs) > 1 else ''}{name}, step {int(steps[r])}")
        ax.set_xlabel("time step t")
        ax.set_ylabel("||dL/dh_t||")
        ax.set_title("gradient flow through time")
        ax.grid(alpha=0.3)
        place_legend(fig, ax)
        fig.tight_layout()
        fig.savefig(out / "grad_norms.png", dpi=110, bbox_inches="tight")
        plt.close(fig)
        written.append(out / "grad_norms.png")
    return written


def load_norms(run_dir) -> dict:
    """``grad_norms.npz`` of a run: ``steps`` (n,) and ``layer{i}`` (n, T), checked for that shape."""
    from .checkpoints import load
    path = Path(run_dir) / "grad_norms.npz"
    arrays, _ = load(path)
    steps = arrays.get("steps")
    layers = [v for k, v in arrays.items() if k != "steps"]
    if steps is None or steps.ndim != 1 or not len(steps) or not layers or any(v.ndim != 2 or len(v) != len(steps) for v in layers):
        raise RunDirError(f"plot: {path} does not hold gradient norms (steps (n,) and layer<i> (n, T))")
    return arrays


LEGEND_INSIDE = 12
"""Legend entries that still fit inside the axes; with more (many runs overlaid) it goes to the right."""


def place_legend(fig, ax) -> None:
    """The legend inside the axes, or beside them (on a wider figure) when it has many entries."""
    if len(ax.get_legend_handles_labels()[1]) <= LEGEND_INSIDE:
        ax.legend(fontsize=7)
        return
    fig.set_size_inches(10, 4.5)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
