"""The real-data tests look in ``$RNNLAB_DATA`` first, then in ``../shared/data``; a skip names both places."""
import pytest

from tests.datasets.dataset_files import SHARED_DATA, real_data_roots, shared_folder


def test_rnnlab_data_is_looked_in_first(monkeypatch, tmp_path):
    (tmp_path / "mnist").mkdir()
    (tmp_path / "mnist" / "a.gz").write_bytes(b"x")
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    assert real_data_roots() == [tmp_path, SHARED_DATA]
    assert shared_folder("mnist", ["a.gz"]) == tmp_path / "mnist"


def test_without_rnnlab_data_the_shared_folder_alone(monkeypatch):
    monkeypatch.delenv("RNNLAB_DATA", raising=False)
    assert real_data_roots() == [SHARED_DATA]


def test_a_skip_names_every_place_looked_in(monkeypatch, tmp_path):
    monkeypatch.setenv("RNNLAB_DATA", str(tmp_path))
    with pytest.raises(pytest.skip.Exception) as skipped:
        shared_folder("no-such-set", ["f.gz"])
    assert str(tmp_path / "no-such-set") in str(skipped.value)
    assert str(SHARED_DATA / "no-such-set") in str(skipped.value)
