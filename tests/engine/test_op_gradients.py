"""Every operation, forward and backward, from one table (MyGrad-style).

Each row of ``CASES`` names an operation, a hypothesis strategy that draws its inputs (host arrays:
floats are differentiated, integers are targets or indices) and its parameters, the operation applied to
Tensors, and a reference computed with the backend's own functions (or with host NumPy for indexing,
whose semantics are NumPy's). One test then checks, on every backend, that the forward output matches
the reference and stays on the inputs' device, and that the gradient matches central finite differences
in float64 (``rnnlab.gradcheck``). Inputs keep away from kinks: off a grid for relu/abs/clip/maximum,
distinct values for max, positive values for log/sqrt/pow bases, denominators away from zero.
"""
from dataclasses import dataclass
from typing import Callable

import numpy as np  # host-side data generation and the indexing reference only
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnlab
from rnnlab.engine import backend

FIXTURE_SETTINGS = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------- value strategies
def floats(lo, hi):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo, hi):
    """Values with lo <= |x| <= hi, either sign."""
    return st.tuples(st.booleans(), floats(lo, hi)).map(lambda t: t[1] if t[0] else -t[1])


def off_grid(offset, jitter=0.04, k=8):
    """0.2 k + offset + u, |u| <= jitter: values a fixed distance from the multiples of 0.2 (the kinks)."""
    return st.tuples(st.integers(-k, k), floats(-jitter, jitter)).map(lambda t: 0.2 * t[0] + offset + t[1])


def arrays(shape, elements=None):
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else floats(-2, 2))


def shapes(min_dims=0, max_dims=3, min_side=1, max_side=3):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcast_shapes(n):
    return hnp.mutually_broadcastable_shapes(num_shapes=n, min_dims=0, max_dims=3, max_side=3)


def axis_arg(ndim):
    """None, one axis (maybe negative) or a tuple of distinct axes."""
    if ndim == 0:
        return st.none()
    return st.none() | st.integers(-ndim, ndim - 1) | hnp.valid_tuple_axes(ndim)


@st.composite
def elementwise_inputs(draw, elements=None):
    return [draw(arrays(draw(shapes()), elements))], {}


@st.composite
def binary_inputs(draw, a_elements=None, b_elements=None):
    sa, sb = draw(broadcast_shapes(2)).input_shapes
    return [draw(arrays(sa, a_elements)), draw(arrays(sb, b_elements))], {}


@st.composite
def scalar_operand_inputs(draw):
    return [draw(arrays(draw(shapes())))], {"c": draw(away_from_zero(0.5, 3))}


@st.composite
def pow_scalar_inputs(draw):
    return [draw(arrays(draw(shapes()), floats(0.3, 2)))], {"p": draw(st.sampled_from([2, 3, 0.5, -1.5]))}


@st.composite
def matmul_inputs(draw):
    m, k, n = (draw(st.integers(1, 3)) for _ in range(3))
    kind = draw(st.sampled_from(["matrix", "batched", "vector @ matrix", "matrix @ vector", "vector @ vector"]))
    batch_a, batch_b = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=2)).input_shapes
    sa = {"matrix": (m, k), "batched": batch_a + (m, k), "vector @ matrix": (k,),
          "matrix @ vector": batch_a + (m, k), "vector @ vector": (k,)}[kind]
    sb = {"matrix": (k, n), "batched": batch_b + (k, n), "vector @ matrix": batch_b + (k, n),
          "matrix @ vector": (k,), "vector @ vector": (k,)}[kind]
    return [draw(arrays(sa)), draw(arrays(sb))], {}


@st.composite
def clip_inputs(draw):
    lo = draw(st.none() | st.integers(-5, 0).map(lambda i: 0.2 * i))
    hi = draw(st.none() | st.integers(0, 5).map(lambda i: 0.2 * i))
    return [draw(arrays(draw(shapes()), off_grid(0.1)))], {"lo": lo, "hi": hi}


@st.composite
def where_inputs(draw):
    sc, sa, sb = draw(broadcast_shapes(3)).input_shapes
    return [draw(arrays(sa)), draw(arrays(sb))], {"cond": draw(hnp.arrays(bool, sc))}


@st.composite
def reduction_inputs(draw, distinct=False):
    shape = draw(shapes(min_dims=1))
    if distinct:   # a permutation of spaced values: every slice has one clear maximum
        size = int(np.prod(shape))
        order = np.array(draw(st.permutations(range(size))), dtype=np.float64)
        x = (0.1 * order + draw(arrays((size,), floats(-0.03, 0.03)))).reshape(shape)
    else:
        x = draw(arrays(shape))
    return [x], {"axis": draw(axis_arg(len(shape))), "keepdims": draw(st.booleans())}


@st.composite
def reshape_inputs(draw):
    shape = draw(shapes())
    size = int(np.prod(shape))
    new = draw(st.sampled_from([(-1,), (1, size), tuple(reversed(shape)), (size, 1, 1), shape[:1] + (-1,)]))
    return [draw(arrays(shape))], {"shape": new}


@st.composite
def transpose_inputs(draw):
    shape = draw(shapes())
    axes = draw(st.none() | st.permutations(range(len(shape))).map(tuple))
    return [draw(arrays(shape))], {"axes": axes}


@st.composite
def broadcast_to_inputs(draw):
    target = draw(shapes())
    kept = target[draw(st.integers(0, len(target))):]          # leading axes dropped, some others set to 1
    shape = tuple(1 if draw(st.booleans()) else n for n in kept)
    return [draw(arrays(shape))], {"shape": target}


@st.composite
def basic_index_inputs(draw):
    shape = draw(shapes(min_dims=1))
    index = draw(hnp.basic_indices(shape, min_dims=0, allow_newaxis=True, allow_ellipsis=True))
    return [draw(arrays(shape))], {"index": index}


@st.composite
def integer_index_inputs(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    kind = draw(st.sampled_from(["one axis", "every axis"]))
    idx_shape = draw(shapes(min_dims=1, max_dims=2, max_side=4))
    if kind == "one axis":   # x[:, ..., idx, :, ...] with repeats
        axis = draw(st.integers(0, len(shape) - 1))
        idx = draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, shape[axis] - 1)))
        index = (slice(None),) * axis + (idx,)
    else:                    # x[i0, i1, ...]: one element per position, with repeats
        index = tuple(draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, n - 1))) for n in shape)
    return [draw(arrays(shape))], {"index": index}


@st.composite
def concat_inputs(draw, same_shape=False):
    shape = list(draw(shapes(min_dims=1)))
    ndim = len(shape)
    axis = draw(st.integers(-ndim - same_shape, ndim - 1 + same_shape))
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        if not same_shape:
            shape[axis] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(shape))))
    return xs, {"axis": axis}


@st.composite
def split_inputs(draw):
    shape = draw(shapes(min_dims=1, max_side=4))
    axis = draw(st.integers(-len(shape), len(shape) - 1))
    n = shape[axis]
    sections = draw(st.sampled_from([d for d in range(1, n + 1) if n % d == 0])
                    | st.lists(st.integers(0, n), max_size=3).map(lambda cuts: _sizes(sorted(cuts), n)))
    return [draw(arrays(shape))], {"sections": sections, "axis": axis}


def _sizes(cuts, n):
    edges = [0, *cuts, n]
    return [b - a for a, b in zip(edges, edges[1:])]


@st.composite
def softmax_inputs(draw):
    shape = draw(shapes(min_dims=1))
    return [draw(arrays(shape, floats(-3, 3)))], {"axis": draw(st.integers(-len(shape), len(shape) - 1))}


@st.composite
def cross_entropy_inputs(draw):
    batch = draw(shapes(min_dims=0, max_dims=2))
    classes = draw(st.integers(2, 4))
    logits = draw(arrays(batch + (classes,), floats(-3, 3)))
    target = draw(hnp.arrays(np.int64, batch, elements=st.integers(0, classes - 1)))
    return [logits, target], {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


@st.composite
def mse_inputs(draw):
    shape = draw(shapes())
    return [draw(arrays(shape)), draw(arrays(shape))], {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


@st.composite
def embedding_inputs(draw):
    rows, dim = draw(st.integers(1, 4)), draw(st.integers(1, 3))
    idx = draw(hnp.arrays(np.int64, draw(shapes(min_dims=1, max_dims=2, max_side=4)),
                          elements=st.integers(0, rows - 1)))
    return [draw(arrays((rows, dim))), idx], {}


# ---------------------------------------------------------------- references in the backend's own functions
def _reduce(xp, v, reduction):
    return v if reduction == "none" else (xp.sum(v) if reduction == "sum" else xp.mean(v))


def _onehot(xp, t, classes, dtype, device):
    return xp.astype(t[..., None] == xp.arange(classes, device=device), dtype)


def _host_index(x, index):
    host_index = tuple(rnnlab.to_numpy(i) if backend.namespace_of(i) is not None else i
                       for i in (index if isinstance(index, tuple) else (index,)))
    return rnnlab.to_numpy(x)[host_index]


def _split_ref(xp, x, sections, axis):
    n = x.shape[axis]
    sizes = [n // sections] * sections if isinstance(sections, int) else sections
    starts = np.cumsum([0, *sizes])
    ax = axis % x.ndim
    return tuple(x[(slice(None),) * ax + (slice(int(a), int(b)), ...)] for a, b in zip(starts, starts[1:]))


def _softmax_ref(xp, x, axis):
    e = xp.exp(x)
    return e / xp.sum(e, axis=axis, keepdims=True)


def _cross_entropy_ref(xp, z, t, reduction):
    logp = z - xp.log(xp.sum(xp.exp(z), axis=-1, keepdims=True))
    return _reduce(xp, -xp.sum(_onehot(xp, t, z.shape[-1], z.dtype, z.device) * logp, axis=-1), reduction)


def _embedding_ref(xp, w, idx):
    return xp.reshape(xp.take(w, xp.reshape(idx, (-1,)), axis=0), tuple(idx.shape) + (w.shape[1],))


def _clip_ref(xp, x, lo, hi):
    return xp.clip(x, lo, hi) if (lo, hi) != (None, None) else x


@dataclass(frozen=True)
class Case:
    name: str
    inputs: st.SearchStrategy   # draws ([host arrays], {params})
    op: Callable                # (*tensors, **params) -> Tensor or tuple of Tensors
    ref: Callable               # (xp, *backend arrays, **params) -> array or tuple of arrays


CASES = [
    Case("add", binary_inputs(), lambda a, b: a + b, lambda xp, a, b: xp.add(a, b)),
    Case("sub", binary_inputs(), lambda a, b: a - b, lambda xp, a, b: xp.subtract(a, b)),
    Case("mul", binary_inputs(), lambda a, b: a * b, lambda xp, a, b: xp.multiply(a, b)),
    Case("div", binary_inputs(b_elements=away_from_zero(0.5, 2)), lambda a, b: a / b,
         lambda xp, a, b: xp.divide(a, b)),
    Case("pow", binary_inputs(a_elements=floats(0.3, 2)), lambda a, b: a ** b, lambda xp, a, b: xp.pow(a, b)),
    Case("pow by a Python number", pow_scalar_inputs(), lambda a, p: a ** p, lambda xp, a, p: xp.pow(a, float(p))),
    Case("reflected operators with a Python number", scalar_operand_inputs(),
         lambda a, c: c / (1 + a * a) + c * (c - a),
         lambda xp, a, c: xp.divide(c, xp.add(a * a, 1.0)) + xp.multiply(c, xp.subtract(c, a))),
    Case("neg", elementwise_inputs(), lambda a: -a, lambda xp, a: xp.negative(a)),
    Case("matmul", matmul_inputs(), lambda a, b: a @ b, lambda xp, a, b: xp.matmul(a, b)),
    Case("exp", elementwise_inputs(), rnnlab.exp, lambda xp, a: xp.exp(a)),
    Case("log", elementwise_inputs(floats(0.2, 3)), rnnlab.log, lambda xp, a: xp.log(a)),
    Case("sqrt", elementwise_inputs(floats(0.2, 3)), rnnlab.sqrt, lambda xp, a: xp.sqrt(a)),
    Case("tanh", elementwise_inputs(floats(-3, 3)), rnnlab.tanh, lambda xp, a: xp.tanh(a)),
    Case("sigmoid", elementwise_inputs(floats(-4, 4)), rnnlab.sigmoid, lambda xp, a: 1.0 / (1.0 + xp.exp(-a))),
    Case("relu", elementwise_inputs(off_grid(0.1)), rnnlab.relu,
         lambda xp, a: xp.where(a > 0, a, xp.zeros_like(a))),
    Case("abs", elementwise_inputs(off_grid(0.1)), rnnlab.abs, lambda xp, a: xp.abs(a)),
    Case("clip", clip_inputs(), rnnlab.clip, _clip_ref),
    Case("maximum", binary_inputs(off_grid(0.05, 0.03), off_grid(0.15, 0.03)), rnnlab.maximum,
         lambda xp, a, b: xp.maximum(a, b)),
    Case("where", where_inputs(), lambda a, b, cond: rnnlab.where(cond, a, b),
         lambda xp, a, b, cond: xp.where(rnnlab.asarray(cond, like=a), a, b)),
    Case("sum", reduction_inputs(), rnnlab.sum, lambda xp, x, axis, keepdims: xp.sum(x, axis=axis, keepdims=keepdims)),
    Case("mean", reduction_inputs(), rnnlab.mean,
         lambda xp, x, axis, keepdims: xp.mean(x, axis=axis, keepdims=keepdims)),
    Case("max", reduction_inputs(distinct=True), rnnlab.max,
         lambda xp, x, axis, keepdims: xp.max(x, axis=axis, keepdims=keepdims)),
    Case("reshape", reshape_inputs(), lambda x, shape: rnnlab.reshape(x, shape),
         lambda xp, x, shape: xp.reshape(x, shape)),
    Case("transpose", transpose_inputs(), rnnlab.transpose,
         lambda xp, x, axes: xp.permute_dims(x, axes if axes is not None else tuple(range(x.ndim))[::-1])),
    Case("permute (method)", transpose_inputs().filter(lambda d: d[1]["axes"] is not None),
         lambda x, axes: x.permute(axes), lambda xp, x, axes: xp.permute_dims(x, axes)),
    Case("broadcast_to", broadcast_to_inputs(), rnnlab.broadcast_to,
         lambda xp, x, shape: xp.broadcast_to(x, shape)),
    Case("basic indexing", basic_index_inputs(), lambda x, index: x[index], lambda xp, x, index: _host_index(x, index)),
    Case("integer-array indexing (repeats scatter-add)", integer_index_inputs(), lambda x, index: x[index],
         lambda xp, x, index: _host_index(x, index)),
    Case("concat", concat_inputs(), lambda *xs, axis: rnnlab.concat(xs, axis=axis),
         lambda xp, *xs, axis: xp.concat(xs, axis=axis)),
    Case("stack", concat_inputs(same_shape=True), lambda *xs, axis: rnnlab.stack(xs, axis=axis),
         lambda xp, *xs, axis: xp.stack(xs, axis=axis)),
    Case("split", split_inputs(), rnnlab.split, _split_ref),
    Case("softmax", softmax_inputs(), rnnlab.softmax, _softmax_ref),
    Case("log_softmax", softmax_inputs(), rnnlab.log_softmax,
         lambda xp, x, axis: xp.log(_softmax_ref(xp, x, axis))),
    Case("cross_entropy", cross_entropy_inputs(), rnnlab.cross_entropy, _cross_entropy_ref),
    Case("mse_loss", mse_inputs(), rnnlab.mse_loss,
         lambda xp, y, t, reduction: _reduce(xp, (y - t) * (y - t), reduction)),
    Case("embedding", embedding_inputs(), rnnlab.embedding, _embedding_ref),
]


def _as_tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@FIXTURE_SETTINGS
@given(data=st.data())
def test_forward_matches_reference_and_gradient_matches_finite_differences(case, backend_name, float64, data):
    arrays_, params = data.draw(case.inputs, label="inputs and parameters")
    tensors = [rnnlab.Tensor(a, requires_grad=a.dtype.kind == "f") for a in arrays_]
    device = backend.device_of(tensors[0].data)
    xp = rnnlab.get_namespace(tensors[0].data)

    outputs = _as_tuple(case.op(*tensors, **params))
    expected = _as_tuple(case.ref(xp, *[t.data for t in tensors], **params))
    assert len(outputs) == len(expected)
    for out, ref in zip(outputs, expected):
        assert rnnlab.get_namespace(out.data) is xp and backend.device_of(out.data) == device
        assert out.shape == tuple(ref.shape)
        np.testing.assert_allclose(out.numpy(), rnnlab.to_numpy(ref), rtol=1e-12, atol=1e-12)

    assert rnnlab.gradcheck(lambda *ts: case.op(*ts, **params), tensors)
