"""A seeded mutation sample: how many small, behaviour-changing edits to the code do the tests catch?

    python benchmarks/mutation_sample.py --seed 23 --sites 40            # the training program, schedules, data
    python benchmarks/mutation_sample.py --seed 1 --sites 5 --only src/rnnlab/optim/schedules.py

Every candidate site in the chosen files is one of: a comparison operator swapped for its neighbour
(``<`` and ``<=``, ``>`` and ``>=``, ``==`` and ``!=``), an arithmetic operator swapped (``+``/``-``,
``*``/``/``), an integer constant moved by one, a ``not`` dropped, ``and``/``or`` swapped, ``True``/``False``
flipped. ``--sites`` of them are drawn with ``--seed``; each mutant is written into a copy of the repository
(the working tree is never touched) and the tests that mirror its module are run (``tests/<package dir>``,
fast hypothesis profile, first failure stops). A mutant is *killed* when a test fails, *survives* when all
pass, *timeout* past ``--timeout`` seconds (reported apart: slow is not necessarily caught). Prints one line a
mutant and the score; ``--json FILE`` keeps the list.
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
TESTS = {"src/rnnlab/training": ["tests/training/test_run_files.py", "tests/training/test_run_safety.py",
                             "tests/training/test_resume.py", "tests/training/test_bad_inputs.py",
                             "tests/training/test_fault_harness.py", "tests/training/test_protocol.py",
                             "tests/training/test_cli.py"],
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


def tests_for(path: str) -> list:
    for prefix, tests in TESTS.items():
        if path.startswith(prefix):
            return tests
    raise SystemExit(f"mutation_sample: no tests mapped for {path}")


COPIED = ("src", "tests", "setup.cfg")


def copy_tree(source: Path, target: Path) -> None:
    for name in COPIED:
        src = source / name
        (shutil.copytree if src.is_dir() else shutil.copy)(src, target / name)


def run_mutant(base: Path, path: str, source: str, timeout: float) -> str:
    with tempfile.TemporaryDirectory(prefix="mutant-") as tmp:
        copy_tree(base, Path(tmp))
        (Path(tmp) / path).write_text(source)
        env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "src"), "HYPOTHESIS_PROFILE": "ci",
               "PYTHONDONTWRITEBYTECODE": "1"}
        cmd = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not slow",
               *tests_for(path)]
        try:
            proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            return "timeout"
        return "survived" if proc.returncode == 0 else ("killed" if proc.returncode == 1 else
                                                        f"error (pytest exit {proc.returncode})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=23)
    parser.add_argument("--sites", type=int, default=40)
    parser.add_argument("--only", nargs="*", default=None, help="files to mutate (default: all targets)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds a mutant's tests may take")
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
    results, killed, timeouts = [], 0, 0
    for path, index, kind in chosen:
        source = (base / path).read_text()
        mutated, line, what = mutate(source, index, kind)
        if ast.dump(ast.parse(mutated)) == ast.dump(ast.parse(source)):
            continue
        start = time.perf_counter()
        outcome = run_mutant(base, path, mutated, args.timeout)
        killed += outcome not in ("survived", "timeout")
        timeouts += outcome == "timeout"
        results.append({"file": path, "line": line, "change": what, "outcome": outcome,
                        "seconds": round(time.perf_counter() - start, 1)})
        print(f"{outcome:9s} {path}:{line}  {what}  ({results[-1]['seconds']} s)", flush=True)
    print(f"killed {killed}/{len(results)} ({100 * killed / max(1, len(results)):.0f} %), {timeouts} timed out, of "
          f"a sample of {len(results)} from {len(pool)} sites, seed {args.seed}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
