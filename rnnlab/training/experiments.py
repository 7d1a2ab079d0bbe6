"""PLACEHOLDER (being written): the papers' experiments as data; ``rnnlab experiments list|show|run``."""
from __future__ import annotations


def add_parser(sub) -> None:
    p = sub.add_parser("experiments", help="the papers' experiments: list, show, run")
    p.add_argument("action", choices=("list", "show", "run"))
    p.add_argument("name", nargs="?")
    p.add_argument("--tier", default="small")


def main(args) -> int:
    raise NotImplementedError("experiments runner is being written")
