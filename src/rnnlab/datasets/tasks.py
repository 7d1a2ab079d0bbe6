"""One registry of the papers' tasks: ``load_task(name, data_dir=None, **options)`` -> :class:`Task`."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field

import numpy as np

from .adding import adding_dataset
from .copying import NUM_INPUT_SYMBOLS, NUM_OUTPUT_CLASSES, copying_baseline, copying_dataset
from .errors import DatasetOptionError
from .har import har_datasets
from .loader import BatchLoader, TokenStreamLoader
from .mnist import mnist_datasets
from .ptb import load_ptb
from .ptb_chars import load_ptb_chars
from .sequence import SequenceDataset
from .split import hold_out

__all__ = ["Task", "TASKS", "STREAM_TASKS", "TEXT_TASKS", "SPLITS", "load_task", "task_options",
           "register_task"]


SPLITS = ("train", "val", "test")
"""The split names of a task; ``"valid"`` is accepted as another name of ``"val"``."""
_SPLIT_ALIASES = {"valid": "val"}


@dataclass
class Task:
    """A task's data and what a training program needs to know about it.

    * ``train``, ``val``, ``test``: :class:`SequenceDataset` for the sequence tasks; token ids (L,) int64 for
      ``ptb`` (words) and ``ptb-char`` (characters). ``val`` is the validation split (``valid`` is a
      read-only alias): for ``ptb`` and ``ptb-char`` the file ``ptb.valid.txt``; for MNIST and HAR a seeded
      hold-out removed from the training file (:func:`rnnlab.datasets.hold_out`, option ``val_size``, 0 for
      none); for adding and copying a separate set drawn from its own seed (option ``n_val``, 0 for none). It
      is None when the task has none.
    * ``input_kind``: ``"float"`` (inputs (T, B, input_size)) or ``"tokens"`` (inputs (k, B) int64 ids in
      [0, input_size), for an embedding).
    * ``target``: ``"last"`` (one target per sequence, predicted from the last step: (B,) classes or (B, 1)
      values), ``"every_step"`` (classes (T, B)), ``"next_token"`` (classes (k, B), the next token).
    * ``loss``: ``"mse"`` or ``"cross_entropy"``; ``metric``: ``"mse"``, ``"accuracy"`` or ``"perplexity"``.
    * ``output_size``: classes (``num_classes``) or regression outputs; ``seq_len``: T (None for ``ptb``
      and ``ptb-char``, whose chunk length is the loader's ``bptt``).
    * ``baseline_loss``: the test loss of the best prediction that ignores the inputs, fitted on ``train``
      (for adding: predicting the training targets' mean, ~1/6; copying: 10 log(8)/(T + 20); classification:
      the training class frequencies; ptb and ptb-char: the unigram distribution), the level a model must beat.
    * ``alphabet``: a text task's characters (token id i is ``alphabet[i]``; see :data:`TEXT_TASKS`), else None.
    * ``info``: task-specific details (normalization statistics, permutation, class merge, vocabulary,
      ``val_size``).
    """
    name: str
    train: SequenceDataset | np.ndarray
    test: SequenceDataset | np.ndarray
    input_size: int
    output_size: int
    input_kind: str
    target: str
    loss: str
    metric: str
    seq_len: int | None
    num_classes: int | None
    baseline_loss: float
    val: SequenceDataset | np.ndarray | None = None
    info: dict = field(default_factory=dict)
    alphabet: str | None = None

    @property
    def valid(self) -> SequenceDataset | np.ndarray | None:
        """The validation split, another name of ``val``."""
        return self.val

    @property
    def splits(self) -> tuple[str, ...]:
        """The names of the splits this task has, in the order train, val, test."""
        return tuple(s for s in SPLITS if getattr(self, s) is not None)

    def split(self, name: str):
        """The data of split ``name``: ``train``, ``val`` (or ``valid``) or ``test``."""
        key = _SPLIT_ALIASES.get(name, name)
        data = getattr(self, key) if key in SPLITS else None
        if data is None:
            raise ValueError(f"Task.split: task {self.name!r} has no split {name!r}; it has {', '.join(self.splits)}")
        return data

    def loader(self, split: str, batch_size: int, *, shuffle: bool | None = None, seed: int = 0,
               drop_last: bool = False, bptt: int | None = None, rank: int = 0, world_size: int = 1):
        """A :class:`BatchLoader` over ``split`` (shuffled by default for ``train`` only), or for ``ptb`` a
        :class:`TokenStreamLoader` with chunks of ``bptt`` steps (required; it serves the streams in order,
        so ``shuffle``, ``seed`` and ``drop_last`` do not apply). ``batch_size=1`` on ``val`` or ``test`` of
        ``ptb`` serves the whole split as one continuous stream, the usual way to score a language model."""
        data = self.split(split)
        if self.input_kind == "tokens":
            if bptt is None:
                raise ValueError(f"Task.loader: task {self.name!r} serves TBPTT chunks; pass bptt (chunk length)")
            return TokenStreamLoader(data, batch_size, bptt, rank=rank, world_size=world_size)
        return BatchLoader(data, batch_size, shuffle=(split == "train") if shuffle is None else shuffle,
                           seed=seed, drop_last=drop_last, rank=rank, world_size=world_size)


def _class_baseline(train_labels: np.ndarray, test_labels: np.ndarray, num_classes: int) -> float:
    """Cross-entropy on the test labels of predicting the training class frequencies."""
    p = np.bincount(train_labels.ravel(), minlength=num_classes) / train_labels.size
    counts = np.bincount(test_labels.ravel(), minlength=num_classes)
    with np.errstate(divide="ignore"):
        logp = np.where(counts > 0, np.log(p), 0.0)
    return float(-(counts * logp).sum() / counts.sum())


def _generated_val(name: str, make, n_val, seq_len: int, seed, **options):
    """The validation set of a generated task: ``make(n_val, seq_len, seed)``, or None for ``n_val`` 0."""
    if not isinstance(n_val, (int, np.integer)) or isinstance(n_val, bool) or n_val < 0:
        raise ValueError(f"load_task({name!r}): n_val must be an integer >= 0 (validation sequences; 0 for none), "
                         f"got {n_val!r}")
    return make(n_val, seq_len, seed, **options) if n_val else None


def _adding(data_dir, *, seq_len: int = 100, n_train: int = 20_000, n_test: int = 2_000, n_val: int = 2_000,
            seed: int = 0, target: str = "sum") -> Task:
    train = adding_dataset(n_train, seq_len, [seed, 0], target=target)
    test = adding_dataset(n_test, seq_len, [seed, 1], target=target)
    val = _generated_val("adding", adding_dataset, n_val, seq_len, [seed, 2], target=target)
    baseline = float(np.mean((test.targets - train.targets.mean()) ** 2))
    return Task("adding", train, test, val=val, input_size=2, output_size=1, input_kind="float", target="last",
                loss="mse", metric="mse", seq_len=seq_len, num_classes=None, baseline_loss=baseline,
                info={"target": target, "val_size": n_val})


def _copying(data_dir, *, seq_len: int = 100, n_train: int = 20_000, n_test: int = 2_000, n_val: int = 2_000,
             seed: int = 0) -> Task:
    train = copying_dataset(n_train, seq_len, [seed, 0])
    test = copying_dataset(n_test, seq_len, [seed, 1])
    val = _generated_val("copying", copying_dataset, n_val, seq_len, [seed, 2])
    return Task("copying", train, test, val=val, input_size=NUM_INPUT_SYMBOLS, output_size=NUM_OUTPUT_CLASSES,
                input_kind="float", target="every_step", loss="cross_entropy", metric="accuracy",
                seq_len=train.seq_len, num_classes=NUM_OUTPUT_CLASSES, baseline_loss=copying_baseline(seq_len),
                info={"blanks": seq_len, "val_size": n_val})


def _classification(name: str, full_train: SequenceDataset, test: SequenceDataset, val_size: int, seed: int,
                    num_classes: int, info: dict) -> Task:
    """A task classifying from the last step, its validation split held out of ``full_train``."""
    train, val = hold_out(full_train, val_size, seed, owner=f"load_task({name!r})")
    return Task(name, train, test, val=val, input_size=train.input_size, output_size=num_classes,
                input_kind="float", target="last", loss="cross_entropy", metric="accuracy", seq_len=train.seq_len,
                num_classes=num_classes, baseline_loss=_class_baseline(train.targets, test.targets, num_classes),
                info={**info, "val_size": val_size})


def _mnist(variant: str, name: str):
    def make(data_dir, *, download: bool = True, val_size: int = 5_000, seed: int = 0,
             pixels: str = "standardized") -> Task:
        train, test, info = mnist_datasets(variant, data_dir, download=download, pixels=pixels)
        return _classification(name, train, test, val_size, seed, 10, info)
    return make


def _mnist_permuted(data_dir, *, download: bool = True, val_size: int = 5_000, seed: int = 0,
                    permutation_seed: int = 0, pixels: str = "standardized") -> Task:
    train, test, info = mnist_datasets("permuted", data_dir, download=download, permutation_seed=permutation_seed,
                                       pixels=pixels)
    return _classification("mnist-permuted", train, test, val_size, seed, 10, info)


def _har(name: str, default_noise: float):
    def make(data_dir, *, merge: dict | None = None, noise_variance: float = default_noise,
             val_size: int | None = None, seed: int = 0) -> Task:
        train, test, info = har_datasets(data_dir, merge=merge, noise_variance=noise_variance, seed=seed)
        size = len(train) // 10 if val_size is None else val_size
        return _classification(name, train, test, size, seed, info["num_classes"],
                               {**info, "noise_variance": noise_variance})
    return make


def _ptb(data_dir, *, download: bool = True) -> Task:
    corpus = load_ptb(data_dir, download=download)
    v = len(corpus.vocab)
    return Task("ptb", corpus.train, corpus.test, val=corpus.valid, input_size=v, output_size=v,
                input_kind="tokens", target="next_token", loss="cross_entropy", metric="perplexity",
                seq_len=None, num_classes=v, baseline_loss=_class_baseline(corpus.train, corpus.test, v),
                info={"vocab": corpus.vocab, "val_size": len(corpus.valid)})


def _prefix(name: str, option: str, tokens: np.ndarray, n) -> np.ndarray | None:
    """The first ``n`` tokens of a split (None: all of it; 0: no split, for the validation split only)."""
    if n is None:
        return tokens
    low = 0 if option == "n_val" else 2
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < low:
        raise ValueError(f"load_task({name!r}): {option} must be None (the whole file) or an integer >= {low} "
                         f"(characters from the file's start{'; 0 for none' if low == 0 else ''}), got {n!r}")
    return tokens[:n] if n else None


def _ptb_char(data_dir, *, download: bool = True, n_train: int | None = None, n_val: int | None = None,
              n_test: int | None = None) -> Task:
    corpus = load_ptb_chars(data_dir, download=download)
    v = len(corpus.alphabet)
    train = _prefix("ptb-char", "n_train", corpus.train, n_train)
    test = _prefix("ptb-char", "n_test", corpus.test, n_test)
    val = _prefix("ptb-char", "n_val", corpus.valid, n_val)
    return Task("ptb-char", train, test, val=val, input_size=v, output_size=v, input_kind="tokens",
                target="next_token", loss="cross_entropy", metric="perplexity", seq_len=None, num_classes=v,
                baseline_loss=_class_baseline(train, test, v), alphabet=corpus.alphabet,
                info={"val_size": 0 if val is None else len(val)})


TASKS: dict = {
    "adding": _adding,
    "copying": _copying,
    "mnist-row": _mnist("row", "mnist-row"),
    "mnist-pixel": _mnist("pixel", "mnist-pixel"),
    "mnist-permuted": _mnist_permuted,
    "har2": _har("har2", 0.0),
    "har2-noisy": _har("har2-noisy", 2.0),
    "ptb": _ptb,
    "ptb-char": _ptb_char,
}
"""Task name -> factory ``make(data_dir, *, option=default, ...) -> Task``, the names :func:`load_task` knows:
the papers' tasks, then those registered with :func:`register_task` (a ``--plugins`` module's)."""


STREAM_TASKS = ("ptb", "ptb-char")
"""The tasks served as one token stream in TBPTT chunks (``input_kind`` ``"tokens"``), named before loading
them (the memory estimate reads it)."""
TEXT_TASKS = ("ptb-char",)
"""The tasks whose tokens are a text's characters (their :class:`Task` has an ``alphabet``): ``rnnlab train``
samples text from the model at each validation of these (settings ``sample_chars``, ``temperature``)."""


def register_task(name: str):
    """Function decorator: make the task factory available as ``--task name`` and ``load_task(name)``.

    The factory is called as ``make(data_dir, **options)``; its keyword-only parameters are the options the
    training program may pass (``seq_len``, ``n_train``, ``n_test``, ``n_val`` or ``val_size``, ``seed``:
    see :func:`task_options`), with their defaults::

        @register_task("parity")
        def parity(data_dir, *, seq_len: int = 20, n_train: int = 2000, n_test: int = 500, seed: int = 0) -> Task:
            ...
    """
    def register(make):
        old = TASKS.get(name)
        redefined = old is not None and (old.__module__, old.__qualname__) == (make.__module__, make.__qualname__)
        if old is not None and old is not make and not redefined:     # a notebook cell run again redefines it
            raise DatasetOptionError(f"register_task: {name!r} is already the name of "
                                     f"{old.__module__}.{old.__qualname__}")
        TASKS[name] = make
        return make
    return register


def task_options(name: str) -> dict:
    """The options task ``name`` accepts, with their defaults."""
    params = inspect.signature(TASKS[name]).parameters
    return {p.name: p.default for p in params.values() if p.kind is p.KEYWORD_ONLY}


def load_task(name: str, data_dir=None, **options) -> Task:
    """The task ``name`` (one of :data:`TASKS`) with its train, val and test data, see :class:`Task`.

    ``data_dir``: the data directory (see :func:`rnnlab.datasets.data_root`; unused by the generated tasks).
    ``options`` per task (defaults from :func:`task_options`):

    * adding: seq_len, n_train, n_test, n_val (2,000), seed (train, test and val are drawn from the seeds
      [seed, 0], [seed, 1], [seed, 2]), target (``sum`` or ``range_sum``);
    * copying: seq_len (T blanks), n_train, n_test, n_val (2,000), seed (as for adding);
    * mnist-row, mnist-pixel, mnist-permuted: download, val_size (5,000 training images held out), seed (of
      the hold-out), pixels (``standardized`` or ``raw`` [0, 1], see :mod:`rnnlab.datasets.mnist`);
      mnist-permuted also permutation_seed;
    * har2, har2-noisy: merge, noise_variance (0 and 2), val_size (None: a tenth of the training windows,
      rounded down), seed (of the noise and of the hold-out);
    * ptb: download (val is ``ptb.valid.txt``);
    * ptb-char: download, n_train, n_val, n_test (None: the whole file; a number: that many characters from
      the file's start; n_val 0: no validation split). The same files as ptb, read as characters
      (:mod:`rnnlab.datasets.ptb_chars`).

    ``val_size`` / ``n_val`` 0: no validation split. Normalization statistics (MNIST, HAR) come from the whole
    training file, hold-out included; ``baseline_loss`` from the training split. Unknown names and options
    raise ``ValueError``.
    """
    if name not in TASKS:
        raise ValueError(f"load_task: unknown task {name!r}; expected one of {', '.join(TASKS)}")
    allowed = task_options(name)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValueError(f"load_task: unknown option(s) {', '.join(map(repr, unknown))} for task {name!r}; "
                         f"it accepts {', '.join(allowed) or 'none'}")
    return TASKS[name](data_dir, **options)
