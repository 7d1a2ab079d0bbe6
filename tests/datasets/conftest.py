"""Fixtures of the data-set tests."""
import pytest

from tests.datasets.dataset_files import serve_directory


@pytest.fixture
def http_root(tmp_path):
    """A folder served over HTTP on 127.0.0.1: yields (folder, base URL)."""
    root = tmp_path / "served"
    root.mkdir()
    with serve_directory(root) as url:
        yield root, url
