"""The pages of the course and their runnable blocks, shared by the docs tests.

A page is a chapter (``docs/*.md``) or an exercise solution (``docs/solutions/NN-name.md``, which continues
chapter ``docs/NN-name.md``: its blocks run after the chapter's, with the chapter's names). Its runnable blocks
are its ```python blocks, except those whose first line is ``# doc: skip`` (shown, never run: commands that
need a GPU or hours). A block whose first line is ``# doc: needs FEATURE`` runs only when the engine has
that feature (see :data:`FEATURES`); otherwise the page reports it as not run.
"""
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
NEEDS = re.compile(r"#\s*doc:\s*needs\s+([\w-]+)")
PAGES = sorted(DOCS.glob("*.md")) + sorted((DOCS / "solutions").glob("*.md"))
CHAPTERS = sorted(DOCS.glob("[0-9][0-9]-*.md"))


def page_id(page: Path) -> str:
    return str(page.relative_to(DOCS).with_suffix(""))


def is_skipped(code: str) -> bool:
    return code.lstrip().startswith("# doc: skip")


def needed_feature(code: str) -> str | None:
    """The FEATURE of a first line ``# doc: needs FEATURE``, else None."""
    first = code.lstrip().split("\n", 1)[0]
    match = NEEDS.match(first)
    return match.group(1) if match else None


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


def _kernels_switch() -> bool:
    from rnnlab.cells import kernels
    return hasattr(kernels, "disabled")


def _shape_guard() -> bool:
    """Does backward refuse a gradient whose shape differs from its input's?"""
    import rnnlab

    class Forgets(rnnlab.Function):
        def forward(self, x):
            return x + self.xp.zeros((2, 1), dtype=x.dtype)

        def backward(self, gy):
            return gy

    x = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    try:
        Forgets()(x).sum().backward()
    except ValueError:
        return True
    return False


def _dot_grads() -> bool:
    import inspect

    from rnnlab.engine import graph
    return "grads" in inspect.signature(graph.to_dot).parameters


def _per_path_gradcheck() -> bool:
    import inspect

    from rnnlab.training import gradcheck
    return "kernels" in inspect.signature(gradcheck.check_cell).parameters


def _plugins() -> bool:
    from rnnlab.training import TrainConfig
    return hasattr(TrainConfig(), "plugins")


FEATURES = {
    "kernels-switch": (_kernels_switch, "rnnlab.cells.kernels.disabled()"),
    "shape-guard": (_shape_guard, "backward's check of each gradient's shape"),
    "dot-grads": (_dot_grads, "graph.to_dot(tensor, grads=True)"),
    "per-path-gradcheck": (_per_path_gradcheck, "check_cell(..., kernels=...) for each path"),
    "plugins": (_plugins, "the training configuration's 'plugins' key"),
}


def missing_feature(code: str) -> str | None:
    """A description of the feature the block needs and this build lacks, else None."""
    name = needed_feature(code)
    if name is None:
        return None
    if name not in FEATURES:
        raise ValueError(f"'# doc: needs {name}': unknown feature; expected one of {', '.join(FEATURES)}")
    present, what = FEATURES[name]
    return None if present() else what
