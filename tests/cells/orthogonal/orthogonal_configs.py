"""Generated configurations of the orthogonal cells, built on the cell tests' helpers (``cell_configs``)."""
from __future__ import annotations

import numpy as np
from tests.cells.cell_configs import Config, host_inputs, tensors
from hypothesis import strategies as st

import rnnlab
import rnnlab.cells as C
from rnnlab.cells import orthogonal as O

FAMILIES = ["OrthogonalRNN", "MomentumOrthogonalRNN", "NesterovOrthogonalRNN", "AdamOrthogonalRNN",
            "RMSPropOrthogonalRNN"]

_mu = st.floats(0.0, 0.95)
_s = st.floats(0.1, 1.5)
_beta = st.floats(0.05, 0.95)
_eps = st.floats(1e-4, 1e-1)
_init = st.sampled_from(O.SKEW_INITS)

HYPERPARAMETERS = {
    "OrthogonalRNN": st.fixed_dictionaries({"skew_init": _init}),
    "MomentumOrthogonalRNN": st.fixed_dictionaries({"mu": _mu, "s": _s, "skew_init": _init}),
    "NesterovOrthogonalRNN": st.fixed_dictionaries({"s": _s, "restart": st.integers(0, 4),
                                                    "form": st.sampled_from(["paper", "ptb-code"])}),
    "AdamOrthogonalRNN": st.fixed_dictionaries({"mu": _mu, "s": _s, "beta": _beta, "eps": _eps}),
    "RMSPropOrthogonalRNN": st.fixed_dictionaries({"s": _s, "beta": _beta, "eps": _eps}),
}


@st.composite
def configs(draw, family, T=None, max_layers=2, max_size=4):
    T = st.integers(1, 8) if T is None else T
    layers = draw(st.integers(1, max_layers))
    return Config(family, draw(T), draw(st.integers(1, 3)), draw(st.integers(1, 3)),
                  [draw(st.integers(1, max_size)) for _ in range(layers)], draw(HYPERPARAMETERS[family]),
                  draw(st.integers(0, 2 ** 16)), draw(st.integers(0, 5)))


def build(config: Config, fused: bool, randomize: bool = True) -> C.Recurrent:
    """A seeded stack; with ``randomize`` every parameter is drawn N(0, 0.5^2), the cells rebased (so B_0 is a
    random orthogonal matrix, not I) and every parameter drawn again (so A is not 0)."""
    cls = getattr(O, config.family)
    ins = [config.D] + config.sizes[:-1]
    rnn = C.Recurrent([cls(i, h, rng=config.seed + l, **config.hyper) for l, (i, h) in
                       enumerate(zip(ins, config.sizes))], fused=fused)
    if randomize:
        rng = np.random.default_rng(config.seed + 1000)
        for draw in range(2):
            for p in rnn.parameters():
                p.data = rnnlab.asarray(0.5 * rng.standard_normal(tuple(p.shape)), like=p.data)
            if draw == 0:
                for cell in rnn.cells:
                    cell.rebase()
    return rnn


def kink_margin(config: Config) -> float:
    """How far the forward stays from modReLU's kinks: min over steps and units of |z| and ||z| + b|.

    modReLU(z) = sign(z) relu(|z| + b) jumps at z = 0 (for b > 0) and bends at |z| = -b; a finite
    difference across either is meaningless, so gradient tests keep only inputs whose margin is wide.
    """
    rnn = build(config, fused=False)
    x_host, state_host = host_inputs(config, rnn)
    x, state = tensors(x_host, state_host)
    seen = []

    def recording(z, bias):
        zh, bh = rnnlab.to_numpy(z.data), rnnlab.to_numpy(bias.data)
        seen.append(min(np.abs(zh).min(), np.abs(np.abs(zh) + bh).min()))
        return original(z, bias)

    original = O.modrelu
    O.modrelu = recording
    try:
        with rnnlab.no_grad():
            rnn(x, state, t0=config.t0)
    finally:
        O.modrelu = original
    return float(min(seen))
