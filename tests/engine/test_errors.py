"""Bad input: every error names the operation (or class), the argument and what was expected."""
import numpy as np  # host-side data only
import pytest

import rnnlab
from rnnlab.engine import backend


def T(*args, **kwargs):
    return rnnlab.Tensor(*args, **kwargs)


def zeros(*shape, grad=False):
    return rnnlab.Tensor(np.zeros(shape), requires_grad=grad)


ERRORS = [
    ("matmul shapes", lambda: zeros(3, 4) @ zeros(5, 2), ValueError,
     r"^matmul: shapes \(3, 4\) and \(5, 2\) do not align \(4 != 5\)$"),
    ("matmul scalar", lambda: rnnlab.matmul(zeros(), zeros(2)), ValueError,
     r"matmul: operands must have at least one dimension, got shapes \(\) and \(2,\)"),
    ("matmul batch", lambda: zeros(2, 3, 4) @ zeros(3, 4, 5), ValueError,
     r"^matmul: .* \(inputs of shapes \(2, 3, 4\), \(3, 4, 5\)\)$"),
    ("add broadcast", lambda: zeros(2, 3) + zeros(4), ValueError,
     r"^add: .*broadcast.* \(inputs of shapes \(2, 3\), \(4,\)\)$"),
    ("cross_entropy target shape", lambda: rnnlab.cross_entropy(zeros(4, 3), np.zeros(5, dtype=int)), ValueError,
     r"cross_entropy: targets of shape \(5,\) do not match logits of shape \(4, 3\) "
     r"\(expected targets of shape \(4,\)\)"),
    ("cross_entropy target range", lambda: rnnlab.cross_entropy(zeros(2, 3), np.array([0, 3])), ValueError,
     r"cross_entropy: target values must lie in \[0, 3\) for 3 classes, got values from 0 to 3"),
    ("cross_entropy target dtype", lambda: rnnlab.cross_entropy(zeros(2, 3), T([0.0, 1.0])), TypeError,
     r"cross_entropy: targets must be integer class indices"),
    ("cross_entropy reduction", lambda: rnnlab.cross_entropy(zeros(2, 3), np.array([0, 1]), reduction="avg"),
     ValueError, r"cross_entropy: reduction must be 'mean', 'sum' or 'none', got 'avg'"),
    ("mse_loss shapes", lambda: rnnlab.mse_loss(zeros(2, 3), zeros(3, 2)), ValueError,
     r"mse_loss: prediction of shape \(2, 3\) and target of shape \(3, 2\) differ"),
    ("mse_loss reduction", lambda: rnnlab.mse_loss(zeros(2), zeros(2), reduction="max"), ValueError,
     r"mse_loss: reduction must be 'mean', 'sum' or 'none', got 'max'"),
    ("embedding range", lambda: rnnlab.embedding(zeros(4, 2), np.array([1, 4])), ValueError,
     r"embedding: indices must lie in \[0, 4\) for a table of 4 rows, got values from 1 to 4"),
    ("embedding dtype", lambda: rnnlab.embedding(zeros(4, 2), T([1.0])), TypeError,
     r"embedding: indices must be integers"),
    ("split equal", lambda: rnnlab.split(zeros(5), 2), ValueError,
     r"split: an axis of length 5 cannot be cut into 2 equal pieces"),
    ("split sizes", lambda: rnnlab.split(zeros(5), [2, 2]), ValueError,
     r"split: sizes \[2, 2\] add up to 4, but axis 0 has length 5"),
    ("split axis", lambda: rnnlab.split(zeros(4, 2), 2, axis=2), ValueError,
     r"split: axis 2 is out of range for an array of 2 dimensions"),
    ("clip bounds", lambda: rnnlab.clip(zeros(3), 1.0, -1.0), ValueError,
     r"clip: lo \(1.0\) must not exceed hi \(-1.0\)"),
    ("where condition", lambda: rnnlab.where(zeros(2), zeros(2), zeros(2)), TypeError,
     r"where: cond must be a boolean array"),
    ("permute axes", lambda: zeros(2, 3).permute((0, 5)), ValueError,
     r"permute: axes \(0, 5\) are not a permutation of the 2 axes of shape \(2, 3\)"),
    ("sum axis", lambda: rnnlab.sum(zeros(2, 3), axis=2), ValueError,
     r"sum: axis 2 is out of range for an array of 2 dimensions"),
    ("max empty", lambda: rnnlab.max(zeros(0, 3)), ValueError, r"max: cannot reduce an empty array"),
    ("boolean mask index", lambda: zeros(3)[np.array([True, False, True])], TypeError,
     r"getitem: index arrays must hold integers, got dtype .*bool"),
    ("reshape size", lambda: zeros(2, 3).reshape(4, 2), ValueError, r"^reshape: .*\(inputs of shapes \(2, 3\)\)$"),
    ("tensor from strings", lambda: T(["a", "b"]), TypeError, r"Tensor: cannot make a tensor from data of dtype <U1"),
    ("requires_grad on ints", lambda: T([1, 2], requires_grad=True), TypeError,
     r"Tensor.requires_grad: only floating-point tensors can require gradients"),
    ("Linear features", lambda: rnnlab.Linear(3, 2)(zeros(4, 2)), ValueError,
     r"Linear: input has 2 features in its last axis, expected 3 \(input shape \(4, 2\)\)"),
    ("Linear size", lambda: rnnlab.Linear(0, 2), ValueError, r"Linear: in_features must be a positive integer, got 0"),
    ("Embedding size", lambda: rnnlab.Embedding(5, 2.5), ValueError,
     r"Embedding: embedding_dim must be a positive integer, got 2.5"),
    ("BatchNorm momentum", lambda: rnnlab.BatchNorm(3, momentum=1.5), ValueError,
     r"BatchNorm: momentum must be in \[0, 1\], got 1.5"),
    ("BatchNorm features", lambda: rnnlab.BatchNorm(3)(zeros(4, 2)), ValueError,
     r"BatchNorm: input has 2 features in its last axis, expected 3"),
    ("BatchNorm one value", lambda: rnnlab.BatchNorm(3)(zeros(1, 3)), ValueError,
     r"BatchNorm: training needs more than one value per feature \(input shape \(1, 3\)\)"),
    ("Dropout p", lambda: rnnlab.Dropout(1.0), ValueError, r"Dropout: p must be in \[0, 1\), got 1.0"),
]


@pytest.mark.parametrize("make, error, message", [e[1:] for e in ERRORS], ids=[e[0] for e in ERRORS])
def test_bad_input_raises_an_error_naming_the_operation_and_the_problem(backend_name, make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_module_attributes_before_super_init_are_refused():
    class Broken(rnnlab.Module):
        def __init__(self):
            self.w = 1

    with pytest.raises(RuntimeError, match=r"Broken: call super\(\).__init__\(\) before assigning attributes"):
        Broken()


def test_backward_grad_on_another_backend_is_refused_naming_both(backend_name):
    y = zeros(2, grad=True) * 2.0
    with rnnlab.use_backend("strict" if backend_name == "numpy" else "numpy"):
        other = rnnlab.Tensor([1.0, 1.0])
    with pytest.raises(backend.BackendError, match=r"backward: arrays from different backends or devices"):
        y.backward(other)
