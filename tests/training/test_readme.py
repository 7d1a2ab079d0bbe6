"""The README's table of flags is the registry's: it fails when a cell, task, optimizer or backend is added
without the README following."""
from pathlib import Path

from rnnlab.cells import CELLS
from rnnlab.training.flags import readme_table

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_flag_table_is_the_one_generated_from_the_registry():
    text = README.read_text()
    table = text.split("<!-- flags:start -->\n", 1)[1].split("\n<!-- flags:end -->", 1)[0]
    assert table == readme_table(), "README.md's flag table drifted: paste rnnlab.training.flags.readme_table()"


def test_every_registered_cell_is_in_the_readme():
    text = README.read_text()
    missing = [name for name in CELLS if f"`{name}`" not in text]
    assert missing == []


def test_every_python_block_of_the_readme_runs(tmp_path, monkeypatch, capsys):
    from tests.docs.doc_pages import BLOCK
    monkeypatch.chdir(tmp_path)                        # the runs the blocks write land here
    blocks = BLOCK.findall(README.read_text())
    assert len(blocks) >= 3, "README.md: the Python section's blocks are gone"
    namespace = {"__name__": "readme"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"README.md python block {i + 1}", "exec"), namespace)
    printed = capsys.readouterr().out
    assert "epoch 2: test MSE" in printed and "MSE on 8 test sequences" in printed
    assert namespace["saved"].step == namespace["summary"]["best_step"]


def test_the_readme_conventions_hold():
    """Time-major (T, B, D) in and (T, B, H) out; Linear's weight (in, out) with y = x W + b."""
    import numpy as np

    import rnnlab
    from rnnlab import cells
    layer = rnnlab.Linear(3, 2)
    assert layer.weight.shape == (3, 2)
    x = rnnlab.Tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3))
    expected = rnnlab.to_numpy(x.data) @ rnnlab.to_numpy(layer.weight.data) + rnnlab.to_numpy(layer.bias.data)
    np.testing.assert_allclose(rnnlab.to_numpy(layer(x).data), expected, rtol=1e-6)
    lstm = cells.LSTM(2, 3)
    assert lstm.weight_ih.shape == (2, 12) and lstm.weight_hh.shape == (3, 12)
    outputs, _ = cells.Recurrent([lstm])(rnnlab.Tensor(np.zeros((5, 4, 2), dtype=np.float32)))
    assert outputs.shape == (5, 4, 3)
