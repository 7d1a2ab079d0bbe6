"""The parsers of the ``rnnlab`` command's subcommands (and of ``python -m rnnlab.training.results_check``):
every flag, its help and its default. The training room exposes plain functions; only the command layer
(``cli.py``, ``cli_*.py``) knows argparse."""
from __future__ import annotations

import argparse

from .training.experiments import DEFAULT_OUT, TIERS
from .training.export import CSV
from .training.flags import GROUP_TITLES, flag_help
from .training.registry import choices
from .training.settings import SETTINGS, by_group

TRAIN_OPTIONS = ("command", "config", "resume", "overwrite")
"""``rnnlab train``'s flags that are not settings."""


def add_train_flags(p: argparse.ArgumentParser) -> None:
    """``rnnlab train``'s flags, grouped (task / model / optimizer / schedule / run): one per declared setting
    (:data:`rnnlab.training.settings.SETTINGS`), with its help, choices (from the registry) and default."""
    p.add_argument("--config", help="TOML file of settings (the keys below, with _ or -; top level or a [train] "
                   "table)")
    p.add_argument("--resume", metavar="DIR", help="continue the run in DIR from its checkpoint")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in --out")
    names = choices()
    groups = {g: p.add_argument_group(GROUP_TITLES[g]) for g in by_group()}
    for s in SETTINGS:
        kw = dict(dest=s.name, default=argparse.SUPPRESS, help=flag_help(s).replace("%", "%%"))
        if s.name in names:
            kw["metavar"] = s.name.upper()
        if s.kind is bool:
            groups[s.group].add_argument(s.flag, action=argparse.BooleanOptionalAction, **kw)
        elif s.kind is dict:
            groups[s.group].add_argument(s.flag, action="append", **{**kw, "metavar": "NAME=VALUE"})
        else:
            groups[s.group].add_argument(s.flag, type=str, **kw)
    groups["model"].add_argument("--composed", dest="fused", action="store_false", default=argparse.SUPPRESS,
                                 help="the composed path (same as --no-fused)")
    for alias, dest in (("--hidden-size", "hidden"), ("--K", "fw_k"), ("--delta", "fw_delta")):
        p.add_argument(alias, dest=dest, type=str, default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def given_settings(args) -> dict:
    """The configuration keys set on the command line (as strings; the configuration coerces and checks)."""
    return {k: v for k, v in vars(args).items() if k not in TRAIN_OPTIONS}


def add_experiments_parser(sub) -> None:
    """``rnnlab experiments``: list, show, run."""
    parser = sub.add_parser("experiments", help="the papers' experiments: list, show, run", description=(
        "The papers' experiments as data (experiments/*.toml, one file per paper or group): list them, show the "
        "settings of one at a tier, run one or a group."))
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--experiments-dir", metavar="DIR", help="folder of the experiment files (default: the "
                        "installed package's, or the repository's experiments/)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="{list,show,run}")
    ls = actions.add_parser("list", parents=[common], help="the experiments: name, group, tiers, source, paper")
    ls.add_argument("group", nargs="?", metavar="GROUP", help="a file (frank_wolfe) or a set (frank_wolfe/adding)")
    ls.add_argument("--markdown", action="store_true", help="as Markdown tables (experiments/README.md)")
    show = actions.add_parser("show", parents=[common], help="print an experiment's resolved config as TOML")
    show.add_argument("name", metavar="NAME")
    run_ = actions.add_parser("run", parents=[common], help="train an experiment or every one of a group")
    run_.add_argument("name", metavar="NAME|GROUP")
    run_.add_argument("--data-dir", default="", metavar="DIR", help="data directory (else $RNNLAB_DATA, else "
                      "~/.cache/rnnlab)")
    run_.add_argument("--resume", action="store_true", help="continue runs that hold a checkpoint; report "
                      "finished ones")
    run_.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    run_.add_argument("--seeds", metavar="S,S,...", help="run each experiment once per seed (0: itself; N: "
                      "NAME_seedN, its own run directory) and print the mean ± spread over them")
    for p in (show, run_):
        p.add_argument("--tier", choices=TIERS, required=True, help="small: minutes on two CPU cores; medium: "
                       "the paper's data and model for about 30 minutes; full: the paper's settings")
        p.add_argument("--out", default=DEFAULT_OUT, help=f"runs go to OUT/<tier>/<name> (default: {DEFAULT_OUT})")
        p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                       help="a setting on top of the tier's, e.g. --set backend=cupy (repeatable; new runs only)")


def add_export_parser(sub) -> None:
    """``rnnlab export RUN --csv`` / ``--tensorboard DIR``."""
    p = sub.add_parser("export", help="a run's metrics.jsonl as CSV (metrics.csv) or TensorBoard event files")
    p.add_argument("run_dir", metavar="RUN_DIR")
    p.add_argument("--csv", action="store_true", help="write the metrics as CSV")
    p.add_argument("--out", help=f"the CSV file (default: RUN_DIR/{CSV})")
    p.add_argument("--tensorboard", metavar="DIR", help="write the metrics as a TensorBoard event file in "
                   "folder DIR (then: tensorboard --logdir DIR); needs the tensorboard package "
                   "(pip install 'rnnlab[tensorboard]')")


def results_check_command(argv=None) -> int:
    """``python -m rnnlab.training.results_check --check | --write [--page PAGE]``."""
    from .training import results_check
    from .training.results_evidence import page_path
    parser = argparse.ArgumentParser(prog="python -m rnnlab.training.results_check",
                                     description=results_check.__doc__.split("\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--check", action="store_true", help="exit 1 if the page disagrees with its evidence")
    action.add_argument("--write", action="store_true", help="regenerate the page's tables from the evidence")
    parser.add_argument("--page", default=str(page_path()), help="the page (default: docs/results.md)")
    args = parser.parse_args(argv)
    return results_check.check(args.page, write=args.write)


__all__ = ["add_train_flags", "given_settings", "add_experiments_parser", "add_export_parser",
           "results_check_command", "TRAIN_OPTIONS"]
