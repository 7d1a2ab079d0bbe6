"""Every ```python block of every page of the course runs, in order, so the course can never go stale.

The pages are the chapters (docs/*.md) and the exercise solutions (docs/solutions/*.md; a solution page runs
after its chapter, in the chapter's namespace). A page's blocks share one namespace (a chapter builds up its
example step by step). Blocks run on the numpy backend in a temporary working directory, so pictures a page
writes land there, and so do the files its ``%%writefile`` blocks write (see doc_pages). A block whose first
line is ``# doc: skip`` is shown but not run (for commands that need a GPU or hours). A page that reads a real data set (doc_pages.PAGE_DATA)
reads it where the real-data tests find it, else a small corpus in the same layout.
"""
import pytest

import rnnlab
from rnnlab.cells.registry import CELLS
from rnnlab.engine import backend
from tests.docs.doc_pages import (CHAPTERS, DOCS, PAGES, blocks, execute, forget_modules, page_id, runnable,
                                  use_page_data)


def test_docs_folder_has_pages_with_code():
    assert any(blocks(p) for p in PAGES), f"no runnable python blocks found in {DOCS}"


def test_every_chapter_has_exercises_with_a_solution_page():
    assert CHAPTERS, f"no chapters in {DOCS}"
    for chapter in CHAPTERS:
        text = chapter.read_text()
        assert "\n## Exercises\n" in text, f"{chapter.name}: no '## Exercises' section"
        solution = DOCS / "solutions" / chapter.name
        assert solution.exists(), f"{chapter.name}: no solution page {solution}"
        assert f"solutions/{chapter.name}" in text, f"{chapter.name}: does not link its solutions"
        assert blocks(solution), f"{solution}: no runnable python blocks"


@pytest.mark.parametrize("page", PAGES, ids=[page_id(p) for p in PAGES])
def test_every_code_block_of_the_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))     # a notebook's folder is on sys.path: its written files import
    monkeypatch.setenv("MPLBACKEND", "Agg")
    use_page_data(page, tmp_path, monkeypatch)     # a page that reads PTB: the real files, else a stand-in
    namespace = {"__name__": f"docs_{page.stem}"}
    dtype = backend.default_dtype_name()
    cells = dict(CELLS)
    try:
        with rnnlab.use_backend("numpy"):
            for where, code in runnable(page):
                try:
                    execute(where, code, namespace, tmp_path)
                except Exception as exc:
                    raise AssertionError(f"{where} failed: {exc!r}\n{code}") from exc
    finally:
        forget_modules(tmp_path)
        rnnlab.set_default_dtype(dtype)
        rnnlab.manual_seed(0)
        CELLS.clear()
        CELLS.update(cells)         # a page may register its own cell (chapter 11): not for the other tests
