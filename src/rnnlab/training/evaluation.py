"""Losses, metrics and the evaluation of a whole split.

Every mean is over *predictions*: one per sequence for a target on the last step (adding, MNIST, HAR),
one per step and sequence for per-step targets (copying: T x B), one per token (PTB), so batches of
different shapes weigh what they hold.
"""
from __future__ import annotations

import math

from ..engine import backend, ops
from ..engine.tensor import Tensor, no_grad
from . import distributed

PTB_DEFAULT_BPTT = 35
SEQUENCE_EVAL_BATCH = 256


def task_loss(task, y, target):
    """The task's training loss: MSE for regression, mean softmax cross-entropy for classes."""
    if task.loss == "mse":
        return ops.mse_loss(y, target)
    return ops.cross_entropy(y, target)


def prediction_total(task, target) -> int:
    """The number of predictions a target array holds: B for a target on the last step ((B,) or (B, 1)),
    T x B for per-step and next-token targets."""
    if task.target == "last":
        return int(target.shape[0])
    return int(math.prod(target.shape))


def prediction_counts(task, pred, target) -> tuple[float, int]:
    """(correct, total) predictions for accuracy; (0, 0) for regression and language modelling."""
    if task.metric != "accuracy":
        return 0.0, 0
    xp = backend.get_namespace(pred.data)
    guess = xp.argmax(pred.data, axis=-1)
    hits = xp.sum(xp.astype(guess == xp.astype(target, guess.dtype), xp.int64))
    return float(hits), int(math.prod(target.shape))


def metrics_from(task, loss_sum: float, n_loss: int, correct: float, count: int) -> dict:
    """{"loss": mean loss, and "accuracy" or "perplexity" as the task measures}."""
    loss = loss_sum / max(n_loss, 1)
    out = {"loss": loss}
    if task.metric == "accuracy":
        out["accuracy"] = correct / max(count, 1)
    elif task.metric == "perplexity":
        out["perplexity"] = math.exp(min(loss, 700.0)) if math.isfinite(loss) else math.inf
    return out


def eval_batch_size(cfg, task) -> int:
    """``eval_batch_size``, else 1 for token streams (the field's one-stream protocol) and
    max(batch_size, 256) for sequences."""
    if cfg.eval_batch_size:
        return cfg.eval_batch_size
    return 1 if task.input_kind == "tokens" else max(cfg.batch_size, SEQUENCE_EVAL_BATCH)


def evaluate(cfg, task, model, split: str = "val", comm=distributed.LOCAL) -> dict:
    """Mean loss (over predictions) and the task's metric over a whole split, without gradients (with
    several ranks: each evaluates its share, and the sums are reduced). Token streams are scored as
    ``eval_batch_size`` continuous streams, the state carried across chunks, the momentum clock running
    on (``momentum_clock = "sequence"``) or restarting per chunk (``"chunk"``)."""
    model.eval()
    loss_sum, n, correct, count = 0.0, 0, 0.0, 0
    batch = eval_batch_size(cfg, task)
    with no_grad():
        if task.input_kind == "tokens":
            state, t = None, 0
            for x, y in comm.loader(task, split, batch, bptt=cfg.tbptt or PTB_DEFAULT_BPTT):
                pred, state = model(Tensor(x), state, t0=t if cfg.momentum_clock == "sequence" else 0)
                t += int(x.shape[0])
                k = prediction_total(task, y)
                loss_sum += float(task_loss(task, pred, Tensor(y)).item()) * k
                n += k
        else:
            for x, y in comm.loader(task, split, batch, shuffle=False):
                k = prediction_total(task, y)
                if k == 0:           # a rank's empty share of a batch smaller than the number of ranks
                    continue
                pred, _ = model(Tensor(x))
                loss_sum += float(task_loss(task, pred, Tensor(y)).item()) * k
                n += k
                c, m = prediction_counts(task, pred, y)
                correct, count = correct + c, count + m
    model.train()
    return metrics_from(task, *comm.sum_values(loss_sum, n, correct, count))


__all__ = ["evaluate", "task_loss", "metrics_from", "prediction_counts", "prediction_total", "eval_batch_size"]
