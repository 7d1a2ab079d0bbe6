"""Fixtures of the cell tests."""
import pytest

from rnnlab.cells import FusedSequence


@pytest.fixture
def paths_taken(monkeypatch):
    """The ``path`` of every FusedSequence forward run while the test runs."""
    taken = []
    original = FusedSequence.forward

    def forward(self, *arrays):
        result = original(self, *arrays)
        taken.append(self.path)
        return result

    monkeypatch.setattr(FusedSequence, "forward", forward)
    return taken
