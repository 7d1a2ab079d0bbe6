"""The errors a data set raises when its files are missing, damaged, or cannot be fetched.

All derive from :class:`DatasetError`, so a program can catch one class and print its one-line message.
Bad argument values (a negative sequence length, an unknown option) raise ``ValueError`` as elsewhere.
"""
from __future__ import annotations

__all__ = ["DatasetError", "MissingDataError", "ChecksumError", "DataFormatError", "DownloadError"]


class DatasetError(RuntimeError):
    """A data set cannot be loaded; the message names the loader, the file and what was expected."""


class MissingDataError(DatasetError, FileNotFoundError):
    """Files a data set needs are not in the data directory (the message says which, where to put them)."""


class ChecksumError(DatasetError):
    """A file's MD5 differs from the known one: it is damaged, truncated, or a different version."""


class DataFormatError(DatasetError):
    """A file is not in the format its loader reads (bad header, wrong size, unparsable text)."""


class DownloadError(DatasetError):
    """A download failed (no network, HTTP error); nothing was written."""


class DatasetOptionError(DatasetError, ValueError):
    """A data set was asked for with an impossible option (a hold-out larger than the data, a class merge that
    misses an activity); the message names the option and what it accepts."""
