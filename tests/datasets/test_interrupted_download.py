"""A download cut off midway (by the network, a timeout, a server that closes early, or Ctrl-C) leaves no
partial file and the previous file untouched: urllib is replaced by a fake server, no network is used."""
import hashlib
import http.client
import re
import tempfile
import urllib.request
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from rnnlab.datasets import DownloadError, MissingDataError, download_file, load_ptb
from rnnlab.datasets.ptb import PTB_FILES

URL = "http://mirror.invalid/data/f.bin"
FAULTS = {"reset": lambda got: ConnectionResetError(104, "Connection reset by peer"),
          "timeout": lambda got: TimeoutError("The read operation timed out"),
          "incomplete": lambda got: http.client.IncompleteRead(b"", 7),
          "closed early": None,                             # the server closes: read() returns b"" too soon
          "interrupt": lambda got: KeyboardInterrupt()}


class CutResponse:
    """A response announcing ``len(payload)`` bytes that delivers ``cut`` of them, in pieces of ``piece``
    bytes, then fails with ``fault`` (a ``FAULTS`` key; None: delivers everything)."""

    def __init__(self, payload: bytes, cut: int, fault, piece: int):
        self.payload, self.cut, self.fault, self.piece, self.sent = payload, cut, fault, piece, 0
        self.headers = {"Content-Length": str(len(payload))}

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def read(self, n):
        if self.fault is not None and self.sent >= self.cut:
            if FAULTS[self.fault] is None:
                return b""
            raise FAULTS[self.fault](self.sent)
        chunk = self.payload[self.sent:min(self.sent + n, self.sent + self.piece,
                                           self.cut if self.fault else len(self.payload))]
        self.sent += len(chunk)
        return chunk


def serving(monkeypatch, payload, cut, fault, piece=1 << 20):
    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: CutResponse(payload, cut, fault, piece))


@given(payload=st.binary(min_size=1, max_size=3000), data=st.data(), fault=st.sampled_from(sorted(FAULTS)),
       piece=st.integers(1, 4096), previous=st.one_of(st.none(), st.binary(max_size=50)), checked=st.booleans())
def test_a_download_cut_midway_leaves_no_partial_file_and_the_old_file_as_it_was(payload, data, fault, piece,
                                                                                  previous, checked):
    cut = data.draw(st.integers(0, len(payload) - 1), label="bytes delivered before the fault")
    md5 = hashlib.md5(payload).hexdigest() if checked else None
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        dest = Path(tmp) / "f.bin"
        if previous is not None:
            dest.write_bytes(previous)
        serving(mp, payload, cut, fault, piece)
        if fault == "interrupt":
            with pytest.raises(KeyboardInterrupt):
                download_file(URL, dest, expected_md5=md5)
        else:
            with pytest.raises(DownloadError, match=rf"^download_file: downloading {URL} failed \("):
                download_file(URL, dest, expected_md5=md5)
        assert [p.name for p in Path(tmp).iterdir()] == ([] if previous is None else ["f.bin"])
        assert previous is None or dest.read_bytes() == previous


@given(payload=st.binary(max_size=3000), piece=st.integers(1, 4096), checked=st.booleans())
def test_the_same_server_uncut_delivers_the_file(payload, piece, checked):
    with tempfile.TemporaryDirectory() as tmp, pytest.MonkeyPatch.context() as mp:
        serving(mp, payload, len(payload), None, piece)
        dest = download_file(URL, Path(tmp) / "f.bin", expected_md5=hashlib.md5(payload).hexdigest() if checked
                             else None)
        assert dest.read_bytes() == payload and [p.name for p in Path(tmp).iterdir()] == ["f.bin"]


def test_a_loader_whose_download_is_cut_says_so_and_leaves_no_folder(tmp_path, monkeypatch):
    serving(monkeypatch, b"x" * 100, 40, "closed early")
    with pytest.raises(MissingDataError, match=rf"^load_ptb: missing {re.escape(', '.join(PTB_FILES.values()))} in "
                                               rf"{tmp_path / 'ptb'} \(download failed: downloading "
                                               rf"{URL.rsplit('/', 1)[0]}/ptb\.train\.txt failed \(the connection "
                                               r"closed after 40 of 100 bytes\)\); run `python -m rnnlab\.datasets "
                                               r"download ptb"):
        load_ptb(tmp_path, base_urls=(URL.rsplit("/", 1)[0],), checksums=None)
    assert list(tmp_path.iterdir()) == []
