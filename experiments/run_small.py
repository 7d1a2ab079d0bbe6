"""Run the ``small`` configs one after another, collect their summaries into a table, and plot them.

    python experiments/run_small.py --list                           # the small configs and their groups
    python experiments/run_small.py fw/adding momentum/mnist_lstm --data-dir /work/shared/data
    python experiments/run_small.py --all --data-dir /work/shared/data --timeout 900
    python experiments/run_small.py --collect-only fw/adding          # rebuild table and plots from runs

A selection is a config name (``adding_sgd`` or ``fw/adding_sgd``), a group (``fw/adding``: the configs
plotted together, named by the ``# group:`` line of each file) or a glob over ``folder/name``
(``'momentum/pmnist_*'``). Runs go to ``<runs-dir>/<folder>/<name>`` (default ``runs/small``), one at a time
(never in parallel: the training runs share the CPU cores), each through ``rnnlab train --config FILE
--out DIR --no-progress [--data-dir D]``, its output in ``<runs-dir>/logs/<folder>_<name>.log``. A run that
fails (for example HAR-2 without its data) is recorded with its error line and the next one starts.
Flags this script does not know (``--steps 50``, ``--backend cupy``) are passed on to every ``rnnlab train``.

Writes ``<runs-dir>/results.md`` (a Markdown table: config, task, cell, optimizer, steps, wall time, test
loss, baseline, result, the paper's number for the full run, status) and ``results.json``, and for every
group ``rnnlab plot`` of its runs into ``<runs-dir>/plots/<folder>_<group>/`` (loss.png and accuracy.png or
perplexity.png, runs overlaid).
"""
from __future__ import annotations

import argparse
import fnmatch
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
FOLDERS = ("checks", "fw", "momentum")


@dataclass
class Config:
    folder: str
    name: str
    group: str
    path: Path
    reported: str = ""

    @property
    def key(self) -> str:
        return f"{self.folder}/{self.name}"


def small_configs(root: Path = HERE) -> list[Config]:
    """Every ``<folder>/<name>.small.toml`` under ``root``, with its ``# group:`` (default: its name)."""
    out = []
    for folder in FOLDERS:
        for path in sorted((root / folder).glob("*.small.toml")):
            name = path.name[: -len(".small.toml")]
            text = path.read_text()
            match = re.search(r"^# group:\s*(\S+)", text, re.MULTILINE)
            group = match.group(1) if match else f"{folder}/{name}"
            reported = re.search(r"^# reported \(full run, paper\):\s*(.*)$", text, re.MULTILINE)
            out.append(Config(folder, name, group, path, reported.group(1).strip() if reported else ""))
    return out


def select(configs: list[Config], patterns: list[str]) -> list[Config]:
    """The configs that match any pattern (name, folder/name, group or glob), in the patterns' order."""
    chosen: list[Config] = []
    for pattern in patterns:
        hits = [c for c in configs if pattern in (c.name, c.key, c.group) or fnmatch.fnmatch(c.key, pattern)
                or fnmatch.fnmatch(c.name, pattern)]
        if not hits:
            raise SystemExit(f"run_small: no small config matches {pattern!r} (see --list)")
        chosen.extend(c for c in hits if c not in chosen)
    return chosen


def run_one(cfg: Config, run_dir: Path, log: Path, data_dir: str | None, timeout: float | None,
            extra: list[str]) -> dict:
    """Train one config in a subprocess; returns {status, seconds}."""
    cmd = [sys.executable, "-m", "rnnlab.cli", "train", "--config", str(cfg.path), "--out", str(run_dir),
           "--no-progress", *extra]
    if data_dir:
        cmd += ["--data-dir", data_dir]
    log.parent.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    with open(log, "w") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        try:
            proc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout, check=False)
            status = "ok" if proc.returncode == 0 else f"exit {proc.returncode}"
        except subprocess.TimeoutExpired:
            status = f"timeout after {timeout:.0f} s"
    seconds = time.perf_counter() - start
    if status != "ok":
        lines = [line.strip() for line in log.read_text().splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower()]
        if errors or lines[1:]:
            status += ": " + (errors or lines)[-1][:200]
    return {"status": status, "seconds": round(seconds, 1)}


def summarize(cfg: Config, run_dir: Path, outcome: dict | None) -> dict:
    """One row of the table from the run directory's summary.json (and this session's outcome, if any)."""
    row = {"config": cfg.key, "group": cfg.group, "run_dir": str(run_dir), "paper": cfg.reported}
    path = run_dir / "summary.json"
    if path.exists():
        s = json.loads(path.read_text())
        c = s.get("config", {})
        row.update(task=c.get("task"), cell=c.get("cell"), optimizer=c.get("optimizer")
                   + (f" K={c.get('fw_k')}" if c.get("optimizer") == "fw" else ""),
                   seq_len=c.get("seq_len"), hidden=c.get("hidden"), steps=s.get("steps"),
                   grad_evals=s.get("grad_evals"), wall_time=s.get("wall_time"), test_loss=s.get("test_loss"),
                   baseline_loss=s.get("baseline_loss"), train_loss=s.get("train_loss"))
        for key in ("test_accuracy", "test_perplexity"):
            if key in s:
                row[key] = s[key]
        row["status"] = "ok"
    else:
        row["status"] = "not run"
    if outcome is not None:
        row["status"] = outcome["status"] if outcome["status"] != "ok" else row["status"]
        row["seconds"] = outcome["seconds"]
    return row


def metric_text(row: dict) -> str:
    if "test_accuracy" in row:
        return f"accuracy {100 * row['test_accuracy']:.2f} %"
    if "test_perplexity" in row:
        return f"perplexity {row['test_perplexity']:.1f}"
    if row.get("test_loss") is not None and row.get("task") == "adding":
        return f"MSE {row['test_loss']:.4f}"
    return ""


def table(rows: list[dict]) -> str:
    head = ("config", "task", "cell", "optimizer", "steps", "wall s", "test loss", "baseline", "result",
            "paper (full run)", "status")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def num(v, fmt):
        return format(v, fmt) if isinstance(v, (int, float)) else ""

    for r in rows:
        cells = (r["config"], r.get("task") or "", r.get("cell") or "", r.get("optimizer") or "",
                 num(r.get("steps"), "d"), num(r.get("wall_time"), ".0f"), num(r.get("test_loss"), ".4f"),
                 num(r.get("baseline_loss"), ".4f"), metric_text(r), r.get("paper", "").replace("|", "/"),
                 r["status"].replace("|", "/"))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines) + "\n"


def plot_groups(chosen: list[Config], runs_dir: Path) -> list[str]:
    """``rnnlab plot`` each group's finished runs into <runs-dir>/plots/<folder>_<group>/."""
    written = []
    groups: dict[str, list[Path]] = {}
    for c in chosen:
        d = runs_dir / c.folder / c.name
        if (d / "metrics.jsonl").exists() and (d / "metrics.jsonl").stat().st_size:
            groups.setdefault(c.group, []).append(d)
    for group, dirs in groups.items():
        out = runs_dir / "plots" / group.replace("/", "_")
        proc = subprocess.run([sys.executable, "-m", "rnnlab.cli", "plot", *map(str, dirs), "--out", str(out)],
                              capture_output=True, text=True, check=False)
        if proc.returncode == 0:
            written.extend(proc.stdout.split())
        else:
            print(f"run_small: plot of {group} failed: {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
    return written


def export_plots(paths, dest: Path, max_bytes: int = 100_000) -> list[Path]:
    """Copy plots to ``dest`` as ``<folder>_<group>_<plot>.png``, palette-quantized to stay small."""
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    for path in map(Path, paths):
        target = dest / f"{path.parent.name}_{path.name}"
        try:
            from PIL import Image
            with Image.open(path) as im:
                for colors in (128, 64, 32):
                    im.convert("RGB").quantize(colors=colors).save(target, optimize=True)
                    if target.stat().st_size <= max_bytes:
                        break
        except ImportError:
            target.write_bytes(path.read_bytes())
        written.append(target)
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    ap.add_argument("select", nargs="*", help="config names, groups or globs (default with --all: every one)")
    ap.add_argument("--all", action="store_true", help="every small config")
    ap.add_argument("--list", action="store_true", help="list the small configs and exit")
    ap.add_argument("--data-dir", default=os.environ.get("RNNLAB_DATA"), help="data directory (MNIST, PTB, HAR)")
    ap.add_argument("--runs-dir", default="runs/small", help="where the runs, table and plots go")
    ap.add_argument("--configs-dir", default=str(HERE), help=argparse.SUPPRESS)
    ap.add_argument("--timeout", type=float, default=None, help="seconds before a run is stopped")
    ap.add_argument("--threads", type=int, default=None, help="BLAS/numba threads per run (sets OMP_NUM_THREADS...)")
    ap.add_argument("--skip-done", action="store_true", help="do not rerun configs whose summary.json exists")
    ap.add_argument("--collect-only", action="store_true", help="run nothing; rebuild the table and plots")
    ap.add_argument("--no-plots", action="store_true")
    ap.add_argument("--export-plots", metavar="DIR", help="also copy the plots, quantized (< 100 KB), into DIR")
    ap.add_argument("--dry-run", action="store_true", help="print the commands and exit")
    args, extra = ap.parse_known_args(argv)

    configs = small_configs(Path(args.configs_dir))
    if args.list:
        for c in configs:
            print(f"{c.key:<44} group {c.group}")
        return 0
    if not args.select and not args.all:
        ap.error("name configs or groups to run, or --all (see --list)")
    chosen = configs if args.all else select(configs, args.select)
    runs_dir = Path(args.runs_dir)
    if args.threads:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
            os.environ[var] = str(args.threads)

    outcomes: dict[str, dict] = {}
    for i, c in enumerate(chosen, 1):
        run_dir = runs_dir / c.folder / c.name
        if args.collect_only or (args.skip_done and (run_dir / "summary.json").exists()):
            continue
        if args.dry_run:
            print(f"rnnlab train --config {c.path} --out {run_dir} --no-progress"
                  + (f" --data-dir {args.data_dir}" if args.data_dir else "") + "".join(" " + e for e in extra))
            continue
        print(f"[{i}/{len(chosen)}] {c.key} ...", end=" ", flush=True)
        outcomes[c.key] = run_one(c, run_dir, runs_dir / "logs" / f"{c.folder}_{c.name}.log", args.data_dir,
                                  args.timeout, extra)
        row = summarize(c, run_dir, outcomes[c.key])
        print(f"{row['status']} in {outcomes[c.key]['seconds']:.0f} s {metric_text(row)}", flush=True)
    if args.dry_run:
        return 0

    rows = [summarize(c, runs_dir / c.folder / c.name, outcomes.get(c.key)) for c in chosen]
    runs_dir.mkdir(parents=True, exist_ok=True)
    text = table(rows)
    (runs_dir / "results.md").write_text(text)
    (runs_dir / "results.json").write_text(json.dumps(rows, indent=1))
    print(text)
    if not args.no_plots:
        plots = plot_groups(chosen, runs_dir)
        for path in plots:
            print("plot:", path)
        if args.export_plots:
            for path in export_plots(plots, Path(args.export_plots)):
                print("exported:", path)
    return 0 if all(r["status"] in ("ok", "not run") for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
