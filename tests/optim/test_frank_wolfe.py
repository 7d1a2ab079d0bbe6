"""FrankWolfe: Algorithm 1's inner loop, its ball, its special cases, its convergence, and its outer step."""
import math

import hypothesis.strategies as st
import pytest
from tests.optim.optim_helpers import Quadratic, given_on_backend, host, lp, on_host, param, ps, random_quadratic, set_grad

from rnnlab.optim import SGD, Adam, FrankWolfe, NonFiniteGradientError

sizes = st.lists(st.integers(1, 4), min_size=1, max_size=3)
seeds = st.integers(0, 2**32 - 1)


def quadratic(seed, sizes_, spread=1.0):
    rng = host.random.default_rng(seed)
    centers, matrices = random_quadratic(rng, sizes_)
    params = [param(c + spread * rng.standard_normal(c.shape)) for c in centers]
    return Quadratic(params, centers, matrices)


def host_lmo(g, delta, p):
    """The oracle written out on the host for p = 2 (global over a list of arrays)."""
    norm = math.sqrt(sum(float((x * x).sum()) for x in g))
    return [x * 0.0 if norm == 0 else -delta * x / norm for x in g]


@given_on_backend(seed=seeds, sizes_=sizes, p=ps, delta=st.floats(1e-3, 2.0), K=st.integers(1, 8),
                  norm=st.sampled_from(["global", "per_tensor"]), cumulative=st.booleans())
def test_every_inner_iterate_stays_in_the_delta_ball(backend_name, float64, seed, sizes_, p, delta, K, norm,
                                                     cumulative):
    q = quadratic(seed, sizes_)
    omega = [on_host(w) for w in q.params]
    opt = FrankWolfe(q.params, lr=1.0, delta=delta, K=K, p=p, norm=norm, cumulative=cumulative)
    opt.step(q.closure)
    after = [on_host(w) for w in q.params]
    assert q.calls == K
    # paper: the closure sees ω + Δ_{k-1}; released code: ω + Σ_{j<k} Δ_j; both end at ω + lr Δ_K (lr = 1)
    if cumulative:
        iterates = [[b - a for a, b in zip(q.seen[k - 1], q.seen[k])] for k in range(1, K)]
    else:
        iterates = [[s - w for s, w in zip(seen, omega)] for seen in q.seen[1:]]
    iterates.append([a - w for a, w in zip(after, omega)])
    for d in iterates:
        if norm == "global":
            assert lp(host.concatenate([x.ravel() for x in d]), p) <= delta * (1 + 1e-9)
        else:
            assert all(lp(x, p) <= delta * (1 + 1e-9) for x in d)


@given_on_backend(seed=seeds, sizes_=sizes, delta=st.floats(1e-3, 2.0), K=st.integers(1, 6),
                  lr=st.floats(0.0, 3.0), cumulative=st.booleans())
def test_closure_sees_algorithm_1_iterates_and_step_ends_at_omega_plus_lr_delta(
        backend_name, float64, seed, sizes_, delta, K, lr, cumulative):
    q = quadratic(seed, sizes_)
    omega = [on_host(w) for w in q.params]
    FrankWolfe(q.params, lr=lr, delta=delta, K=K, cumulative=cumulative).step(q.closure)
    d = [w * 0.0 for w in omega]
    moved = [w * 0.0 for w in omega]
    for k in range(1, K + 1):
        expected = [w + m for w, m in zip(omega, moved if cumulative else d)]
        assert all(host.allclose(s, e, rtol=1e-10, atol=1e-12) for s, e in zip(q.seen[k - 1], expected))
        s = host_lmo(q.host_grad(expected), delta, 2)
        d = [(1 - 1 / k) * x + y / k for x, y in zip(d, s)]
        moved = [m + x for m, x in zip(moved, d)]
    for w, w0, x in zip(q.params, omega, d):
        assert host.allclose(on_host(w), w0 + lr * x, rtol=1e-10, atol=1e-12)


@given_on_backend(seed=seeds, sizes_=sizes, delta=st.floats(1e-3, 2.0), lr=st.floats(0.1, 3.0))
def test_one_inner_step_with_p2_is_the_delta_scaled_normalized_gradient_step(backend_name, float64, seed, sizes_,
                                                                              delta, lr):
    q = quadratic(seed, sizes_)
    omega = [on_host(w) for w in q.params]
    g = q.host_grad(omega)
    norm = math.sqrt(sum(float((x * x).sum()) for x in g))
    FrankWolfe(q.params, lr=lr, delta=delta, K=1, p=2).step(q.closure)
    for w, w0, gi in zip(q.params, omega, g):
        assert host.allclose(on_host(w), w0 - lr * delta * gi / norm, rtol=1e-12, atol=1e-14)


@given_on_backend(seed=seeds, sizes_=sizes, delta=st.floats(1e-3, 2.0), lr=st.floats(0.1, 3.0))
def test_per_tensor_norm_normalizes_each_gradient_by_its_own_norm(backend_name, float64, seed, sizes_, delta, lr):
    q = quadratic(seed, sizes_)
    omega = [on_host(w) for w in q.params]
    g = q.host_grad(omega)
    FrankWolfe(q.params, lr=lr, delta=delta, norm="per_tensor").step(q.closure)
    for w, w0, gi in zip(q.params, omega, g):
        assert host.allclose(on_host(w), w0 - lr * delta * gi / host.sqrt((gi * gi).sum()), rtol=1e-12, atol=1e-14)


@given_on_backend(seed=seeds, sizes_=sizes, delta=st.floats(1e-3, 2.0), lr=st.floats(0.1, 3.0))
def test_one_inner_step_with_p_inf_is_the_sign_step(backend_name, float64, seed, sizes_, delta, lr):
    q = quadratic(seed, sizes_)
    omega = [on_host(w) for w in q.params]
    g = q.host_grad(omega)
    FrankWolfe(q.params, lr=lr, delta=delta, p=math.inf).step(q.closure)
    for w, w0, gi in zip(q.params, omega, g):
        assert host.allclose(on_host(w), w0 - lr * delta * host.sign(gi), rtol=1e-12, atol=1e-14)


@given_on_backend(seed=seeds, n=st.integers(2, 6), p=st.sampled_from([2, math.inf]), radius=st.floats(0.1, 2.0),
                  inside=st.floats(0.0, 0.9), K=st.integers(5, 25), gamma=st.sampled_from(["1/k", "2/(k+1)"]))
def test_inner_loop_gap_on_a_convex_quadratic_obeys_the_frank_wolfe_bound(backend_name, float64, seed, n, p,
                                                                          radius, inside, K, gamma):
    """h_k = F(ω + Δ_k) - min_ball F with the minimum inside the ball: h_k <= 2M/(k+2) for γ_k = 2/(k+1)
    (Jaggi 2013, Thm 1) and h_k <= M H_k / (2k) = O(log k / k) for Algorithm 1's γ_k = 1/k, from the
    recursion h_k <= (1 - γ_k) h_{k-1} + γ_k² M / 2, with M = L diam_2(ball)² the curvature bound."""
    rng = host.random.default_rng(seed)
    (center,), (a,) = random_quadratic(rng, [n])
    offset = rng.standard_normal((1, n))
    offset *= inside * radius / lp(offset, p)      # ω = C - offset puts the minimum C inside the ball
    q = Quadratic([param(center - offset)], [center], [a])
    FrankWolfe(q.params, lr=1.0, delta=radius, K=K, p=p, gamma=gamma).step(q.closure)
    gaps = [q.host_value(seen) for seen in q.seen[1:]] + [q.host_value([on_host(q.params[0])])]
    diameter = 2 * radius * (1.0 if p == 2 else math.sqrt(n))
    M = float(host.linalg.eigvalsh(a).max()) * diameter ** 2
    for k, h in enumerate(gaps, start=1):
        bound = 2 * M / (k + 2) if gamma == "2/(k+1)" else M * sum(1 / j for j in range(1, k + 1)) / (2 * k)
        assert h <= bound * (1 + 1e-9)


@given_on_backend(seed=seeds, sizes_=sizes, delta=st.floats(1e-3, 2.0), eta=st.floats(0.1, 3.0), K=st.integers(1, 4))
def test_outer_sgd_with_lr_eta_delta_equals_the_plain_update_with_lr_eta(backend_name, float64, seed, sizes_, delta,
                                                                         eta, K):
    plain, delegated = quadratic(seed, sizes_), quadratic(seed, sizes_)
    FrankWolfe(plain.params, lr=eta, delta=delta, K=K).step(plain.closure)
    FrankWolfe(delegated.params, lr=0.0, delta=delta, K=K,
               outer=SGD(delegated.params, lr=eta * delta)).step(delegated.closure)
    for a, b in zip(plain.params, delegated.params):
        assert host.allclose(on_host(a), on_host(b), rtol=1e-12, atol=1e-14)


def test_outer_adam_is_stepped_once_with_minus_delta_over_radius_as_gradient(backend_name, float64):
    plain, delegated, reference = quadratic(3, [3, 2]), quadratic(3, [3, 2]), quadratic(3, [3, 2])
    omega = [on_host(w) for w in plain.params]
    FrankWolfe(plain.params, lr=1.0, delta=0.3, K=3).step(plain.closure)
    fw = FrankWolfe(delegated.params, lr=1.0, delta=0.3, K=3, outer=Adam(delegated.params, lr=0.01))
    fw.step(delegated.closure)
    adam = Adam(reference.params, lr=0.01)
    for w, w0, w1 in zip(reference.params, omega, plain.params):
        set_grad(w, -(on_host(w1) - w0) / 0.3)
    adam.step()
    assert delegated.calls == 3
    for a, b in zip(delegated.params, reference.params):
        assert host.array_equal(on_host(a), on_host(b))
    assert fw.outer.state_dict()["state"][0]["step"] == 1


def test_step_returns_the_loss_of_the_first_closure_call(backend_name, float64):
    q = quadratic(0, [3])
    before = q.host_value([on_host(q.params[0])])
    loss = FrankWolfe(q.params, lr=1.0, delta=0.1, K=4).step(q.closure)
    assert float(loss.item()) == pytest.approx(before, rel=1e-12)
    assert q.calls == 4


def test_a_zero_gradient_leaves_the_weights_where_they_are(backend_name):
    w = param([[1.0, -2.0]])

    def closure():
        loss = (w * 0.0).sum()
        loss.backward()
        return loss
    FrankWolfe([w], lr=1.0, delta=0.5, K=3).step(closure)
    assert host.array_equal(on_host(w), [[1.0, -2.0]])


def test_a_parameter_the_loss_does_not_use_is_left_alone(backend_name, float64):
    q = quadratic(1, [2])
    unused = param([[5.0]])
    FrankWolfe(q.params + [unused], lr=1.0, delta=0.2, K=2).step(q.closure)
    assert host.array_equal(on_host(unused), [[5.0]])


def poisoned(q, at_call, value):
    """q's closure, with the gradient of the first parameter poisoned on call ``at_call``."""
    def closure():
        loss = q.closure()
        if q.calls == at_call:
            g = on_host(q.params[0].grad)
            g.flat[0] = value
            set_grad(q.params[0], g)
        return loss
    return closure


@pytest.mark.parametrize("value, kind", [(math.nan, "NaN"), (math.inf, "Inf")])
def test_nonfinite_gradient_in_an_inner_step_raises_and_restores_omega(backend_name, float64, value, kind):
    q = quadratic(2, [3, 2])
    omega = [on_host(w) for w in q.params]
    outer = Adam(q.params, lr=0.1)
    opt = FrankWolfe(q.params, lr=1.0, delta=0.5, K=3, outer=outer)
    with pytest.raises(NonFiniteGradientError, match=f"FrankWolfe: the gradient of parameter 0 .* contains {kind}"):
        opt.step(poisoned(q, 2, value))
    assert all(host.array_equal(on_host(w), w0) for w, w0 in zip(q.params, omega))
    assert outer.state == {}


def test_nonfinite_gradient_with_skip_leaves_weights_and_outer_untouched_and_counts(backend_name, float64):
    q = quadratic(2, [3, 2])
    omega = [on_host(w) for w in q.params]
    outer = Adam(q.params, lr=0.1)
    opt = FrankWolfe(q.params, lr=1.0, delta=0.5, K=3, outer=outer, nonfinite="skip")
    opt.step(poisoned(q, 3, math.nan))
    assert all(host.array_equal(on_host(w), w0) for w, w0 in zip(q.params, omega))
    assert outer.state == {} and opt.skipped_steps == 1
    opt.step(q.closure)
    assert not any(host.array_equal(on_host(w), w0) for w, w0 in zip(q.params, omega))


def test_an_exception_in_the_closure_restores_omega(backend_name, float64):
    q = quadratic(4, [3])
    omega = on_host(q.params[0])

    def closure():
        if q.calls == 2:
            raise KeyError("data ran out")
        return q.closure()
    with pytest.raises(KeyError, match="data ran out"):
        FrankWolfe(q.params, lr=1.0, delta=0.5, K=3).step(closure)
    assert host.array_equal(on_host(q.params[0]), omega)


def test_frank_wolfe_descends_a_quadratic_over_outer_steps(backend_name, float64):
    q = quadratic(5, [4, 3], spread=3.0)
    opt = FrankWolfe(q.params, lr=1.0, delta=0.5, K=5)
    start = q.host_value([on_host(w) for w in q.params])
    for _ in range(30):
        opt.step(q.closure)
    assert q.host_value([on_host(w) for w in q.params]) < 0.05 * start
