"""A pytest plugin: at the end of a run, the reasons tests were skipped, each once with its count.

``pytest -rs`` prints one line per skipping place (hundreds for the CuPy tests on a machine without a GPU);
this folds them by reason, most frequent first, so a reader sees at a glance what was not run and why.
"""
from __future__ import annotations

from collections import Counter


def skip_reason(report) -> str:
    """The reason of a skipped test's report, without pytest's "Skipped: " prefix."""
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter):
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if r.skipped]
    if not skipped:
        return
    terminalreporter.write_sep("=", f"{len(skipped)} skipped, by reason")
    for reason, count in Counter(skip_reason(r) for r in skipped).most_common():
        terminalreporter.write_line(f"{count:6d}  {reason}")
