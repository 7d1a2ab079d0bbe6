"""Chapter 11's cell, saved as the module its ``%%writefile mycells.py`` blocks make up, trains from the command line
with ``rnnlab train --plugins mycells --cell minimal-gated`` (and a missing plugin is one clear line)."""
import json
import os
import subprocess
import sys

from tests.docs.doc_pages import DOCS, file_source

CHAPTER = DOCS / "11-your-own-cell.md"


def module_source() -> str:
    text = file_source(CHAPTER, "mycells.py")
    assert "class MinimalGated(" in text and "class MinimalGatedCore" in text, \
        f"{CHAPTER.name}: its %%writefile mycells.py blocks do not make up the cell and its core"
    return text


def rnnlab_train(tmp_path, *args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), os.environ.get("PYTHONPATH", "")]),
           "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-c", "import sys; from rnnlab.cli import main; sys.exit(main())", "train"]
    return subprocess.run(command + list(args), cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_the_chapters_cell_trains_from_the_command_line_as_a_plugin(tmp_path):
    (tmp_path / "mycells.py").write_text(module_source())
    done = rnnlab_train(tmp_path, "--plugins", "mycells", "--cell", "minimal-gated", "--task", "adding",
                        "--seq-len", "10", "--hidden", "4", "--steps", "5", "--train-size", "64",
                        "--val-size", "32", "--test-size", "32", "--out", "run", "--no-progress")
    assert done.returncode == 0, done.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["cell"] == "minimal-gated" and summary["test_loss"] == summary["test_loss"]   # not NaN


def test_a_missing_plugin_is_one_line_naming_it(tmp_path):
    done = rnnlab_train(tmp_path, "--plugins", "no_such_cells", "--cell", "minimal-gated", "--steps", "1")
    assert done.returncode != 0
    assert "no_such_cells" in done.stderr and "Traceback" not in done.stderr, done.stderr
