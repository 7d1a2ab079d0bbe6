"""Synchronous data-parallel training over MPI (mpi4py), the way ChainerMN did it for NumPy and CuPy.

``mpiexec -n N rnnlab train ...`` starts N ranks. Every rank builds the same model from the same seed; the
parameters and optimizer state are then broadcast from rank 0 so they are identical, and they stay so because
every rank applies the same update from the same averaged gradient.

Data: every rank iterates the single process's global batches (same order, same ``len``, same loader state)
and keeps its contiguous share ``[⌊n r / N⌋, ⌊n (r + 1) / N⌋)`` of the n rows of each batch; token streams
are cut into ``batch_size`` columns of which rank r keeps its block of ``batch_size / N``. The union of the
shares is the single process's batch, so N ranks at global batch B reproduce one process at batch B.

Gradients: after ``backward`` each rank holds g^r, the gradient of the mean loss over its w_r loss terms.
One ``Allreduce`` (sum) of the single flat buffer ``[w_r g^r, w_r, w_r loss_r, correct_r, count_r]`` gives
every rank ``g = Σ_r w_r g^r / Σ_r w_r``: the gradient of the global batch's mean loss.

Only rank 0 writes files; evaluation sums (loss · predictions, predictions, correct, count) over the ranks.
Without ``--distributed`` and outside ``mpiexec`` nothing here imports MPI: :data:`LOCAL` does nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import traceback

from .config import ConfigError
from ..datasets.loader import BatchLoader
from ..engine import backend

INSTALL = "pip install 'rnnlab[mpi]' (mpi4py and the mpich wheel, which ships mpiexec)"
PER_MACHINE = ("out", "data_dir", "device", "progress")
"""Settings that may differ between ranks: paths and devices of each machine, and rank 0's progress bar."""
SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MV2_COMM_WORLD_SIZE", "PMIX_SIZE")


class DistributedError(ConfigError):
    """Distributed training cannot start or go on; ``collective`` is True when every rank raises it."""

    def __init__(self, message: str, collective: bool = True):
        super().__init__(message)
        self.collective = collective


def launched_size() -> int:
    """The number of ranks ``mpiexec`` (MPICH, Open MPI, MVAPICH, PMIx) started, read from its environment."""
    for name in SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def import_mpi():
    """``mpi4py.MPI``, or a :class:`DistributedError` that says how to install it."""
    try:
        from mpi4py import MPI
    except ImportError as exc:
        raise DistributedError(f"distributed: training on several processes needs mpi4py, which is not "
                               f"installed: {INSTALL}") from exc
    return MPI


def share(n: int, rank: int, size: int) -> tuple[int, int]:
    """Rank ``rank``'s contiguous block [lo, hi) of n rows split among ``size`` ranks (sizes differ by <= 1)."""
    return n * rank // size, n * (rank + 1) // size


class BatchShare:
    """A view of a :class:`SequenceDataset`: ``batch(indices)`` serves this rank's :func:`share` of indices."""

    def __init__(self, dataset, rank: int, size: int):
        self.dataset, self.rank, self.size = dataset, rank, size

    def __len__(self) -> int:
        return len(self.dataset)

    def batch(self, indices):
        lo, hi = share(len(indices), self.rank, self.size)
        return self.dataset.batch(indices[lo:hi])


def _map(fn, tree):
    return [_map(fn, t) for t in tree] if isinstance(tree, (list, tuple)) else fn(tree)


class Local:
    """One process: rank 0 of 1. Every collective returns its input; nothing imports MPI."""
    rank, size, transport = 0, 1, "none"

    @property
    def is_root(self) -> bool:
        return self.rank == 0

    def check_config(self, cfg) -> None:
        """Raise a :class:`DistributedError` on every rank when ranks run different settings."""

    def device(self, cfg):
        """The device this rank uses: ``cfg.device``, else (CuPy, several ranks) GPU local rank mod GPUs."""
        return cfg.device or None

    def loader(self, task, split: str, batch_size: int, **options):
        """This rank's loader of the global batches of ``split`` (``batch_size`` rows each); see the module."""
        return task.loader(split, batch_size, **options)

    def broadcast_state(self, params, optimizer) -> None:
        """Make every rank's parameters and optimizer state equal to rank 0's."""

    def average_gradients(self, params, weight: float, loss: float, correct: float, count: int):
        """g ← Σ_r w_r g^r / Σ_r w_r for every parameter with a gradient (one Allreduce); returns the global
        batch's (mean loss Σ w_r loss_r / Σ w_r, Σ correct_r, Σ count_r)."""
        return loss, correct, count

    def sum_values(self, *values: float) -> list[float]:
        """Each value summed over the ranks (evaluation metrics)."""
        return list(values)

    def gather_rows(self, tree):
        """A nested list of host arrays whose axis 0 is this rank's share of a batch -> the whole batch's."""
        return tree

    def rows_of(self, tree):
        """The inverse of :meth:`gather_rows`: this rank's share of every host array's axis 0."""
        return tree


LOCAL = Local()
_world = None


def communicator(cfg) -> Local:
    """:data:`LOCAL`, or the MPI world when ``cfg.distributed`` is set or ``mpiexec`` started several ranks."""
    global _world
    if not cfg.distributed and launched_size() <= 1:
        return LOCAL
    if _world is None:
        MPI = import_mpi()
        _world = MPIComm(MPI.COMM_WORLD, MPI)
    return _world


def is_root() -> bool:
    """True in a single process, and on rank 0 of the MPI world once :func:`communicator` has joined it."""
    return _world is None or _world.is_root


def abort_others(exc: BaseException, shown: bool = False) -> None:
    """After an error on this rank alone, end the whole MPI job (others would wait in a collective forever).

    Prints the traceback first unless the error was ``shown``; does nothing for one process or for errors
    every rank raises together (``collective``).
    """
    if _world is None or _world.size == 1 or getattr(exc, "collective", False):
        return
    if not shown:
        traceback.print_exception(exc)
    print(f"rnnlab: rank {_world.rank} failed ({type(exc).__name__}); ending the job on all {_world.size} ranks",
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    for stream in (sys.stdout, sys.stderr):
        wait_until_read(stream)
    _world.comm.Abort(1)


def wait_until_read(stream, timeout: float = 5.0) -> None:
    """Wait (at most ``timeout`` seconds) until the reader of ``stream``'s pipe has taken every byte written.

    ``Abort`` has the process manager kill every rank and stop forwarding their output: the lines a rank wrote
    just before, still in its stdout/stderr pipe because the launcher's forwarder had not run yet (a loaded
    machine), were lost with them. Flushing is not enough, the bytes must have left the pipe. Streams that are
    no pipe (a terminal, a file), or whose fill level cannot be read (not Linux), return at once.
    """
    import time
    try:
        import fcntl
        import stat
        import struct
        import termios
        fd = stream.fileno()
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            unread, = struct.unpack("i", fcntl.ioctl(fd, termios.FIONREAD, b"\0\0\0\0"))
            if unread <= 0:
                return
            time.sleep(0.01)
    except (ImportError, OSError, ValueError, AttributeError):  # no fcntl, closed, no descriptor, no FIONREAD
        return


def config_digest(values: dict) -> str:
    """SHA-256 of the settings (without :data:`PER_MACHINE`) and the rnnlab version, as canonical JSON."""
    from .. import __version__
    shared = {k: v for k, v in sorted(values.items()) if k not in PER_MACHINE}
    return hashlib.sha256(json.dumps([__version__, shared], sort_keys=True).encode()).hexdigest()


class MPIComm(Local):
    """The ranks of an mpi4py communicator (``MPI.COMM_WORLD``)."""

    def __init__(self, comm, MPI):
        self.comm, self.MPI = comm, MPI
        self.rank, self.size = comm.Get_rank(), comm.Get_size()
        self.transport = ""        # chosen at the first gradient Allreduce (see _transport)
        self._nccl = None

    def check_config(self, cfg) -> None:
        values = cfg.to_dict()
        gathered = self.comm.allgather((config_digest(values), values))
        if len({digest for digest, _ in gathered}) > 1:
            keys = sorted(k for k in values if k not in PER_MACHINE
                          and len({json.dumps(v.get(k)) for _, v in gathered}) > 1)
            what = "; ".join(f"{k}: " + ", ".join(f"rank {r} {v.get(k)!r}" for r, (_, v) in enumerate(gathered))
                             for k in keys) or "the rnnlab version"
            raise DistributedError(f"distributed: the {self.size} ranks were given different settings ({what}); "
                                   "every rank must run the same configuration")
        if cfg.batch_size % self.size:
            raise DistributedError(f"config: batch_size is the global batch and must be divisible by the "
                                   f"{self.size} ranks (each takes batch_size / ranks), got {cfg.batch_size}")

    def device(self, cfg):
        if cfg.device or cfg.backend != "cupy":
            return cfg.device or None
        local = self.comm.Split_type(self.MPI.COMM_TYPE_SHARED)
        rank = local.Get_rank()
        local.Free()
        xp = backend.load_cupy()
        return rank % xp.cuda.runtime.getDeviceCount()

    def loader(self, task, split: str, batch_size: int, **options):
        if task.input_kind == "tokens":
            if batch_size % self.size:      # evaluation streams the ranks do not divide: rank 0 alone
                return task.loader(split, batch_size, **options) if self.is_root else []
            return task.loader(split, batch_size // self.size, rank=self.rank, world_size=self.size, **options)
        shuffle = options.pop("shuffle", split == "train")
        return BatchLoader(BatchShare(task.split(split), self.rank, self.size), batch_size, shuffle=shuffle,
                           **options)

    # ------------------------------------------------------------------ collectives
    def broadcast_state(self, params, optimizer) -> None:
        xp = backend.host
        flat = xp.concatenate([backend.to_numpy(p.data).reshape(-1) for p in params])
        self.comm.Bcast(flat, root=0)
        offset = 0
        for p in params:
            p.data = backend.asarray(flat[offset:offset + p.size].reshape(p.shape), like=p.data)
            offset += p.size
        state = self.comm.bcast(optimizer.state_dict() if self.is_root else None, root=0)
        if not self.is_root:
            optimizer.load_state_dict(state)

    def average_gradients(self, params, weight, loss, correct, count):
        grads = [p.grad for p in params if p.grad is not None]
        xp = backend.get_namespace(*grads)
        stats = backend.asarray([weight, weight * loss, correct, count], like=grads[0], dtype=grads[0].dtype)
        buffer = self._allreduce(xp.concat([xp.reshape(g * weight, (-1,)) for g in grads] + [stats]))
        total = buffer[-4]
        offset = 0
        for p in params:
            if p.grad is not None:
                n = p.grad.size
                p.grad = xp.reshape(buffer[offset:offset + n], p.grad.shape) / total
                offset += n
        sums = [float(v) for v in backend.to_numpy(buffer[-4:])]
        return sums[1] / sums[0], sums[2], int(round(sums[3]))

    def sum_values(self, *values):
        out = backend.host.array(values, dtype="float64")
        self.comm.Allreduce(self.MPI.IN_PLACE, out, op=self.MPI.SUM)
        return [float(v) for v in out]

    def gather_rows(self, tree):
        pieces = self.comm.allgather(tree)
        return _stack(pieces)

    def rows_of(self, tree):
        return _map(lambda a: a[slice(*share(len(a), self.rank, self.size))], tree)

    # ------------------------------------------------------------------ the Allreduce
    def _transport(self, xp) -> str:
        """How a buffer of ``xp`` is summed: "mpi" (NumPy, or CuPy under a CUDA-aware MPI), "nccl" (CuPy with
        cupy.cuda.nccl), or "host" (copied to NumPy and back). Agreed on by every rank."""
        if not self.transport:
            choice = 0                                   # 0 host, 1 CUDA-aware MPI, 2 NCCL, 3 NumPy MPI
            if backend.is_numpy(xp):
                choice = 3
            elif backend.is_cupy(xp):
                nccl = getattr(xp.cuda, "nccl", None)
                query = getattr(self.MPI, "Query_cuda_support", None)
                if nccl is not None and getattr(nccl, "available", False):
                    choice = 2
                elif os.environ.get("RNNLAB_MPI_CUDA_AWARE") == "1" or (query is not None and query()):
                    choice = 1
            choice = self.comm.allreduce(choice, op=self.MPI.MIN)
            self.transport = {0: "host", 1: "mpi", 2: "nccl", 3: "mpi"}[choice]
            if self.transport == "nccl":
                nccl = xp.cuda.nccl
                uid = self.comm.bcast(nccl.get_unique_id() if self.is_root else None, root=0)
                self._nccl = nccl.NcclCommunicator(self.size, uid, self.rank)
        return self.transport

    def _allreduce(self, buffer):
        """``buffer`` summed over the ranks, where it lives (the GPU for CuPy with NCCL or CUDA-aware MPI)."""
        xp = backend.get_namespace(buffer)
        how = self._transport(xp)
        if how == "nccl":
            nccl = xp.cuda.nccl
            kind = nccl.NCCL_FLOAT32 if buffer.dtype == xp.float32 else nccl.NCCL_FLOAT64
            self._nccl.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size, kind, nccl.NCCL_SUM,
                                 xp.cuda.get_current_stream().ptr)
            return buffer
        if how == "mpi":
            if not backend.is_numpy(xp):
                xp.cuda.get_current_stream().synchronize()
            self.comm.Allreduce(self.MPI.IN_PLACE, buffer, op=self.MPI.SUM)
            return buffer
        host = backend.to_numpy(buffer).copy()
        self.comm.Allreduce(self.MPI.IN_PLACE, host, op=self.MPI.SUM)
        return backend.asarray(host, like=buffer)


def _stack(pieces: list):
    """Rank-ordered nested lists of host arrays -> one nested list, each leaf concatenated along axis 0."""
    if isinstance(pieces[0], (list, tuple)):
        return [_stack([p[i] for p in pieces]) for i in range(len(pieces[0]))]
    return backend.host.concatenate(pieces, axis=0)


__all__ = ["communicator", "Local", "LOCAL", "MPIComm", "DistributedError", "BatchShare", "share",
           "launched_size", "import_mpi", "abort_others", "wait_until_read", "is_root", "config_digest", "INSTALL"]
