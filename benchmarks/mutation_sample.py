"""A seeded mutation sample: how many small, behaviour-changing edits to the code do the tests catch?

    python benchmarks/mutation_sample.py --seed 23 --sites 40            # the training program, schedules, data
    python benchmarks/mutation_sample.py --seed 1 --sites 5 --only src/rnnlab/optim/schedules.py

Every candidate site in the chosen files is one of: a comparison operator swapped for its neighbour
(``<`` and ``<=``, ``>`` and ``>=``, ``==`` and ``!=``), an arithmetic operator swapped (``+``/``-``,
``*``/``/``), an integer constant moved by one, a ``not`` dropped, ``and``/``or`` swapped, ``True``/``False``
flipped. ``--sites`` of them are drawn with ``--seed``; each mutant is written into a copy of the repository
(the working tree is never touched) and the tests mapped to its module (:data:`TESTS`) are run (fast
hypothesis profile, first failure stops). A mutant is *killed* when a test fails (or the module no longer
imports), *survives* when all pass, *timeout* past ``--timeout`` seconds (reported apart: slow is not
necessarily caught). Prints one line a mutant and the score; ``--json FILE`` keeps the list.

``--select covering`` (the default) first runs the mapped tests once with a line tracer (in every Python
process they start, subprocesses included) and records which test files execute each line of the targets;
each mutant then runs only the mapped test files that execute its line (all of them for code that runs at
import: module and class bodies, defaults, decorators), and a mutant on a line no test executes is reported
``survived`` without a run. Leaving out tests that never reach the changed line can only lose kills, never
add one, so the score is the one the full selection (``--select all``) gives, or lower: never higher.
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ("src/rnnlab/training/rundir.py", "src/rnnlab/training/records.py", "src/rnnlab/training/checkpoints.py",
           "src/rnnlab/training/loop.py", "src/rnnlab/training/session.py", "src/rnnlab/training/plots.py",
           "src/rnnlab/training/work.py", "src/rnnlab/training/config.py", "src/rnnlab/optim/schedules.py",
           "src/rnnlab/datasets/mnist.py", "src/rnnlab/datasets/loader.py", "src/rnnlab/datasets/ptb.py",
           "src/rnnlab/datasets/split.py", "src/rnnlab/datasets/sequence.py", "src/rnnlab/datasets/adding.py",
           "src/rnnlab/datasets/copying.py")
TESTS = {"src/rnnlab/training": ["tests/training"],
         "src/rnnlab/optim/schedules.py": ["tests/optim/test_schedules.py", "tests/optim/test_optimizer_state.py"],
         "src/rnnlab/datasets": ["tests/datasets"]}
SWAPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq, ast.NotEq: ast.Eq,
         ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.And: ast.Or, ast.Or: ast.And}


def sites(tree: ast.AST) -> list:
    """(node index in ast.walk order, kind) for every mutable place; docstrings and annotations aside."""
    found = []
    for i, node in enumerate(ast.walk(tree)):
        if isinstance(node, ast.Compare) and type(node.ops[0]) in SWAPS:
            found.append((i, "compare"))
        elif isinstance(node, ast.BinOp) and type(node.op) in SWAPS:
            found.append((i, "binop"))
        elif isinstance(node, ast.BoolOp):
            found.append((i, "boolop"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            found.append((i, "not"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            found.append((i, "int"))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            found.append((i, "bool"))
    return found


def mutate(source: str, index: int, kind: str) -> tuple[str, int, str]:
    """The module with site ``index`` changed; returns (new source, line, what changed)."""
    tree = ast.parse(source)
    node = list(ast.walk(tree))[index]
    line = node.lineno
    if kind == "compare":
        old = type(node.ops[0])
        node.ops[0] = SWAPS[old]()
        what = f"{old.__name__} -> {SWAPS[old].__name__}"
    elif kind in ("binop", "boolop"):
        old = type(node.op)
        node.op = SWAPS[old]()
        what = f"{old.__name__} -> {SWAPS[old].__name__}"
    elif kind == "not":
        parent = next(p for p in ast.walk(tree) for f, v in ast.iter_fields(p)
                      if v is node or (isinstance(v, list) and any(x is node for x in v)))
        for f, v in ast.iter_fields(parent):
            if v is node:
                setattr(parent, f, node.operand)
            elif isinstance(v, list):
                setattr(parent, f, [node.operand if x is node else x for x in v])
        what = "not dropped"
    elif kind == "int":
        what = f"{node.value} -> {node.value + 1}"
        node.value += 1
    else:
        what = f"{node.value} -> {not node.value}"
        node.value = not node.value
    return ast.unparse(tree), line, what


def import_time(tree: ast.AST, target: ast.AST) -> bool:
    """Whether ``target`` runs when its module is imported: not inside a function body (module and class
    bodies, default values, decorators and annotations of a def run at import)."""
    def inside(node, in_body: bool) -> bool | None:
        if node is target:
            return not in_body
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            body = node.body if isinstance(node.body, list) else [node.body]
            for child in ast.iter_child_nodes(node):
                found = inside(child, in_body or any(child is b for b in body))
                if found is not None:
                    return found
            return None
        for child in ast.iter_child_nodes(node):
            found = inside(child, in_body)
            if found is not None:
                return found
        return None
    return bool(inside(tree, False))


def site_lines(tree: ast.AST, index: int) -> tuple[range, bool]:
    """The lines a tracer may report for site ``index`` (the site's own lines and the first line of the
    statement holding it) and whether it runs at import."""
    nodes = list(ast.walk(tree))
    node = nodes[index]
    lines = set(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    holders = [n for n in nodes if isinstance(n, ast.stmt) and n.lineno <= node.lineno
               and (n.end_lineno or n.lineno) >= (node.end_lineno or node.lineno)]
    if holders:
        lines.add(max(holders, key=lambda n: n.lineno).lineno)
    return sorted(lines), import_time(tree, node)


def tests_for(path: str) -> list:
    for prefix, tests in TESTS.items():
        if path.startswith(prefix):
            return tests
    raise SystemExit(f"mutation_sample: no tests mapped for {path}")


COPIED = ("src", "tests", "docs", "experiments", "setup.cfg", "setup.py", "pyproject.toml", "README.md")


def copy_tree(source: Path, target: Path) -> None:
    for name in COPIED:
        src = source / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, target / name)


PYTEST = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow"]

TRACER = '''"""Loaded by every Python process of the coverage pass: which lines of the target files run, keyed by
the test file running (pytest sets PYTEST_CURRENT_TEST; subprocesses inherit it); <import> before any test."""
import atexit, json, os, sys, threading
_targets = set(os.environ["MUTATION_TRACE_FILES"].split(os.pathsep))
_seen = {}

def _global(frame, event, arg):
    if frame.f_code.co_filename not in _targets:
        return None
    key = os.environ.get("PYTEST_CURRENT_TEST", "<import>").split("::")[0]
    lines = _seen.setdefault((key, frame.f_code.co_filename), set())
    lines.add(frame.f_lineno)
    def _local(frame, event, arg):
        if event == "line":
            lines.add(frame.f_lineno)
        return _local
    return _local

def _write():
    out = os.path.join(os.environ["MUTATION_TRACE_OUT"], f"{os.getpid()}.json")
    with open(out, "w") as f:
        json.dump([[k, p, sorted(v)] for (k, p), v in _seen.items()], f)

atexit.register(_write)
sys.settrace(_global)
threading.settrace(_global)
'''


def coverage_map(base: Path, paths: list, timeout: float) -> dict:
    """{(file, line): set of test files that execute it} over the tests mapped to ``paths``; the key
    ``"<import>"`` stands for code run while no test runs (collection)."""
    tests = sorted({t for p in paths for t in tests_for(p)})
    with tempfile.TemporaryDirectory(prefix="mutation-trace-") as tmp:
        tree, hook, out = Path(tmp) / "tree", Path(tmp) / "hook", Path(tmp) / "out"
        tree.mkdir(), hook.mkdir(), out.mkdir()
        copy_tree(base, tree)
        (hook / "sitecustomize.py").write_text(TRACER)
        env = {**os.environ, "PYTHONPATH": f"{hook}{os.pathsep}{Path(tree) / 'src'}", "HYPOTHESIS_PROFILE": "ci",
               "PYTHONDONTWRITEBYTECODE": "1", "MUTATION_TRACE_OUT": str(out),
               "MUTATION_TRACE_FILES": os.pathsep.join(str(tree / p) for p in paths)}
        start = time.perf_counter()
        proc = subprocess.run([*PYTEST[:4], *PYTEST[5:], *tests], cwd=tree, env=env, capture_output=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise SystemExit(f"mutation_sample: the unmutated tests do not pass (pytest exit {proc.returncode}):\n"
                             f"{proc.stdout.decode()[-3000:]}")
        print(f"coverage pass: {' '.join(tests)} in {time.perf_counter() - start:.0f} s", flush=True)
        covered: dict = {}
        for record in out.glob("*.json"):
            for key, file, lines in json.loads(record.read_text()):
                rel = str(Path(file).relative_to(tree))
                for line in lines:
                    covered.setdefault((rel, line), set()).add(key)
    return covered


def selected_tests(path: str, lines, at_import: bool, covered: dict | None) -> list:
    """The mapped test files a mutant at ``lines`` of ``path`` runs (see the module's docstring)."""
    mapped = tests_for(path)
    if covered is None or at_import:
        return mapped
    hit = set().union(*(covered.get((path, n), set()) for n in lines))
    if "<import>" in hit:
        return mapped
    return [t for t in sorted(hit) if any(t == m or t.startswith(m.rstrip("/") + "/") for m in mapped)]


def run_mutant(base: Path, path: str, source: str, tests: list, timeout: float) -> str:
    if not tests:
        return "survived"            # no test executes the changed line
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy_tree(base, Path(tmp))
        (Path(tmp) / path).write_text(source)
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src"), "HYPOTHESIS_PROFILE": "ci",
               "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            proc = subprocess.run([*PYTEST, *tests], cwd=tmp, env=env, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout"
        # 1: a test failed; 2: collection failed (the mutant does not import); 5: no test ran
        return {0: "survived", 1: "killed", 2: "killed"}.get(proc.returncode, f"error (pytest exit {proc.returncode})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--only", nargs="*", default=None, help="files to mutate (default: all targets)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a mutant's tests may take")
    parser.add_argument("--select", choices=("covering", "all"), default="covering",
                        help="covering: a mutant runs only the mapped test files that execute its line (default); "
                             "all: every mapped test file")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    files = args.only or list(TARGETS)
    snapshot = tempfile.TemporaryDirectory(prefix="mutation-base-")   # the tree as it is now, for every mutant
    base = Path(snapshot.name)
    copy_tree(ROOT, base)
    pool = []
    for path in files:
        source = (base / path).read_text()
        pool += [(path, i, kind) for i, kind in sites(ast.parse(source))]
    rng = random.Random(args.seed)
    chosen = rng.sample(pool, min(args.sites, len(pool)))
    covered = coverage_map(base, sorted({p for p, _, _ in chosen}), 4 * args.timeout) \
        if args.select == "covering" else None
    results, killed, timeouts = [], 0, 0
    for path, index, kind in chosen:
        source = (base / path).read_text()
        mutated, line, what = mutate(source, index, kind)
        if ast.dump(ast.parse(mutated)) == ast.dump(ast.parse(source)):
            continue
        tests = selected_tests(path, *site_lines(ast.parse(source), index), covered)
        start = time.perf_counter()
        outcome = run_mutant(base, path, mutated, tests, args.timeout)
        killed += outcome == "killed"
        timeouts += outcome == "timeout"
        results.append({"file": path, "line": line, "change": what, "outcome": outcome, "tests": tests,
                        "seconds": round(time.perf_counter() - start, 1)})
        shown = "no test runs the line" if not tests else f"{len(tests)} test files"
        print(f"{outcome:9s} {path}:{line}  {what}  ({shown}, {results[-1]['seconds']} s)", flush=True)
    print(f"killed {killed}/{len(results)} ({100 * killed / max(1, len(results)):.0f} %), {timeouts} timed out, of "
          f"a sample of {len(results)} from {len(pool)} sites, seed {args.seed}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
