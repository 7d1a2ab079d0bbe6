"""rnnlab keeps freed host memory for reuse (glibc's mallopt) unless RNNLAB_KEEP_MEMORY=0; a bad value is
warned about and changes nothing; elsewhere than glibc nothing happens."""
import ctypes
import sys

import pytest

from rnnlab.engine import host_memory

glibc_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mallopt is glibc's (Linux)")


@pytest.fixture
def fresh(monkeypatch):
    """A process in which keep_freed_memory has not run yet, with mallopt spied on."""
    monkeypatch.setattr(host_memory, "_applied", [])
    calls = []
    monkeypatch.setattr(host_memory, "_mallopt_all", lambda: calls.append("mallopt") or True)
    return calls


def test_on_by_default_once_per_process(fresh, monkeypatch):
    monkeypatch.delenv(host_memory.ENV_SWITCH, raising=False)
    assert host_memory.keep_freed_memory() is True
    assert host_memory.keep_freed_memory() is True
    assert fresh == ["mallopt"], "applied once, however often it is called"


def test_switched_off_by_the_environment_variable(fresh, monkeypatch):
    monkeypatch.setenv(host_memory.ENV_SWITCH, "0")
    assert host_memory.keep_freed_memory() is False
    assert fresh == []


def test_a_bad_value_warns_once_naming_the_variable_and_changes_nothing(fresh, monkeypatch):
    monkeypatch.setenv(host_memory.ENV_SWITCH, "yes")
    with pytest.warns(RuntimeWarning, match=r"RNNLAB_KEEP_MEMORY must be 0 .* or 1 .* got 'yes'"):
        assert host_memory.keep_freed_memory() is False
    assert fresh == []


@glibc_only
def test_with_glibc_a_megabyte_block_comes_from_the_heap_not_from_fresh_pages():
    """The real call: glibc accepts every setting, and then a 1 MiB malloc is served below the heap's end
    (sbrk(0)) instead of by mmap (far above it), which it would be under glibc's default 128 KiB threshold."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallopt") or not hasattr(libc, "sbrk"):
        pytest.skip("this C library has no mallopt/sbrk (not glibc)")
    assert host_memory._mallopt_all() is True
    libc.malloc.restype, libc.sbrk.restype = ctypes.c_void_p, ctypes.c_void_p
    libc.malloc.argtypes, libc.sbrk.argtypes, libc.free.argtypes = [ctypes.c_size_t], [ctypes.c_long], [ctypes.c_void_p]
    block = libc.malloc(1 << 20)
    try:
        assert block < libc.sbrk(0), "a 1 MiB block was mmapped: the threshold did not take effect"
    finally:
        libc.free(block)
