"""Two MPI ranks at global batch B train exactly as one process at batch B, and only rank 0 writes files.

One ``mpiexec -n 2`` launch (``mpi_worker.py``) trains every case below and resumes a single-process
checkpoint on two ranks; the single-process references run here, in the test process.
"""
import json

import numpy as np
import pytest

from rnnlab import training as train
from rnnlab.training import checkpoints as checkpoint
from rnnlab.training.config import from_mapping

TINY = dict(task="adding", seq_len=8, train_size=40, test_size=15, hidden=5, batch_size=8, eval_every=3,
            log_every=1, checkpoint_every=100, steps=6, progress=False)
CASES = {
    "sgd-float32": dict(cell="rnn", optimizer="sgd", lr=0.1, momentum=0.9, dtype="float32"),
    "sgd-float64": dict(cell="rnn", optimizer="sgd", lr=0.1, momentum=0.9, dtype="float64"),
    "adam-float32": dict(cell="lstm", optimizer="adam", lr=0.01, dtype="float32"),
    "adam-float64": dict(cell="lstm", optimizer="adam", lr=0.01, dtype="float64"),
    "fw-float32": dict(cell="gru", optimizer="fw", fw_k=3, fw_outer="adam", lr=0.01, dtype="float32"),
    "fw-float64": dict(cell="gru", optimizer="fw", fw_k=3, fw_outer="adam", lr=0.01, dtype="float64"),
    # 13 sequences at B = 8: each epoch's last batch of 5 splits 2 / 3 between the ranks (weighted mean); 15
    # test rows too (a batch larger than the training set is refused before any run)
    "uneven-shares-float64": dict(cell="rnn", optimizer="sgd", lr=0.1, train_size=13, batch_size=8,
                                  dtype="float64"),
}
TOLERANCE = {"float32": 1e-6, "float64": 1e-12}
# copying (T = 26) with TBPTT chunks of 5: a checkpoint at step 7 lies inside the second minibatch
TBPTT = dict(TINY, task="copying", seq_len=6, cell="lstm", optimizer="adam", lr=0.01, tbptt=5, dtype="float64")
HALF, WHOLE = 7, 12


def settings(name, root):
    values = dict(TINY, **CASES[name]) if name in CASES else dict(TBPTT, steps=HALF)
    return dict(values, out=str(root / name))


def run_alone(values):
    """One process: (the trained model's parameters as host arrays, the summary)."""
    run = train.Run(from_mapping(values, "test"))
    summary = run.run()
    return {k: np.asarray(v) for k, v in run.model.state_dict().items()}, summary


def relative_error(a, b) -> float:
    """max |a - b| / max |b|: the error relative to the tensor's scale."""
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), np.finfo(b.dtype).tiny))


def assert_close(params, reference, dtype):
    assert sorted(params) == sorted(reference)
    errors = {k: relative_error(params[k], reference[k]) for k in reference}
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOLERANCE[dtype], f"{worst}: relative error {errors[worst]:.3g} > {TOLERANCE[dtype]}"


@pytest.fixture(scope="module")
def ranks(tmp_path_factory, mpiexec):
    """Launch the two ranks once for every case; returns the folder of results and run directories."""
    root = tmp_path_factory.mktemp("ranks")
    (root / "results").mkdir()
    solo = dict(TBPTT, steps=HALF, out=str(root / "solo-then-two"))
    run_alone(solo)
    spec = {"cases": {name: settings(name, root) for name in [*CASES, "tbptt-two-then-solo"]},
            "resume": {"solo-then-two": {"run_dir": solo["out"], "steps": WHOLE}},
            "results": str(root / "results")}
    (root / "spec.json").write_text(json.dumps(spec))
    mpiexec(["mpi_worker.py", str(root / "spec.json")], timeout=240)
    return root


@pytest.mark.parametrize("name", sorted(CASES))
def test_two_ranks_give_the_parameters_and_test_loss_of_one_process(ranks, name, tmp_path):
    values = settings(name, tmp_path)
    reference, summary = run_alone(values)
    result = dict(np.load(ranks / "results" / f"{name}.npz"))
    result.pop("identical")
    assert_close(result, reference, values["dtype"])
    two = json.loads((ranks / name / "summary.json").read_text())
    assert abs(two["test_loss"] - summary["test_loss"]) <= TOLERANCE[values["dtype"]] * abs(summary["test_loss"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_parameters_are_bit_identical_across_ranks_after_every_step(ranks, name):
    identical = np.load(ranks / "results" / f"{name}.npz")["identical"]
    assert identical.shape == (TINY["steps"],) and identical.all(), identical


def test_only_rank_zero_writes_files(ranks):
    for name in CASES:
        assert not (ranks / f"{name}.rank1").exists(), f"rank 1 wrote {name}.rank1"
        written = {p.name for p in (ranks / name).iterdir()}
        assert {"config.json", "metrics.jsonl", "checkpoint.npz", "summary.json"} <= written, written


def test_checkpoint_of_two_ranks_resumes_on_one_and_continues_like_an_uninterrupted_run(ranks, tmp_path):
    run_dir = ranks / "tbptt-two-then-solo"
    _, meta = checkpoint.load(run_dir / "checkpoint.npz")
    assert meta["step"] == HALF and meta["tree"]["state/work/resume_point/1"] > 0   # inside a minibatch
    train.resume(run_dir, steps=WHOLE, progress=False, distributed=False)
    reference, _ = run_alone(dict(TBPTT, steps=WHOLE, out=str(tmp_path / "whole")))
    arrays, meta = checkpoint.load(run_dir / "checkpoint.npz")
    assert meta["step"] == WHOLE
    assert_close({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}, reference, "float64")


def test_checkpoint_of_one_process_resumes_on_two_ranks(ranks, tmp_path):
    reference, _ = run_alone(dict(TBPTT, steps=WHOLE, out=str(tmp_path / "whole")))
    arrays, meta = checkpoint.load(ranks / "solo-then-two" / "checkpoint.npz")
    assert meta["step"] == WHOLE
    assert_close({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")}, reference, "float64")
