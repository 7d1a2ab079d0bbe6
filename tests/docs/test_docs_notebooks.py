"""Every chapter opens as a Jupyter notebook: jupytext converts it (as ``jupytext --to notebook`` does) and
nbclient runs it top to bottom in a fresh kernel, as a learner would.

Cells that the page test leaves out are left out here too: ``# doc: skip`` blocks (a GPU, hours) and
shell blocks (``%%bash`` cells: training runs). One kernel per chapter: about 40 s for all of them on two busy cores.
"""
import pytest

from tests.docs.doc_pages import CHAPTERS, is_skipped, page_id

jupytext = pytest.importorskip("jupytext")
nbclient = pytest.importorskip("nbclient")


SHELL_MAGICS = ("%%bash", "%%sh", "%%script")
"""Cell magics that run a shell (left out); ``%%writefile`` cells run, as they write the modules later cells import."""


def notebook(chapter):
    nb = jupytext.read(chapter)
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            source = cell.source
            if is_skipped(source) or source.lstrip().startswith(SHELL_MAGICS):
                continue
        kept.append(cell)
    nb.cells = kept
    return nb


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[page_id(c) for c in CHAPTERS])
def test_the_chapter_runs_as_a_notebook(chapter, tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    monkeypatch.delenv("RNNLAB_BACKEND", raising=False)
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
