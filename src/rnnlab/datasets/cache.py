"""Where data sets live on disk, how their files are read and checked, and how they are downloaded.

The data directory is, in order: the ``data_dir`` argument (the CLI's ``--data-dir``), else the environment
variable ``RNNLAB_DATA``, else a per-user cache, ``$XDG_CACHE_HOME/rnnlab`` (``~/.cache/rnnlab`` when
``XDG_CACHE_HOME`` is unset). It holds one folder per data set: ``mnist/``, ``ptb/``, ``har/``.

Reading never creates a folder. A download writes into the data directory only when it exists already (or is
the per-user cache, which is created): a mistyped ``--data-dir`` or ``RNNLAB_DATA`` gives a
:class:`MissingDataError` naming it, not a new tree. :func:`rnnlab.datasets.download_dataset` (or
``python -m rnnlab.datasets download NAME --data-dir DIR``) is the explicit download that creates it.

Downloads go to a temporary file in the target folder, are checked against a known MD5, and only then
renamed into place (``os.replace``, atomic on one file system): an interrupted or wrong download leaves no file
behind that a later run could mistake for good data, and a failed one removes the folder it created. A body
shorter than the server's ``Content-Length`` is a failed download too (``http.client`` ends it quietly).

Why this is not done with ``pooch``: pooch would keep neither the behaviour nor the messages. It checks the
hash of the bytes it downloaded, while MNIST's known MD5s are those of the decompressed files (so that any
mirror's ``.gz``, whose gzip header may differ, and an uncompressed copy without ``.gz`` are accepted); it
re-downloads and silently replaces a file that is present with a wrong hash, where rnnlab leaves the user's
file alone and says which file is damaged (offline: that message, not a connection error); it creates the
storage folder, where a mistyped data directory must stay uncreated; it takes one URL per file, where rnnlab
tries mirrors in order and reports each failure; and its errors (requests' exceptions, a ``ValueError`` for a
hash mismatch) and log lines are its own. Wrapping all of that would keep little of pooch and add ``requests``
and ``platformdirs`` as dependencies; what it would bring beyond this module, retrying one URL after a pause,
rnnlab gets from its second mirror.
"""
from __future__ import annotations

import gzip
import hashlib
import http.client
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from .errors import ChecksumError, DataFormatError, DatasetError, DownloadError, MissingDataError

__all__ = ["ENV_VAR", "DOWNLOAD_COMMAND", "data_root", "data_root_source", "dataset_dir", "existing_dataset_dir",
           "read_bytes", "md5_hex", "check_md5", "check_finite", "download_file", "content_length",
           "fetch_from_mirrors", "fetch_missing", "missing_files_error"]

ENV_VAR = "RNNLAB_DATA"
DOWNLOAD_COMMAND = "python -m rnnlab.datasets download {name} --data-dir {root}"
"""The shell command that downloads data set ``name`` into data directory ``root`` (shown in errors)."""
_CHUNK = 1 << 20
_CACHE_SOURCE = "the per-user cache"


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The data directory: ``data_dir`` if given, else ``$RNNLAB_DATA``, else ``$XDG_CACHE_HOME/rnnlab``
    (``~/.cache/rnnlab``). The folder need not exist yet."""
    if data_dir is not None and str(data_dir) != "":
        return Path(data_dir).expanduser()
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache).expanduser() / "rnnlab"


def data_root_source(data_dir: str | os.PathLike | None = None) -> str:
    """Where :func:`data_root` took the data directory from: ``the data_dir argument (--data-dir)``,
    ``$RNNLAB_DATA`` or ``the per-user cache``."""
    if data_dir is not None and str(data_dir) != "":
        return "the data_dir argument (--data-dir)"
    return f"${ENV_VAR}" if os.environ.get(ENV_VAR) else _CACHE_SOURCE


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of data set ``name`` (``mnist``, ``ptb``, ``har``) inside :func:`data_root` (not created)."""
    return data_root(data_dir) / name


def existing_dataset_dir(name: str, data_dir=None, *, loader: str) -> Path:
    """:func:`dataset_dir`, refused with a :class:`DatasetError` when it or the data directory is a file."""
    folder = dataset_dir(name, data_dir)
    for path in (folder.parent, folder):
        if path.exists() and not path.is_dir():
            what = f"the data directory {folder.parent}" if path == folder.parent else str(folder)
            raise DatasetError(f"{loader}: {what} is a file, expected a folder (the data directory came from "
                               f"{data_root_source(data_dir)})")
    return folder


def read_bytes(path: Path, *, loader: str, gunzip: bool | None = None) -> bytes:
    """The contents of ``path``, decompressed when it is gzip (``gunzip=None``: when the name ends ``.gz``).

    Raises :class:`DataFormatError` naming the file when the gzip stream is damaged or cut short, and
    :class:`DatasetError` when the file cannot be read (permissions, a folder in its place).
    """
    path = Path(path)
    if gunzip is None:
        gunzip = path.name.endswith(".gz")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DatasetError(f"{loader}: cannot read {path} ({exc.strerror or exc})") from exc
    if not gunzip:
        return data
    try:
        return gzip.decompress(data)
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise DataFormatError(f"{loader}: {path} is not a readable gzip file ({exc}); it is damaged or "
                              "truncated: delete it and download it again") from exc


def md5_hex(data: bytes) -> str:
    """The MD5 of ``data`` as 32 lowercase hex digits."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def check_md5(data: bytes, expected: str | None, path: Path, *, loader: str, what: str = "") -> None:
    """Raise :class:`ChecksumError` naming ``path`` when ``expected`` is given and the MD5 of ``data`` differs."""
    if expected is None:
        return
    got = md5_hex(data)
    if got != expected.lower():
        raise ChecksumError(f"{loader}: {path} has MD5 {got}{what}, expected {expected}: the file is damaged, "
                            "truncated or not the canonical version; delete it and download it again")


def check_finite(array: np.ndarray, path: Path, *, loader: str) -> None:
    """Raise :class:`DataFormatError` naming ``path`` and the first row (1-based, along axis 0) of float
    ``array`` that holds a NaN or an infinity."""
    rows = np.atleast_1d(array)
    if rows.dtype.kind != "f" or rows.size == 0:
        return
    finite = np.isfinite(rows.reshape(len(rows), -1)).all(axis=1)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        values = rows[row].ravel()
        value = values[~np.isfinite(values)][0]
        raise DataFormatError(f"{loader}: {path} row {row + 1} holds the non-finite value {value}; expected "
                              "finite numbers")


def download_file(url: str, dest: Path, *, expected_md5: str | None, gunzip_for_md5: bool = False,
                  loader: str = "download_file", timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically and return ``dest``.

    The bytes go to a temporary file beside ``dest``; its MD5 (of the decompressed contents when
    ``gunzip_for_md5``) must equal ``expected_md5`` (skipped when None); then it is renamed to ``dest``.
    On any failure, a connection cut midway (fewer bytes than the server announced) and an interrupt among
    them, the temporary file is removed and ``dest`` is left as it was. Raises :class:`DownloadError` for
    network and HTTP failures, :class:`ChecksumError` for a wrong file.
    """
    dest = Path(dest)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    except OSError as exc:
        raise DownloadError(f"{loader}: cannot write {dest} ({exc.strerror or exc})") from exc
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    size, got = content_length(response), 0
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
                        got += len(chunk)
            except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
                raise DownloadError(f"{loader}: downloading {url} failed ({exc})") from exc
            if size is not None and got != size:      # http.client ends a cut-off body quietly
                raise DownloadError(f"{loader}: downloading {url} failed (the connection closed after {got} of "
                                    f"{size} bytes)")
            out.flush()
            os.fsync(out.fileno())
        if expected_md5 is not None:
            data = read_bytes(tmp, loader=loader, gunzip=gunzip_for_md5)
            check_md5(data, expected_md5, tmp, loader=loader,
                      what=f" (downloaded from {url}{', decompressed' if gunzip_for_md5 else ''})")
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def content_length(response) -> int | None:
    """The byte count a response announces (``Content-Length``), or None when it gives none."""
    value = response.headers.get("Content-Length")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def fetch_from_mirrors(urls: list[str], dest: Path, *, expected_md5: str | None, gunzip_for_md5: bool = False,
                       loader: str) -> str:
    """Download ``dest`` from the first of ``urls`` that serves it with the right checksum.

    Returns "" on success, else the reasons the downloads failed (for :func:`missing_files_error`).
    A :class:`ChecksumError` is raised when no URL served the file and one served a wrong one.
    """
    failures = []
    bad_checksum = None
    for url in urls:
        try:
            download_file(url, dest, expected_md5=expected_md5, gunzip_for_md5=gunzip_for_md5, loader=loader)
            return ""
        except ChecksumError as exc:
            bad_checksum = bad_checksum or exc
        except (DownloadError, DataFormatError) as exc:
            failures.append(str(exc).removeprefix(f"{loader}: "))
    if bad_checksum is not None:
        raise bad_checksum
    return "; ".join(failures)


def fetch_missing(sources: dict[str, tuple[list[str], str | None]], folder: Path, data_dir, *,
                  gunzip_for_md5: bool, loader: str) -> str:
    """Download each file of ``sources`` (name -> (mirror URLs, MD5 or None)) into ``folder`` with
    :func:`fetch_from_mirrors`.

    Only into an existing data directory (or the per-user cache): returns why nothing was fetched, else the
    first failure, else "". A ``folder`` this call created and left empty is removed again.
    """
    root = folder.parent
    if not root.is_dir() and data_root_source(data_dir) != _CACHE_SOURCE:
        return "the data directory does not exist, so nothing was downloaded"
    created = not folder.exists()
    try:
        failures = [f for f in (fetch_from_mirrors(urls, folder / name, expected_md5=md5,
                                                   gunzip_for_md5=gunzip_for_md5, loader=loader)
                                for name, (urls, md5) in sources.items()) if f]
    finally:
        if created and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    return f"download failed: {failures[0]}" if failures else ""


def missing_files_error(loader: str, folder: Path, names: list[str], *, instructions: str, cause: str = "",
                        download_name: str | None = None, data_dir=None) -> MissingDataError:
    """The error for absent files: which files, the folder they belong in, the command that downloads them
    (data set ``download_name``, when it can be downloaded), ``instructions`` to get them by hand, and where
    the data directory came from (``data_dir`` as given to the loader)."""
    why = f" ({cause})" if cause else ""
    command = (f"run `{DOWNLOAD_COMMAND.format(name=download_name, root=folder.parent)}` (needs network), or "
               if download_name else "")
    return MissingDataError(
        f"{loader}: missing {', '.join(names)} in {folder}{why}; {command}{instructions}; the data directory "
        f"{folder.parent} came from {data_root_source(data_dir)} (the order is data_dir or --data-dir, "
        f"${ENV_VAR}, ~/.cache/rnnlab)")
