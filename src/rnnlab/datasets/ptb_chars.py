"""Penn Treebank as characters: the word-level files of :mod:`rnnlab.datasets.ptb`, read one character a token.

Each line of ``ptb.train.txt``, ``ptb.valid.txt``, ``ptb.test.txt`` becomes its words joined by single
spaces, followed by a line end ``"\\n"`` (the end of a sentence, as ``<eos>`` is for words); the files'
leading and trailing spaces are dropped. ``<unk>`` stays five characters: the word-level preprocessing
already replaced rare words by it (and numbers by ``N``), and a character model learns to write it too.

The alphabet is the training split's characters in code-point order (50 for the canonical files: the line
end, space, a-z, ``N``, the ten digits, ``<unk>``'s brackets and ``#$&'*-./\\``); token id i is
``alphabet[i]``. A character of the validation or test split that the training split lacks is an error
naming the file, line and character. The canonical files give 5,017,482 / 393,042 / 442,423 characters,
and the training characters' frequencies an entropy of 4.334 bits per character.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .errors import DataFormatError
from .ptb import PTB_FILES, PTB_MD5, PTB_URLS, read_ptb_texts

__all__ = ["CharCorpus", "LINE_END", "load_ptb_chars", "encode_text", "decode_text", "unigram_entropy"]

LINE_END = "\n"
"""The character that ends every sentence; sampled text starts after one (the start of a sentence)."""


class CharCorpus(NamedTuple):
    """Character ids of the three splits, (L,) int64 each, and the alphabet (id i is ``alphabet[i]``)."""
    alphabet: str
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray


def _sentences(text: str) -> str:
    """The file's lines as ``"word word ... word\\n"`` each (whitespace runs become one space)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return "".join(" ".join(line.split()) + LINE_END for line in lines)


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def encode_text(text: str, alphabet: str, *, where: str = "encode_text") -> np.ndarray:
    """``text`` as ids into ``alphabet`` (sorted by code point, as :func:`load_ptb_chars` makes it): (L,) int64.

    A character the alphabet lacks raises :class:`DataFormatError` naming ``where``, its line and the character.
    """
    codes, known = _code_points(text), _code_points(alphabet)
    if len(known) == 0:
        raise DataFormatError(f"{where}: the alphabet is empty")
    ids = np.minimum(np.searchsorted(known, codes), len(known) - 1)
    bad = np.flatnonzero(known[ids] != codes)
    if bad.size:
        i = int(bad[0])
        line = text.count("\n", 0, i) + 1
        raise DataFormatError(f"{where} line {line} has the character {text[i]!r}, which is not in the training "
                              f"alphabet {alphabet!r}")
    return ids.astype(np.int64)


def decode_text(ids, alphabet: str) -> str:
    """The text of character ids (any iterable of ints in [0, len(alphabet)))."""
    return "".join(alphabet[int(i)] for i in ids)


def unigram_entropy(ids: np.ndarray, size: int) -> float:
    """H = -sum_c p_c log2 p_c in bits per character, p_c the frequency of character c in ``ids``: the loss of
    the best prediction that ignores the text before (in nats: H ln 2)."""
    p = np.bincount(np.asarray(ids).ravel(), minlength=size) / np.asarray(ids).size
    p = p[p > 0]
    return float(-(p * np.log2(p)).sum())


def load_ptb_chars(data_dir=None, *, download: bool = True, checksums: dict | None = PTB_MD5,
                   base_urls: tuple[str, ...] = PTB_URLS) -> CharCorpus:
    """The character corpus from ``<data dir>/ptb/``: the same three files as :func:`rnnlab.datasets.load_ptb`
    (downloaded when missing and the data directory exists, checked against ``checksums``). Returns
    :class:`CharCorpus` (its ``valid`` split is the ``val`` of the ``ptb-char`` task)."""
    texts = read_ptb_texts(data_dir, download=download, checksums=checksums, base_urls=base_urls,
                           loader="load_ptb_chars")
    sentences = {split: _sentences(text) for split, (_, text) in texts.items()}
    alphabet = "".join(sorted(set(sentences["train"])))
    ids = {split: encode_text(sentences[split], alphabet, where=f"load_ptb_chars: {texts[split][0]}")
           for split in PTB_FILES}
    return CharCorpus(alphabet, ids["train"], ids["valid"], ids["test"])
