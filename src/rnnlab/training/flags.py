"""``rnnlab train``'s flags, grouped (task / model / optimizer / schedule / run): one per declared setting
(:data:`.settings.SETTINGS`), with its help, choices (from the registry) and default."""
from __future__ import annotations

import argparse

from .registry import choices
from .settings import SETTINGS, by_group

HELP = {s.name: s.help for s in SETTINGS}
"""Setting -> its one-line help (read from the declarations)."""

GROUP_TITLES = {"task": "task (what to learn)", "model": "model (the network)", "optimizer": "optimizer",
                "schedule": "schedule (the learning rate over the run)", "run": "run (how long, where, how)"}


def add_train_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="TOML file of settings (the keys below, with _ or -; top level or a [train] "
                   "table)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    names = choices()
    groups = {g: p.add_argument_group(GROUP_TITLES[g]) for g in by_group()}
    for s in SETTINGS:
        text = s.help
        kw = dict(dest=s.name, default=argparse.SUPPRESS)
        if s.name in names:
            text += f" {{{', '.join(map(str, names[s.name]))}}}"
            kw["metavar"] = s.name.upper()
        text = (text + f" (default: {s.default!r})").replace("%", "%%")
        if s.kind is bool:
            groups[s.group].add_argument(s.flag, action=argparse.BooleanOptionalAction, help=text, **kw)
        else:
            groups[s.group].add_argument(s.flag, type=str, help=text, **kw)
    groups["model"].add_argument("--composed", dest="fused", action="store_false", default=argparse.SUPPRESS,
                                 help="the composed path (same as --no-fused)")
    for alias, dest in (("--hidden-size", "hidden"), ("--K", "fw_k"), ("--delta", "fw_delta")):
        p.add_argument(alias, dest=dest, type=str, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def given_settings(args) -> dict:
    """The configuration keys set on the command line (as strings; the configuration coerces and checks)."""
    return {k: v for k, v in vars(args).items() if k not in ("command", "config", "resume", "overwrite")}


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
