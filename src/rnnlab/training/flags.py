"""What ``rnnlab train``'s flags say, read from the declared settings (:data:`.settings.SETTINGS`): each one's
help, its group's title, and the README's table of the main ones. The parser itself is the command layer's
(:func:`rnnlab.cli_parsers.add_train_flags`)."""
from __future__ import annotations

from .registry import choices
from .settings import SETTINGS

HELP = {s.name: s.help for s in SETTINGS}
"""Setting -> its one-line help (read from the declarations)."""

GROUP_TITLES = {"task": "task (what to learn)", "model": "model (the network)", "optimizer": "optimizer",
                "schedule": "schedule (the learning rate over the run)", "run": "run (how long, where, how)"}


def flag_help(s) -> str:
    """Setting ``s``'s help line for ``--help``: its help, the names it accepts (from the registry) and its
    default."""
    names = choices()
    text = s.help + (f" {{{', '.join(map(str, names[s.name]))}}}" if s.name in names else "")
    return text + f" (default: {s.default!r})"


README_ROWS = tuple(s for s in SETTINGS if s.main)
"""The README's table of main flags: the declared settings marked ``main``."""


def readme_table() -> str:
    """The README's Markdown table of main flags, read from the declarations and the registry (a test keeps
    them equal)."""
    names = choices()
    lines = ["| flag | group | meaning (default) |", "| --- | --- | --- |"]
    for s in README_ROWS:
        listed = ": " + ", ".join(f"`{n}`" for n in names[s.name]) if s.name in names else ""
        text = s.help.replace("|", "\\|")
        lines.append(f"| `{s.flag}` | {s.group} | {text}{listed} (`{s.default!r}`) |")
    lines.append("| `--config FILE`, `--resume DIR`, `--overwrite` | run | settings from a TOML file; continue a "
                 "run; replace the run already in `--out` |")
    return "\n".join(lines)
