"""``rnnlab export RUN --tensorboard DIR``: a run's ``metrics.jsonl`` as a TensorBoard event file in ``DIR``
(then ``tensorboard --logdir DIR``).

Each metrics row becomes one event per number it holds: the scalar ``SPLIT/KEY`` (``train/loss``,
``val/accuracy``, ``train/lr``, ``train/grad_norm``, ``val/epoch``, ...) at the row's ``step``, stamped with
the row's ``wall_time`` (seconds since the run started: TensorBoard's *Relative* axis is the run's own
clock). TensorBoard keeps a scalar as a 32-bit float, so a value reads back rounded to float32.

It needs the ``tensorboard`` package (``pip install 'rnnlab[tensorboard]'``), the one that both writes event
files (the writer ``torch.utils.tensorboard`` also writes through) and reads them (TensorBoard itself), so a
user who can look at the file can also make it; without it the export is refused before anything is written.
The file is written into a temporary folder inside ``DIR`` and renamed into place when complete; a ``DIR``
that already holds event files is refused (TensorBoard would draw both files' points as one run).
"""
from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from .config import ConfigError
from .rundir import RunDirError

PACKAGE = "tensorboard"
INSTALL = "pip install 'rnnlab[tensorboard]'"
EVENTS = "tfevents"
"""What TensorBoard looks for in an event file's name."""
ROW_KEYS = ("step", "split", "wall_time")
"""A metrics row's keys that place its scalars (the event's step, the tag's prefix, the event's time)."""


def tensorboard_modules():
    """``(EventFileWriter, Event, Summary)`` from the ``tensorboard`` package; a :class:`ConfigError` saying
    what to install when it cannot be imported."""
    try:
        from tensorboard.compat.proto.event_pb2 import Event
        from tensorboard.compat.proto.summary_pb2 import Summary
        from tensorboard.summary.writer.event_file_writer import EventFileWriter
    except ImportError as exc:
        raise ConfigError(f"export: --tensorboard needs the {PACKAGE} package, which cannot be imported "
                          f"({exc}); install it with {INSTALL}") from None
    return EventFileWriter, Event, Summary


def scalars(rows: list[dict]) -> list[tuple[str, int, float, float]]:
    """``(tag, step, value, wall_time)`` for every number in ``rows`` (``SPLIT/KEY``; booleans, strings and
    nulls are not scalars), in the rows' order."""
    out = []
    for row in rows:
        split, step, wall = row.get("split", "metrics"), row.get("step", 0), row.get("wall_time", 0.0)
        for key, value in row.items():
            if key in ROW_KEYS or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            out.append((f"{split}/{key}", int(step), float(value), float(wall)))
    return out


def event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and EVENTS in p.name) if folder.is_dir() else []


def export_tensorboard(rows: list[dict], out) -> Path:
    """Write ``rows`` (a run's metrics, see :func:`rnnlab.training.export.metrics_rows`) as one event file in
    folder ``out`` (created when absent); returns the file's path."""
    EventFileWriter, Event, Summary = tensorboard_modules()
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunDirError(f"export: {out} is a file; --tensorboard takes a folder")
    if taken := event_files(out):
        raise RunDirError(f"export: {out} already holds TensorBoard event files ({taken[0].name}); choose an "
                          "empty folder or remove them (TensorBoard would show both as one run)")
    made = next((p for p in reversed((out, *out.parents)) if not p.exists()), None)  # the top folder made here
    out.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".rnnlab-export-", dir=out))
    try:
        writer = EventFileWriter(str(staging))
        try:
            for tag, step, value, wall in scalars(rows):
                summary = Summary(value=[Summary.Value(tag=tag, simple_value=value)])
                writer.add_event(Event(wall_time=wall, step=step, summary=summary))
        finally:
            writer.close()
        (written,) = event_files(staging)
        final = out / written.name
        written.replace(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if made is not None:
            shutil.rmtree(made, ignore_errors=True)
        raise
    staging.rmdir()
    return final


__all__ = ["tensorboard_modules", "scalars", "event_files", "export_tensorboard"]
