"""``rnnlab export RUN --csv`` and ``rnnlab export RUN --tensorboard DIR``: a run's ``metrics.jsonl`` as a CSV
table (for a spreadsheet or pandas) or as TensorBoard event files (:mod:`rnnlab.training.export_tensorboard`).

CSV: one row per metrics line (train, val and test rows alike, in the file's order); the columns are every key
the lines hold, in the order they first appear (a key a row lacks is an empty cell). Written atomically to
``RUN/metrics.csv`` unless ``--out FILE`` says where. Both flags may be given; the TensorBoard export goes
first, so that its refusals (no ``tensorboard`` package, event files already in ``DIR``) leave no CSV either.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from .checkpoints import atomic_write_bytes
from .config import ConfigError
from .rundir import read_rows

METRICS, CSV = "metrics.jsonl", "metrics.csv"


def metrics_rows(run_dir) -> list[dict]:
    """The rows of ``run_dir/metrics.jsonl``, read by :func:`rnnlab.training.rundir.read_rows` (a missing file
    or a line that is not a JSON object with a ``step`` is one error naming the file and line)."""
    return read_rows(Path(run_dir) / METRICS, "export", need=("step",))


def to_csv(rows: list[dict]) -> str:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def export_csv(run_dir, out=None) -> Path:
    """Write the run's metrics as CSV to ``out`` (default ``run_dir/metrics.csv``); returns the path."""
    path = Path(out) if out else Path(run_dir) / CSV
    atomic_write_bytes(path, to_csv(metrics_rows(run_dir)).encode())
    return path


def export(run_dir, csv: bool = False, out=None, tensorboard=None, echo=print) -> None:
    """``rnnlab export``: write ``run_dir``'s metrics as CSV (``csv``, to ``out``, default RUN/metrics.csv)
    and/or TensorBoard event files in folder ``tensorboard``; echo each path written."""
    if not (csv or tensorboard):
        raise ConfigError("export: say what to write: --csv, --tensorboard DIR, or both")
    if out and not csv:
        raise ConfigError(f"export: --out {out} names the CSV file; give it with --csv")
    rows = metrics_rows(run_dir)
    if tensorboard:                                 # first: its refusals (no package, events there) precede the CSV
        from .export_tensorboard import export_tensorboard
        echo(export_tensorboard(rows, tensorboard))
    if csv:
        echo(export_csv(run_dir, out))


__all__ = ["metrics_rows", "to_csv", "export_csv", "export", "METRICS", "CSV"]
