"""A momentum rule the kernels do not know runs the readable loop, never a kernel, and its gradients are right.

The trap this guards: a new one-state rule looks like heavy ball to anything that counts states, so with numba
installed it could be computed as heavy ball while every strict-backend test passes. Here a rule that declares
no ``kernel_kind`` (a new class, and a subclass of ``HeavyBall`` that changes its math) must run the loop on
every backend, agree with the composed path, and pass gradcheck."""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import rnnlab
import rnnlab.cells as C
from rnnlab.cells import kernels
from rnnlab.cells.fused import choose_path, empty_like_steps, flush_tiny
from rnnlab.cells.momentum_rules import HeavyBall, Rule


class Smoothed(Rule):
    """An exponential moving average of the projection: v_t = mu v_{t-1} + (1 - mu) a_t; drive_t = v_t.
    BPTT: dv_t = g_t + mu dv_{t+1}, dL/da_t = (1 - mu) dv_t, dL/dv_0 = mu dv_1."""

    state_names = ("v",)

    def __init__(self, mu: float):
        self.mu_value = mu

    def step(self, a, states, t: int):
        v = self.mu_value * states[0] + (1 - self.mu_value) * a
        return v, (v,)

    def scan(self, xp, A, states, t0: int):
        V = empty_like_steps(xp, A, A.shape[0], A.shape[-1])
        v = states[0]
        for k in range(A.shape[0]):
            v = self.mu_value * v + (1 - self.mu_value) * A[k, ...]
            V[k, ...] = v
        return V, (v,), None

    def scan_backward(self, xp, cache, dV, dfinals):
        dv = dfinals[0]
        dA = empty_like_steps(xp, dV, dV.shape[0], dV.shape[-1])
        for k in range(dV.shape[0] - 1, -1, -1):
            dv = dv + dV[k, ...]
            dA[k, ...] = flush_tiny(xp, (1 - self.mu_value) * dv)
            dv = flush_tiny(xp, self.mu_value * dv)
        return dA, (dv,)


class SquaredStep(HeavyBall):
    """Heavy ball with its step size squared (v_t = mu v_{t-1} + s^2 a_t): a subclass that changes the math
    without declaring a kernel_kind; the heavy-ball kernel would compute s, not s^2."""

    def __init__(self, owner, s, mu):
        super().__init__(owner, s * s, mu)
        self.s_given = s


RULES = {"Smoothed": lambda: Smoothed(0.6), "SquaredStep": lambda: SquaredStep("SquaredStep", 0.5, 0.7)}


def _cell(base: str, rule_name: str, H: int, D: int, seed: int):
    cell = getattr(C, f"Momentum{base}")(D, H, rng=seed)
    cell.rule = RULES[rule_name]()
    return cell


@pytest.mark.parametrize("rule_name", sorted(RULES))
@pytest.mark.parametrize("base", ["RNN", "LSTM", "OrthogonalRNN"])
def test_a_rule_that_declares_no_kernel_kind_runs_the_loop_and_says_why(base, rule_name, backend_name):
    cell = _cell(base, rule_name, 3, 2, 0)
    assert cell.rule.kernel_kind is None
    xp = rnnlab.backend.get_namespace(cell.weight_ih.data)
    path = choose_path(cell.core, cell.rule, xp)
    assert path.name == "loop" and not path.fast
    if rnnlab.backend.is_numpy(xp) and kernels.available() and kernels.enabled():
        assert path.reason == f"the momentum rule {type(cell.rule).__name__} declares no kernel_kind"


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(base=st.sampled_from(["RNN", "LSTM", "OrthogonalRNN"]), rule_name=st.sampled_from(sorted(RULES)),
       T=st.integers(1, 4), B=st.integers(1, 2), D=st.integers(1, 3), H=st.integers(1, 3),
       seed=st.integers(0, 2**32 - 1))
def test_a_new_rule_gradchecks_on_the_loop_and_equals_the_composed_path(base, rule_name, T, B, D, H, seed,
                                                                       backend_name, float64, paths_taken):
    rng = np.random.default_rng(seed)
    x = rnnlab.Tensor(rng.standard_normal((T, B, D)), requires_grad=True)
    outs = []
    for fused in (True, False):
        cell = _cell(base, rule_name, H, D, seed)
        rnn = C.Recurrent(cell, fused=fused)
        assert rnnlab.gradcheck(lambda x, *ps: rnn(x)[0], [x, *rnn.parameters()])
        outs.append(rnnlab.to_numpy(rnn(x)[0].data))
    assert paths_taken and set(paths_taken) == {"loop"}, paths_taken
    np.testing.assert_allclose(outs[0], outs[1], rtol=1e-10, atol=1e-12)
