"""The training loop behind ``rnnlab train``: one :class:`Run` from its configuration to its summary.

One optimizer step asks a *closure* for gradients; the closure takes the next unit of work from a
:class:`~rnnlab.training.work.WorkSource`. Every ``eval_every`` steps the model is scored on the
validation split (which the plateau schedule and ``keep_best`` read); the test split is read once, at the
end, for the last model and (with ``keep_best``) the best-validation one. What the run directory holds:
:mod:`rnnlab.training.rundir`. ``--resume DIR`` continues from the checkpoint bit for bit, metrics included.

A non-finite loss or gradient stops the run (:class:`Diverged`) with the last good checkpoint kept; SIGINT
and SIGTERM checkpoint and stop it (:class:`Interrupted`), to be continued with ``--resume``.
"""
from __future__ import annotations

import contextlib
import dataclasses
import math
import signal
import sys
import time
import warnings
from pathlib import Path

from .. import optim
from ..engine import backend, init
from . import checkpoints, distributed, rundir
from .config import DEFAULT_STEPS, TrainConfig
from .data import task_from_config
from .evaluation import evaluate
from .fit import check_against_task
from .model import SequenceModel, trivialization_for
from .records import Records
from .registry import build_optimizer, build_schedulers
from .reporting import progress_bar, show_sample
from .sampling import SAMPLE_STREAM, sample_text
from .work import WorkSource, steps_per_epoch


class Diverged(RuntimeError):
    """The loss or a gradient became non-finite; the run stopped with its last good checkpoint kept."""


class Interrupted(RuntimeError):
    """SIGINT or SIGTERM: the run wrote a checkpoint and stopped; ``run_dir`` continues it."""

    def __init__(self, message: str, run_dir: Path):
        super().__init__(message)
        self.run_dir = run_dir


class Run:
    """One training run: everything ``rnnlab train`` sets up, its loop, and its checkpoints.

    Nothing is written until the configuration, the data and the model are known to be good; then the run
    directory is created (or, with ``resume``, checked against its checkpoint) and locked.
    """

    def __init__(self, cfg: TrainConfig, resume: bool = False, overwrite: bool = False, evaluate_only=False):
        self.comm = distributed.communicator(cfg)
        self.comm.check_config(cfg)  # before validate(): an error one rank alone raised would hang the others
        cfg = cfg.validate()         # a checked copy: the caller's configuration (frozen) is never changed
        self.out = rundir.check_path(cfg.out, "--out") if cfg.out else rundir.fresh_path(cfg.task, cfg.cell)
        self.cfg = cfg = dataclasses.replace(cfg, out=str(self.out))
        # The run's backend, dtype and kernel switch hold until run() returns (or setup fails), then the
        # caller's come back: training from Python leaves no global switch behind.
        self._context = contextlib.ExitStack()
        self._context.enter_context(backend.use_backend(cfg.backend, device=self.comm.device(cfg)))
        self._context.callback(backend.set_default_dtype, backend.default_dtype_name())
        backend.set_default_dtype(cfg.dtype)
        if not cfg.kernels:
            from ..cells import kernels
            self._context.enter_context(kernels.disabled())
        try:
            self._setup(cfg, resume, overwrite, evaluate_only)
        except BaseException:
            self._context.close()
            raise

    def _setup(self, cfg, resume, overwrite, evaluate_only) -> None:
        init.manual_seed(cfg.seed)
        self.task = task_from_config(cfg)
        check_against_task(cfg, self.task)
        self.model = SequenceModel(cfg, self.task)
        self.params = self.model.parameters()
        self.trivialization = trivialization_for(self.model, cfg.rebase_every)
        self.optimizer, scaled = build_optimizer(cfg, self.params)
        self.schedulers = build_schedulers(cfg, scaled)
        self.lr_holder = next(o for o, keys in scaled if "lr" in keys)   # FW with an outer optimizer: the outer's
        self.plateaus = [s for s in self.schedulers if isinstance(s, optim.ReduceOnPlateau)]
        self.work = WorkSource(cfg, self.task, self.model, self.comm)
        self.total_steps = self._total_steps()
        if not cfg.steps and not cfg.epochs:     # the run records the steps it chose (DEFAULT_STEPS), not 0
            self.cfg = cfg = dataclasses.replace(cfg, steps=self.total_steps)
        self.step, self.elapsed, self.grad_evals = 0, 0.0, 0
        self.validated_step = None       # the step of the last validation (the final one is not repeated)
        self.checkpoint_step = None      # the step of the last checkpoint this run wrote or resumed from
        self.records = Records(self.out, self.task, self.comm.is_root)
        self.best = {"step": None, "val_loss": math.inf}
        self.stop_signal = None
        self.lock = rundir.RunLock(self.out)
        if evaluate_only:
            return
        self._context.callback(self.lock.release)
        try:
            self._take_directory(cfg, resume, overwrite)
        except OSError as exc:
            raise self.write_refused(exc) from exc
        self.comm.broadcast_state(self.params, self.optimizer)

    def _take_directory(self, cfg, resume, overwrite) -> None:
        """Lock the run directory; then check a resume's files (or create a fresh run's) and write the config."""
        if resume:
            # the lock first; then every file the run will need is checked before anything is written
            if self.comm.is_root:
                self.lock.acquire()
            self.restore(checkpoints.load_run(self, self.out / checkpoints.CHECKPOINT))
            self._check_resumable()
            if cfg.keep_best and self.best["step"] is not None:
                best = self.out / checkpoints.BEST
                try:
                    _, meta = checkpoints.load(best)
                    checkpoints.check_belongs(meta.get("config", {}), cfg.to_dict(), best)
                    # a run killed after saving best.npz and before its next checkpoint leaves a later one,
                    # which the resumed run writes again; an earlier one is not this run's best
                    if not isinstance(meta.get("step"), int) or meta["step"] < self.best["step"]:
                        raise checkpoints.CheckpointError(f"checkpoint: {best} holds step {meta.get('step')}, "
                                                          f"older than the best step {self.best['step']}")
                except checkpoints.CheckpointError as exc:
                    raise checkpoints.CheckpointError(f"--resume: the run keeps its best model (keep_best) from "
                                                      f"step {self.best['step']}, but {exc}; nothing was changed") \
                        from exc
            kept = self.records.check_tail()
            if self.comm.is_root:
                rundir.check_replaceable(self.out, "--resume")
                rundir.remove_temporaries(self.out)     # every check passed: only now is anything removed or written
            self.records.truncate(kept)
            self.records.start_config(cfg.to_dict())
        else:
            if self.comm.is_root:
                rundir.create(self.out, overwrite, self.lock)
            self.records.start(cfg.to_dict())

    def _total_steps(self) -> int:
        cfg = self.cfg
        if cfg.steps:
            return cfg.steps
        if not cfg.epochs:
            return DEFAULT_STEPS
        per_epoch = steps_per_epoch(self.work, self.task.seq_len)
        return max(1, (cfg.epochs * per_epoch) // (cfg.fw_k if cfg.optimizer == "fw" else 1))

    # ------------------------------------------------------------------ one step
    def closure(self):
        self.optimizer.zero_grad()
        loss, correct, count = self.work.next()
        value = loss.item()
        if not math.isfinite(value):
            raise Diverged(f"train: the loss became {value} at step {self.step + 1}; {self.kept()}. Try a "
                           f"smaller --lr (now {self.cfg.lr:g}) or --clip-norm")
        loss.backward()
        stats = self.comm.average_gradients(self.params, self.work.weight, value, correct, count)
        self.grad_evals += 1
        # the logged step's learning rate and global gradient norm ||(g_1, ..., g_n)||_2, taken before clipping
        grad_norm = float(optim.lp_norm([p.grad for p in self.params if p.grad is not None]))
        step_values = {"lr": float(self.lr_holder.param_groups[0]["lr"]), "grad_norm": grad_norm}
        if self.cfg.clip_value:
            optim.clip_grad_value(self.params, self.cfg.clip_value)
        if self.cfg.clip_norm:
            optim.clip_grad_norm(self.params, self.cfg.clip_norm)
        self.records.add_train(stats, step_values)
        return loss

    def kept(self) -> str:
        """What a run that stops now leaves to continue from: its last checkpoint, or none."""
        if self.checkpoint_step is None:
            return (f"no checkpoint was written yet (one every {self.cfg.checkpoint_every} steps), so nothing can "
                    f"be resumed; the metrics up to step {self.step} are in {self.out / 'metrics.jsonl'}")
        return f"the checkpoint of step {self.checkpoint_step} is kept in {self.out}"

    def logs_at(self, step: int) -> bool:
        """Whether step ``step`` writes a train line to metrics.jsonl (and keeps its gradient norms)."""
        return step % self.cfg.log_every == 0 or step == self.total_steps

    def train_step(self) -> None:
        try:
            self.optimizer.step(self.closure)
        except optim.NonFiniteGradientError as exc:
            raise Diverged(f"train: a gradient became non-finite at step {self.step + 1} ({exc}); {self.kept()}. "
                           f"Try a smaller --lr (now {self.cfg.lr:g}) or --clip-norm") from None
        self.step += 1
        if self.trivialization is not None:
            # the count comes from the run's step, which checkpoints keep, so a resumed run rebases on the same steps
            self.trivialization.steps = self.step - 1
            self.trivialization.step()
        for s in self.schedulers:
            if s not in self.plateaus:
                s.step()

    # ------------------------------------------------------------------ the loop
    def run(self) -> dict:
        """Train to ``total_steps``, validate, test, write the summary; returns the summary."""
        with self._context, self._signals(), warnings.catch_warnings():
            # overflow shows up as a non-finite loss or gradient, which the run reports itself (Diverged)
            warnings.simplefilter("ignore", RuntimeWarning)
            try:
                try:
                    return self._run()
                except Diverged:
                    self.records.write_summary(self.summary(diverged=True))
                    raise
            except OSError as exc:         # a write the system refused: the disk full, say
                raise self.write_refused(exc) from exc

    def write_refused(self, exc: OSError) -> rundir.RunDirError:
        """The one line for a file of the run that the system refused to write (the disk full, a folder made
        read-only): which file, why, what is kept and how to go on. Every file is written whole or not at all,
        so the last checkpoint on disk is whole."""
        if self.checkpoint_step is not None:
            then = (f"the checkpoint of step {self.checkpoint_step} is kept: free space (or fix the cause) and "
                    f"continue with `rnnlab train --resume {self.out}`")
        else:
            then = ("no checkpoint was written yet, so nothing can be resumed: free space (or fix the cause) and "
                    "start the run again with --overwrite")
        return rundir.RunDirError(f"train: cannot write {exc.filename or self.out} at step {self.step} "
                                  f"({exc.strerror or str(exc) or type(exc).__name__}); {then}")

    @contextlib.contextmanager
    def _signals(self):
        def handler(signum, frame):
            self.stop_signal = signum
        previous = {}
        try:
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, handler)
        except ValueError:            # not the main thread: the caller handles signals
            pass
        try:
            yield
        finally:
            for sig, old in previous.items():
                signal.signal(sig, old)

    def describe(self) -> str:
        """One line: what this run trains, how long (and where that number came from), where it writes."""
        cfg, T = self.cfg, self.task.seq_len
        source = "--steps" if cfg.steps else (f"{cfg.epochs} epochs" if cfg.epochs else "the default")
        shape = f"T={T}, " if T else ""
        unit = "tokens" if self.task.input_kind == "tokens" else "training examples"   # a corpus is one stream
        return (f"train: {cfg.task} ({shape}{len(self.task.train)} {unit}), {cfg.cell} "
                f"{cfg.layers}x{cfg.hidden}, {cfg.optimizer} lr {cfg.lr:g}; {self.total_steps} steps from {source}, "
                f"starting at step {self.step}; run directory {self.out}")

    def _run(self) -> dict:
        cfg = self.cfg
        if cfg.progress and self.comm.is_root:
            print(self.describe(), file=sys.stderr)
        bar = progress_bar(self.total_steps, f"{cfg.task} {cfg.cell} {cfg.optimizer}",
                           enabled=cfg.progress and self.comm.is_root, initial=self.step)
        with bar:                 # closed however the run ends; it shows the final values when it finishes
            summary = self._train(bar)
            bar.set_postfix(self.records.postfix(), refresh=False)
        return summary

    def _train(self, bar) -> dict:
        cfg = self.cfg
        start = time.perf_counter() - self.elapsed
        last_ckpt = self.step
        while self.step < self.total_steps:
            # the probe runs the readable loop (it reads dL/dh_t there): only on the steps whose norms are kept
            self.work.record_grad_norms = cfg.record_grad_norms and self.logs_at(self.step + 1)
            self.train_step()
            self.elapsed = time.perf_counter() - start
            if self.logs_at(self.step):
                self.records.log_train(self.counters())
                if cfg.record_grad_norms:
                    self.records.capture_grad_norms(self.step, self.model.rnn)
            if self.step % cfg.eval_every == 0 and self.step < self.total_steps:
                self.validate()
            bar.set_postfix(self.records.postfix(), refresh=False)
            bar.update(1)
            if self.step - last_ckpt >= cfg.checkpoint_every or self.stop_signal is not None:
                self.save()
                last_ckpt = self.step
            if self.stop_signal is not None:
                raise Interrupted(f"train: stopped by {signal.Signals(self.stop_signal).name} at step {self.step}; "
                                  f"checkpoint written", self.out)
        return self.finish()

    def validate(self) -> dict:
        """Score the validation split, step the plateau schedule on it, keep the best model."""
        metrics = evaluate(self.cfg, self.task, self.model, "val", comm=self.comm)
        self.validated_step = self.step
        self.records.record("val", metrics, self.counters())
        for s in self.plateaus:
            s.step(metrics["loss"])
        if self.cfg.keep_best and metrics["loss"] < self.best["val_loss"]:
            self.best = {"step": self.step, "val_loss": metrics["loss"]}
            checkpoints.save_run(self, self.out / checkpoints.BEST)
        if self.task.alphabet is not None and self.cfg.sample_chars and self.comm.is_root:
            show_sample(self.sample(), self.step, self.cfg.temperature, metrics["loss"])
        return metrics

    def sample(self) -> str:
        """What the model writes now (a text task): ``sample_chars`` characters at ``temperature``, drawn from a
        generator seeded by the run's seed and step (the same run always prints the same samples)."""
        return sample_text(self.model, self.task.alphabet, self.cfg.sample_chars, temperature=self.cfg.temperature,
                           seed=[self.cfg.seed, SAMPLE_STREAM, self.step])

    def finish(self) -> dict:
        """The end of training: validation, the checkpoint, then the test split, read once (twice with
        ``keep_best``: the last model and the best-validation one)."""
        if self.validated_step == self.step:   # resumed from the checkpoint written after the final validation
            val = self.records.last_eval
        else:
            val = self.validate()
            self.save()
        self._honour_signal("after the final validation")
        test = evaluate(self.cfg, self.task, self.model, "test", comm=self.comm)
        self._honour_signal("during the final test evaluation")
        self.records.record("test", test, self.counters())
        best_test = None
        if self.cfg.keep_best:
            checkpoints.load_model(self.model, self.out / checkpoints.BEST, config=self.cfg.to_dict())
            best_test = evaluate(self.cfg, self.task, self.model, "test", comm=self.comm)
            self._honour_signal("during the final test evaluation")
        summary = self.summary(val=val, test=test, best_test=best_test)
        self.records.write_summary(summary)
        if self.cfg.record_grad_norms:
            self.records.save_grad_norms()
        return summary

    def _honour_signal(self, where: str) -> None:
        """SIGINT or SIGTERM during the final evaluation: stop (the checkpoint after the final validation
        is on disk, so ``--resume`` runs the test split again and writes the summary)."""
        if self.stop_signal is not None:
            raise Interrupted(f"train: stopped by {signal.Signals(self.stop_signal).name} {where} at step "
                              f"{self.step}; checkpoint written", self.out)

    def summary(self, val=None, test=None, best_test=None, diverged=False) -> dict:
        out = {"config": self.cfg.to_dict(), "steps": self.step, "grad_evals": self.grad_evals,
               "wall_time": round(self.elapsed, 3), "train_loss": self.records.last_train.get("loss"),
               "baseline_loss": self.task.baseline_loss, "diverged": diverged}
        for prefix, metrics in (("val", val), ("test", test)):
            for k in self.records.metric_keys():
                out[f"{prefix}_{k}"] = (metrics or {}).get(k)
        if self.cfg.keep_best:
            out["best_step"], out["best_val_loss"] = self.best["step"], self.best["val_loss"]
            for k in self.records.metric_keys():
                out[f"best_test_{k}"] = (best_test or {}).get(k)
        return out

    # ------------------------------------------------------------------ checkpoints
    def counters(self) -> dict:
        """The run's counters; all but ``elapsed`` (wall time, kept beside the checkpoint) are checkpointed."""
        return {"step": self.step, "epoch": self.work.epoch, "elapsed": self.elapsed, "grad_evals": self.grad_evals,
                "best": self.best, "validated_step": self.validated_step, **self.records.state()}

    def restore(self, meta: dict) -> None:
        self.step, self.grad_evals, self.best = meta["step"], meta["grad_evals"], meta["best"]
        self.validated_step, self.checkpoint_step = meta.get("validated_step"), self.step
        self.elapsed = self.records.read_clock(self.step)
        self.records.restore(meta)

    def _check_resumable(self) -> None:
        from .config import ConfigError
        if self.step > self.total_steps:
            raise ConfigError(f"--resume: the run reached step {self.step}, beyond the {self.total_steps} steps "
                              f"asked for; give a larger --steps or --epochs")
        if self.step == self.total_steps and (self.out / "summary.json").exists():
            raise rundir.RunDirError(f"--resume: the run in {self.out} finished at step {self.step}; give a "
                                     f"larger --steps or --epochs to train it longer")

    def close(self) -> None:
        """Give back the backend, dtype and lock (``run()`` does it itself)."""
        self._context.close()

    def __enter__(self) -> "Run":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def save(self) -> None:
        """The checkpoint (atomically: a write that fails, the disk full say, leaves the previous one)."""
        checkpoints.save_run(self, self.out / checkpoints.CHECKPOINT)    # refused: see write_refused
        self.checkpoint_step = self.step
        self.records.write_clock(self.step, self.elapsed)


__all__ = ["Run", "Diverged", "Interrupted"]
