"""Fault injection: hypothesis draws a run directory's state (each file present, missing, cut at a random byte,
a folder, garbage, from another run, unreadable; a stale, live or malformed lock; an orphaned temporary file)
and an action (train, train --overwrite, train --resume, evaluate, plot), and checks the contract of
:mod:`rnnlab.training.rundir`:

* the action succeeds, or it prints exactly one line on stderr and exits 2; never a traceback;
* a refusal changes nothing: every file that existed is byte-identical and nothing new appears;
* a success changes only what the action may change (evaluate and plot: nothing in the run directory), and
  what it produces is what an undisturbed run produces: a resumed run equals an uninterrupted one.

``HYPOTHESIS_PROFILE=ci`` draws a few dozen states; ``thorough`` draws hundreds.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, note, settings, strategies as st

from rnnlab.cli import main
from rnnlab.training.rundir import LOCK, RUN_FILES

TINY = ["--seq-len", "6", "--train-size", "24", "--test-size", "8", "--val-size", "8", "--hidden", "3",
        "--batch-size", "8", "--eval-every", "2", "--log-every", "1", "--checkpoint-every", "2", "--no-progress",
        "--keep-best", "--record-grad-norms", "--cell", "rnn"]
ROOT = os.getuid() == 0
FILE_STATES = ("present", "missing", "cut", "folder", "garbage", "other run") + (() if ROOT else ("unreadable",))
LOCK_STATES = ("none", "none", "none", "stale", "live", "malformed", "folder")   # mostly none: more runs get far
ACTIONS = ("train", "train --overwrite", "resume", "evaluate", "evaluate best", "plot")
ORPHAN = ".checkpoint.npz.k1ll3d.tmp"


def quiet_main(argv, capsys):
    code = main(argv)
    return code, capsys.readouterr().err


@pytest.fixture(scope="module")
def templates(tmp_path_factory):
    """The run the states are made from (4 steps), another run (hidden 4) and the undisturbed references: the
    same run trained for 4 steps and for 6 (what a resume to 6 must equal)."""
    root = tmp_path_factory.mktemp("harness")
    made = {}
    for name, steps, extra in (("run", 4, []), ("other", 4, ["--hidden", "4"]), ("ref6", 6, [])):
        made[name] = root / name
        assert main(["train", "--steps", str(steps), "--out", str(made[name]), *TINY, *extra]) == 0
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    made["live_pid"], made["dead_pid"], made["root"] = live.pid, dead.pid, root
    yield made
    live.kill()
    live.wait()


def snapshot(root: Path) -> dict:
    """Every path under ``root``: its bytes (a file), "dir" (a folder) or "link"."""
    shown = {}
    for p in sorted(root.rglob("*")):
        if p.is_symlink():
            shown[str(p.relative_to(root))] = "link"
        elif p.is_dir():
            shown[str(p.relative_to(root))] = "dir"
        else:
            try:
                shown[str(p.relative_to(root))] = p.read_bytes()
            except PermissionError:
                shown[str(p.relative_to(root))] = "unreadable"
    return shown


def rows(run_dir: Path, drop=("wall_time",)) -> list:
    return [{k: v for k, v in json.loads(line).items() if k not in drop}
            for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def summary(run_dir: Path) -> dict:
    values = json.loads((run_dir / "summary.json").read_text())
    values.pop("wall_time")
    values["config"].pop("out")
    values["config"].pop("steps")
    return values


def make_state(t, run: Path, files: dict, lock, orphan: bool) -> None:
    """Build ``run`` from the template run: each file in its drawn state, then the lock."""
    run.mkdir()
    for name, (state, cut_at, garbage) in files.items():
        source = t["run"] / name
        if state == "missing" or not source.exists():
            continue
        target = run / name
        if state == "present":
            shutil.copy(source, target)
        elif state == "cut":
            data = source.read_bytes()
            target.write_bytes(data[:cut_at % max(1, len(data))])
        elif state == "folder":
            target.mkdir()
        elif state == "garbage":
            target.write_bytes(garbage)
        elif state == "other run":
            shutil.copy(t["other"] / name, target)
        elif state == "unreadable":
            shutil.copy(source, target)
            target.chmod(0)
    kind, text = lock
    if kind == "stale":
        (run / LOCK).write_text(json.dumps({"host": os.uname().nodename, "pid": t["dead_pid"]}))
    elif kind == "live":
        (run / LOCK).write_text(json.dumps({"host": os.uname().nodename, "pid": t["live_pid"]}))
    elif kind == "malformed":
        (run / LOCK).write_text(text)
    elif kind == "folder":
        (run / LOCK).mkdir()
    if orphan:
        (run / ORPHAN).write_bytes(b"half a checkpoint")


def argv_for(action: str, run: Path, pngs: Path) -> list:
    return {"train": ["train", "--steps", "4", "--out", str(run), *TINY],
            "train --overwrite": ["train", "--steps", "4", "--out", str(run), "--overwrite", *TINY],
            "resume": ["train", "--resume", str(run), "--steps", "6", "--no-progress"],
            "evaluate": ["evaluate", str(run)],
            "evaluate best": ["evaluate", str(run), "--checkpoint", "best"],
            "plot": ["plot", str(run), "--out", str(pngs)]}[action]


file_state = st.tuples(st.sampled_from(FILE_STATES), st.integers(0, 10 ** 6), st.binary(min_size=0, max_size=40))
states = st.fixed_dictionaries({name: file_state for name in RUN_FILES})
locks = st.tuples(st.sampled_from(LOCK_STATES), st.sampled_from(['{"host": "h", "pid": "abc"}', "12345", "", "x",
                                                                  '{"pid": 1}', "[1, 2]", "\x00\xff"]))
# most draws damage one file or two: the rest present, as in a real run directory someone changed
few_damaged = st.tuples(st.lists(st.sampled_from(RUN_FILES), min_size=1, max_size=2, unique=True), states).map(
    lambda pair: {n: (s if n in pair[0] else ("present", 0, b"")) for n, s in pair[1].items()})


@pytest.mark.parametrize("action", ACTIONS)
@settings(suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture])
@given(files=st.one_of(few_damaged, few_damaged, states), lock=locks, orphan=st.booleans())
def test_every_drawn_run_directory_state_succeeds_cleanly_or_is_refused_in_one_line(
        templates, capsys, action, files, lock, orphan):
    case = Path(tempfile.mkdtemp(dir=templates["root"]))
    run, pngs = case / "run", case / "pngs"
    make_state(templates, run, files, lock, orphan)
    before = snapshot(case)
    note(f"{action}: {[(n, s[0]) for n, s in files.items() if s[0] != 'present']}, lock {lock}, orphan {orphan}")
    try:
        code, err = quiet_main(argv_for(action, run, pngs), capsys)
    except SystemExit as exc:                       # argparse
        code, err = exc.code, capsys.readouterr().err
    finally:
        for p in run.rglob("*"):                    # let the next example (and tmp cleanup) read everything
            if not p.is_symlink():
                p.chmod(0o755 if p.is_dir() else 0o644)
    event("done" if code == 0 else "refused: " + " ".join(err.split(": ")[1:3])[:50].split("/")[0])
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err, err
    if code == 2:
        assert len(err.strip().splitlines()) == 1, err
        after = snapshot(case)
        if lock[0] == "stale":       # a dead writer's lock may be taken over (and so removed) by any writer
            before.pop(f"run/{LOCK}"), after.pop(f"run/{LOCK}", None)
        assert after == before, f"refused but changed files: {err}"
        return
    after = snapshot(case)
    if action in ("evaluate", "evaluate best", "plot"):
        assert {k: v for k, v in after.items() if not k.startswith("pngs")} == before
        if action == "plot":
            assert (pngs / "loss.png").exists()
        return
    reference = templates["ref6"] if action == "resume" else templates["run"]
    assert rows(run) == rows(reference)
    assert summary(run) == summary(reference)
    assert (run / "checkpoint.npz").read_bytes() == (reference / "checkpoint.npz").read_bytes()
    assert (run / "best.npz").read_bytes() == (reference / "best.npz").read_bytes()
    assert not (run / LOCK).exists() and not (run / ORPHAN).exists()
    if action == "train":          # a fresh run only into a folder that held no run: nothing was there to lose
        assert all(s[0] == "missing" for s in files.values()), files


@pytest.mark.skipif(ROOT, reason="running as root: permission bits do not stop root, so unreadable files cannot "
                    "be made (the harness leaves that member out)")
@pytest.mark.parametrize("name", RUN_FILES)
def test_an_unreadable_file_is_one_line_for_every_action(templates, capsys, name):
    for action in ACTIONS:
        case = Path(tempfile.mkdtemp(dir=templates["root"]))
        files = {n: ("unreadable" if n == name else "present", 0, b"") for n in RUN_FILES}
        make_state(templates, case / "run", files, ("none", ""), False)
        try:
            code, err = quiet_main(argv_for(action, case / "run", case / "pngs"), capsys)
        finally:
            (case / "run" / name).chmod(0o644)
        assert code in (0, 2) and "Traceback" not in err and (code == 0 or len(err.strip().splitlines()) == 1), err
