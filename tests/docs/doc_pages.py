"""The pages of the course and their runnable blocks, shared by the docs tests.

A page is a chapter (``docs/*.md``) or an exercise solution (``docs/solutions/NN-name.md``, which continues
chapter ``docs/NN-name.md``: its blocks run after the chapter's, with the chapter's names). Its runnable blocks
are its ```python blocks, except those whose first line is ``# doc: skip`` (shown, never run: commands that
need a GPU or hours; a chapter shows those as ```py blocks instead, which a notebook keeps as text too).

A block whose first line is ``%%writefile NAME`` (``%%writefile -a NAME`` appends) writes the rest of the
block to the file NAME in the working directory, as Jupyter's magic does, and runs nothing: the page then
imports it (``from mycells import MinimalGated``), as the command line will.
"""
import re
import sys
from pathlib import Path

from rnnlab.datasets.cache import ENV_VAR
from rnnlab.datasets.ptb import PTB_FILES, PTB_MD5
from tests.datasets.dataset_files import real_folder, write_ptb_sentences

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
PAGES = sorted(DOCS.glob("*.md")) + sorted((DOCS / "solutions").glob("*.md"))
CHAPTERS = sorted(DOCS.glob("[0-9][0-9]-*.md"))


WRITEFILE = re.compile(r"\A%%writefile( -a)? (\S+)\n")


def written_file(code: str) -> tuple[str, bool, str] | None:
    """(file name, append?, text) for a ``%%writefile`` block, None for a block of code."""
    m = WRITEFILE.match(code)
    return None if m is None else (m.group(2), bool(m.group(1)), code[m.end():])


def file_source(page: Path, name: str) -> str:
    """The text the page's ``%%writefile`` blocks leave in the file ``name``."""
    text = ""
    for code in blocks(page):
        found = written_file(code)
        if found is not None and found[0] == name:
            text = text + found[2] if found[1] else found[2]
    return text


def execute(where: str, code: str, namespace: dict, folder: Path) -> None:
    """Run one block as a notebook cell would, in ``folder`` (the working directory, on ``sys.path``)."""
    found = written_file(code)
    if found is None:
        exec(compile(code, where, "exec"), namespace)
        return
    name, append, text = found
    with open(folder / name, "a" if append else "w") as f:
        f.write(text)


def forget_modules(folder: Path) -> None:
    """Drop the modules imported from ``folder`` (a page's written files), so the next page imports its own."""
    for name, module in list(sys.modules.items()):
        if Path(getattr(module, "__file__", None) or "/").parent == folder:
            del sys.modules[name]


PAGE_DATA = {"12-writing-text.md": "ptb"}
DATA_FILES = {"ptb": list(PTB_FILES.values())}
"""Chapters that read a real data set (their solution pages too): file name -> the data set's folder. The
docs tests run them on the real data where it is (``$RNNLAB_DATA``, then ``../shared/data``), else on a
stand-in corpus in the same layout (the page test) or not at all (the notebook test, which says why)."""


def data_set_of(page: Path) -> str | None:
    """The real data set a page reads (see :data:`PAGE_DATA`), None for most."""
    return PAGE_DATA.get((chapter_of(page) or page).name)


def use_page_data(page: Path, folder: Path, monkeypatch) -> None:
    """Point ``$RNNLAB_DATA`` at the real data set ``page`` reads, or, where it is absent, at a stand-in corpus
    written under ``folder`` whose checksums stand in for the real files' (in this process only)."""
    name = data_set_of(page)
    if name is None:
        return
    real = real_folder(name, DATA_FILES[name])
    if real is not None:
        monkeypatch.setenv(ENV_VAR, str(real.parent))
        return
    for file, md5 in write_ptb_sentences(folder / "data" / name).items():
        monkeypatch.setitem(PTB_MD5, file, md5)
    monkeypatch.setenv(ENV_VAR, str(folder / "data"))


def page_id(page: Path) -> str:
    return str(page.relative_to(DOCS).with_suffix(""))


def is_skipped(code: str) -> bool:
    """A block (or a notebook cell, whose first line may be a ``%%bash`` or ``%%writefile`` magic) that starts
    with ``# doc: skip``."""
    lines = code.lstrip().splitlines()
    if lines and lines[0].startswith("%%"):
        lines = lines[1:]
    return bool(lines) and lines[0].lstrip().startswith("# doc: skip")


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
