"""The end of a test run lists each skip reason once, with how many tests it skipped, most frequent first."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SAMPLE = '''
import pytest

@pytest.mark.parametrize("i", range(3))
def test_needs_a_gpu(i):
    pytest.skip("no CUDA device")

@pytest.mark.skip(reason="torch is not installed")
def test_needs_torch():
    pass

def test_runs():
    assert True
'''


def test_skips_are_summarised_by_reason_with_counts(tmp_path):
    (tmp_path / "test_sample.py").write_text(SAMPLE)
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "tests.skip_summary", "-p", "no:cacheprovider",
                           str(tmp_path / "test_sample.py")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    lines = done.stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if "4 skipped, by reason" in line)
    assert [line.split(None, 1) for line in lines[start + 1:start + 3]] == [
        ["3", "no CUDA device"], ["1", "torch is not installed"]], done.stdout
