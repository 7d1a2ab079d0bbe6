"""Every cell with a compiled kernel: the kernel path = the readable loop = the composed path (outputs, final
states and every gradient, float64, 1e-10), over generated T, B, sizes, hyperparameters, initial momentum
states and t0. The kernels are the numpy backend's; on strict the fused path runs the loop (checked too).
The switch (``kernels.disabled()``, ``RNNLAB_KERNELS=0``) really selects the loop, and a kernel's cache is
released once backward has run."""
import gc
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.cells.cell_configs import FAMILIES, FEWER_EXAMPLES, Config, assert_same, build, configs, host_inputs, \
    run_with_grads

import rnnlab.cells as cells
from rnnlab.cells import FusedSequence, kernels
from rnnlab.cells.fused import kernels_in_use
from rnnlab.cells.momentum import InputMomentum

KERNEL_FAMILIES = FAMILIES   # every registered family of cell_configs has a core kernel now
needs_numba = pytest.mark.skipif(not kernels.available(), reason=f"no numba: {kernels.unavailable_reason()}")


def kernel_path(family: str) -> str:
    """The fused path a family takes on the kernels: the plain cells' compiled pair from x, the momentum cells'
    pair with the rule inside the core's loop."""
    return "rule kernel" if issubclass(getattr(cells, family), InputMomentum) else "kernel"


def _run(config, fused):
    rnn = build(config, fused)
    x, state = host_inputs(config, rnn)
    return run_with_grads(rnn, x, state, seed=config.seed, t0=config.t0)


def _three_paths(config, backend_name, paths_taken):
    paths_taken.clear()     # one list for all the generated examples of a test
    kernel = _run(config, True)
    kernel_paths = list(paths_taken)
    with kernels.disabled():
        loop = _run(config, True)
    loop_paths = paths_taken[len(kernel_paths):]
    composed = _run(config, False)
    # the MNIST code's Nesterov cell puts h_{t-1} inside the momentum: its own loop, no kernel
    on_kernels = backend_name == "numpy" and kernels.available() and config.hyper.get("form") != "mnist-code"
    expected = kernel_path(config.family) if on_kernels else "loop"
    assert kernel_paths and all(p == expected for p in kernel_paths), (kernel_paths, expected)
    assert loop_paths and all(p == "loop" for p in loop_paths), loop_paths
    return kernel, loop, composed


@pytest.mark.parametrize("family", KERNEL_FAMILIES)
@FEWER_EXAMPLES
@given(data=st.data())
def test_kernel_equals_readable_loop_equals_composed(family, backend_name, float64, paths_taken, data):
    config = data.draw(configs(family, T=st.integers(1, 12), max_layers=2, max_size=5))
    kernel, loop, composed = _three_paths(config, backend_name, paths_taken)
    assert_same(kernel, loop)
    assert_same(loop, composed)


@pytest.mark.parametrize("family", ["LSTM", "GRU", "IndRNN", "AdamLSTM", "NesterovRNN"])
def test_kernel_equals_loop_across_the_lstm_backward_chunks_and_a_long_sequence(family, backend_name, float64,
                                                                                 paths_taken):
    hyper = {"restart": 3} if family == "NesterovRNN" else {}
    kernel, loop, _ = _three_paths(Config(family, T=37, B=3, D=2, sizes=[4], hyper=hyper, seed=9, t0=5),
                                   backend_name, paths_taken)
    assert_same(kernel, loop)


@needs_numba
def test_environment_switch_and_context_manager_select_the_loop(monkeypatch, backend_name):
    import rnnlab
    xp = rnnlab.backend.get_namespace(rnnlab.Tensor([0.0]).data)
    on = kernels if backend_name == "numpy" else None     # strict and cupy arrays never use the kernels
    assert kernels_in_use(xp) is on
    with kernels.disabled():
        assert kernels_in_use(xp) is None
        with kernels.disabled():
            pass
        assert kernels_in_use(xp) is None, "leaving a nested disabled() keeps the outer one"
    assert kernels_in_use(xp) is on
    monkeypatch.setenv("RNNLAB_KERNELS", "0")
    assert kernels_in_use(xp) is None
    monkeypatch.setenv("RNNLAB_KERNELS", "1")
    assert kernels_in_use(xp) is on
    monkeypatch.setenv("RNNLAB_KERNELS", "off")
    with pytest.raises(ValueError, match=r"RNNLAB_KERNELS must be 0 \(readable loops\) or 1 .* got 'off'"):
        kernels.enabled()


@needs_numba
@pytest.mark.parametrize("family", ["LSTM", "RNN", "GRU", "IndRNN", "MomentumLSTM", "AdamRNN", "OrthogonalRNN",
                                    "MomentumOrthogonalRNN"])
def test_kernel_cache_is_released_once_backward_has_run(family, monkeypatch, float64):
    """On numpy only: the caches are the kernels'."""
    import rnnlab
    held = []
    original = FusedSequence.forward

    def forward(self, *arrays):
        result = original(self, *arrays)
        held.append(weakref.ref(self.cache))
        return result

    monkeypatch.setattr(FusedSequence, "forward", forward)
    config = Config(family, T=4, B=2, D=2, sizes=[3], seed=1)
    rnn = build(config, True)
    x, state = host_inputs(config, rnn)
    out, final = rnn(rnnlab.Tensor(x, requires_grad=True))
    gc.collect()
    assert held and all(ref() is not None for ref in held), "the cache lives until backward"
    out.sum().backward()
    gc.collect()
    assert all(ref() is None for ref in held), "backward released the kernel's cache (and its buffers)"
    assert out.shape == (4, 2, 3)

