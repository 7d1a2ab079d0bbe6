"""rnnlab export RUN --tensorboard DIR: every number of metrics.jsonl reads back from the event file as the
scalar SPLIT/KEY at its step; a missing tensorboard package, a DIR already holding events or a write cut short
leave nothing behind."""
import importlib.util
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, strategies as st

from rnnlab.cli import main
from rnnlab.training.export_tensorboard import event_files, export_tensorboard, scalars

NUMBER_KEYS = ("epoch", "loss", "accuracy", "perplexity", "grad_evals", "lr", "grad_norm")
NUMBER = st.one_of(st.integers(-2**24, 2**24), st.floats(width=32, allow_nan=False, allow_infinity=False))
NOT_A_NUMBER = st.one_of(st.none(), st.booleans(), st.text(max_size=3))
needs_tensorboard = pytest.mark.skipif(importlib.util.find_spec("tensorboard") is None,
                                       reason="tensorboard is not installed (pip install 'rnnlab[tensorboard]')")
ROW = st.fixed_dictionaries(
    {"split": st.sampled_from(["train", "val", "test"]), "step_gap": st.integers(0, 50),
     "wall_time": st.floats(0, 1e6, allow_nan=False)},
    optional={"numbers": st.dictionaries(st.sampled_from(NUMBER_KEYS), NUMBER, max_size=len(NUMBER_KEYS)),
              "other": st.dictionaries(st.sampled_from(["note", "done", "best"]), NOT_A_NUMBER, max_size=2)})


def metrics(drawn) -> list[dict]:
    """Rows as a run writes them: steps that never go back (TensorBoard drops points after a step goes back)."""
    rows, step = [], 0
    for d in drawn:
        step += d["step_gap"]
        rows.append({"step": step, "epoch": 0, "split": d["split"], **d.get("numbers", {}),
                     **d.get("other", {}), "wall_time": d["wall_time"]})
    return rows


def read_back(folder: Path) -> dict:
    """tag -> [(step, value, wall_time)], as TensorBoard's own reader sees the folder."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [(e.step, e.value, e.wall_time) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def expected_scalars(rows) -> dict:
    want = {}
    for row in rows:
        for key, value in row.items():
            if key not in ("step", "split", "wall_time") and type(value) in (int, float):
                want.setdefault(f"{row['split']}/{key}", []).append(
                    (row["step"], float(np.float32(value)), row["wall_time"]))
    return want


@needs_tensorboard
@given(st.lists(ROW, max_size=12))
def test_every_number_of_the_metrics_reads_back_as_its_scalar(drawn):
    rows = metrics(drawn)
    with tempfile.TemporaryDirectory() as tmp:
        path = export_tensorboard(rows, Path(tmp) / "tb")
        assert [p.name for p in Path(tmp, "tb").iterdir()] == [path.name] and "tfevents" in path.name
        assert read_back(path.parent) == expected_scalars(rows)


def write_run(folder: Path, rows) -> Path:
    folder.mkdir(parents=True)
    (folder / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


ROWS = [{"step": 10, "epoch": 0, "split": "train", "loss": 0.5, "lr": 0.001, "grad_norm": 2.5, "grad_evals": 10,
         "wall_time": 1.25},
        {"step": 10, "epoch": 0, "split": "val", "loss": 0.25, "accuracy": 0.75, "grad_evals": 10, "wall_time": 1.5},
        {"step": 20, "epoch": 1, "split": "train", "loss": 0.125, "lr": 0.0005, "grad_norm": 1.0, "grad_evals": 20,
         "wall_time": 2.0}]


@needs_tensorboard
def test_the_command_writes_events_and_refuses_a_folder_that_has_some(tmp_path, capsys):
    run = write_run(tmp_path / "run", ROWS)
    assert main(["export", str(run), "--tensorboard", str(tmp_path / "tb"), "--csv"]) == 0
    out = capsys.readouterr().out.split()
    assert out[1] == str(run / "metrics.csv") and Path(out[0]).parent == tmp_path / "tb"
    back = read_back(tmp_path / "tb")
    assert back["train/lr"] == [(10, float(np.float32(0.001)), 1.25), (20, float(np.float32(0.0005)), 2.0)]
    assert back["val/accuracy"] == [(10, 0.75, 1.5)] and back == expected_scalars(ROWS)
    before = sorted(p.name for p in (tmp_path / "tb").iterdir())
    assert main(["export", str(run), "--tensorboard", str(tmp_path / "tb")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already holds TensorBoard event files" in err
    assert sorted(p.name for p in (tmp_path / "tb").iterdir()) == before


def test_the_command_says_what_to_write_and_refuses_out_without_csv(tmp_path, capsys):
    run = write_run(tmp_path / "run", ROWS)
    assert main(["export", str(run)]) == 2
    assert "say what to write: --csv, --tensorboard DIR, or both" in capsys.readouterr().err
    assert main(["export", str(run), "--tensorboard", str(tmp_path / "tb"), "--out", "x.csv"]) == 2
    assert "--out x.csv names the CSV file; give it with --csv" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and list(run.iterdir()) == [run / "metrics.jsonl"]


def test_without_tensorboard_one_line_says_what_to_install_and_nothing_is_written(tmp_path, capsys, monkeypatch):
    for name in [n for n in sys.modules if n == "tensorboard" or n.startswith("tensorboard.")] + ["tensorboard"]:
        monkeypatch.setitem(sys.modules, name, None)         # as if it were not installed
    run = write_run(tmp_path / "run", ROWS)
    assert main(["export", str(run), "--tensorboard", str(tmp_path / "tb" / "a"), "--csv"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("rnnlab export: error: --tensorboard needs the tensorboard "
                                                   "package") and "pip install 'rnnlab[tensorboard]'" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"] and list(run.iterdir()) == [run / "metrics.jsonl"]


@needs_tensorboard
@given(st.integers(0, len(scalars(ROWS))), st.sampled_from([OSError(28, "No space left on device"),
                                                            KeyboardInterrupt()]),
       st.sampled_from(["an empty folder", "a new folder", "a new folder in a new folder"]))
def test_a_write_cut_short_leaves_no_event_file_and_no_folder_it_made(cut, fault, where):
    from tensorboard.summary.writer.event_file_writer import EventFileWriter
    original, calls = EventFileWriter.add_event, []

    def add_event(self, event):
        calls.append(event)
        if len(calls) > cut:          # the first event is the file's version, then one per scalar
            raise fault
        original(self, event)

    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        mp.setattr(EventFileWriter, "add_event", add_event)
        existing = Path(tmp) / "tb"
        existing.mkdir()
        target = {"an empty folder": existing, "a new folder": existing / "new",
                  "a new folder in a new folder": existing / "new" / "deeper"}[where]
        with pytest.raises(type(fault)):
            export_tensorboard(ROWS, target)
        assert list(existing.iterdir()) == []
