"""Units of work: what one gradient evaluation (one call of the optimizer's closure) trains on.

* a **minibatch** (full BPTT): the whole sequences, one loss;
* a **TBPTT chunk**: the next k1 steps of the current minibatch, with a graph k2 steps deep; with a target
  per sequence, every chunk's last output is scored against the sequence's label (the loss that the
  Frank-Wolfe paper's TBPTT runs optimize);
* a **token chunk** (PTB): the next k1 tokens of every stream, the state carried (detached) from the
  previous chunk and reset when an epoch starts.

SGD, Adam and RMSProp take one unit per step; Frank-Wolfe takes K, so every inner step sees new data, as
in the paper's released code.
"""
from __future__ import annotations

import math

from ..cells import detach_state, tbptt
from ..engine import backend
from ..engine.backend import to_numpy
from ..engine.tensor import Tensor
from . import distributed
from .evaluation import PTB_DEFAULT_BPTT, prediction_counts, prediction_total, task_loss


class WorkSource:
    """``next()`` returns (loss Tensor with its graph, correct predictions, predictions) for the next unit of
    work; ``weight`` is the last unit's number of predictions (it weights the gradient average over ranks).

    ``state_dict()`` says where the data stands, mid-minibatch included (the loader position before the
    minibatch, the next chunk's start and window, the carried state), so that a resumed run takes exactly
    the chunk the interrupted one would have taken next.
    """

    def __init__(self, cfg, task, model, comm=distributed.LOCAL):
        self.cfg, self.task, self.model, self.comm = cfg, task, model, comm
        self.tokens = task.input_kind == "tokens"
        self.k1 = cfg.tbptt or (PTB_DEFAULT_BPTT if self.tokens else 0)
        self.k2 = cfg.tbptt_k2 or self.k1
        if self.tokens:
            self.loader = comm.loader(task, "train", cfg.batch_size, bptt=self.k1)
        else:
            self.loader = comm.loader(task, "train", cfg.batch_size, seed=cfg.seed,
                                      drop_last=len(task.train) >= cfg.batch_size)
        self.batches = None
        self.chunks = None           # the TBPTT iterator over the current minibatch (None between minibatches)
        self.carry = None            # PTB: the state carried from chunk to chunk (TBPTT: ``sequence.carried``)
        self.batch_loader_state = None
        self.stream_step = 0         # PTB: tokens of this epoch's streams already consumed (momentum clock)
        self.weight = 0
        self.record_grad_norms = False  # set by the loop for the steps whose ||dL/dh_t|| it keeps

    @property
    def epoch(self) -> int:
        return self.loader.epoch

    def _next_batch(self):
        self.batch_loader_state = self.loader.state_dict()
        if self.batches is None:
            self.batches = iter(self.loader)
        try:
            return next(self.batches)
        except StopIteration:        # an epoch ends: the streams start again from their first token
            self.batch_loader_state = self.loader.state_dict()
            self.batches = iter(self.loader)
            self.carry, self.stream_step = None, 0
            return next(self.batches)

    def next(self):
        if self.tokens:
            return self._next_token_chunk()
        if self.k1:
            return self._next_tbptt_chunk()
        x, y = self._next_batch()
        pred, _ = self.model(Tensor(x), record_grad_norms=self.record_grad_norms)
        return self._score(pred, y)

    def _next_token_chunk(self):
        x, y = self._next_batch()
        t0 = self.stream_step if self.cfg.momentum_clock == "sequence" else 0
        pred, state = self.model(Tensor(x), self.carry, t0=t0)
        self.carry = detach_state(state)
        self.stream_step += int(x.shape[0])
        return self._score(pred, y)

    def _start_tbptt(self, start: int = 0, window_start: int = 0, state=None) -> None:
        x, self.y = self._next_batch()
        self.sequence = tbptt(self.model.rnn, Tensor(x), self.k1, self.k2, state=state, start=start,
                              window_start=window_start)
        self.chunks = iter(self.sequence)

    def _next_tbptt_chunk(self):
        if self.chunks is None:
            self._start_tbptt()
        chunk = next(self.chunks)
        if chunk.stop >= self.task.seq_len:
            self.chunks = None
        pred = self.model.readout(chunk.outputs)
        target = self.y if self.task.target == "last" else self.y[chunk.start:chunk.stop]
        return self._score(pred, target)

    def _score(self, pred, target):
        loss = task_loss(self.task, pred, Tensor(target))
        self.weight = prediction_total(self.task, target)
        correct, count = prediction_counts(self.task, pred, target)
        return loss, correct, count

    # ------------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """Plain values and host arrays: the loader's place, and mid-minibatch where the next chunk starts."""
        mid = self.chunks is not None
        state = {"loader": self.batch_loader_state if mid else self.loader.state_dict(),
                 "resume_point": list(self.sequence.resume_point) if mid else [0, 0],
                 "stream_step": self.stream_step}
        carry = self.sequence.carried if mid else self.carry
        if carry is not None:
            state["carry"] = self.comm.gather_rows(state_to_host(carry))
        return state

    def load_state_dict(self, state: dict, like) -> None:
        self.loader.load_state_dict(state["loader"])
        self.stream_step = int(state["stream_step"])
        carry = state_from_host(self.comm.rows_of(state["carry"]), like) if "carry" in state else None
        window_start, start = (int(v) for v in state["resume_point"])
        if self.tokens:
            self.carry = carry
        elif start:
            self._start_tbptt(start, window_start, carry)


def state_to_host(state):
    """A nested tuple of Tensors -> the same nesting of host arrays (lists)."""
    if isinstance(state, Tensor):
        return to_numpy(state.data)
    return [state_to_host(s) for s in state]


def state_from_host(state, like):
    """The inverse of :func:`state_to_host`, on ``like``'s backend and device."""
    if isinstance(state, list):
        return tuple(state_from_host(s, like) for s in state)
    return Tensor(backend.asarray(state, like=like))


def steps_per_epoch(work: WorkSource, seq_len) -> int:
    """Units of work in one epoch: minibatches, times chunks per sequence under TBPTT."""
    per_epoch = len(work.loader)
    if work.k1 and not work.tokens:
        per_epoch *= math.ceil(seq_len / work.k1)
    return per_epoch
