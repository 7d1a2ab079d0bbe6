"""Generated cell configurations shared by the tests of rnnlab.cells: hypothesis strategies for every family's
hyperparameters, a builder of seeded stacks, and helpers that run a stack and collect every gradient."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as C
from rnnlab.cells.momentum_rules import NESTEROV_FORMS

# The backend and float64 fixtures only select a backend and a dtype: safe to share across generated examples.
FIXTURE_SETTINGS = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
# For the tests parametrized over every family, path and backend (each example runs dozens of forwards):
# a third of the profile's examples per parametrization (5 in ci), scaled with the profile.
FEWER_EXAMPLES = settings(FIXTURE_SETTINGS, max_examples=max(2, settings.default.max_examples // 3))

FAMILIES = ["RNN", "IndRNN", "LSTM", "GRU", "MomentumRNN", "MomentumLSTM", "NesterovRNN", "NesterovLSTM",
            "AdamRNN", "AdamLSTM", "RMSPropRNN", "RMSPropLSTM"]

_mu = st.floats(0.0, 0.95)
_s = st.floats(0.1, 1.5)
_beta = st.floats(0.05, 0.95)
_eps = st.floats(1e-4, 1e-1)
_form = st.sampled_from(NESTEROV_FORMS)

HYPERPARAMETERS = {
    "RNN": st.fixed_dictionaries({"nonlinearity": st.sampled_from(["tanh", "relu"])}),
    # mag >= 1.5 keeps the bound above the randomized |u| <= 1, so no clamp is active during gradcheck
    "IndRNN": st.fixed_dictionaries({"mag": st.floats(1.5, 10.0)}),
    "LSTM": st.fixed_dictionaries({"forget_bias": st.floats(-1.0, 2.0)}),
    "GRU": st.just({}),
    "MomentumRNN": st.fixed_dictionaries({"mu": _mu, "s": _s, "nonlinearity": st.sampled_from(["tanh", "relu"])}),
    "MomentumLSTM": st.fixed_dictionaries({"mu": _mu, "s": _s}),
    "NesterovRNN": st.fixed_dictionaries({"s": _s, "restart": st.integers(0, 4), "form": _form}),
    "NesterovLSTM": st.fixed_dictionaries({"s": _s, "restart": st.integers(0, 4), "form": _form}),
    "AdamRNN": st.fixed_dictionaries({"mu": _mu, "s": _s, "beta": _beta, "eps": _eps}),
    "AdamLSTM": st.fixed_dictionaries({"mu": _mu, "s": _s, "beta": _beta, "eps": _eps}),
    "RMSPropRNN": st.fixed_dictionaries({"s": _s, "beta": _beta, "eps": _eps}),
    "RMSPropLSTM": st.fixed_dictionaries({"s": _s, "beta": _beta, "eps": _eps}),
}


@dataclass
class Config:
    family: str
    T: int
    B: int
    D: int
    sizes: list
    hyper: dict = field(default_factory=dict)
    seed: int = 0
    t0: int = 0


@st.composite
def configs(draw, family, T=st.integers(1, 8), max_layers=2, max_size=4):
    layers = draw(st.integers(1, max_layers))
    return Config(family, draw(T), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                  [draw(st.integers(1, max_size)) for _ in range(layers)], draw(HYPERPARAMETERS[family]),
                  draw(st.integers(0, 2 ** 16)), draw(st.integers(0, 5)))


def make_cells(config: Config) -> list:
    cls = getattr(C, config.family)
    ins = [config.D] + config.sizes[:-1]
    return [cls(i, h, rng=config.seed + k, **config.hyper) for k, (i, h) in enumerate(zip(ins, config.sizes))]


def build(config: Config, fused: bool, randomize: bool = True, **kwargs) -> C.Recurrent:
    """A seeded stack; with ``randomize`` every parameter is redrawn N(0, 0.5^2) (IndRNN's u: U(-1, 1)) so
    that no weight block is zero (the reference LSTM init zeroes most of W_hh, which would hide bugs)."""
    rnn = C.Recurrent(make_cells(config), fused=fused, **kwargs)
    if randomize:
        rng = np.random.default_rng(config.seed + 1000)
        for name, p in rnn.named_parameters():
            shape = tuple(p.shape)
            value = rng.uniform(-1, 1, shape) if (config.family == "IndRNN" and name.endswith("weight_hh")) \
                else 0.5 * rng.standard_normal(shape)
            p.data = rnnlab.asarray(value, like=p.data)
    return rnn


def host_inputs(config: Config, rnn: C.Recurrent):
    """x (T, B, D) ~ N(0, 1) and an initial state per layer (N(0, 0.5^2); m states |N| + 0.1 >= 0)."""
    rng = np.random.default_rng(config.seed + 2000)
    x = rng.standard_normal((config.T, config.B, config.D))
    state = []
    for cell in rnn.cells:
        layer = []
        for name, shape in zip(cell.state_names, cell.state_shapes(config.B)):
            v = 0.5 * rng.standard_normal(shape)
            layer.append(np.abs(v) + 0.1 if name == "m" else v)
        state.append(layer)
    return x, state


def tensors(x, state):
    """Host arrays as Tensors on the active backend that require grad (x, nested state)."""
    return (rnnlab.Tensor(x, requires_grad=True),
            tuple(tuple(rnnlab.Tensor(s, requires_grad=True) for s in layer) for layer in state))


def flat(state):
    return [s for layer in state for s in layer]


def nest(flat_states, rnn):
    out, k = [], 0
    for cell in rnn.cells:
        n = len(cell.state_names)
        out.append(tuple(flat_states[k:k + n]))
        k += n
    return tuple(out)


def run_with_grads(rnn, x_host, state_host, seed=0, t0=0, loss_states=None):
    """Forward, then backward of L = <V, outputs> + sum_l <W_l, final state_l> (random V, W; only the first
    ``loss_states`` entries of each layer's state when given); returns host arrays: outputs, final states,
    dL/dx, dL/dstate0 (each), dL/dparam (each)."""
    x, state = tensors(x_host, state_host)
    out, final = rnn(x, state, t0=t0)
    rng = np.random.default_rng(seed + 3000)
    loss = (out * rnnlab.Tensor(rng.standard_normal(out.shape))).sum()
    for s in flat(tuple(layer[:loss_states] for layer in final)):
        loss = loss + (s * rnnlab.Tensor(rng.standard_normal(s.shape))).sum()
    rnn.zero_grad()
    loss.backward()
    result = {"outputs": out.numpy()}
    result.update({f"final[{i}]": s.numpy() for i, s in enumerate(flat(final))})
    result["dx"] = rnnlab.to_numpy(x.grad)
    result.update({f"dstate0[{i}]": rnnlab.to_numpy(s.grad) for i, s in enumerate(flat(state))})
    result.update({f"d{name}": rnnlab.to_numpy(p.grad) for name, p in rnn.named_parameters()})
    return result


def both_paths(config: Config, builder=None, **kwargs) -> list:
    """:func:`run_with_grads` of ``config`` on the fused path, then on the composed path (``builder``: how to
    build the network, :func:`build` by default)."""
    results = []
    for fused in (True, False):
        rnn = (builder or build)(config, fused, **kwargs)
        x, state = host_inputs(config, rnn)
        results.append(run_with_grads(rnn, x, state, seed=config.seed, t0=config.t0))
    return results


def assert_same(a: dict, b: dict, rtol=1e-10, atol=1e-10):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_allclose(a[key], b[key], rtol=rtol, atol=atol, err_msg=key)


def check_gradients(rnn: C.Recurrent, config: Config, fast: bool) -> None:
    """gradcheck of ``rnn``'s outputs and final state wrt x, the initial state and every parameter."""
    x_host, state_host = host_inputs(config, rnn)
    x, state = tensors(x_host, state_host)
    states = flat(state)

    def fn(x, *rest):
        out, final = rnn(x, nest(rest[:len(states)], rnn), t0=config.t0)
        return (out, *flat(final))

    assert rnnlab.gradcheck(fn, [x, *states, *rnn.parameters()], fast=fast)
