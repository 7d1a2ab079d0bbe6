"""Bad arguments to the orthogonal cells and to the rebasing schedule: each error names the class, the argument and
what was expected."""
import math

import numpy as np
import pytest

import rnnlab
import rnnlab.cells as C
from rnnlab.cells import orthogonal as O

ERRORS = [
    ("skew_init", lambda: O.OrthogonalRNN(2, 3, skew_init="haar"), ValueError,
     r"^OrthogonalRNN: skew_init must be one of 'cayley', 'henaff', got 'haar'$"),
    ("hidden_size", lambda: O.OrthogonalRNN(2, 0), ValueError,
     r"^OrthogonalRNN: hidden_size must be a positive integer, got 0$"),
    ("momentum mu", lambda: O.MomentumOrthogonalRNN(2, 3, mu=1.0), ValueError,
     r"^MomentumOrthogonalRNN: mu must be in \[0, 1\), got 1.0$"),
    ("nesterov restart", lambda: O.NesterovOrthogonalRNN(2, 3, restart=-1), ValueError,
     r"^NesterovOrthogonalRNN: restart must be an integer >= 0, got -1$"),
    ("adam beta", lambda: O.AdamOrthogonalRNN(2, 3, beta=0.0), ValueError,
     r"^AdamOrthogonalRNN: beta must be in \(0, 1\), got 0.0$"),
    ("rmsprop s", lambda: O.RMSPropOrthogonalRNN(2, 3, s=0.0), ValueError,
     r"^RMSPropOrthogonalRNN: s must be in \(0, inf\), got 0.0$"),
    ("K zero", lambda: O.DynamicTrivialization(O.OrthogonalRNN(1, 2), 0), ValueError,
     r"^DynamicTrivialization: K must be a positive integer or math.inf, got 0$"),
    ("K fractional", lambda: O.DynamicTrivialization(O.OrthogonalRNN(1, 2), 2.5), ValueError,
     r"^DynamicTrivialization: K must be a positive integer or math.inf, got 2.5$"),
    ("K bool", lambda: O.DynamicTrivialization(O.OrthogonalRNN(1, 2), True), ValueError,
     r"^DynamicTrivialization: K must be a positive integer or math.inf, got True$"),
    ("no orthogonal cell", lambda: O.DynamicTrivialization(C.Recurrent(C.RNN(1, 2)), math.inf), ValueError,
     r"^DynamicTrivialization: module has no orthogonal cell \(OrthogonalRNN or a momentum variant\) to rebase$"),
]


@pytest.mark.parametrize("make, error, message", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_bad_arguments_raise_an_error_naming_the_class_the_argument_and_what_was_expected(backend_name, make, error,
                                                                                         message):
    with pytest.raises(error, match=message):
        make()


def test_module_that_is_not_a_module_is_refused_by_the_rebasing_schedule(backend_name):
    with pytest.raises(TypeError, match=r"^DynamicTrivialization: module must be a rnnlab Module \(a cell or a "
                                        r"model\), got list$"):
        O.DynamicTrivialization([O.OrthogonalRNN(1, 2)], 10)


@pytest.mark.parametrize("path", ["step", "sequence"])
def test_either_path_before_prepare_says_to_call_prepare(backend_name, path):
    cell = O.MomentumOrthogonalRNN(2, 3, rng=0)
    x = rnnlab.Tensor(np.zeros((4, 1, 2), dtype="float32"))
    with pytest.raises(RuntimeError, match=r"^MomentumOrthogonalRNN: B is not computed; call prepare\(T\) before "
                                           r"step or sequence"):
        cell.step(x[0], cell.initial_state(1)) if path == "step" else cell.sequence(x, cell.initial_state(1))
