"""The `rnnlab` command: bad input is one clear line, runs leave their files, plots are written."""
import json
import re
import subprocess
import sys

import pytest

from rnnlab.cli import main

SMALL = ["--seq-len", "8", "--train-size", "96", "--test-size", "32", "--hidden", "6", "--batch-size", "16",
         "--eval-every", "4", "--log-every", "2", "--checkpoint-every", "4", "--no-progress"]


def run_cli(args, capsys):
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("args, message", [
    (["--task", "sudoku"], r"unknown task 'sudoku'; choose one of adding, copying"),
    (["--cell", "transformer"], r"unknown cell 'transformer'"),
    (["--lr", "-0.1"], r"lr must be a positive number, got -0.1"),
    (["--mu", "1.5", "--cell", "momentum-lstm"], r"mu must be in \[0, 1\), got 1.5"),
    (["--tbptt-k2", "5"], r"tbptt_k2 needs tbptt"),
    (["--optimizer", "lbfgs"], r"unknown optimizer 'lbfgs'"),
    (["--hidden", "0"], r"hidden must be at least 1, got 0"),
])
def test_bad_training_flags_give_one_line_naming_the_setting(args, message, capsys, tmp_path):
    code, out, err = run_cli(["train", "--out", str(tmp_path / "run"), *args], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("rnnlab train: error:")
    assert re.search(message, lines[0]), lines[0]


def test_a_config_file_with_an_unknown_key_is_refused_naming_the_key(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('task = "adding"\nhiden = 12\n')
    code, _, err = run_cli(["train", "--config", str(cfg)], capsys)
    assert code == 2 and "unknown key 'hiden'" in err and len(err.strip().splitlines()) == 1


def test_a_data_directory_without_the_files_says_which_files_to_put_where(capsys, tmp_path):
    code, _, err = run_cli(["train", "--task", "har2", "--data-dir", str(tmp_path), "--out",
                            str(tmp_path / "run")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "UCI HAR Dataset" in err and str(tmp_path) in err


def test_resume_of_a_folder_that_is_not_a_run_is_one_clear_line(capsys, tmp_path):
    code, _, err = run_cli(["train", "--resume", str(tmp_path)], capsys)
    assert code == 2 and "config.json does not exist" in err


def test_flags_override_the_config_file(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('hidden = 5\nsteps = 4\ncell = "gru"\n')
    code, out, _ = run_cli(["train", "--config", str(cfg), "--steps", "2", "--out", str(tmp_path / "run"), *SMALL],
                           capsys)
    assert code == 0
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert (config["hidden"], config["steps"], config["cell"]) == (6, 2, "gru")


@pytest.mark.parametrize("backend_flag", ["numpy", "strict"])
def test_a_run_writes_metrics_summary_checkpoint_and_plots(backend_flag, capsys, tmp_path):
    run = tmp_path / "run"
    code, out, _ = run_cli(["train", "--task", "copying", "--cell", "gru", "--steps", "8", "--backend", backend_flag,
                            "--out", str(run), *SMALL], capsys)
    assert code == 0 and "test_accuracy" in out
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {r["split"] for r in records} == {"train", "val", "test"}
    assert [r["step"] for r in records if r["split"] == "val"] == [4, 8]     # every --eval-every, and at the end
    assert [r["step"] for r in records if r["split"] == "test"] == [8]       # the test split is read once
    for r in records:
        assert {"step", "epoch", "split", "loss", "accuracy", "wall_time"} <= set(r)
    assert [r["step"] for r in records if r["split"] == "train"] == [2, 4, 6, 8]
    summary = json.loads((run / "summary.json").read_text())
    assert {"val_loss", "val_accuracy", "test_loss", "test_accuracy", "baseline_loss", "diverged", "config"} \
        <= set(summary)
    assert 0.0 <= summary["test_accuracy"] <= 1.0
    assert summary["config"]["backend"] == backend_flag
    assert (run / "checkpoint.npz").exists()
    code, out, _ = run_cli(["plot", str(run)], capsys)
    assert code == 0
    for name in ("loss.png", "accuracy.png"):
        png = run / name
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_console_script_runs_as_a_module(tmp_path):
    result = subprocess.run([sys.executable, "-m", "rnnlab.cli", "train", "--task", "nope"], capture_output=True,
                            text=True, cwd=tmp_path)
    assert result.returncode == 2 and "unknown task 'nope'" in result.stderr


def test_gradcheck_command_reports_every_gradient_of_a_cell(capsys):
    code, out, _ = run_cli(["gradcheck", "momentum-lstm", "--steps", "3"], capsys)
    assert code == 0
    for name in ("input x", "weight_ih", "weight_hh", "all gradients match"):
        assert name in out


def test_recorded_gradient_norms_are_saved_and_plotted(capsys, tmp_path):
    run = tmp_path / "run"
    code, _, _ = run_cli(["train", "--cell", "rnn", "--steps", "4", "--record-grad-norms", "--out", str(run), *SMALL],
                         capsys)
    assert code == 0
    from rnnlab.training import checkpoints as checkpoint
    arrays, _ = checkpoint.load(run / "grad_norms.npz")
    assert list(arrays["steps"]) == [2, 4]
    assert arrays["layer0"].shape == (2, 8) and (arrays["layer0"] > 0).all()
    code, out, _ = run_cli(["plot", str(run)], capsys)
    assert code == 0 and "grad_norms.png" in out
    assert (run / "grad_norms.png").read_bytes()[:4] == b"\x89PNG"


def test_only_the_logged_steps_run_the_probe_so_the_others_keep_the_compiled_kernels(capsys, tmp_path, monkeypatch):
    from rnnlab.cells import FusedSequence, kernels
    if not kernels.available():
        pytest.skip(f"no compiled kernels: {kernels.unavailable_reason()}")
    probed = []
    original = FusedSequence.forward

    def forward(self, *arrays):
        probed.append(self.probe is not None)
        return original(self, *arrays)

    monkeypatch.setattr(FusedSequence, "forward", forward)
    monkeypatch.delenv("RNNLAB_BACKEND", raising=False)
    run = tmp_path / "run"
    code, _, _ = run_cli(["train", "--cell", "lstm", "--steps", "5", "--record-grad-norms", "--out", str(run),
                          "--backend", "numpy", *SMALL], capsys)
    assert code == 0
    from rnnlab.training import checkpoints as checkpoint
    arrays, _ = checkpoint.load(run / "grad_norms.npz")
    assert list(arrays["steps"]) == [2, 4, 5]
    assert sum(probed) == 3, "the probe ran on the three logged steps only (2, 4 and the last)"
    assert len(probed) > 3


@pytest.mark.slow
def test_the_embedded_default_beats_the_predict_the_mean_baseline(tmp_path):
    result = subprocess.run([sys.executable, "-m", "rnnlab.cli", "train", "--no-progress"], capture_output=True,
                            text=True, cwd=tmp_path, timeout=1800)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "runs" / "latest" / "summary.json").read_text())
    assert summary["baseline_loss"] > 0.15
    assert summary["test_loss"] < 0.1 * summary["baseline_loss"]


def test_training_from_python_leaves_the_callers_backend_and_dtype_alone(tmp_path):
    from rnnlab import training as train
    from rnnlab.training.config import from_mapping
    from rnnlab.engine import backend
    before = (backend.current_backend(), backend.default_dtype_name())
    cfg = from_mapping({"steps": 2, "seq_len": 6, "train_size": 32, "test_size": 16, "hidden": 4,
                        "batch_size": 8, "backend": "strict", "dtype": "float64", "progress": False,
                        "out": str(tmp_path / "run")}, "test")
    summary = train.train(cfg)
    assert summary["steps"] == 2
    assert (backend.current_backend(), backend.default_dtype_name()) == before
    with pytest.raises(Exception):
        train.train(from_mapping({"task": "har2", "data_dir": str(tmp_path), "dtype": "float64",
                                  "out": str(tmp_path / "bad")}, "test"))
    assert (backend.current_backend(), backend.default_dtype_name()) == before
