"""What a run shows and writes as it goes: the progress bar, strict JSON records, and the closing verdict."""
from __future__ import annotations

import json
import math
import os
import sys

PLAIN_EVERY = 30.0
"""Seconds between progress lines when the output is not a terminal (a log file, CI)."""


class _Lines:
    """A stream for tqdm off a terminal: every redraw becomes one plain line instead of a carriage return."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            self.stream.write(text + "\n")

    def flush(self) -> None:
        self.stream.flush()


def terminal_columns(stream) -> int:
    """The width of the terminal ``stream`` writes to; 0 when it is no terminal or reports no width."""
    try:
        return os.get_terminal_size(stream.fileno()).columns if stream.isatty() else 0
    except (AttributeError, OSError, ValueError):
        return 0


def progress_bar(total: int, desc: str, enabled: bool = True, stream=None, initial: int = 0):
    """A tqdm bar (elapsed time, ETA, loss and metric in the postfix) that starts at step ``initial`` (a
    resumed run: its rate and ETA count only the steps this process takes); off a terminal, or on one that
    reports 0 columns (some CI consoles and containers), one plain line every :data:`PLAIN_EVERY` seconds."""
    from tqdm.auto import tqdm
    stream = stream or sys.stderr
    tty = terminal_columns(stream) > 0
    return tqdm(total=total, initial=initial, desc=desc, disable=not enabled,
                file=stream if tty else _Lines(stream), mininterval=0.1 if tty else PLAIN_EVERY,
                maxinterval=PLAIN_EVERY * 2, dynamic_ncols=tty, ascii=not tty, leave=True)


def show_sample(text: str, step: int, temperature: float, val_loss: float, stream=None) -> None:
    """A text task's sample on stdout, below a line naming the step, the validation loss in bits per character
    (nats / ln 2) and the temperature, each line indented (a progress bar on the terminal is cleared and
    redrawn around it)."""
    from tqdm.auto import tqdm
    body = "\n".join("    " + line for line in text.split("\n"))
    tqdm.write(f"sample at step {step} (val {val_loss / math.log(2):.3f} bits/char, temperature {temperature:g}):"
               f"\n{body}", file=stream or sys.stdout)


def finite_or_none(value):
    """Non-finite floats become None (strict JSON has no NaN or Infinity), inside dicts and lists too."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def config_json(config: dict) -> dict:
    """A configuration for JSON: infinite settings (``fw_p = inf``) as the strings the configuration reads back."""
    return {k: (str(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in config.items()}


def strict_json(value, **options) -> str:
    """``value`` as strict JSON (non-finite numbers written as null)."""
    return json.dumps(finite_or_none(value), allow_nan=False, **options)


LEARNED_RATIO = 2.0
"""A test loss this many times below the baseline's is called learned."""
BASELINES = {"mse": "predict-the-mean", "accuracy": "class-frequency", "perplexity": "unigram"}


def verdict(summary: dict, metric: str, task_name: str = "") -> str:
    """One line: the test loss against the input-blind baseline, and whether the model learned."""
    if summary.get("diverged"):
        return f"diverged at step {summary.get('steps')}: no test result"
    loss, base = summary.get("test_loss"), summary.get("baseline_loss")
    name = "memoryless" if task_name == "copying" else BASELINES.get(metric, "input-blind")
    if loss is None or base is None:
        return "no test result"
    if loss < base:
        ratio = base / loss if loss > 0 else math.inf
        judged = "learned" if ratio >= LEARNED_RATIO else f"beat it, by less than {LEARNED_RATIO:g}x"
        return f"test loss {loss:.4g}, {ratio:.3g}x below the {name} baseline {base:.4g}: {judged}"
    return f"test loss {loss:.4g}, not below the {name} baseline {base:.4g}: did not beat the baseline"
