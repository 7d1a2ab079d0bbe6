"""Chapter 4's table quotes lines of the fused and composed BPTT code: they must still be in the code."""
import inspect

import pytest

from rnnlab.cells.fused import FusedSequence
from rnnlab.cells.rnn import RNNCore
from rnnlab.engine.ops.arithmetic import MatMul
from rnnlab.engine.ops.elementwise import Tanh
from tests.docs.doc_pages import DOCS

QUOTED = [
    (RNNCore.backward, "dh = dhs[t, ...] + dh_next"),
    (RNNCore.backward, "self.backprop_phi(xp, hs[t, ...], dh)"),
    (RNNCore.backprop_phi, "dh * (1 - h * h)"),
    (RNNCore.backward, "dh_next = xp.matmul(dz, U.T)"),
    (RNNCore.backward, "sum_steps_matmul(xp, previous_states(xp, h0, hs), dA)"),
    (FusedSequence.backward, "sum_steps_matmul(xp, x, dA)"),
    (Tanh.backward, "gy * (1 - self.y * self.y)"),
    (MatMul.backward, "xp.matmul(gy, xp.matrix_transpose(b2))"),
]


@pytest.mark.parametrize("fn, line", QUOTED, ids=[line for _, line in QUOTED])
def test_the_line_chapter_4_quotes_is_in_the_code_and_the_chapter(fn, line):
    assert line in inspect.getsource(fn), f"{fn.__qualname__} no longer contains {line!r}: update docs/04-bptt.md"
    assert line in (DOCS / "04-bptt.md").read_text(), f"docs/04-bptt.md no longer quotes {line!r}"
