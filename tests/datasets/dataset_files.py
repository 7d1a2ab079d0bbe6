"""Helpers of the data-set tests: the shared real data, files written in the canonical layouts, a local HTTP server."""
from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import http.server
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from rnnlab.datasets.cache import ENV_VAR
from rnnlab.datasets.har import HAR_SIGNALS

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def real_data_roots() -> list[Path]:
    """Where the real data sets are looked for, in order: ``$RNNLAB_DATA`` (when set), then ``../shared/data``
    beside the clone."""
    env = os.environ.get(ENV_VAR, "")
    return [Path(env).expanduser()] * bool(env) + [SHARED_DATA]


def real_folder(name: str, files: list[str]) -> Path | None:
    """``ROOT/name`` for the first of :func:`real_data_roots` that holds all ``files``, else None."""
    return next((root / name for root in real_data_roots() if all((root / name / f).is_file() for f in files)), None)


def shared_folder(name: str, files: list[str]) -> Path:
    """``ROOT/name`` for the first of :func:`real_data_roots` that holds all ``files``, else skip the test
    with the reason."""
    folder = real_folder(name, files)
    if folder is not None:
        return folder
    pytest.skip(missing_reason(name, files))


def missing_reason(name: str, files: list[str]) -> str:
    """Why a test that needs the real data set ``name`` does not run: the files and every place looked in."""
    places = " or ".join(str(root / name) for root in real_data_roots())
    return f"real {name} data not present: {', '.join(files)} not all in {places} (set ${ENV_VAR})"


def idx_bytes(array: np.ndarray) -> bytes:
    """``array`` (uint8) in the IDX format: magic 0 0 0x08 rank, big-endian dimensions, the bytes."""
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_mnist(folder: Path, n_train: int = 30, n_test: int = 12, seed: int = 0, gz: bool = True) -> dict:
    """A small MNIST in the canonical file names under ``folder``; returns name -> MD5 of the IDX bytes.

    Test images are brighter than training images, so normalization statistics tell the splits apart.
    """
    rng = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 200, size=(n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(50, 256, size=(n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8)[::-1].copy(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    md5 = {}
    for name, array in arrays.items():
        data = idx_bytes(array)
        md5[name] = hashlib.md5(data).hexdigest()
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return md5


def write_har(folder: Path, n_train: int = 24, n_test: int = 12, seed: int = 0) -> dict:
    """A small UCI HAR data set in the real layout under ``folder`` (the ``har/`` folder).

    Returns the arrays written: ``{split: (signals (N, 128, 9), labels (N,))}``; labels cycle through 1..6.
    """
    rng = np.random.default_rng(seed)
    written = {}
    for split, n in (("train", n_train), ("test", n_test)):
        base = folder / "UCI HAR Dataset" / split
        (base / "Inertial Signals").mkdir(parents=True, exist_ok=True)
        labels = np.arange(n) % 6 + 1
        (base / f"y_{split}.txt").write_text("".join(f"{v}\n" for v in labels))
        scale = np.arange(1, 10, dtype=np.float64)
        signals = (rng.normal(size=(n, 128, 9)) * scale + scale).astype(np.float32)
        for c, name in enumerate(HAR_SIGNALS):
            rows = ["  " + " ".join(f"{v:.7e}" for v in row) for row in signals[:, :, c]]
            (base / "Inertial Signals" / f"{name}_{split}.txt").write_text("\n".join(rows) + "\n")
        written[split] = (signals, labels)
    return written


def write_ptb(folder: Path) -> dict:
    """A tiny PTB-like corpus in the canonical file names; returns name -> MD5."""
    texts = {
        "ptb.train.txt": " the cat sat \n the dog <unk> ran \n a cat \n",
        "ptb.valid.txt": " the bird sat \n",
        "ptb.test.txt": " a dog \n the cat ran \n",
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (folder / name).write_text(text)
    return {name: hashlib.md5(text.encode()).hexdigest() for name, text in texts.items()}


SUBJECTS = ("the company", "mr. <unk>", "the board", "analysts", "the market", "the dollar", "its shares")
VERBS = ("said", "rose", "fell", "will buy", "expects", "reported", "sold")
OBJECTS = ("N N", "the shares", "a loss of $ N million", "<unk> inc.", "the stock", "its profit", "N years ago")


def write_ptb_sentences(folder: Path, lines: tuple[int, int, int] = (300, 40, 40), seed: int = 0) -> dict:
    """A small corpus in PTB's layout and style (lower case, ``N`` for numbers, ``<unk>``, a space before and
    after each line), of sentences drawn from a three-slot grammar, so that a character model soon beats the
    unigram entropy; ``lines`` of train, valid, test. Returns name -> MD5."""
    rng = np.random.default_rng(seed)
    md5 = {}
    folder.mkdir(parents=True, exist_ok=True)
    for name, n in zip(("ptb.train.txt", "ptb.valid.txt", "ptb.test.txt"), lines):
        text = "".join(f" {rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} \n" for _ in range(n))
        (folder / name).write_text(text)
        md5[name] = hashlib.md5(text.encode()).hexdigest()
    return md5


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve_directory(directory: Path):
    """Serve ``directory`` over HTTP on 127.0.0.1 (a free port) in a thread; yields the base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.timeout = 5
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
