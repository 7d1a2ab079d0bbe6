"""The evidence behind docs/results.md, read and printed: each run's ``summary.json``, ``metrics.jsonl``,
``config.json`` and ``grad_norms.npz`` under ``docs/results/<tier>/<run>/`` (read with :mod:`.plots` and
:mod:`.checkpoints`, never written), and the formats the page prints numbers in (their digits are the check's
tolerance)."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from . import experiments as ex
from .checkpoints import load as load_arrays
from .plots import read_metrics

MNIST_TRAIN = 55_000
"""Training images after the 5,000-image validation hold-out."""

@lru_cache(maxsize=None)
def experiments() -> dict:
    """The experiment files, read once."""
    return ex.load()


def docs_dir() -> Path:
    return ex.default_dir().parent / "docs"


def page_path() -> Path:
    return docs_dir() / "results.md"


# ---------------------------------------------------------------- evidence
@lru_cache(maxsize=None)
def summary(run: str, tier: str = "medium") -> dict:
    return json.loads((docs_dir() / "results" / tier / run / "summary.json").read_text())


def has(run: str, tier: str = "medium") -> bool:
    """Whether ``run``'s evidence is here."""
    return (docs_dir() / "results" / tier / run / "summary.json").is_file()


def config(run: str, tier: str = "medium") -> dict:
    return summary(run, tier)["config"]


@lru_cache(maxsize=None)
def rows(run: str, split: str, tier: str = "medium") -> tuple:
    return tuple(r for r in read_metrics(docs_dir() / "results" / tier / run) if r["split"] == split)


@lru_cache(maxsize=None)
def norms(run: str) -> tuple[list, list]:
    """(steps, rows): the recorded ||dL/dh_t|| of layer 0, one list of T floats per recorded step."""
    arrays, _ = load_arrays(docs_dir() / "results" / "medium" / run / "grad_norms.npz")
    return [int(s) for s in arrays["steps"].tolist()], arrays["layer0"].tolist()


def ratio(run: str, step: int | None = None, first: bool = True) -> float:
    """||dL/dh_1|| / ||dL/dh_T|| (``first``) or min_t ||dL/dh_t|| / ||dL/dh_T|| at ``step`` (None: the last)."""
    steps, records = norms(run)
    r = records[steps.index(step) if step is not None else -1]
    return (r[0] if first else min(r)) / r[-1]


def first_below(run: str, level: float, key: str = "grad_evals"):
    """``key`` of the first validation row whose loss is below ``level`` (None: never)."""
    return next((r[key] for r in rows(run, "val") if r["loss"] < level), None)


def effective_forget_bias(run: str) -> float:
    """The forget gate's constant drive at steady state: b_hh + s b_ih / (1 - mu) for a momentum LSTM (the
    momentum state accumulates s (W x + b_ih)), b_hh + b_ih for an LSTM; each bias holds half of forget_bias."""
    c = config(run)
    half = c["forget_bias"] / 2
    return half + c["s"] * half / (1 - c["mu"]) if c["cell"].startswith("momentum") else 2 * half


# ---------------------------------------------------------------- formats (the printed digits are the tolerance)
def f4(x: float) -> str:
    return f"{x:.4f}"


def pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


def sci(x: float) -> str:
    """1.3e-5 (0 when it underflowed)."""
    if x == 0:
        return "0 (underflow)"
    mantissa, exponent = f"{x:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def count(x: float) -> str:
    return f"{x:,.0f}"


def secs(x: float) -> str:
    return f"{x:,.0f} s"


def duration(seconds: float) -> str:
    if seconds < 60:
        return "< 1 min"
    return f"{seconds / 60:.0f} min" if seconds < 3600 else f"{seconds / 3600:,.0f} h"


def paper(name: str) -> str:
    """The paper's number of experiment ``name`` as the page prints it."""
    meta = experiments()[name].meta()
    if "paper_value" not in meta:
        return "none (a control)"
    value = meta["paper_value"]
    return pct(value) if meta["paper_metric"].endswith("accuracy") else f"{value:.2f}"
