"""The pages of the course and their runnable blocks, shared by the docs tests.

A page is a chapter (``docs/*.md``) or an exercise solution (``docs/solutions/NN-name.md``, which continues
chapter ``docs/NN-name.md``: its blocks run after the chapter's, with the chapter's names). Its runnable blocks
are its ```python blocks, except those whose first line is ``# doc: skip`` (shown, never run: commands that
need a GPU or hours).
"""
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted(DOCS.glob("*.md")) + sorted((DOCS / "solutions").glob("*.md"))
CHAPTERS = sorted(DOCS.glob("[0-9][0-9]-*.md"))


def page_id(page: Path) -> str:
    return str(page.relative_to(DOCS).with_suffix(""))


def is_skipped(code: str) -> bool:
    return code.lstrip().startswith("# doc: skip")


def blocks(page: Path) -> list[str]:
    return [b for b in BLOCK.findall(page.read_text()) if not is_skipped(b)]


def chapter_of(page: Path) -> Path | None:
    """The chapter a solution page continues (None for a chapter)."""
    return DOCS / page.name if page.parent.name == "solutions" else None


def runnable(page: Path) -> list[tuple[str, str]]:
    """(where, code) for every block that runs for ``page``: a solution page's chapter's blocks first."""
    chapter = chapter_of(page)
    before = runnable(chapter) if chapter is not None else []
    return before + [(f"{page.relative_to(DOCS)} block {i}", b) for i, b in enumerate(blocks(page), 1)]
