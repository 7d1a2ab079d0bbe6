"""Every chapter opens as a Jupyter notebook: jupytext converts it (as ``jupytext --to notebook`` does) and
nbclient runs it top to bottom in a fresh kernel, as a learner would.

Only ``# doc: skip`` blocks (a GPU, hours) are left out, as the page test leaves them out; ``%%writefile``
and ``%%bash`` cells run as a learner's would (the kernel runs in a fresh folder, the ``rnnlab`` command from
the environment the tests run in). One kernel per chapter. A chapter that reads a real data set runs where
the real-data tests find it and is skipped, with the reason, where it is absent.
"""
import os
import sys
from pathlib import Path

import pytest

from rnnlab.datasets.cache import ENV_VAR
from tests.datasets.dataset_files import missing_reason, real_folder
from tests.docs.doc_pages import CHAPTERS, DATA_FILES, data_set_of, is_skipped, page_id

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")


def notebook(chapter):
    nb = jupytext.read(chapter)
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            source = cell.source
            if is_skipped(source):
                continue
        kept.append(cell)
    nb.cells = kept
    return nb


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[page_id(c) for c in CHAPTERS])
def test_the_chapter_runs_as_a_notebook(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.delenv("RNNLAB_BACKEND", raising=False)
    data = data_set_of(chapter)
    if data is not None:        # its %%bash cells run `rnnlab train` in their own process: only on the real files
        real = real_folder(data, DATA_FILES[data])
        if real is None:
            pytest.skip(missing_reason(data, DATA_FILES[data]) + f"; {chapter.name} needs it as a notebook (the "
                        "page test runs its code on a stand-in corpus)")
        monkeypatch.setenv(ENV_VAR, str(real.parent))
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    nb = notebook(chapter)
    assert any(c.cell_type == "code" for c in nb.cells), f"{chapter.name}: no code cells after conversion"
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(tmp_path)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{chapter.name} as a notebook: {str(exc)[-2000:]}")
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"], f"{chapter.name}: a cell raised"
