"""Where data sets live on disk, how their files are read and checked, and how they are downloaded.

The data directory is, in order: the ``data_dir`` argument (the CLI's ``--data-dir``), else the environment
variable ``RNNLAB_DATA``, else a per-user cache, ``$XDG_CACHE_HOME/rnnlab`` (``~/.cache/rnnlab`` when
``XDG_CACHE_HOME`` is unset). It holds one folder per data set: ``mnist/``, ``ptb/``, ``har/``.

Downloads go to a temporary file in the target folder, are checked against a known MD5, and only then
renamed into place (``os.replace``, atomic on one file system): an interrupted or wrong download leaves no file
behind that a later run could mistake for good data.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.error
import urllib.request
import zlib
from pathlib import Path

from .errors import ChecksumError, DataFormatError, DownloadError, MissingDataError

__all__ = ["ENV_VAR", "data_root", "dataset_dir", "read_bytes", "md5_hex", "check_md5", "download_file",
           "fetch_from_mirrors", "missing_files_error"]

ENV_VAR = "RNNLAB_DATA"
_CHUNK = 1 << 20


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


def dataset_dir(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder of data set ``name`` (``mnist``, ``ptb``, ``har``) inside :func:`data_root`."""
    return data_root(data_dir) / name


def read_bytes(path: Path, *, loader: str, gunzip: bool | None = None) -> bytes:
    """The contents of ``path``, decompressed when it is gzip (``gunzip=None``: when the name ends ``.gz``).

    Raises :class:`DataFormatError` naming the file when the gzip stream is damaged or cut short.
    """
    path = Path(path)
    if gunzip is None:
        gunzip = path.name.endswith(".gz")
    try:
        data = path.read_bytes()
        return gzip.decompress(data) if gunzip else data
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


def download_file(url: str, dest: Path, *, expected_md5: str | None, gunzip_for_md5: bool = False,
                  loader: str = "download_file", timeout: float = 60.0) -> Path:
    """Download ``url`` to ``dest`` atomically and return ``dest``.

    The bytes go to a temporary file beside ``dest``; its MD5 (of the decompressed contents when
    ``gunzip_for_md5``) must equal ``expected_md5`` (skipped when None); then it is renamed to ``dest``.
    On any failure the temporary file is removed and ``dest`` is left as it was. Raises
    :class:`DownloadError` for network and HTTP failures, :class:`ChecksumError` for a wrong file.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            try:
                with urllib.request.urlopen(url, timeout=timeout) as response:
                    while chunk := response.read(_CHUNK):
                        out.write(chunk)
            except (urllib.error.URLError, OSError, ValueError) as exc:
                raise DownloadError(f"{loader}: downloading {url} failed ({exc})") from exc
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


def missing_files_error(loader: str, folder: Path, names: list[str], *, instructions: str,
                        cause: str = "") -> MissingDataError:
    """The error for absent files: which files, the folder they belong in, and ``instructions`` to get them."""
    why = f" ({cause})" if cause else ""
    return MissingDataError(
        f"{loader}: missing {', '.join(names)} in {folder}{why}; {instructions} (the data directory is data_dir "
        f"or --data-dir, else ${ENV_VAR}, else ~/.cache/rnnlab)")
