"""The network ``rnnlab train`` builds for a task: [embedding] -> recurrent stack -> linear read-out.

The read-out follows the task's target (see :class:`rnnlab.datasets.Task`):

* ``last``: one prediction per sequence from the top layer's last output, y = h_T W + b: (B, K);
* ``every_step`` and ``next_token``: one prediction per step, y_t = h_t W + b: (T, B, K).
"""
from __future__ import annotations

from . import cells as cells_pkg
from .engine import ops
from .engine.layers import Embedding, Linear
from .engine.module import Module

CELL_CLASSES = {
    "rnn": ("RNN", ("nonlinearity",)),
    "indrnn": ("IndRNN", ("mag", "seq_len")),
    "lstm": ("LSTM", ("forget_bias",)),
    "gru": ("GRU", ()),
    "momentum-rnn": ("MomentumRNN", ("mu", "s", "nonlinearity")),
    "momentum-lstm": ("MomentumLSTM", ("mu", "s", "forget_bias")),
    "nesterov-rnn": ("NesterovRNN", ("s", "restart", "nonlinearity")),
    "nesterov-lstm": ("NesterovLSTM", ("s", "restart", "forget_bias")),
    "adam-rnn": ("AdamRNN", ("mu", "s", "beta", "eps", "nonlinearity")),
    "adam-lstm": ("AdamLSTM", ("mu", "s", "beta", "eps", "forget_bias")),
    "rmsprop-rnn": ("RMSPropRNN", ("s", "beta", "eps", "nonlinearity")),
    "rmsprop-lstm": ("RMSPropLSTM", ("s", "beta", "eps", "forget_bias")),
    "orthogonal-rnn": ("OrthogonalRNN", ("skew_init",)),
    "momentum-orthogonal-rnn": ("MomentumOrthogonalRNN", ("mu", "s", "skew_init")),
    "nesterov-orthogonal-rnn": ("NesterovOrthogonalRNN", ("s", "restart", "skew_init")),
    "adam-orthogonal-rnn": ("AdamOrthogonalRNN", ("mu", "s", "beta", "eps", "skew_init")),
    "rmsprop-orthogonal-rnn": ("RMSPropOrthogonalRNN", ("s", "beta", "eps", "skew_init")),
}
"""``--cell`` name -> (class in :mod:`rnnlab.cells`, the configuration keys it takes)."""


def make_cells(cfg, input_size: int, seq_len: int | None):
    """One cell per layer, as ``cfg`` says; layer l is seeded with ``cfg.seed`` and l."""
    class_name, keys = CELL_CLASSES[cfg.cell]
    cls = getattr(cells_pkg, class_name)
    options = {k: getattr(cfg, k) for k in keys if k != "seq_len"}
    if "seq_len" in keys and seq_len:
        options["seq_len"] = seq_len
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


def task_loss(task, y, target):
    """The task's training loss: MSE for regression, mean softmax cross-entropy for classes."""
    if task.loss == "mse":
        return ops.mse_loss(y, target)
    return ops.cross_entropy(y, target)
