"""A battery of a new user's mistakes: each gets exit status 2, one line on stderr that names the setting (no
traceback), and changes nothing on disk: an existing run stays byte-identical and no directory appears."""
import hashlib
import json
import re
import shlex
import shutil

import pytest

from rnnlab.cli import main

TINY = ["--seq-len", "6", "--train-size", "24", "--test-size", "8", "--val-size", "8", "--hidden", "3",
        "--batch-size", "8", "--eval-every", "2", "--log-every", "1", "--checkpoint-every", "2", "--no-progress"]
STEPS = 4


@pytest.fixture(scope="module")
def existing(tmp_path_factory):
    """A finished run (4 steps) and a folder with every kind of file a mistake could damage."""
    root = tmp_path_factory.mktemp("battery")
    run = root / "run"
    assert main(["train", "--steps", str(STEPS), "--out", str(run), *TINY]) == 0
    other = root / "other"
    assert main(["train", "--steps", str(STEPS), "--out", str(other), *TINY, "--hidden", "4"]) == 0
    (root / "file").write_text("not a directory")
    (root / "bad.toml").write_text("hidden = [unclosed\n")
    (root / "unknown.toml").write_text('hiden = 12\n')
    (root / "float.toml").write_text("hidden = 32.7\n")
    (root / "bool.toml").write_text("hidden = true\n")
    (root / "word.toml").write_text('lr = "fast"\n')
    (root / "mu.toml").write_text('cell = "lstm"\nmu = 0.3\n')
    (root / "empty").mkdir()
    (root / "not-a-run").mkdir()
    (root / "broken-config").mkdir()
    (root / "broken-config" / "config.json").write_text("{ not json")
    (root / "broken-metrics").mkdir()
    (root / "broken-metrics" / "metrics.jsonl").write_text('{"step": 1}\n{oops\n')
    mixed = root / "mixed"
    shutil.copytree(run, mixed)
    shutil.copy(other / "checkpoint.npz", mixed / "checkpoint.npz")     # a checkpoint from another run
    damaged = root / "damaged"
    shutil.copytree(run, damaged)
    data = (damaged / "checkpoint.npz").read_bytes()
    (damaged / "checkpoint.npz").write_bytes(data[:-200])        # a write cut short
    return root


def snapshot(root):
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir"
            for p in sorted(root.rglob("*"))}


CASES_TABLE = r"""
# unknown names: the choices come from the registry
train --task sudoku  ::  unknown task 'sudoku'; choose one of adding, copying
train --cell transformer  ::  unknown cell 'transformer'; choose one of rnn, indrnn, lstm
train --optimizer lbfgs  ::  unknown optimizer 'lbfgs'; choose one of sgd, adam, rmsprop, fw
train --schedule cosine  ::  unknown schedule 'cosine'
train --backend tpu  ::  unknown backend 'tpu'; choose one of numpy, cupy, strict
train --dtype float16  ::  unknown dtype 'float16'
train --fw-outer lbfgs --optimizer fw  ::  unknown fw_outer 'lbfgs'
train --fw-norm frobenius --optimizer fw  ::  unknown fw_norm 'frobenius'
train --cell rnn --nonlinearity sigmoid  ::  unknown nonlinearity 'sigmoid'
train --cell orthogonal-rnn --skew-init random  ::  unknown skew_init 'random'
train --momentum-clock wall  ::  unknown momentum_clock 'wall'
train --cell nesterov-lstm --nesterov-form weird  ::  unknown nesterov_form 'weird'
train --plugins no_such_module_xyz  ::  plugins: no module named 'no_such_module_xyz'
# numbers of the wrong kind or out of range
train --lr -0.1  ::  lr must be a positive number, got -0.1
train --lr inf  ::  lr must be a positive number, got inf
train --lr nan  ::  lr must be a number, got 'nan'
train --lr abc  ::  lr must be a float, got 'abc'
train --hidden 0  ::  hidden must be at least 1, got 0
train --hidden 32.7  ::  hidden must be an integer, got '32.7'
train --layers -1  ::  layers must be at least 1, got -1
train --steps -5  ::  steps must not be negative, got -5
train --epochs 1.5  ::  epochs must be an integer, got '1.5'
train --batch-size 0  ::  batch_size must be at least 1, got 0
train --seq-len -1  ::  seq_len must not be negative, got -1
train --eval-every 0  ::  eval_every must be at least 1, got 0
train --log-every 0  ::  log_every must be at least 1, got 0
train --checkpoint-every 0  ::  checkpoint_every must be at least 1, got 0
train --cell momentum-lstm --mu 1.5  ::  mu must be in \[0, 1\), got 1.5
train --cell adam-lstm --beta 1.0  ::  beta must be in \(0, 1\), got 1.0
train --dropout 1.0  ::  dropout must be in \[0, 1\), got 1.0
train --lr-decay 0  ::  lr_decay must be in \(0, 1\], got 0.0
train --clip-norm -1  ::  clip_norm must not be negative, got -1.0
train --optimizer fw --fw-p 0.5  ::  fw_p must be at least 1 \(or inf\), got 0.5
train --optimizer fw --fw-delta 0  ::  fw_delta must be a positive number, got 0.0
train --optimizer fw --fw-k 0  ::  fw_k must be at least 1, got 0
train --range-sum --no-progress --fused=maybe  ::  argument --fused/--no-fused: ignored explicit
train --no-such-flag  ::  unrecognized arguments: --no-such-flag
# settings that do not fit together (each would have been ignored or reinterpreted)
train --tbptt-k2 5  ::  tbptt_k2 needs tbptt
train --tbptt 5 --tbptt-k2 3  ::  tbptt_k2 \(3\) must be at least tbptt \(5\)
train TINY --tbptt 60  ::  tbptt \(60\) is longer than the adding sequences \(T = 6\)
train --device 1  ::  device '1' needs backend cupy or strict
train --cell lstm --rebase-every 2  ::  rebase_every needs an orthogonal cell
train --cell lstm --mu 0.5  ::  mu does not apply to cell 'lstm'
train --cell gru --forget-bias 1  ::  forget_bias does not apply to cell 'gru'
train --task mnist-row --seq-len 30  ::  seq_len does not apply to task 'mnist-row'
train --task copying --range-sum  ::  range_sum does not apply to task 'copying'
train --har-mapping 1:0  ::  har_mapping does not apply to task 'adding'
train --pixels raw  ::  pixels does not apply to task 'adding' .it applies to mnist-row, mnist-pixel, mnist-permuted
train --task mnist-row --pixels unit  ::  unknown pixels 'unit'; choose one of standardized, raw
train --out ""  ::  out must name a directory, got an empty string
# files and folders
train --config '{root}/missing.toml'  ::  --config: file .*missing.toml does not exist
train --config '{root}/empty'  ::  --config: .*empty cannot be read as a TOML file
train --config '{root}/bad.toml'  ::  --config: .*bad.toml is not valid TOML
train --config '{root}/unknown.toml'  ::  unknown key 'hiden'
train --config '{root}/float.toml'  ::  hidden must be an integer, got 32.7
train --config '{root}/bool.toml'  ::  hidden must be an integer, got True
train --config '{root}/word.toml'  ::  lr must be a float, got 'fast'
train --config '{root}/mu.toml'  ::  mu does not apply to cell 'lstm'
train TINY --out '{root}/file'  ::  --out: .*file is a file, not a directory
train TINY --out '{root}/file/run'  ::  --out: cannot create .*file/run: .*file is a file
train TINY --out '{root}/run'  ::  --out: .*run already holds a run; continue it with `rnnlab train --resume
train --no-progress --task mnist-row --data-dir '{root}/file'  ::  {root}/file
train --no-progress --task har2 --data-dir '{root}/empty'  ::  UCI HAR Dataset
# resuming
train --resume '{root}/file'  ::  --resume: .*file is not a directory
train --resume '{root}/not-a-run'  ::  config.json does not exist
train --resume '{root}/broken-config'  ::  config.json is not valid JSON
train --resume '{root}/run' --epochs 3  ::  --epochs: the run in .* is defined by steps \(4\)
train --resume '{root}/run' --steps 2  ::  reached step 4, beyond the 2 steps asked for
train --resume '{root}/run'  ::  finished at step 4; give a larger --steps
train --resume '{root}/run' --hidden 5  ::  only --steps, --epochs, --progress and --distributed
train --resume '{root}/run' --overwrite  ::  only --steps.*\(got --overwrite\)
train --resume '{root}/mixed' --steps 8  ::  belongs to another run: hidden \(4 in the checkpoint, 3 in config.json\)
train --resume '{root}/damaged' --steps 8  ::  checkpoint: .*checkpoint.npz is corrupted
# the other commands
evaluate '{root}/not-a-run'  ::  evaluate: .*config.json does not exist
evaluate '{root}/run' --checkpoint best  ::  best.npz does not exist \(the run was not started with --keep-best\)
evaluate '{root}/run' --split train  ::  argument --split: invalid choice: 'train'
plot '{root}/not-a-run'  ::  plot: .*metrics.jsonl does not exist
plot '{root}/broken-metrics'  ::  plot: .*metrics.jsonl line 2 is not valid JSON
gradcheck nosuchcell  ::  unknown cell 'nosuchcell'
gradcheck lstm --steps 0  ::  steps must be at least 1, got 0
"""
"""One case a line: the command line (TINY stands for the tiny run's flags, {root} for the fixture's folder)
and, after ``::``, a regular expression the one line on stderr must match; ``#`` lines are headings."""


def parse_cases(table: str) -> list:
    cases = []
    for line in table.strip().splitlines():
        if line.startswith("#"):
            continue
        command, message = line.split("  ::  ")
        argv = []
        for word in shlex.split(command):
            argv.extend(TINY if word == "TINY" else [word])
        cases.append((argv, message))
    return cases


CASES = parse_cases(CASES_TABLE)


def call(argv) -> int:
    """``rnnlab ARGV``'s exit status (argparse's own mistakes exit through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return exc.code


@pytest.mark.parametrize("argv, message", CASES, ids=[" ".join(a[:4])[:60] for a, _ in CASES])
def test_a_mistake_is_one_line_exit_2_and_changes_nothing(argv, message, existing, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)                   # a run without --out would create runs/ here
    before = snapshot(existing)
    code = call([a.replace("{root}", str(existing)) for a in argv])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and "Traceback" not in err, err
    assert lines[0].startswith("rnnlab"), lines[0]
    assert re.search(message.replace("{root}", re.escape(str(existing))), lines[0]), lines[0]
    assert snapshot(existing) == before
    assert list(tmp_path.iterdir()) == []


def test_the_battery_has_at_least_sixty_cases():
    assert len(CASES) >= 60


def test_json_records_are_strict(existing):
    for name in ("metrics.jsonl", "summary.json", "config.json"):
        text = (existing / "run" / name).read_text()
        for token in ("NaN", "Infinity"):
            assert token not in text
        for line in text.splitlines() if name.endswith("jsonl") else [text]:
            json.loads(line, parse_constant=lambda c: pytest.fail(f"{name} has {c}"))
