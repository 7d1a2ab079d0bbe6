"""Every relative link of the docs and the README points at a file of the repository, and an anchor
(``page.md#heading``) at a heading of that page (GitHub's rule: lower case, punctuation dropped, spaces to
hyphens)."""
import re
from pathlib import Path

import pytest

from tests.docs.doc_pages import DOCS

ROOT = DOCS.parent
PAGES = sorted(DOCS.rglob("*.md")) + [ROOT / "README.md"]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
CODE = re.compile(r"^```.*?^```", re.S | re.M)


def anchor(heading: str) -> str:
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(page: Path) -> set:
    text = CODE.sub("", page.read_text())
    return {anchor(m.group(1)) for m in re.finditer(r"^#+ (.+)$", text, re.M)}


def links(page: Path):
    text = CODE.sub("", page.read_text())
    for m in LINK.finditer(text):
        target = m.group(1)
        if re.match(r"[a-z]+:", target) or target.startswith("#") and not target[1:]:
            continue                                    # http(s), mailto: not checked here
        yield target


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_relative_link_resolves(page):
    broken = []
    for target in links(page):
        path, _, fragment = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target} (no {dest})")
        elif fragment and dest.suffix == ".md" and fragment not in anchors(dest):
            broken.append(f"{target} (no heading #{fragment} in {dest.name})")
    assert not broken, f"{page.relative_to(ROOT)}: broken links: {broken}"


def test_the_anchor_rule_is_githubs():
    assert anchor("BLAS threads on small problems") == "blas-threads-on-small-problems"
    assert anchor("Speed and memory against PyTorch (CPU)") == "speed-and-memory-against-pytorch-cpu"
