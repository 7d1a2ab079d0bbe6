"""What makes the orthogonal cells orthogonal: B stays orthogonal through training and rebasing, the linear part
has a Jacobian with unit singular values, a rebase changes nothing the cell computes, the initialization is
the reference's, and the momentum variants reduce to the plain cell; TBPTT as for the other cells."""
import math

import numpy as np
import pytest
from tests.cells.cell_configs import (
    FEWER_EXAMPLES,
    FIXTURE_SETTINGS,
    Config,
    host_inputs,
    run_with_grads,
)
from hypothesis import given
from hypothesis import strategies as st
from tests.cells.orthogonal.orthogonal_configs import FAMILIES, build, configs

import rnnlab
import rnnlab.cells as C
from rnnlab import optim
from rnnlab.cells import orthogonal as O


def orthogonality_error(cell):
    B = rnnlab.to_numpy(cell.recurrent_weight().data)
    return np.linalg.norm(B.T @ B - np.eye(B.shape[0]))


@FEWER_EXAMPLES
@given(family=st.sampled_from(FAMILIES), H=st.integers(1, 6), K=st.sampled_from([1, 2, 5, math.inf]),
       adam=st.booleans(), log_lr=st.floats(-3.0, 1.0), seed=st.integers(0, 2 ** 16))
def test_recurrent_matrix_stays_orthogonal_across_optimizer_steps_and_rebases(backend_name, float64, family, H, K,
                                                                              adam, log_lr, seed):
    config = Config(family, T=3, B=2, D=2, sizes=[H], seed=seed)
    rnn = build(config, fused=True)
    cell = rnn.cells[0]
    opt = (optim.Adam if adam else optim.SGD)(rnn.parameters(), lr=10.0 ** log_lr)
    trivialization = O.DynamicTrivialization(rnn, K)
    rng = np.random.default_rng(seed)
    for _ in range(30):
        out, _ = rnn(rnnlab.Tensor(rng.standard_normal((3, 2, 2))))
        opt.zero_grad()
        (out * rnnlab.Tensor(rng.standard_normal(out.shape))).sum().backward()
        opt.step()
        trivialization.step()
        assert orthogonality_error(cell) < 1e-10


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "composed"])
@FIXTURE_SETTINGS
@given(family=st.sampled_from(FAMILIES), T=st.integers(1, 40), H=st.integers(1, 6), seed=st.integers(0, 2 ** 16))
def test_jacobian_of_the_linear_part_through_T_steps_has_all_singular_values_one(backend_name, float64, fused,
                                                                                  family, T, H, seed):
    """With the modReLU bias b = 0, modReLU(z) = z and h_T depends on h_0 only through B^T: dh_T/dh_0 is
    orthogonal, however long the sequence."""
    config = Config(family, T=T, B=1, D=2, sizes=[H], seed=seed)
    rnn = build(config, fused)
    cell = rnn.cells[0]
    cell.modrelu_bias.data = rnnlab.asarray(np.zeros(H), like=cell.modrelu_bias.data)
    x_host, state_host = host_inputs(config, rnn)
    state = tuple(rnnlab.Tensor(s, requires_grad=True) for s in state_host[0])
    _, final = rnn(rnnlab.Tensor(x_host), (state,))
    rows = []
    for row in np.eye(H):                    # row i of dh_T/dh_0 is the gradient of h_T[i]
        state[0].grad = None
        final[0][0].backward(rnnlab.Tensor(row[None, :]), retain_graph=True)
        rows.append(rnnlab.to_numpy(state[0].grad)[0])
    singular_values = np.linalg.svd(np.array(rows), compute_uv=False)
    np.testing.assert_allclose(singular_values, np.ones(H), rtol=0, atol=1e-10)


@FIXTURE_SETTINGS
@given(data=st.data(), fused=st.booleans())
def test_rebase_moves_B_into_the_base_and_zeroes_A_without_changing_what_the_cell_computes(backend_name, float64,
                                                                                          data, fused):
    config = data.draw(configs(data.draw(st.sampled_from(FAMILIES)), max_layers=1))
    rnn = build(config, fused)
    cell = rnn.cells[0]
    x, state = host_inputs(config, rnn)
    before, B_before = run_with_grads(rnn, x, state, t0=config.t0), rnnlab.to_numpy(cell.recurrent_weight().data)
    cell.rebase()
    after, B_after = run_with_grads(rnn, x, state, t0=config.t0), rnnlab.to_numpy(cell.recurrent_weight().data)
    assert not np.any(rnnlab.to_numpy(cell.A.data))
    np.testing.assert_allclose(rnnlab.to_numpy(cell.base), B_before, rtol=0, atol=1e-12)
    np.testing.assert_allclose(B_after, B_before, rtol=0, atol=1e-12)
    for key in [k for k in before if not k.endswith(".A")]:      # dL/dA is taken at another A
        np.testing.assert_allclose(after[key], before[key], rtol=1e-10, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("K", [1, 3, math.inf])
def test_dynamic_trivialization_rebases_every_K_steps_and_never_for_K_infinite(backend_name, K):
    rnn = C.Recurrent([O.OrthogonalRNN(1, 4, rng=0), O.MomentumOrthogonalRNN(4, 2, rng=1)])
    trivialization = O.DynamicTrivialization(rnn, K)
    rebased = []
    for _ in range(6):
        for cell in rnn.cells:
            cell.A.data = cell.A.data + 1.0
        rebased.append(trivialization.step())
        if rebased[-1]:
            assert all(not np.any(rnnlab.to_numpy(cell.A.data)) for cell in rnn.cells)
    assert rebased == [K != math.inf and (k + 1) % K == 0 for k in range(6)]


@pytest.mark.parametrize("skew_init, low, high", [("henaff", -math.pi, math.pi), ("cayley", -1.0, 0.0)])
def test_initialization_follows_the_reference(backend_name, skew_init, low, high):
    D, H = 50, 400
    cell = O.OrthogonalRNN(D, H, skew_init=skew_init, rng=3)
    A = rnnlab.to_numpy(cell.A.data).copy()
    k = np.arange(H // 2)
    theta = A[2 * k, 2 * k + 1]
    A[2 * k, 2 * k + 1] = 0.0
    assert not np.any(A)
    assert np.all((theta >= low) & (theta <= high)) and np.std(theta) > 0.1 * (high - low)
    B = rnnlab.to_numpy(cell.recurrent_weight().data)
    np.testing.assert_allclose(B[0:2, 0:2], [[np.cos(theta[0]), np.sin(theta[0])],
                                             [-np.sin(theta[0]), np.cos(theta[0])]], atol=1e-6)
    np.testing.assert_array_equal(rnnlab.to_numpy(cell.base), np.eye(H))
    W = rnnlab.to_numpy(cell.weight_ih.data)
    assert abs(W.std() / math.sqrt(2.0 / D) - 1.0) < 0.03 and abs(W.mean()) < 0.01
    b = rnnlab.to_numpy(cell.modrelu_bias.data)
    assert np.all(np.abs(b) <= 0.01) and b.std() > 0.004
    assert not np.any(rnnlab.to_numpy(cell.bias.data))


@FIXTURE_SETTINGS
@given(seed=st.integers(0, 1000), fused=st.booleans())
def test_momentum_orthogonal_cell_with_zero_mu_and_unit_step_is_the_orthogonal_cell(backend_name, float64, seed,
                                                                                     fused):
    config = Config("OrthogonalRNN", T=5, B=2, D=2, sizes=[3], seed=seed)
    plain = C.Recurrent(O.OrthogonalRNN(2, 3, rng=seed), fused=fused)
    heavy = C.Recurrent(O.MomentumOrthogonalRNN(2, 3, mu=0.0, s=1.0, rng=seed), fused=fused)
    a, b = (run_with_grads(r, *host_inputs(config, r), seed=seed, loss_states=1) for r in (plain, heavy))
    for key in ("outputs", "final[0]", "dx", "dstate0[0]", "dcells.0.A", "dcells.0.weight_ih",
                "dcells.0.modrelu_bias"):
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-12, err_msg=key)


@FIXTURE_SETTINGS
@given(s=st.floats(0.1, 2.0), beta=st.floats(0.05, 0.95), eps=st.floats(1e-6, 1e-1), seed=st.integers(0, 1000),
       fused=st.booleans())
def test_rmsprop_orthogonal_cell_equals_adam_orthogonal_cell_with_zero_mu(backend_name, float64, s, beta, eps, seed,
                                                                          fused):
    config = Config("RMSPropOrthogonalRNN", T=4, B=2, D=3, sizes=[3], seed=seed)
    rms = C.Recurrent(O.RMSPropOrthogonalRNN(3, 3, s=s, beta=beta, eps=eps, rng=seed), fused=fused)
    adam = C.Recurrent(O.AdamOrthogonalRNN(3, 3, mu=0.0, s=s, beta=beta, eps=eps, rng=seed), fused=fused)
    a, b = (run_with_grads(r, *host_inputs(config, r), seed=seed) for r in (rms, adam))
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=1e-12, atol=1e-12, err_msg=key)


@FIXTURE_SETTINGS
@given(data=st.data())
def test_tbptt_over_orthogonal_cells_equals_the_explicitly_detached_composed_graph(backend_name, float64, data):
    config = data.draw(configs(data.draw(st.sampled_from(FAMILIES)), T=st.integers(2, 8)))
    k = data.draw(st.integers(1, config.T))
    x, state = host_inputs(config, build(config, fused=True))
    V = np.random.default_rng(config.seed).standard_normal((config.T, config.B, config.sizes[-1]))
    results = []
    for chunked in (True, False):
        rnn = build(config, fused=data.draw(st.booleans()))
        xt = rnnlab.Tensor(x, requires_grad=True)
        carried = tuple(tuple(rnnlab.Tensor(s) for s in layer) for layer in state)
        rnn.zero_grad()
        if chunked:
            for chunk in C.tbptt(rnn, xt, k, state=carried, t0=config.t0):
                (chunk.outputs * rnnlab.Tensor(V[chunk.slice])).sum().backward()
        else:
            for s in range(0, config.T, k):
                e = min(s + k, config.T)
                out, final = rnn(xt[s:e], carried, t0=config.t0 + s)
                (out * rnnlab.Tensor(V[s:e])).sum().backward()
                carried = C.detach_state(final)
        grads = {name: rnnlab.to_numpy(p.grad) for name, p in rnn.named_parameters()}
        grads["dx"] = rnnlab.to_numpy(xt.grad)
        results.append(grads)
    for key in results[0]:
        np.testing.assert_allclose(results[0][key], results[1][key], rtol=1e-10, atol=1e-10, err_msg=key)


@pytest.mark.parametrize("family", FAMILIES)
def test_one_checked_step_of_the_cell_equals_the_first_step_of_the_runner(backend_name, float64, family):
    config = Config(family, T=1, B=2, D=3, sizes=[4], seed=9)
    rnn = build(config, fused=True)
    x, state = host_inputs(config, rnn)
    h = rnn.cells[0](rnnlab.Tensor(x[0]), tuple(rnnlab.Tensor(s) for s in state[0]))[0]   # before any prepare
    outputs, _ = rnn(rnnlab.Tensor(x), (tuple(rnnlab.Tensor(s) for s in state[0]),))
    np.testing.assert_allclose(h.numpy(), outputs.numpy()[0], rtol=1e-12, atol=1e-12)
