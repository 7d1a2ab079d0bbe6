"""``rnnlab train --help``: grouped, every entry explained in more than its own name; ``rnnlab --version``."""
import re

import pytest

import rnnlab
from rnnlab.cli import build_parser, main
from rnnlab.training.settings import GROUPS, SETTINGS


def train_parser():
    parser = build_parser()
    return next(a for a in parser._subparsers._group_actions if a.dest == "command").choices["train"]


def words(text: str) -> set:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def test_no_help_line_only_repeats_its_flag_name():
    for action in train_parser()._actions:
        if not action.help or action.help == "==SUPPRESS==" or not action.option_strings:
            continue
        text = re.sub(r"\(default: .*\)|\{.*\}", "", action.help)
        name = set().union(*(words(o) for o in action.option_strings)) | {"no"}
        extra = words(text) - name
        assert len(extra) >= 2, f"{action.option_strings[0]}: help {action.help!r} says little beyond its name"


def test_the_help_is_grouped_by_the_declared_groups_and_lists_every_setting():
    titles = {g.title.split()[0]: g for g in train_parser()._action_groups}
    for group in GROUPS:
        assert group in titles
    for s in SETTINGS:
        group = titles[s.group]
        assert s.flag in {o for a in group._group_actions for o in a.option_strings}, s.name


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"rnnlab {rnnlab.__version__}"
