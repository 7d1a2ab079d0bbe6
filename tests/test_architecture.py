"""The package's rooms import one way (docs/architecture.md): training -> cells / optim / datasets -> engine
-> backend; and no module uses another module's private (underscore) names."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "rnnlab"
ALLOWED = {
    "engine": set(),
    "cells": {"engine"},
    "optim": {"engine"},
    "datasets": {"engine"},
    "training": {"engine", "cells", "optim", "datasets"},
    "cli": {"engine", "cells", "optim", "datasets", "training"},
    "__init__": {"engine", "cells", "optim", "datasets", "training"},    # training: load_run, on first use
}


def room(path: Path) -> str:
    """The room of a module: its folder under rnnlab/, or for a top-level module its name (cli.py and its
    companions cli_*.py are the command layer, room cli)."""
    parts = path.relative_to(ROOT).parts
    name = parts[0] if len(parts) > 1 else parts[0][:-3]
    return "cli" if name.startswith("cli_") else name


def entry_point_nodes(tree) -> set:
    """The nodes inside ``if __name__ == "__main__":`` blocks: a module's own command line, which may call the
    command layer (``python -m rnnlab.training.experiments``) without the module depending on it."""
    inside = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.If) and isinstance(node.test, ast.Compare)
                and isinstance(node.test.left, ast.Name) and node.test.left.id == "__name__"):
            inside |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return inside


def imports(path: Path, entry_points: bool = True):
    """(room imported, names imported, line) for every import of another rnnlab room in ``path`` (without
    those of its ``__main__`` block unless ``entry_points``)."""
    package = list(path.relative_to(ROOT).parent.parts)
    tree = ast.parse(path.read_text())
    skipped = set() if entry_points else entry_point_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[:len(package) - node.level + 1]
            target = base + [m for m in (node.module or "").split(".") if m]
            first = target[0] if target else None
            yield first, [a.name for a in node.names], node.lineno, target


def test_every_import_points_down_the_architecture():
    wrong = []
    for path in ROOT.rglob("*.py"):
        here = room(path)
        for first, names, line, _ in imports(path, entry_points=False):
            if first is None:                      # `from .. import x`: x is a room of the package
                targets = [n for n in names if n in ALLOWED]
            else:
                targets = [first]
            for target in targets:
                if target != here and target not in ALLOWED[here] and target in ALLOWED:
                    wrong.append(f"{path.relative_to(ROOT)}:{line} ({here} imports {target})")
    assert wrong == []


def test_argparse_is_the_command_layers_alone():
    """The training room exposes plain functions; the parsers (flags, subcommands) live in cli.py and cli_*.py."""
    wrong = []
    for path in (ROOT / "training").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(n.split(".")[0] == "argparse" for n in names):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert wrong == []


def test_no_module_imports_another_modules_private_names():
    wrong = []
    for path in ROOT.rglob("*.py"):
        for _, names, line, target in imports(path):
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {', '.join(private)}")
    assert wrong == []


def test_no_file_is_far_past_the_soft_limit():
    """A file holds one concern; about 450 lines is the soft limit (docs/architecture.md), judged in review.
    This backstop only catches a file that has clearly become two (600 lines)."""
    top = ROOT.parents[1]
    files = [*ROOT.rglob("*.py"), *(top / "benchmarks").rglob("*.py"), *(top / "experiments").rglob("*")]
    long = [f"{p.relative_to(top)}: {len(p.read_text().splitlines())}" for p in files
            if p.is_file() and p.suffix in (".py", ".toml", ".sh", ".md") and len(p.read_text().splitlines()) > 600]
    assert long == []


def test_no_module_reads_a_private_attribute_of_another_module():
    wrong = []
    for path in ROOT.rglob("*.py"):
        tree = ast.parse(path.read_text())
        modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level and not node.module:
                modules |= {a.asname or a.name for a in node.names}      # from . import backend
            elif isinstance(node, ast.ImportFrom) and node.level:
                modules |= {a.asname or a.name for a in node.names if a.name.islower() and "_" not in a.name[:1]}
        for node in ast.walk(tree):
            if (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in modules
                    and node.attr.startswith("_") and not node.attr.startswith("__")):
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value.id}.{node.attr}")
    assert wrong == []
