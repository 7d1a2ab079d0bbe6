"""HAR-2 and Noisy-HAR-2 from the UCI "Human Activity Recognition Using Smartphones" raw inertial signals.

Layout read (the official zip, unpacked into ``<data dir>/har/``)::

    har/UCI HAR Dataset/{train,test}/y_{split}.txt                       labels 1..6, one per line
    har/UCI HAR Dataset/{train,test}/Inertial Signals/{signal}_{split}.txt 128 floats per line

with the nine signals :data:`HAR_SIGNALS` (7,352 train / 2,947 test windows in the real data). Each window is a
sequence of 128 steps of 9 channels, normalized per channel with the mean and standard deviation of the
training windows (over all windows and steps).

The six activities (:data:`HAR_ACTIVITIES`, labels 1..6) are merged into two classes by a mapping, a
parameter; the default :data:`FASTGRNN_MERGE` is the merge reported for FastGRNN: class 1 = {SITTING,
LAYING, WALKING_UPSTAIRS}, class 0 = {STANDING, WALKING, WALKING_DOWNSTAIRS}.

Noisy-HAR-2 adds Gaussian noise of mean 0 and variance ``noise_variance`` (2 in the papers, std sqrt(2)) to
the normalized inputs of both splits, drawn once from a seed (train and test from independent streams).

No checksum of the UCI zip is known here, so this loader does not download: get the zip from
:data:`HAR_URL` and unpack it into ``<data dir>/har/``.
"""
from __future__ import annotations

import math
from numbers import Real
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .cache import check_finite, existing_dataset_dir, missing_files_error
from .errors import DataFormatError, DatasetError, DatasetOptionError
from .sequence import SequenceDataset

__all__ = ["HAR", "HAR_SIGNALS", "HAR_ACTIVITIES", "HAR_STEPS", "HAR_FOLDER", "HAR_URL", "FASTGRNN_MERGE",
           "har_files", "load_har", "har_datasets"]

HAR_SIGNALS = ("body_acc_x", "body_acc_y", "body_acc_z", "body_gyro_x", "body_gyro_y", "body_gyro_z",
               "total_acc_x", "total_acc_y", "total_acc_z")
HAR_ACTIVITIES = ("WALKING", "WALKING_UPSTAIRS", "WALKING_DOWNSTAIRS", "SITTING", "STANDING", "LAYING")
"""Activity names of labels 1..6, in order."""
HAR_STEPS = 128
HAR_FOLDER = "UCI HAR Dataset"
HAR_URL = "https://archive.ics.uci.edu/dataset/240/human+activity+recognition+using+smartphones"
FASTGRNN_MERGE = {"WALKING": 0, "WALKING_UPSTAIRS": 1, "WALKING_DOWNSTAIRS": 0,
                  "SITTING": 1, "STANDING": 0, "LAYING": 1}
"""The FastGRNN HAR-2 merge: activity name -> class."""


class HAR(NamedTuple):
    """The raw windows: signals (N, 128, 9) float32 in :data:`HAR_SIGNALS` order, labels (N,) int64 in 1..6."""
    train_signals: np.ndarray
    train_labels: np.ndarray
    test_signals: np.ndarray
    test_labels: np.ndarray


def har_files(split: str) -> list[str]:
    """The files of ``split`` (train or test), relative to ``har/``: the labels, then the nine signals."""
    base = f"{HAR_FOLDER}/{split}"
    return [f"{base}/y_{split}.txt"] + [f"{base}/Inertial Signals/{s}_{split}.txt" for s in HAR_SIGNALS]


def _read_table(path: Path, dtype) -> np.ndarray:
    try:
        table = np.loadtxt(path, dtype=dtype, ndmin=2)
    except ValueError as exc:
        raise DataFormatError(f"load_har: {path} cannot be parsed as whitespace-separated numbers ({exc})") from exc
    except OSError as exc:
        raise DatasetError(f"load_har: cannot read {path} ({exc.strerror or exc})") from exc
    check_finite(table, path, loader="load_har")
    return table


def _read_split(folder: Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    labels_file, *signal_files = (folder / f for f in har_files(split))
    labels = _read_table(labels_file, np.float64)
    if labels.shape[1] != 1 or np.any(labels != np.round(labels)) or labels.min() < 1 or labels.max() > 6:
        raise DataFormatError(f"load_har: {labels_file} must hold one integer label in 1..6 per line, got "
                              f"{labels.shape[1]} column(s), values {labels.min():g}..{labels.max():g}")
    labels = labels[:, 0].astype(np.int64)
    channels = []
    for path in signal_files:
        table = _read_table(path, np.float32)
        if table.shape != (len(labels), HAR_STEPS):
            raise DataFormatError(f"load_har: {path} holds {table.shape[0]} rows of {table.shape[1]} values, "
                                  f"expected {len(labels)} rows (one per line of {labels_file.name}) of "
                                  f"{HAR_STEPS} values")
        channels.append(table)
    return np.stack(channels, axis=-1), labels


def load_har(data_dir=None) -> HAR:
    """The raw UCI HAR windows from ``<data dir>/har/UCI HAR Dataset/`` (see :func:`rnnlab.datasets.data_root`).

    Returns :class:`HAR`. Raises :class:`MissingDataError` listing the absent files and where they go, and
    :class:`DataFormatError` naming a file that cannot be parsed, has the wrong shape, or holds a NaN or an
    infinity (also naming its row: a value beyond float32's range reads as infinite).
    """
    folder = existing_dataset_dir("har", data_dir, loader="load_har")
    missing = [f for split in ("train", "test") for f in har_files(split) if not (folder / f).is_file()]
    if missing:
        shown = missing if len(missing) <= 4 else missing[:3] + [f"and {len(missing) - 3} more"]
        raise missing_files_error("load_har", folder, shown, data_dir=data_dir,
                                  instructions=f"download the UCI HAR zip from {HAR_URL} and unzip it in {folder} "
                                               f"so that {folder / HAR_FOLDER}/train and /test exist (it is not "
                                               "downloaded automatically: no checksum of it is known here)")
    return HAR(*_read_split(folder, "train"), *_read_split(folder, "test"))


def _class_of_label(merge: dict) -> np.ndarray:
    """Validate ``merge`` (activity name or label 1..6 -> class) and return class per label, (7,) int64."""
    table = np.full(7, -1, dtype=np.int64)
    for key, cls in merge.items():
        label = HAR_ACTIVITIES.index(key) + 1 if key in HAR_ACTIVITIES else key
        if not isinstance(label, (int, np.integer)) or isinstance(label, bool) or not 1 <= label <= 6:
            raise DatasetOptionError(f"har_datasets: merge keys must be activity names {', '.join(HAR_ACTIVITIES)} or "
                             f"labels 1..6, got {key!r}")
        if not isinstance(cls, (int, np.integer)) or isinstance(cls, bool) or cls < 0:
            raise DatasetOptionError(f"har_datasets: merge maps {key!r} to {cls!r}, expected a class index >= 0")
        table[label] = cls
    unmapped = [HAR_ACTIVITIES[i - 1] for i in range(1, 7) if table[i] < 0]
    if unmapped:
        raise DatasetOptionError(f"har_datasets: merge must map all six activities, missing {', '.join(unmapped)}")
    classes = sorted(set(table[1:].tolist()))
    if classes != list(range(len(classes))) or len(classes) < 2:
        raise DatasetOptionError(f"har_datasets: merge must use the classes 0..C-1 (C >= 2) each at least once, got "
                         f"{classes}")
    return table


def har_datasets(data_dir=None, *, merge: dict | None = None, noise_variance: float = 0.0, seed: int = 0,
                 har: HAR | None = None) -> tuple[SequenceDataset, SequenceDataset, dict]:
    """Train and test :class:`SequenceDataset` for HAR-2 (``noise_variance=0``) or Noisy-HAR-2 (2.0).

    Batches: inputs (128, B, 9) float32, normalized per channel with training statistics, plus noise
    N(0, noise_variance) drawn once from ``seed``; targets (B,) int64 classes from ``merge`` (activity name
    or label 1..6 -> class; default :data:`FASTGRNN_MERGE`). ``har``: raw windows already loaded (else
    :func:`load_har`). Also returns ``{"mean" (9,), "std" (9,), "merge", "num_classes"}``.
    """
    merge = dict(FASTGRNN_MERGE if merge is None else merge)
    table = _class_of_label(merge)
    if not isinstance(noise_variance, Real) or isinstance(noise_variance, bool) or not (
            noise_variance >= 0 and math.isfinite(noise_variance)):
        raise DatasetOptionError(f"har_datasets: noise_variance must be a finite number >= 0, got {noise_variance!r}")
    raw = har if har is not None else load_har(data_dir)
    mean = raw.train_signals.mean(axis=(0, 1), dtype=np.float64)
    std = raw.train_signals.std(axis=(0, 1), dtype=np.float64)
    if np.any(std == 0):
        flat = [HAR_SIGNALS[i] for i in np.flatnonzero(std == 0)]
        raise DataFormatError(f"har_datasets: training channel(s) {', '.join(flat)} are constant, cannot normalize")
    streams = np.random.SeedSequence(seed).spawn(2)
    splits = []
    for signals, labels, stream in ((raw.train_signals, raw.train_labels, streams[0]),
                                    (raw.test_signals, raw.test_labels, streams[1])):
        x = (signals - mean) / std
        if noise_variance > 0:
            x = x + np.random.default_rng(stream).normal(0.0, np.sqrt(noise_variance), size=x.shape)
        splits.append(SequenceDataset(x.astype(np.float32), table[labels]))
    info = {"mean": mean, "std": std, "merge": merge, "num_classes": int(table.max()) + 1}
    return splits[0], splits[1], info
