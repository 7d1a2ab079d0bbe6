"""docs/results.md against its evidence: every table generated, every quoted number recomputed.

    python -m rnnlab.training.results_check --check     # exit 1, one line per disagreement
    python -m rnnlab.training.results_check --write     # regenerate the tables between their markers

The evidence is each run's ``summary.json``, ``metrics.jsonl``, ``config.json`` and ``grad_norms.npz`` under
``docs/results/`` (read with :mod:`.plots` and :mod:`.checkpoints`, never edited here). The page holds

* generated tables between ``<!-- results:NAME -->`` and ``<!-- results:end -->`` (:data:`TABLES`);
* prose numbers in :data:`CLAIMS`: a template and the function that fills it from the evidence, printed to
  the digits the page shows (so the tolerance is half a unit of the last printed digit); the filled text must
  appear in the page verbatim;
* nothing else that looks measured: outside tables, claims, code blocks and the fenced
  ``<!-- unchecked:start -->`` ... ``<!-- unchecked:end -->`` region (earlier runs whose evidence was not
  kept), a decimal with two or more places, a number in e-notation with a decimal mantissa, or a percentage
  is an error.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

from .results_claims import CLAIMS
from .results_evidence import page_path
from .results_tables import TABLES

BEGIN, END = "<!-- results:{} -->", "<!-- results:end -->"
UNCHECKED = ("<!-- unchecked:start -->", "<!-- unchecked:end -->")
MEASURED = re.compile(r"(?<![\w.])(?:\d+\.\d+e[-+]?\d+|\d[\d,]*\.\d{2,}|\d[\d,]*(?:\.\d+)?(?:-\d+(?:\.\d+)?)? ?%)")
"""What looks like a measured number: 0.0111, 1.3e-5, 57.24 %, 17-29 %."""


def regions(text: str) -> list[tuple[str, int, int]]:
    """(name, start, end) of each generated table's body in ``text``."""
    out = []
    for name in TABLES:
        begin = BEGIN.format(name)
        start = text.find(begin)
        if start < 0:
            continue
        stop = text.find(END, start)
        out.append((name, start + len(begin), stop))
    return out


def with_tables(text: str) -> str:
    """``text`` with every generated table replaced by the evidence's."""
    for name, start, stop in sorted(regions(text), key=lambda r: -r[1]):
        text = f"{text[:start]}\n{TABLES[name]()}\n{text[stop:]}"
    return text


def masked(text: str, spans: list[tuple[int, int]]) -> str:
    chars = list(text)
    for a, b in spans:
        chars[a:b] = " " * (b - a)
    return "".join(chars)


def problems(text: str) -> list[str]:
    """One line per disagreement between the page and its evidence."""
    out = []
    missing = [n for n in TABLES if BEGIN.format(n) not in text]
    out += [f"results.md: no {BEGIN.format(n)} ... {END} table" for n in missing]
    for name, start, stop in regions(text):
        if stop < 0:
            out.append(f"results.md: {BEGIN.format(name)} has no {END}")
        elif text[start:stop].strip() != TABLES[name]().strip():
            out.append(f"results.md: table {name!r} differs from its evidence (python -m {__spec__.name} --write)")
    spans = [(s, e) for _, s, e in regions(text)]
    for claim in CLAIMS:
        quoted = claim.text()
        at = text.find(quoted)
        if at < 0:
            out.append(f"results.md: the evidence says {quoted!r}; the page does not")
        spans += [(m.start(), m.end()) for m in re.finditer(re.escape(quoted), text)]
    spans += [(m.start(), m.end()) for m in re.finditer(r"```.*?```", text, re.S)]
    spans += [(m.start(), m.end()) for m in re.finditer(re.escape(UNCHECKED[0]) + ".*?" + re.escape(UNCHECKED[1]),
                                                       text, re.S)]
    rest = masked(text, spans)
    for m in MEASURED.finditer(rest):
        line = rest.count("\n", 0, m.start()) + 1
        out.append(f"results.md line {line}: {m.group()!r} looks measured but no claim or table recomputes it")
    return out


def check(page=None, write: bool = False) -> int:
    """Check ``page`` (default: docs/results.md) against its evidence, after regenerating its tables if
    ``write``: 0 when it agrees, 1 with one line per disagreement on stderr. (The command's flags:
    :func:`rnnlab.cli_parsers.results_check_command`.)"""
    path = Path(page or page_path())
    text = path.read_text()
    if write:
        path.write_text(with_tables(text))
        text = path.read_text()
    found = problems(text)
    for line in found:
        print(line, file=sys.stderr)
    if not found:
        print(f"{path}: {len(regions(text))} tables and {len(CLAIMS)} claims agree with the evidence")
    return 1 if found else 0


if __name__ == "__main__":
    from ..cli_parsers import results_check_command
    sys.exit(results_check_command())
