"""The data directory, and downloads from a local HTTP server: checked, atomic, with mirrors and clear failures."""
import gzip
import socket
from pathlib import Path

import numpy as np
import pytest

from tests.datasets.dataset_files import write_mnist, write_ptb
from rnnlab.datasets import (ChecksumError, DataFormatError, DownloadError, MissingDataError, data_root,
                             dataset_dir, download_file, load_mnist, load_ptb)


def test_data_root_is_the_argument_then_rnnlab_data_then_xdg_cache_then_home_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert data_root() == tmp_path / "env"
    monkeypatch.delenv("RNNLAB_DATA")
    assert data_root() == tmp_path / "xdg" / "rnnlab"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert data_root() == tmp_path / "home" / ".cache" / "rnnlab"
    assert dataset_dir("mnist", "~/d") == Path.home() / "d" / "mnist"


def test_missing_mnist_is_downloaded_checked_and_written_in_place(http_root, tmp_path):
    served, url = http_root
    md5 = write_mnist(served)
    (tmp_path / "data").mkdir()
    m = load_mnist(tmp_path / "data", base_urls=(url,), checksums=md5)
    folder = tmp_path / "data" / "mnist"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.gz" for n in md5)
    for name in md5:
        assert (folder / f"{name}.gz").read_bytes() == (served / f"{name}.gz").read_bytes()
    assert m.train_images.shape == (30, 28, 28)


def test_download_tries_the_next_mirror_when_one_fails(http_root, tmp_path):
    served, url = http_root
    md5 = write_mnist(served / "mirror")
    m = load_mnist(tmp_path, base_urls=(url + "absent/", url + "mirror/"), checksums=md5)
    assert m.test_images.shape == (12, 28, 28)


def test_wrong_checksum_download_is_an_error_and_leaves_no_file(http_root, tmp_path):
    served, url = http_root
    md5 = write_mnist(served)
    md5["train-labels-idx1-ubyte"] = "f" * 32
    with pytest.raises(ChecksumError, match=r"load_mnist: .*\.train-labels-idx1-ubyte\.gz\.\w+\.part has MD5 "
                                            rf"[0-9a-f]{{32}} \(downloaded from {url}train-labels-idx1-ubyte\.gz, "
                                            r"decompressed\), expected f{32}"):
        load_mnist(tmp_path, base_urls=(url,), checksums=md5)
    names = [p.name for p in (tmp_path / "mnist").iterdir()]
    assert "train-labels-idx1-ubyte.gz" not in names and not any(n.endswith(".part") for n in names)


def test_download_of_files_the_server_lacks_reports_missing_files_and_the_http_error(http_root, tmp_path):
    _, url = http_root
    with pytest.raises(MissingDataError, match=rf"load_ptb: missing ptb\.train\.txt, ptb\.valid\.txt, ptb\.test\.txt "
                                               rf"in {tmp_path / 'ptb'} \(download failed: downloading "
                                               rf"{url}ptb\.train\.txt failed \(HTTP Error 404"):
        load_ptb(tmp_path, base_urls=(url,))
    assert not (tmp_path / "ptb").exists()          # the folder the failed download made is removed


def test_missing_ptb_is_downloaded_from_the_server(http_root, tmp_path):
    served, url = http_root
    md5 = write_ptb(served)
    corpus = load_ptb(tmp_path, base_urls=(url,), checksums=md5)
    assert len(corpus.train) == 12 and (tmp_path / "ptb" / "ptb.test.txt").is_file()


def test_truncated_gzip_download_is_an_error_and_keeps_the_old_file(http_root, tmp_path):
    served, url = http_root
    data = gzip.compress(np.arange(1000, dtype=np.uint16).tobytes())
    (served / "x.gz").write_bytes(data[:len(data) // 2])
    dest = tmp_path / "data" / "x.gz"
    dest.parent.mkdir()
    dest.write_bytes(b"previous")
    with pytest.raises(DataFormatError, match=r"download_file: .*\.x\.gz\.\w+\.part is not a readable gzip file"):
        download_file(url + "x.gz", dest, expected_md5="0" * 32, gunzip_for_md5=True)
    assert dest.read_bytes() == b"previous" and [p.name for p in dest.parent.iterdir()] == ["x.gz"]


def test_download_from_a_closed_port_is_a_download_error_naming_the_url(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/f.txt"
    with pytest.raises(DownloadError, match=rf"download_file: downloading {url} failed"):
        download_file(url, tmp_path / "f.txt", expected_md5=None, timeout=5)
    assert list(tmp_path.iterdir()) == []
