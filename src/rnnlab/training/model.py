"""The network ``rnnlab train`` builds for a task: [embedding] -> recurrent stack -> linear read-out.

The read-out follows the task's target (see :class:`rnnlab.datasets.Task`):

* ``last``: one prediction per sequence from the top layer's last output, y = h_T W + b: (B, K);
* ``every_step`` and ``next_token``: one prediction per step, y_t = h_t W + b: (T, B, K).
"""
from __future__ import annotations

from .. import cells as cells_pkg
from ..cells.registry import CELLS, cell_class, cell_hyperparameters
from ..engine.layers import Embedding, Linear
from ..engine.module import Module
from .cell_args import SETTING_OF, cell_settings, settable
from .settings import CELL_PARAMETER, own_cell

CONFIG_KEY = SETTING_OF
"""Cell constructor parameters whose configuration key has another name (``form``: ``nesterov_form``)."""


def cell_options(cls, cfg, seq_len: int | None) -> dict:
    """The keyword arguments for cell class ``cls`` that ``cfg`` sets: the declared cell settings it takes
    (rnnlab's own cells), ``seq_len`` from the task, and ``cfg.cell_args`` (validated: typed, each a parameter
    of ``cls``). A parameter none of them sets keeps the class's default."""
    options = {CELL_PARAMETER.get(key, key): getattr(cfg, key) for key in cell_settings(cls)}
    if seq_len and "seq_len" in cell_hyperparameters(cls):
        options["seq_len"] = seq_len
    return {**options, **cfg.cell_args}


def cell_keys() -> dict[str, set]:
    """Declared cell setting -> the registered cells that take it."""
    keys: dict[str, set] = {}
    for name, cls in CELLS.items():
        for key in cell_settings(cls):
            keys.setdefault(key, set()).add(name)
    return keys


def check_cell_keys(cell: str, given, source: str) -> None:
    """Refuse a cell setting in ``given`` that cell ``cell`` does not take (it would be silently ignored)."""
    from .config import ConfigError
    cls = cell_class(cell)
    takes = cell_settings(cls)
    for key, cells in cell_keys().items():
        if key in given and key not in takes:
            own = (f"it takes {', '.join(sorted(takes)) or 'no cell settings'}" if own_cell(cls) else
                   f"a plugin cell takes its own arguments from --cell-arg NAME=VALUE: "
                   f"{', '.join(settable(cls)) or 'it has none'}")
            raise ConfigError(f"{source}: {key} does not apply to cell {cell!r} ({own}; {key} is for "
                              f"{', '.join(sorted(cells))})")


def make_cells(cfg, input_size: int, seq_len: int | None):
    """One cell per layer, as ``cfg`` says; layer l is seeded with ``cfg.seed`` and l."""
    cls = cell_class(cfg.cell)
    options = cell_options(cls, cfg, seq_len)
    return [cls(input_size if layer == 0 else cfg.hidden, cfg.hidden, rng=[cfg.seed, 1, layer], **options)
            for layer in range(cfg.layers)]


class SequenceModel(Module):
    """``model(x, state=None, t0=0) -> (y, state)``; x (T, B, D) floats, or (T, B) token ids with an embedding."""

    def __init__(self, cfg, task):
        super().__init__()
        self.target = task.target
        input_size = task.input_size
        if task.input_kind == "tokens":
            width = cfg.embedding or cfg.hidden
            self.embed = Embedding(task.input_size, width, rng=[cfg.seed, 2], std=0.1)
            input_size = width
        else:
            self.embed = None
        self.rnn = cells_pkg.Recurrent(make_cells(cfg, input_size, task.seq_len), fused=cfg.fused,
                                       batch_norm=cfg.batch_norm, dropout=cfg.dropout, rng=[cfg.seed, 3])
        self.head = Linear(cfg.hidden, task.output_size, rng=[cfg.seed, 4])

    def inputs(self, x):
        """Token ids through the embedding; float inputs unchanged."""
        return self.embed(x) if self.embed is not None else x

    def readout(self, outputs):
        """Predictions from the top layer's outputs (T, B, H), as the task's target asks."""
        if self.target == "last":
            return self.head(outputs[-1])
        return self.head(outputs)

    def forward(self, x, state=None, t0: int = 0, record_grad_norms: bool = False):
        outputs, state = self.rnn(self.inputs(x), state, t0=t0, record_grad_norms=record_grad_norms)
        return self.readout(outputs), state


def trivialization_for(model, rebase_every: int):
    """DTRIV (``rebase_every`` = K > 0): the model's orthogonal cells, re-based once now (B_0 = B_init, A = 0,
    as the reference code does before training) and then after every K-th optimizer step. None for expRNN
    (K = 0) and other cells. A resumed run reloads B_0 and A from the checkpoint."""
    if not rebase_every:
        return None
    trivialization = cells_pkg.DynamicTrivialization(model, rebase_every)
    for cell in trivialization.cells:
        cell.rebase()
    return trivialization
