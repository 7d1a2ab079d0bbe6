"""`rnnlab train` with the orthogonal cells: every cell name trains, DTRIV rebases after every K-th step and
keeps B orthogonal, skew_init reaches the cell, bad settings are one line naming the key, and the gradient
check command knows the cells. (Resuming a run with rebase_every: tests/train/test_resume.py.)"""
import math
import re

import numpy as np
import pytest
from tests.training.test_cli import run_cli
from tests.training.test_resume import TINY, final_state

from rnnlab.cells import OrthogonalRNN
from rnnlab.cli import main
from rnnlab.training.config import TrainConfig
from rnnlab.engine.backend import to_numpy
from rnnlab.engine.expm import expm_array
from rnnlab.cells import CELLS
from rnnlab.training import Run
from rnnlab.training.registry import orthogonal_cells

ORTHOGONAL_CELLS = orthogonal_cells()


def orthogonality_error(base, A) -> float:
    """||B^T B - I||_max for B = B_0 expm(A - A^T), on host arrays."""
    B = base @ to_numpy(expm_array(A - A.T))
    return float(np.abs(B.T @ B - np.eye(B.shape[0])).max())


def test_every_orthogonal_cell_name_is_a_cell_of_the_training_program():
    assert len(ORTHOGONAL_CELLS) == 5
    assert [CELLS[c].__name__ for c in ORTHOGONAL_CELLS] == [
        "OrthogonalRNN", "MomentumOrthogonalRNN", "NesterovOrthogonalRNN", "AdamOrthogonalRNN",
        "RMSPropOrthogonalRNN"]


@pytest.mark.parametrize("cell", ORTHOGONAL_CELLS)
def test_each_orthogonal_cell_trains_with_dtriv_and_keeps_B_orthogonal(cell, tmp_path, capsys):
    out = tmp_path / "run"
    restart = ["--restart", "2"] if cell.startswith("nesterov") else []     # only the Nesterov cells take F
    assert main(["train", "--steps", "6", "--out", str(out), "--cell", cell, "--rebase-every", "4",
                 "--dtype", "float64", *restart, *TINY]) == 0
    capsys.readouterr()
    arrays, step = final_state(out)
    assert step == 6
    A, base = arrays["model/rnn.cells.0.A"], arrays["model/rnn.cells.0.base"]
    assert np.abs(A).max() > 0, "two steps after the rebase at step 4, A should have moved off zero"
    assert np.abs(base - np.eye(5)).max() > 1e-3, "the rebases should have moved the base off the identity"
    assert orthogonality_error(base, A) < 1e-10
    summary = (out / "summary.json").read_text()
    assert f'"cell": "{cell}"' in summary and '"rebase_every": 4' in summary


def _run(tmp_path, **settings):
    cfg = TrainConfig(task="adding", seq_len=8, train_size=40, test_size=16, hidden=6, batch_size=8,
                      dtype="float64", progress=False, out=str(tmp_path / "run"), **settings)
    return Run(cfg)


@pytest.mark.parametrize("K", [1, 3])
def test_rebasing_happens_after_every_kth_step_and_leaves_B_orthogonal(K, tmp_path):
    run = _run(tmp_path, cell="orthogonal-rnn", rebase_every=K, steps=10, optimizer="rmsprop")
    with run:     # the run's backend and dtype, given back at the end as run() does
        cell = next(m for _, m in run.model.named_modules() if isinstance(m, OrthogonalRNN))
        assert not to_numpy(cell.A.data).any(), "DTRIV starts from a rebase (B_0 = B_init, A = 0)"
        rebased_at, bases = [], [to_numpy(cell.base)]
        for _ in range(9):
            B_before = to_numpy(cell.recurrent_weight().data)
            run.train_step()
            A, base = to_numpy(cell.A.data), to_numpy(cell.base)
            if not A.any():
                rebased_at.append(run.step)
                assert not np.array_equal(base, bases[-1]), f"the rebase at step {run.step} left the base"
            else:
                assert np.array_equal(base, bases[-1]), f"the base changed at step {run.step} without a rebase"
            assert not np.array_equal(to_numpy(cell.recurrent_weight().data), B_before), "B did not train"
            assert orthogonality_error(base, A) < 1e-10, f"B is not orthogonal after step {run.step}"
            bases.append(base)
    assert rebased_at == [s for s in range(1, 10) if s % K == 0]


def test_without_rebase_every_the_cell_is_exprnn_with_the_identity_base(tmp_path):
    run = _run(tmp_path, cell="momentum-orthogonal-rnn", steps=5)
    with run:
        cell = run.model.rnn.cells[0]
        A0 = to_numpy(cell.A.data).copy()
        assert A0.any(), "expRNN keeps the skew initialization in A"
        for _ in range(5):
            run.train_step()
        assert np.array_equal(to_numpy(cell.base), np.eye(6))
        assert orthogonality_error(to_numpy(cell.base), to_numpy(cell.A.data)) < 1e-10
    assert run.trivialization is None


@pytest.mark.parametrize("skew_init", ["cayley", "henaff"])
def test_skew_init_reaches_the_cell(skew_init, tmp_path):
    run = _run(tmp_path, cell="adam-orthogonal-rnn", skew_init=skew_init, steps=1)
    run.close()
    cell = run.model.rnn.cells[0]
    assert cell.skew_init == skew_init
    theta = to_numpy(cell.A.data)[0, 1]
    # cayley: theta = -tan(phi/2), phi in (0, pi/2), so theta in (-1, 0); henaff: theta in (-pi, pi)
    assert (-1 < theta <= 0) if skew_init == "cayley" else (-math.pi < theta < math.pi)


@pytest.mark.parametrize("args, message", [
    (["--cell", "lstm", "--rebase-every", "5"],
     r"config: rebase_every needs an orthogonal cell \(orthogonal-rnn, .*\), got cell 'lstm'"),
    (["--cell", "orthogonal-rnn", "--rebase-every", "-1"], r"config: rebase_every must not be negative, got -1"),
    (["--cell", "orthogonal-rnn", "--skew-init", "qr"],
     r"config: unknown skew_init 'qr'; choose one of cayley, henaff"),
])
def test_bad_orthogonal_settings_give_one_line_naming_the_key(args, message, capsys, tmp_path):
    code, _, err = run_cli(["train", "--out", str(tmp_path / "run"), *args], capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    assert re.search(message, lines[-1]), lines[-1]


def test_a_config_file_with_a_wrong_rebase_every_type_names_the_key(capsys, tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('cell = "orthogonal-rnn"\nrebase_every = "often"\n')
    code, _, err = run_cli(["train", "--config", str(cfg), "--out", str(tmp_path / "run")], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "rebase_every must be an integer, got 'often'" in err


@pytest.mark.parametrize("cell", ["orthogonal-rnn", "rmsprop-orthogonal-rnn"])
def test_gradcheck_command_checks_the_orthogonal_cells(cell, capsys):
    code, out, err = run_cli(["gradcheck", cell], capsys)
    assert code == 0, out + err
    assert "  A " in out and "modrelu_bias" in out and out.strip().splitlines()[-1].startswith("all gradients match")
