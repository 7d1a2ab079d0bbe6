"""Every ```python block of every page in docs/ runs, in order, so the course can never go stale.

A page's blocks share one namespace (a chapter builds up its example step by step). Blocks run on the
numpy backend in a temporary working directory, so pictures a chapter writes land there. A block whose
first line is ``# doc: skip`` is shown but not run (for commands that need a GPU or hours).
"""
import re
from pathlib import Path

import pytest

import rnnlab
from rnnlab.engine import backend

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted(DOCS.glob("*.md"))


def blocks(page: Path):
    return [b for b in BLOCK.findall(page.read_text()) if not b.lstrip().startswith("# doc: skip")]


def test_docs_folder_has_pages_with_code():
    assert any(blocks(p) for p in PAGES), f"no runnable python blocks found in {DOCS}"


@pytest.mark.parametrize("page", PAGES, ids=[p.stem for p in PAGES])
def test_every_code_block_of_the_page_runs(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": f"docs_{page.stem}"}
    dtype = backend.default_dtype_name()
    try:
        with rnnlab.use_backend("numpy"):
            for i, code in enumerate(blocks(page), 1):
                try:
                    exec(compile(code, f"{page.name} block {i}", "exec"), namespace)
                except Exception as exc:
                    raise AssertionError(f"{page.name}: code block {i} failed: {exc!r}\n{code}") from exc
    finally:
        rnnlab.set_default_dtype(dtype)
        rnnlab.manual_seed(0)
