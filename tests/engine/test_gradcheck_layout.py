"""gradcheck perturbs every element of an input whatever its memory layout."""
import numpy as np
import pytest

import rnnlab
from rnnlab.engine import backend


@pytest.mark.parametrize("layout", ["C", "F"])
def test_gradcheck_catches_a_wrong_gradient_in_any_memory_layout(backend_name, float64, layout):
    data = np.asarray(np.random.default_rng(0).standard_normal((3, 4)), order=layout)
    w = rnnlab.Parameter(backend.asarray(data))

    class Halved(rnnlab.Function):
        def forward(self, x):
            return x * x

        def backward(self, gy):
            return gy * self.inputs[0].data  # the true derivative is 2 x

    assert rnnlab.gradcheck(lambda w: w * w, [w])
    with pytest.raises(rnnlab.GradcheckError, match=r"numeric .* vs analytic"):
        rnnlab.gradcheck(lambda w: Halved()(w), [w])
