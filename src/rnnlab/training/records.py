"""What a run records: ``config.json``, ``metrics.jsonl``, ``summary.json`` and ``grad_norms.npz``.

Training losses are averaged over the units of work between two log lines; that running average and the
number of lines written are part of every checkpoint, so a resumed run writes exactly the lines the
uninterrupted one would have (apart from wall time).
"""
from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

from ..engine import backend
from ..engine.backend import to_numpy
from . import checkpoints, rundir
from .evaluation import metrics_from
from .reporting import config_json, strict_json

METRICS, CONFIG, SUMMARY, GRAD_NORMS, CLOCK = "metrics.jsonl", "config.json", "summary.json", "grad_norms.npz", \
    "clock.json"


class Records:
    """The run directory's records; only the root rank writes (``writer``)."""

    def __init__(self, out: Path, task, writer: bool = True):
        self.out, self.task, self.writer = Path(out), task, writer
        self.running: list = []          # (loss, correct, count) of each unit of work since the last log line
        self.last_train: dict = {}
        self.last_eval: dict = {}
        self.lines = 0                   # lines in metrics.jsonl
        self.digest = hashlib.sha256()   # over those lines (see rundir.row_identity): a resume checks them
        self.expected_digest = None
        self.grad_norm_history: list = []
        self.shown: dict = {}            # split -> its last evaluation this process made (the bar's postfix)
        self.step_values: dict = {}      # the last step's lr and grad_norm (see add_train)

    def metric_keys(self) -> tuple:
        """The summary's per-split keys: loss, then the task's metric (accuracy or perplexity) if it has one."""
        return ("loss",) + ((self.task.metric,) if self.task.metric in ("accuracy", "perplexity") else ())

    def start(self, config: dict) -> None:
        self.start_config(config)
        if self.writer:
            rundir.write_file(self.out / METRICS, b"")

    def start_config(self, config: dict) -> None:
        if self.writer:
            rundir.write_file(self.out / CONFIG, strict_json(config_json(config), indent=1).encode())

    # ------------------------------------------------------------------ rows
    def add_train(self, stats, step_values: dict) -> None:
        """One unit of work's (loss, correct, count); ``step_values`` (``lr``, ``grad_norm``) are the step's
        own and the next train row carries the last ones."""
        self.running.append([float(stats[0]), float(stats[1]), int(stats[2])])
        self.step_values = step_values

    def log_train(self, counters: dict) -> None:
        if not self.running:
            return
        losses, corrects, counts = zip(*self.running)
        self.running = []
        self.last_train = {**metrics_from(self.task, sum(losses), len(losses), sum(corrects), sum(counts)),
                           **self.step_values}
        self.record("train", self.last_train, counters)

    def record(self, split: str, metrics: dict, counters: dict) -> None:
        if split != "train":
            self.last_eval = self.shown[split] = metrics
        row = {"step": counters["step"], "epoch": counters["epoch"], "split": split, **metrics,
               "grad_evals": counters["grad_evals"], "wall_time": round(counters["elapsed"], 3)}
        line = strict_json(row)
        self.lines += 1
        self.digest.update(rundir.row_identity(json.loads(line)))
        if self.writer:
            rundir.append_line(self.out / METRICS, line)

    def postfix(self) -> dict:
        """The progress bar's postfix: the last training loss, and the metric of the last row of each split
        evaluated so far (at the end: the final validation and the test), else of the last training row."""
        shown = {}
        if "loss" in self.last_train:
            shown["loss"] = f"{self.last_train['loss']:.4g}"
        for k in ("accuracy", "perplexity"):
            for split, m in (self.shown.items() if self.shown else [("", self.last_train)]):
                if k in m:
                    shown[f"{split} {k}".strip()] = f"{m[k]:.4g}"
        return shown

    def write_summary(self, summary: dict) -> None:
        if self.writer:
            shown = {**summary, "config": config_json(summary["config"])}
            rundir.write_file(self.out / SUMMARY, strict_json(shown, indent=1).encode())

    # ------------------------------------------------------------------ checkpoints
    def state(self) -> dict:
        return {"running": self.running, "last_train": self.last_train, "last_eval": self.last_eval,
                "metrics_lines": self.lines, "metrics_sha256": self.digest.hexdigest()}

    def restore(self, meta: dict) -> None:
        """Take the checkpoint's averages and the number of lines written before it."""
        self.running, self.last_train, self.last_eval = meta["running"], meta["last_train"], meta["last_eval"]
        self.lines = meta["metrics_lines"]
        self.expected_digest = meta.get("metrics_sha256")     # None in a checkpoint written before it was kept

    def check_tail(self) -> list:
        """The lines of ``metrics.jsonl`` the checkpoint counts, checked whole (see
        :func:`rundir.check_metrics_tail`); a resume calls it before anything is written."""
        if not self.writer:
            return []
        kept = rundir.check_metrics_tail(self.out / METRICS, self.lines, self.expected_digest)
        self.digest = hashlib.sha256()
        for line in kept:
            self.digest.update(rundir.row_identity(json.loads(line)))
        return kept

    def truncate(self, kept: list) -> None:
        """Cut ``metrics.jsonl`` back to ``kept``, the lines written before the checkpoint."""
        if self.writer:
            rundir.write_file(self.out / METRICS, "".join(kept).encode())

    def write_clock(self, step: int, elapsed: float) -> None:
        """``clock.json``: the wall time at the last checkpoint (kept out of it, so that the same state always
        gives the same checkpoint bytes)."""
        if self.writer:
            rundir.write_file(self.out / CLOCK, strict_json({"step": step, "elapsed": elapsed}).encode())

    def read_clock(self, step: int) -> float:
        """The wall time saved with the checkpoint of ``step`` (0 when ``clock.json`` is missing or stale)."""
        clock = rundir.read_json_or_none(self.out / CLOCK)
        if not isinstance(clock, dict) or clock.get("step") != step:
            return 0.0
        elapsed = clock.get("elapsed")
        ok = isinstance(elapsed, (int, float)) and not isinstance(elapsed, bool) and math.isfinite(elapsed) \
            and elapsed >= 0
        return float(elapsed) if ok else 0.0

    # ------------------------------------------------------------------ gradient norms
    def capture_grad_norms(self, step: int, rnn) -> None:
        """Keep the probe's ||dL/dh_t|| of the step just taken (full-BPTT steps record them)."""
        try:
            norms = rnn.grad_norms
        except RuntimeError:     # this step did not record (a TBPTT chunk, an evaluation in between)
            return
        self.grad_norm_history.append((step, [to_numpy(n) for n in norms]))

    def grad_norm_arrays(self) -> dict:
        """``steps`` (n,) and ``layer{i}`` (n, T): the norms recorded at each logged step so far."""
        if not self.grad_norm_history:
            return {}
        host = backend.host
        steps, rows = zip(*self.grad_norm_history)
        arrays = {"steps": host.asarray(steps)}
        for i in range(len(rows[0])):
            arrays[f"layer{i}"] = host.stack([r[i] for r in rows])
        return arrays

    def restore_grad_norms(self, arrays: dict) -> None:
        """The inverse of :meth:`grad_norm_arrays` (a checkpoint keeps them, so a resumed run loses none)."""
        if "steps" not in arrays:
            return
        layers = [arrays[f"layer{i}"] for i in range(len(arrays) - 1)]
        self.grad_norm_history = [(int(s), [layer[n] for layer in layers]) for n, s in enumerate(arrays["steps"])]

    def save_grad_norms(self) -> None:
        """``grad_norms.npz``: see :meth:`grad_norm_arrays`."""
        arrays = self.grad_norm_arrays()
        if arrays and self.writer:
            checkpoints.save(self.out / GRAD_NORMS, arrays)
