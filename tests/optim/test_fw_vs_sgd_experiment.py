"""experiments/fw_vs_sgd_adding.py runs end to end on a tiny setting and writes its plot and its results."""
import importlib.util
import json
import math
import pathlib

import pytest

SCRIPT = pathlib.Path(__file__).resolve().parents[2] / "experiments" / "fw_vs_sgd_adding.py"


@pytest.fixture(scope="module")
def experiment():
    pytest.importorskip("matplotlib", reason="the experiment plots with matplotlib (pip install 'rnnlab[plot]')")
    spec = importlib.util.spec_from_file_location("fw_vs_sgd_adding", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_experiment_trains_every_method_and_counts_gradient_evaluations(backend_name, experiment, tmp_path):
    summary = experiment.main(["--steps", "2", "--T", "6", "--hidden", "4", "--batch", "3",
                               "--backend", backend_name, "--out", str(tmp_path)])
    assert (tmp_path / "losses.png").stat().st_size > 0
    saved = json.loads((tmp_path / "results.json").read_text())
    assert saved["final"] == summary["final"]
    assert set(saved["final"]) == set(experiment.METHODS)
    for name, r in saved["final"].items():
        K = 5 if "_k5_" in name else 1
        assert r["grad_evals"] == 2 * K and r["updates"] == 2
        assert math.isfinite(r["test_mse"]) and math.isfinite(r["final_train_loss_mean_last_50"])
