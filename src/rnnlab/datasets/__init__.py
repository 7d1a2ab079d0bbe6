"""Data sets of the papers' tasks, their files on disk, and loaders that serve time-major batches on a device.

    from rnnlab.datasets import load_task
    task = load_task("mnist-row", data_dir="~/data")         # or "adding", "copying", "ptb", "ptb-char", ...
    for x, y in task.loader("train", batch_size=128, seed=0):  # x (28, 128, 28), y (128,) int64
        ...

Every task has the splits ``train``, ``val`` and ``test`` (:data:`SPLITS`; ``val`` may be switched off
with the option ``val_size`` or ``n_val`` = 0). Generated tasks (``adding``, ``copying``) need no files. The
others read their canonical files from ``<data dir>/{mnist,ptb,har}/`` (see :func:`data_root`), downloading
MNIST and PTB when they are missing and the data directory exists (:func:`download_dataset` creates it).
"""
from .adding import ADDING_BASELINE_MSE, ADDING_TARGETS, adding_dataset, adding_task
from .cache import ENV_VAR, check_finite, data_root, data_root_source, dataset_dir, download_file
from .copying import copying_baseline, copying_dataset, copying_task
from .download import DOWNLOADABLE, download_dataset
from .errors import ChecksumError, DataFormatError, DatasetError, DatasetOptionError, DownloadError, MissingDataError
from .har import FASTGRNN_MERGE, HAR, HAR_ACTIVITIES, HAR_SIGNALS, har_datasets, load_har
from .loader import BatchLoader, TokenStreamLoader, to_device
from .mnist import MNIST, MNIST_MD5, MNIST_URLS, load_mnist, mnist_datasets, read_idx
from .ptb import PTB_MD5, PTB_URLS, PTBCorpus, batchify, load_ptb, perplexity
from .ptb_chars import CharCorpus, decode_text, encode_text, load_ptb_chars, unigram_entropy
from .sequence import SequenceDataset, one_hot
from .split import hold_out, holdout_indices
from .tasks import SPLITS, TASKS, TEXT_TASKS, Task, load_task, register_task, task_options

__all__ = [
    "load_task", "task_options", "register_task", "Task", "TASKS", "TEXT_TASKS", "SPLITS", "SequenceDataset",
    "one_hot", "BatchLoader",
    "TokenStreamLoader", "to_device", "hold_out", "holdout_indices",
    "adding_task", "adding_dataset", "ADDING_TARGETS", "ADDING_BASELINE_MSE",
    "copying_task", "copying_dataset", "copying_baseline",
    "MNIST", "MNIST_MD5", "MNIST_URLS", "load_mnist", "mnist_datasets", "read_idx",
    "HAR", "HAR_ACTIVITIES", "HAR_SIGNALS", "FASTGRNN_MERGE", "load_har", "har_datasets",
    "PTBCorpus", "PTB_MD5", "PTB_URLS", "load_ptb", "batchify", "perplexity",
    "CharCorpus", "load_ptb_chars", "encode_text", "decode_text", "unigram_entropy",
    "ENV_VAR", "data_root", "data_root_source", "dataset_dir", "download_file", "download_dataset", "DOWNLOADABLE",
    "check_finite",
    "DatasetError", "DatasetOptionError", "MissingDataError", "ChecksumError", "DataFormatError", "DownloadError",
]
