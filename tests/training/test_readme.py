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
