"""``rnnlab gradcheck CELL`` checks every path that runs for the cell (composed, readable loop, compiled
kernel) and reports each: a bug planted in one path fails that path only, whichever other path would run."""
import pytest

from rnnlab.cells import kernels
from rnnlab.cells.rnn import RNNCore
from rnnlab.training.gradcheck import check_cell


def _check(**kwargs):
    lines = []
    ok = check_cell("rnn", steps=3, batch=2, hidden=2, out=lines.append, **kwargs)
    return ok, lines


def _verdicts(lines):
    """The path -> 'ok' / 'FAILED' summary of the last line."""
    summary = lines[-1].split(": ", 1)[1]
    return dict(item.split(" ") for item in summary.split(", "))


def test_every_path_runs_and_passes_on_correct_code(backend_name):
    ok, lines = _check()
    on_kernels = backend_name == "numpy" and kernels.available()
    assert ok, "\n".join(lines)
    assert _verdicts(lines) == {"composed": "ok", "loop": "ok", **({"kernel": "ok"} if on_kernels else {})}
    if not on_kernels:
        assert any(line.startswith("  path kernel: not checked (") for line in lines)


def test_a_bug_planted_in_the_readable_loop_fails_the_loop_path_even_where_a_kernel_exists(backend_name,
                                                                                          monkeypatch):
    wrong = RNNCore.backprop_phi
    monkeypatch.setattr(RNNCore, "backprop_phi", lambda self, xp, h, dh: 1.5 * wrong(self, xp, h, dh))
    ok, lines = _check()
    verdicts = _verdicts(lines)
    assert not ok
    assert verdicts["loop"] == "FAILED" and verdicts["composed"] == "ok"
    assert verdicts.get("kernel", "ok") == "ok"


@pytest.mark.skipif(not kernels.available(), reason="the kernel path needs numba")
def test_a_bug_planted_in_the_kernel_fails_the_kernel_path_only_and_kernels_false_skips_it(monkeypatch):
    right = kernels.rnn_backward

    def wrong(cache, dhs, dhT):
        dx, dW_ih, dW_hh, db, dh0 = right(cache, dhs, dhT)
        return dx, dW_ih, 2 * dW_hh, db, dh0

    monkeypatch.setattr(kernels, "rnn_backward", wrong)
    ok, lines = _check()
    assert not ok and _verdicts(lines) == {"composed": "ok", "loop": "ok", "kernel": "FAILED"}
    assert any("weight_hh" in line and "FAILED" in line for line in lines)
    ok, lines = _check(kernels=False)
    assert ok and _verdicts(lines) == {"composed": "ok", "loop": "ok"}
    ok, lines = _check(paths=["kernel"])
    assert not ok and _verdicts(lines) == {"kernel": "FAILED"}


def test_fused_false_checks_the_composed_path_and_bad_paths_are_refused(backend_name):
    ok, lines = _check(fused=False)
    assert ok and _verdicts(lines) == {"composed": "ok"}
    with pytest.raises(ValueError, match=r"gradcheck: paths must be names from composed, loop, kernel, got "
                                         r"\['fused'\]"):
        _check(paths=["fused"])
