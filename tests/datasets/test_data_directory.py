"""The data directory: reading never creates it, a mistyped one is named in the error with where it came from,
a file in its place is one clear error, and only the explicit download creates it."""
import pytest

from rnnlab.datasets import (ChecksumError, DatasetError, MissingDataError, download_dataset, load_har, load_mnist,
                             load_ptb, load_task)
from rnnlab.datasets.download import main
from tests.datasets.dataset_files import write_mnist, write_ptb


def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


@pytest.mark.parametrize("via", ["argument", "environment"])
def test_a_mistyped_data_directory_is_not_created_even_when_downloads_are_allowed(http_root, tmp_path, monkeypatch,
                                                                                  via):
    served, url = http_root
    md5 = write_mnist(served)
    before = _tree(tmp_path)
    typo = tmp_path / "dtaa"
    if via == "environment":
        monkeypatch.setenv("RNNLAB_DATA", str(typo))
    source = "the data_dir argument (--data-dir)" if via == "argument" else "$RNNLAB_DATA"
    with pytest.raises(MissingDataError) as error:
        load_mnist(typo if via == "argument" else None, base_urls=(url,), checksums=md5)
    message = str(error.value)
    assert message.startswith(f"load_mnist: missing train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
                              f"t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in {typo / 'mnist'} (the data "
                              "directory does not exist, so nothing was downloaded); run `python -m rnnlab.datasets "
                              f"download mnist --data-dir {typo}` (needs network), or download them from {url} ")
    assert f"the data directory {typo} came from {source}" in message and "\n" not in message
    assert _tree(tmp_path) == before and not typo.exists()


@pytest.mark.parametrize("name", ["mnist-row", "ptb", "har2"])
def test_loading_a_task_from_an_absent_directory_creates_nothing(tmp_path, name):
    options = {} if name == "har2" else {"download": False}
    with pytest.raises(MissingDataError, match=f"in {tmp_path / 'absent'}"):
        load_task(name, tmp_path / "absent", **options)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("load", [load_mnist, load_ptb, load_har])
def test_a_data_directory_that_is_a_file_is_one_clear_error(tmp_path, load):
    path = tmp_path / "data.txt"
    path.write_text("not a folder")
    with pytest.raises(DatasetError) as error:
        load(path)
    assert str(error.value) == (f"{load.__name__}: the data directory {path} is a file, expected a folder (the data "
                                "directory came from the data_dir argument (--data-dir))")
    assert path.read_text() == "not a folder" and list(tmp_path.iterdir()) == [path]


def test_a_data_set_folder_that_is_a_file_is_one_clear_error(tmp_path):
    (tmp_path / "ptb").write_text("")
    with pytest.raises(DatasetError, match=rf"^load_ptb: {tmp_path / 'ptb'} is a file, expected a folder"):
        load_ptb(tmp_path)


def test_the_explicit_download_creates_the_data_directory_and_checks_the_files(http_root, tmp_path):
    served, url = http_root
    md5 = write_ptb(served)
    folder = download_dataset("ptb", tmp_path / "new" / "data", base_urls=(url,), checksums=md5)
    assert folder == tmp_path / "new" / "data" / "ptb"
    assert sorted(p.name for p in folder.iterdir()) == sorted(md5)
    assert len(load_ptb(tmp_path / "new" / "data", download=False, checksums=md5).train) == 12


def test_a_failed_explicit_download_leaves_no_data_set_folder(http_root, tmp_path):
    _, url = http_root
    root = tmp_path / "data"
    with pytest.raises(MissingDataError, match=r"download failed: downloading \S+mnist/train-images"):
        download_dataset("mnist", root, base_urls=(url + "mnist/",))
    assert list(root.iterdir()) == []


def test_har_cannot_be_downloaded_and_the_error_says_where_to_get_it(tmp_path):
    with pytest.raises(DatasetError, match=rf"^download_dataset: cannot download 'har'; downloadable: mnist, ptb; get "
                                           rf"the UCI HAR zip from https://\S+ and unzip it in {tmp_path / 'har'}$"):
        download_dataset("har", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_download_command_prints_one_line_and_exits_1_when_it_fails(tmp_path, capsys):
    path = tmp_path / "file"
    path.write_text("")
    assert main(["download", "mnist", "--data-dir", str(path)]) == 1
    err = capsys.readouterr().err
    assert err == f"error: download_dataset: the data directory {path} is a file, expected a folder (the data " \
                  "directory came from the data_dir argument (--data-dir))\n"


def test_a_download_refused_for_its_checksum_leaves_no_data_set_folder(http_root, tmp_path):
    served, url = http_root
    md5 = {name: "0" * 32 for name in write_ptb(served)}
    root = tmp_path / "data"
    root.mkdir()
    with pytest.raises(ChecksumError, match=r"^load_ptb: \S+\.part has MD5 [0-9a-f]{32} \(downloaded from "):
        load_ptb(root, base_urls=(url,), checksums=md5)
    assert list(root.iterdir()) == []
