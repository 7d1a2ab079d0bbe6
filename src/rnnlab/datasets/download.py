"""The explicit download: fetch a data set's canonical files into a data directory, creating it.

    python -m rnnlab.datasets download mnist --data-dir ~/data     # or ptb; without --data-dir: the
                                                                  # default data directory (see data_root)

or ``download_dataset("mnist", "~/data")`` from Python. Files already there are checked, not fetched again.
HAR is not downloadable (no checksum of its zip is known); this says where to get it.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .cache import data_root, data_root_source, existing_dataset_dir
from .errors import DatasetError, DownloadError
from .har import HAR_URL
from .mnist import load_mnist
from .ptb import load_ptb

__all__ = ["DOWNLOADABLE", "download_dataset", "main"]

DOWNLOADABLE = {"mnist": load_mnist, "ptb": load_ptb}
"""The data sets this module downloads, with the loader that fetches and checks their files."""


def download_dataset(name: str, data_dir=None, **options) -> Path:
    """Download data set ``name`` (``mnist`` or ``ptb``) into ``<data dir>/<name>/``, creating the folders,
    check every file, and return that folder. ``options`` go to the loader (``base_urls``, ``checksums``).
    Raises :class:`DatasetError` (one line) when it fails."""
    if name not in DOWNLOADABLE:
        extra = (f"; get the UCI HAR zip from {HAR_URL} and unzip it in {data_root(data_dir) / 'har'}"
                 if name == "har" else "")
        raise DatasetError(f"download_dataset: cannot download {name!r}; downloadable: "
                           f"{', '.join(DOWNLOADABLE)}{extra}")
    folder = existing_dataset_dir(name, data_dir, loader="download_dataset")
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"download_dataset: cannot create the data directory {folder.parent} (from "
                            f"{data_root_source(data_dir)}): {exc.strerror or exc}") from exc
    DOWNLOADABLE[name](data_dir, download=True, **options)
    return folder


def main(argv=None) -> int:
    """``python -m rnnlab.datasets download NAME [--data-dir DIR]``: 0 on success, 1 with a one-line error."""
    parser = argparse.ArgumentParser(prog="python -m rnnlab.datasets", description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["download"])
    parser.add_argument("name", choices=sorted(DOWNLOADABLE), help="the data set")
    parser.add_argument("--data-dir", default=None, help="data directory (default: $RNNLAB_DATA, else "
                                                           "~/.cache/rnnlab)")
    args = parser.parse_args(argv)
    try:
        folder = download_dataset(args.name, args.data_dir)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{args.name}: all files present and checked in {folder}")
    return 0
