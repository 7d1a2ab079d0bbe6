"""Layers: forward against the equation they implement, gradients against finite differences (float64)."""
import numpy as np  # host-side data and references only
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnlab

FIXTURE_SETTINGS = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])


def values(shape, lo=-2.0, hi=2.0):
    return hnp.arrays(np.float64, shape, elements=st.floats(lo, hi, allow_nan=False))


def sizes(max_side=3):
    return st.integers(1, max_side)


def params_of(module):
    return [p for _, p in module.named_parameters()]


def with_params(layer, *args):
    """``layer(*args)`` as a function of (input, *parameters) for gradcheck, which perturbs those very tensors."""
    return lambda *tensors: layer(*args) if args else layer(tensors[0])


@FIXTURE_SETTINGS
@given(data=st.data(), lead=hnp.array_shapes(min_dims=1, max_dims=2, max_side=3), n_in=sizes(), n_out=sizes(),
       bias=st.booleans())
def test_linear_computes_x_w_plus_b_and_its_gradients_match(backend_name, float64, data, lead, n_in, n_out, bias):
    layer = rnnlab.Linear(n_in, n_out, bias=bias, rng=0)
    x = rnnlab.Tensor(data.draw(values(lead + (n_in,))), requires_grad=True)
    expected = x.numpy() @ layer.weight.numpy() + (layer.bias.numpy() if bias else 0.0)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12, atol=1e-12)
    assert rnnlab.gradcheck(with_params(layer), [x, *params_of(layer)])


@FIXTURE_SETTINGS
@given(data=st.data(), rows=sizes(4), dim=sizes(), idx_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=4))
def test_embedding_looks_up_rows_and_scatter_adds_their_gradients(backend_name, float64, data, rows, dim, idx_shape):
    layer = rnnlab.Embedding(rows, dim, rng=0)
    idx = data.draw(hnp.arrays(np.int64, idx_shape, elements=st.integers(0, rows - 1)))
    np.testing.assert_array_equal(layer(idx).numpy(), layer.weight.numpy()[idx])
    assert rnnlab.gradcheck(with_params(layer, idx), [layer.weight])


@FIXTURE_SETTINGS
@given(data=st.data(), lead=st.sampled_from([(4,), (3, 2), (2, 3)]), features=sizes())
def test_batchnorm_normalizes_over_all_axes_but_the_last_and_its_gradients_match(backend_name, float64, data, lead,
                                                                                 features):
    layer = rnnlab.BatchNorm(features)
    x_host = data.draw(values(lead + (features,)))
    axes = tuple(range(len(lead)))
    spread = x_host.std(axis=axes)
    x = rnnlab.Tensor(x_host, requires_grad=True)
    layer.weight.data = layer.weight.data * 1.5
    layer.bias.data = layer.bias.data + 0.25
    expected = (x_host - x_host.mean(axis=axes)) / np.sqrt(spread ** 2 + layer.eps) * 1.5 + 0.25
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-10, atol=1e-10)
    if (spread > 0.05).all():     # away from a constant feature, where 1/sqrt(var + eps) is steep
        assert rnnlab.gradcheck(with_params(layer), [x, *params_of(layer)])
    layer.eval()
    assert rnnlab.gradcheck(with_params(layer), [x, *params_of(layer)])


def test_batchnorm_running_statistics_move_by_momentum_and_are_used_in_eval(backend_name, float64):
    layer = rnnlab.BatchNorm(2, momentum=0.25)
    x_host = np.array([[[1.0, 0.0], [3.0, 2.0]], [[5.0, 4.0], [7.0, 10.0]]])       # (T, B, F) = (2, 2, 2)
    layer(rnnlab.Tensor(x_host))
    flat = x_host.reshape(-1, 2)
    np.testing.assert_allclose(rnnlab.to_numpy(layer.running_mean), 0.25 * flat.mean(axis=0))
    np.testing.assert_allclose(rnnlab.to_numpy(layer.running_var), 0.75 + 0.25 * flat.var(axis=0, ddof=1))
    layer.eval()
    out = layer(rnnlab.Tensor(x_host)).numpy()
    expected = (x_host - rnnlab.to_numpy(layer.running_mean)) / np.sqrt(rnnlab.to_numpy(layer.running_var) + layer.eps)
    np.testing.assert_allclose(out, expected)
    before = rnnlab.to_numpy(layer.running_mean).copy()
    layer(rnnlab.Tensor(x_host))
    np.testing.assert_array_equal(rnnlab.to_numpy(layer.running_mean), before)


def test_dropout_shares_one_mask_across_time_and_scales_kept_values(backend_name, float64):
    layer = rnnlab.Dropout(0.5, shared_axis=0, rng=3)
    x = rnnlab.Tensor(np.ones((5, 4, 6)) * 2.0)
    out = layer(x).numpy()
    assert set(np.unique(out)) <= {0.0, 4.0}
    assert 0 < (out == 0).sum() < out.size
    np.testing.assert_array_equal(out, np.broadcast_to(out[:1], out.shape))     # same mask at every step


def test_dropout_without_a_shared_axis_draws_each_element(backend_name, float64):
    out = rnnlab.Dropout(0.5, rng=3)(rnnlab.Tensor(np.ones((5, 4, 6)))).numpy()
    assert not (out == out[:1]).all()


def test_dropout_is_the_identity_in_eval_mode_and_at_p_zero(backend_name):
    x = rnnlab.Tensor(np.arange(6.0).reshape(2, 3))
    assert rnnlab.Dropout(0.7).eval()(x) is x
    assert rnnlab.Dropout(0.0)(x) is x


def test_dropout_without_rng_follows_manual_seed(backend_name):
    layer = rnnlab.Dropout(0.5)
    x = rnnlab.Tensor(np.ones((8, 8)))
    rnnlab.manual_seed(7)
    first = layer(x).numpy()
    rnnlab.manual_seed(7)
    np.testing.assert_array_equal(layer(x).numpy(), first)


@FIXTURE_SETTINGS
@given(data=st.data(), shape=hnp.array_shapes(min_dims=2, max_dims=3, max_side=3), p=st.floats(0.1, 0.8),
       shared=st.booleans())
def test_dropout_gradient_is_the_same_mask_scaled(backend_name, float64, data, shape, p, shared):
    x = rnnlab.Tensor(data.draw(values(shape)), requires_grad=True)
    seed = data.draw(st.integers(0, 2 ** 16))
    assert rnnlab.gradcheck(lambda t: rnnlab.Dropout(p, shared_axis=0 if shared else None, rng=seed)(t), [x])
