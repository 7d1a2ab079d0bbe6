"""IndRNN's input weights start as the reference's: Kaiming-uniform with negative slope a = 8."""
import math

import numpy as np
import pytest

import rnnlab
import rnnlab.cells as C


@pytest.mark.parametrize("D", [1, 3, 128])
def test_indrnn_input_weights_are_uniform_within_the_kaiming_a8_bound(backend_name, D):
    W = rnnlab.to_numpy(C.IndRNN(D, 400, rng=0).weight_ih.data)
    bound = math.sqrt(2 / (1 + 8 ** 2)) * math.sqrt(3 / D)
    assert bound == pytest.approx(0.304 / math.sqrt(D), rel=1e-3)
    assert W.shape == (D, 400)
    assert np.all(np.abs(W) <= bound)
    assert np.abs(W).max() > 0.98 * bound                         # the whole interval, not a narrower one
    assert np.std(W) == pytest.approx(bound / math.sqrt(3), rel=0.1)   # uniform: std = bound / sqrt(3)
