"""The training loop behind ``rnnlab train``: data, model, optimizer, logging, evaluation, checkpoints.

One optimizer step asks a *closure* for gradients; the closure takes the next unit of work from a
:class:`WorkSource`: a minibatch (full BPTT), the next TBPTT chunk of the current minibatch, or the next
chunk of the PTB token streams. SGD, Adam and RMSProp call it once per step; Frank-Wolfe calls it K times,
so every inner step sees new data, as in the paper's released code.

A run directory holds ``config.json``, ``metrics.jsonl`` (one JSON object per logged step and per
evaluation: step, epoch, split, loss, accuracy or perplexity, wall time), ``checkpoint.npz`` (+ ``.json``
with its SHA-256), ``summary.json`` (the configuration and the final metrics under fixed keys:
``test_loss`` and ``test_accuracy`` or ``test_perplexity``) and, with ``record_grad_norms``,
``grad_norms.npz``. ``--resume DIR`` continues from the checkpoint bit for bit.

With TBPTT on a task with one target per sequence, every chunk's last output is scored against the
sequence's label (the loss that the Frank-Wolfe paper's TBPTT runs optimize); evaluation always runs the
whole sequence.
"""
from __future__ import annotations

import contextlib
import json
import math
import time
from pathlib import Path

from . import checkpoint, distributed
from .cells import DynamicTrivialization, detach_state, tbptt
from .config import DEFAULT_STEPS, ConfigError, TrainConfig
from .datasets import load_task
from .engine import backend, init
from .engine.backend import to_numpy
from .engine.tensor import Tensor, no_grad
from .models import SequenceModel, task_loss
from .progress import Progress
from . import optim

CHECKPOINT = "checkpoint.npz"
PTB_DEFAULT_BPTT = 35


# ---------------------------------------------------------------------------------------------- setup
def task_from_config(cfg: TrainConfig):
    """Load the task ``cfg.task`` with the options the configuration sets."""
    options = {}
    if cfg.task in ("adding", "copying"):
        options["seed"] = cfg.seed
        if cfg.seq_len:
            options["seq_len"] = cfg.seq_len
        if cfg.train_size:
            options["n_train"] = cfg.train_size
        if cfg.test_size:
            options["n_test"] = cfg.test_size
        if cfg.task == "adding" and cfg.range_sum:
            options["target"] = "range_sum"
    elif cfg.task.startswith("har2"):
        options["seed"] = cfg.seed
        if cfg.har_mapping:
            options["merge"] = _parse_mapping(cfg.har_mapping)
    return load_task(cfg.task, data_dir=cfg.data_dir or None, **options)


def _parse_mapping(text: str) -> dict:
    try:
        pairs = [item.split(":") for item in text.split(",") if item.strip()]
        return {int(a): int(b) for a, b in pairs}
    except ValueError as exc:
        raise ConfigError(f"config: har_mapping must look like '1:0,2:0,3:0,4:1,5:1,6:1', got {text!r}") from exc


def build_optimizer(cfg: TrainConfig, params):
    """The optimizer ``cfg.optimizer`` and the one the schedule scales (for FW with an outer optimizer: both)."""
    def plain(name, lr):
        if name == "sgd":
            return optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=cfg.nesterov,
                             weight_decay=cfg.weight_decay)
        if name == "adam":
            return optim.Adam(params, lr=lr, weight_decay=cfg.weight_decay)
        return optim.RMSProp(params, lr=lr, alpha=cfg.alpha, momentum=cfg.momentum, weight_decay=cfg.weight_decay)

    if cfg.optimizer != "fw":
        opt = plain(cfg.optimizer, cfg.lr)
        return opt, [(opt, ("lr",))]
    outer = None if cfg.fw_outer == "none" else plain(cfg.fw_outer, cfg.lr)
    fw = optim.FrankWolfe(params, lr=cfg.lr if outer is None else 0.0, delta=cfg.fw_delta, K=cfg.fw_k,
                          p=cfg.fw_p, outer=outer, norm=cfg.fw_norm, cumulative=cfg.fw_cumulative)
    scaled = [(fw, ("lr", "delta") if outer is None else ("delta",))]
    if outer is not None:
        scaled.append((outer, ("lr",)))
    return fw, scaled


def build_schedulers(cfg: TrainConfig, scaled):
    if cfg.schedule == "none":
        return []
    if cfg.schedule == "step":
        return [optim.StepDecay(o, cfg.lr_step, cfg.lr_decay, keys=k) for o, k in scaled]
    if cfg.schedule == "exp":
        return [optim.ExponentialDecay(o, cfg.lr_decay, keys=k) for o, k in scaled]
    return [optim.ReduceOnPlateau(o, factor=cfg.lr_decay, patience=cfg.patience, keys=k) for o, k in scaled]


# ---------------------------------------------------------------------------------------------- work
class WorkSource:
    """Units of work for the closure, and where the data stands (for checkpoints).

    ``next()`` returns (loss Tensor with its graph, number of correct predictions, number of predictions)
    for the next minibatch, TBPTT chunk, or PTB chunk. ``state_dict()`` says where it stands, mid-minibatch
    included (the loader position before the minibatch, the next chunk's start, the carried state), so that
    a resumed run takes exactly the chunk the interrupted one would have taken next.
    """

    def __init__(self, cfg: TrainConfig, task, model: SequenceModel, comm=distributed.LOCAL):
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
        self.carry = None            # PTB: the detached state carried from chunk to chunk
        self.batch_loader_state = None
        self.chunk_start = 0         # TBPTT: the next chunk's first step in the current minibatch
        self.weight = 0              # loss terms of the last unit of work (weights the gradient average)

    @property
    def epoch(self) -> int:
        return self.loader.epoch

    def _next_batch(self):
        self.batch_loader_state = self.loader.state_dict()
        if self.batches is None:
            self.batches = iter(self.loader)
        try:
            return next(self.batches)
        except StopIteration:
            self.batch_loader_state = self.loader.state_dict()
            self.batches = iter(self.loader)
            return next(self.batches)

    def next(self):
        if self.tokens:
            return self._next_token_chunk()
        if self.k1:
            return self._next_tbptt_chunk()
        x, y = self._next_batch()
        pred, _ = self.model(Tensor(x), record_grad_norms=self.cfg.record_grad_norms)
        return self._score(pred, y)

    def _next_token_chunk(self):
        if self.loader.position == 0:
            self.carry = None
        x, y = self._next_batch()
        pred, state = self.model(Tensor(x), self.carry)
        self.carry = detach_state(state)
        return self._score(pred, y)

    def _start_tbptt(self, start: int, state=None) -> None:
        x, self.y = self._next_batch()
        self.x = Tensor(x)
        self.chunk_start = self.chunk_offset = start     # chunks count their steps from x[start:]
        self.chunks = iter(tbptt(self.model.rnn, self.x[start:] if start else self.x, self.k1, self.k2,
                                 state=state, t0=start))

    def _next_tbptt_chunk(self):
        if self.chunks is None:
            self._start_tbptt(0)
        offset = self.chunk_offset
        chunk = next(self.chunks)
        self.carry = chunk.state
        start, stop = offset + chunk.start, offset + chunk.stop
        if stop >= self.task.seq_len:
            self.chunks, self.carry = None, None
        else:
            self.chunk_start = stop
        pred = self.model.readout(chunk.outputs)
        target = self.y if self.task.target == "last" else self.y[start:stop]
        return self._score(pred, target)

    def _score(self, pred, target):
        loss = task_loss(self.task, pred, Tensor(target))
        self.weight = int(math.prod(target.shape))
        correct, count = prediction_counts(self.task, pred, target)
        return loss, correct, count

    def state_dict(self) -> dict:
        """Plain values and host arrays: the loader's place, and mid-minibatch where the next chunk starts."""
        mid = self.chunks is not None
        state = {"loader": self.batch_loader_state if mid else self.loader.state_dict(),
                 "chunk_start": self.chunk_start if mid else 0}
        if self.carry is not None:
            state["carry"] = self.comm.gather_rows(_state_to_host(self.carry))
        return state

    def load_state_dict(self, state: dict, like) -> None:
        self.loader.load_state_dict(state["loader"])
        carry = _state_from_host(self.comm.rows_of(state["carry"]), like) if "carry" in state else None
        if self.tokens:
            self.carry = carry
        elif state["chunk_start"]:
            if self.k2 != self.k1:
                raise ConfigError("--resume: this checkpoint was taken inside a minibatch of TBPTT with "
                                  "tbptt_k2 > tbptt, which cannot be resumed exactly")
            self._start_tbptt(int(state["chunk_start"]), carry)


def prediction_counts(task, pred, target) -> tuple[float, int]:
    """(correct, total) predictions for accuracy; (0, 0) for regression and language modelling."""
    if task.metric != "accuracy":
        return 0.0, 0
    xp = backend.get_namespace(pred.data)
    guess = xp.argmax(pred.data, axis=-1)
    hits = xp.sum(xp.astype(guess == xp.astype(target, guess.dtype), xp.int64))
    return float(hits), int(math.prod(target.shape))


def metrics_from(task, loss_sum: float, n_loss: int, correct: float, count: int) -> dict:
    loss = loss_sum / max(n_loss, 1)
    out = {"loss": loss}
    if task.metric == "accuracy":
        out["accuracy"] = correct / max(count, 1)
    elif task.metric == "perplexity":
        out["perplexity"] = math.exp(min(loss, 700.0))
    return out


def evaluate(cfg: TrainConfig, task, model: SequenceModel, split: str = "test", comm=distributed.LOCAL) -> dict:
    """Mean loss (weighted by predictions) and the task's metric over a whole split, without gradients
    (with several ranks: each evaluates its share, and the sums are reduced)."""
    model.eval()
    loss_sum, n, correct, count = 0.0, 0, 0.0, 0
    with no_grad():
        if task.input_kind == "tokens":
            loader = comm.loader(task, split, min(cfg.batch_size, 10), bptt=cfg.tbptt or PTB_DEFAULT_BPTT)
            state = None
            for x, y in loader:
                pred, state = model(Tensor(x), state)
                k = int(math.prod(y.shape))
                loss_sum += float(task_loss(task, pred, Tensor(y)).item()) * k
                n += k
        else:
            for x, y in comm.loader(task, split, max(cfg.batch_size, 256), shuffle=False):
                k = int(y.shape[0])
                if k == 0:           # a rank's empty share of a batch smaller than the number of ranks
                    continue
                pred, _ = model(Tensor(x))
                loss_sum += float(task_loss(task, pred, Tensor(y)).item()) * k
                n += k
                c, m = prediction_counts(task, pred, y)
                correct, count = correct + c, count + m
    model.train()
    return metrics_from(task, *comm.sum_values(loss_sum, n, correct, count))


# ---------------------------------------------------------------------------------------------- the run
class Run:
    """One training run: everything ``rnnlab train`` sets up, its loop, and its checkpoints."""

    def __init__(self, cfg: TrainConfig, resume: bool = False):
        self.comm = distributed.communicator(cfg)
        self.comm.check_config(cfg)  # before validate(): an error one rank alone raised would hang the others
        self.cfg = cfg.validate()
        self.out = Path(cfg.out)
        # The run's backend and dtype are active from here until run() returns (or setup fails), then the
        # caller's come back: training from Python leaves no global switch behind.
        self._restore = contextlib.ExitStack()
        self._restore.enter_context(backend.use_backend(cfg.backend, device=self.comm.device(cfg)))
        self._restore.callback(backend.set_default_dtype, backend.default_dtype_name())
        backend.set_default_dtype(cfg.dtype)
        try:
            self._setup(cfg, resume)
        except BaseException:
            self._restore.close()
            raise

    def _setup(self, cfg: TrainConfig, resume: bool) -> None:
        init.manual_seed(cfg.seed)
        self.task = task_from_config(cfg)
        if self.task.input_kind == "tokens" and cfg.tbptt_k2 and cfg.tbptt_k2 != cfg.tbptt:
            raise ConfigError("config: ptb is served in consecutive chunks; tbptt_k2 must equal tbptt")
        self.model = SequenceModel(cfg, self.task)
        self.params = self.model.parameters()
        self.trivialization = self._trivialization(cfg)
        self.optimizer, scaled = build_optimizer(cfg, self.params)
        self.schedulers = build_schedulers(cfg, scaled)
        self.work = WorkSource(cfg, self.task, self.model, self.comm)
        self.total_steps = self._total_steps()
        self.step = 0
        self.elapsed = 0.0
        self.grad_evals = 0
        self.running = []
        self.last_eval: dict = {}
        self.last_train: dict = {}
        self.grad_norm_history: list = []
        if resume:
            self._load()
        elif self.comm.is_root:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
            (self.out / "metrics.jsonl").write_text("")
        self.comm.broadcast_state(self.params, self.optimizer)

    def _trivialization(self, cfg: TrainConfig):
        """DTRIV (``rebase_every`` = K > 0): the model's orthogonal cells, re-based once now (B_0 = B_init, A = 0,
        as the reference code does before training) and then after every K-th optimizer step (:meth:`train_step`).
        None for expRNN (K = 0) and other cells. A resumed run reloads B_0 and A from the checkpoint."""
        if not cfg.rebase_every:
            return None
        trivialization = DynamicTrivialization(self.model, cfg.rebase_every)
        for cell in trivialization.cells:
            cell.rebase()
        return trivialization

    def _total_steps(self) -> int:
        cfg = self.cfg
        if cfg.steps:
            return cfg.steps
        if not cfg.epochs:
            return DEFAULT_STEPS
        per_epoch = len(self.work.loader)
        if self.work.k1 and not self.work.tokens:
            per_epoch *= math.ceil(self.task.seq_len / self.work.k1)
        return max(1, (cfg.epochs * per_epoch) // (cfg.fw_k if cfg.optimizer == "fw" else 1))

    # ------------------------------------------------------------------ one step
    def closure(self):
        self.optimizer.zero_grad()
        loss, correct, count = self.work.next()
        loss.backward()
        stats = self.comm.average_gradients(self.params, self.work.weight, loss.item(), correct, count)
        self.grad_evals += 1
        if self.cfg.clip_value:
            optim.clip_grad_value(self.params, self.cfg.clip_value)
        if self.cfg.clip_norm:
            optim.clip_grad_norm(self.params, self.cfg.clip_norm)
        self.running.append(stats)
        return loss

    def train_step(self) -> None:
        self.optimizer.step(self.closure)
        self.step += 1
        if self.trivialization is not None:
            # the count comes from the run's step, which checkpoints keep, so a resumed run rebases on the same steps
            self.trivialization.steps = self.step - 1
            self.trivialization.step()
        for s in self.schedulers:
            if not isinstance(s, optim.ReduceOnPlateau):
                s.step()

    # ------------------------------------------------------------------ the loop
    def run(self) -> dict:
        """Train to ``total_steps``, evaluate, checkpoint, write the summary; returns the summary."""
        with self._restore:
            return self._run()

    def _run(self) -> dict:
        cfg = self.cfg
        bar = Progress(self.total_steps, desc=f"{cfg.task} {cfg.cell} {cfg.optimizer}",
                       enabled=cfg.progress and self.comm.is_root)
        bar.update(self.step)
        start = time.perf_counter() - self.elapsed
        last_ckpt = self.step
        while self.step < self.total_steps:
            self.train_step()
            self.elapsed = time.perf_counter() - start
            if self.step % cfg.log_every == 0 or self.step == self.total_steps:
                self._log_train()
                if cfg.record_grad_norms:
                    self._capture_grad_norms()
            if self.step % cfg.eval_every == 0 and self.step < self.total_steps:
                self._evaluate()
                for s in self.schedulers:
                    if isinstance(s, optim.ReduceOnPlateau):
                        s.step(self.last_eval["loss"])
            bar.update(1, loss=self.last_train.get("loss"), **self._bar_metric())
            if self.step - last_ckpt >= cfg.checkpoint_every:
                self.save()
                last_ckpt = self.step
        bar.close()
        self._evaluate()
        self.save()
        summary = self._summary()
        if not self.comm.is_root:
            return summary
        checkpoint.atomic_write_bytes(self.out / "summary.json", json.dumps(summary, indent=1).encode())
        if cfg.record_grad_norms:
            self._save_grad_norms()
        return summary

    def _bar_metric(self) -> dict:
        m = self.last_eval or self.last_train
        return {k: m[k] for k in ("accuracy", "perplexity") if k in m}

    def _log_train(self) -> None:
        if not self.running:
            return
        losses, corrects, counts = zip(*self.running)
        self.running = []
        self.last_train = metrics_from(self.task, sum(losses), len(losses), sum(corrects), sum(counts))
        self._record("train", self.last_train)

    def _evaluate(self) -> None:
        self.last_eval = evaluate(self.cfg, self.task, self.model, comm=self.comm)
        self._record("test", self.last_eval)

    def _record(self, split: str, metrics: dict) -> None:
        row = {"step": self.step, "epoch": self.work.epoch, "split": split, **metrics,
               "grad_evals": self.grad_evals, "wall_time": round(self.elapsed, 3)}
        if not self.comm.is_root:
            return
        with open(self.out / "metrics.jsonl", "a") as f:
            f.write(json.dumps(row) + "\n")

    def _summary(self) -> dict:
        m = self.last_eval
        summary = {"config": self.cfg.to_dict(), "steps": self.step, "grad_evals": self.grad_evals,
                   "wall_time": round(self.elapsed, 3), "test_loss": m["loss"],
                   "baseline_loss": self.task.baseline_loss, "train_loss": self.last_train.get("loss")}
        for k in ("accuracy", "perplexity"):
            if k in m:
                summary[f"test_{k}"] = m[k]
        return summary

    def _capture_grad_norms(self) -> None:
        """Keep the probe's ||dL/dh_t|| of the step just taken (full-BPTT steps record them)."""
        try:
            norms = self.model.rnn.grad_norms
        except RuntimeError:     # this step did not record (a TBPTT chunk, an evaluation in between)
            return
        self.grad_norm_history.append((self.step, [to_numpy(n) for n in norms]))

    def _save_grad_norms(self) -> None:
        """``grad_norms.npz``: ``steps`` (n,) and ``layer{i}`` (n, T): the norms at each logged step."""
        if not self.grad_norm_history:
            return
        host = backend.host
        steps, rows = zip(*self.grad_norm_history)
        arrays = {"steps": host.asarray(steps)}
        for i in range(len(rows[0])):
            arrays[f"layer{i}"] = host.stack([r[i] for r in rows])
        checkpoint.save(self.out / "grad_norms.npz", arrays)

    # ------------------------------------------------------------------ checkpoints
    def _rngs(self) -> list:
        return [m.rng for _, m in self.model.named_modules() if hasattr(m, "rng")]

    def save(self) -> None:
        arrays = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        meta = {"step": self.step, "elapsed": self.elapsed, "grad_evals": self.grad_evals,
                "last_eval": self.last_eval,
                "last_train": self.last_train, "config": self.cfg.to_dict(),
                "rngs": [g.bit_generator.state for g in self._rngs()],
                "global_rng": init.get_rng().bit_generator.state}
        tree = {"optimizer": self.optimizer.state_dict(),
                "schedulers": [s.state_dict() for s in self.schedulers], "work": self.work.state_dict()}
        flat_meta: dict = {}
        checkpoint.flatten("state", tree, arrays, flat_meta)
        meta["tree"] = flat_meta
        if self.comm.is_root:
            checkpoint.save(self.out / CHECKPOINT, arrays, meta)

    def _load(self) -> None:
        arrays, meta = checkpoint.load(self.out / CHECKPOINT)
        self.model.load_state_dict({k[len("model/"):]: v for k, v in arrays.items() if k.startswith("model/")})
        tree = checkpoint.unflatten("state", arrays, meta["tree"])
        self.optimizer.load_state_dict(tree["optimizer"])
        for s, state in zip(self.schedulers, tree["schedulers"]):
            s.load_state_dict(state)
        self.work.load_state_dict(tree["work"], like=self.params[0].data)
        for g, state in zip(self._rngs(), meta["rngs"]):
            g.bit_generator.state = state
        init.get_rng().bit_generator.state = meta["global_rng"]
        self.step, self.elapsed, self.grad_evals = meta["step"], meta["elapsed"], meta["grad_evals"]
        self.last_eval, self.last_train = meta["last_eval"], meta["last_train"]
        metrics = self.out / "metrics.jsonl"
        if metrics.exists() and self.comm.is_root:
            kept = [line for line in metrics.read_text().splitlines()
                    if line.strip() and json.loads(line)["step"] <= self.step]
            metrics.write_text("".join(line + "\n" for line in kept))


def _state_to_host(state):
    if isinstance(state, Tensor):
        return to_numpy(state.data)
    return [_state_to_host(s) for s in state]


def _state_from_host(state, like):
    if isinstance(state, list):
        return tuple(_state_from_host(s, like) for s in state)
    return Tensor(backend.asarray(state, like=like))


def train(cfg: TrainConfig) -> dict:
    """Train as ``cfg`` says; returns the summary (also written to ``summary.json``)."""
    return Run(cfg).run()


def resume(run_dir, steps: int = 0, epochs: int = 0, progress: bool = True,
           distributed: bool | None = None) -> dict:
    """Continue the run in ``run_dir`` from its checkpoint (optionally to a new ``steps`` or ``epochs``, on
    any number of ranks: ``distributed`` overrides the saved setting)."""
    path = Path(run_dir) / "config.json"
    if not path.exists():
        raise ConfigError(f"--resume: {path} does not exist (is {run_dir} a run directory of rnnlab train?)")
    values = json.loads(path.read_text())
    cfg = TrainConfig(**values)
    cfg.out = str(run_dir)
    cfg.progress = progress
    if steps:
        cfg.steps = steps
    if epochs:
        cfg.epochs = epochs
    if distributed is not None:
        cfg.distributed = distributed
    return Run(cfg, resume=True).run()


__all__ = ["train", "resume", "Run", "evaluate", "build_optimizer", "task_from_config"]
