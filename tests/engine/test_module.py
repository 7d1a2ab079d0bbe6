"""Module: registration by attribute, traversal, state dicts, train/eval, moving between backends."""
import numpy as np  # host-side data only
import pytest

import rnnlab
from rnnlab.engine import backend


class Net(rnnlab.Module):
    def __init__(self):
        super().__init__()
        self.scale = rnnlab.Parameter([2.0])
        self.first = rnnlab.Linear(2, 3, rng=0)
        self.blocks = [rnnlab.Linear(3, 3, rng=1), rnnlab.BatchNorm(3)]
        self.shared = self.first.weight          # the same Parameter twice: listed once
        self.not_a_parameter = rnnlab.Tensor([1.0])

    def forward(self, x):
        h = self.first(x)
        for block in self.blocks:
            h = block(h)
        return h * self.scale


NAMES = ["scale", "shared", "first.weight", "first.bias", "blocks.0.weight", "blocks.0.bias",
         "blocks.1.weight", "blocks.1.bias"]


def test_parameters_are_registered_by_attribute_once_each_in_order(backend_name):
    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [n for n in NAMES if n != "first.weight"]      # the module's own first, then submodules
    assert net.parameters()[1] is net.first.weight
    assert all(isinstance(p, rnnlab.Parameter) and p.requires_grad for p in net.parameters())
    assert isinstance(net.blocks, rnnlab.ModuleList) and len(net.blocks) == 2


def test_reassigning_an_attribute_unregisters_the_old_parameter(backend_name):
    net = Net()
    net.scale = 3.0
    assert "scale" not in dict(net.named_parameters())


class Counter(rnnlab.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("count", rnnlab.asarray(np.zeros(2)))

    def forward(self):
        self.count = self.count + 1.0                  # a new array under the buffer's name


def test_a_buffer_reassigned_to_a_new_array_stays_a_registered_buffer(backend_name):
    m = Counter()
    m()
    m()
    assert [name for name, _ in m.named_buffers()] == ["count"]
    np.testing.assert_array_equal(m.state_dict()["count"], [2.0, 2.0])
    fresh = Counter()
    fresh.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(rnnlab.to_numpy(fresh.count), [2.0, 2.0])
    m.count = rnnlab.Parameter([1.0])                  # something that is not an array takes the name over
    assert list(m.named_buffers()) == [] and [n for n, _ in m.named_parameters()] == ["count"]


def test_batchnorm_running_statistics_stay_buffers_after_training_steps(backend_name, float64):
    layer = rnnlab.BatchNorm(3)
    for _ in range(2):
        layer(rnnlab.Tensor(np.arange(12.0).reshape(4, 3)))
    assert [name for name, _ in layer.named_buffers()] == ["running_mean", "running_var"]


def test_state_dict_holds_host_arrays_of_parameters_and_buffers(backend_name):
    state = Net().state_dict()
    assert {"blocks.1.running_mean", "blocks.1.running_var", "first.bias"} <= set(state)
    assert all(isinstance(v, np.ndarray) for v in state.values())


def test_state_dict_round_trip_restores_every_value_on_any_backend(backend_name):
    with rnnlab.use_backend("numpy"):
        source = Net()
        source.first.bias.data = source.first.bias.data + 1.0
        source.blocks[1](rnnlab.Tensor(np.arange(6.0).reshape(2, 3)))     # moves the running statistics
        state = source.state_dict()
    target = Net()
    target.load_state_dict(state)
    for key, value in target.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    assert rnnlab.get_namespace(target.first.bias.data) is rnnlab.get_namespace(rnnlab.Tensor([0.0]).data)
    assert backend.device_of(target.blocks[1].running_mean) == backend.device_of(rnnlab.Tensor([0.0]).data)


def test_load_state_dict_reports_missing_and_unexpected_keys(backend_name):
    state = Net().state_dict()
    del state["first.bias"]
    state["extra"] = np.zeros(1)
    with pytest.raises(KeyError, match=r"load_state_dict: missing keys \['first.bias'\], unexpected keys \['extra'\]"):
        Net().load_state_dict(state)
    Net().load_state_dict(state, strict=False)     # non-strict loads what matches


def test_load_state_dict_reports_a_shape_mismatch(backend_name):
    state = Net().state_dict()
    state["first.bias"] = np.zeros(4)
    with pytest.raises(ValueError,
                       match=r"load_state_dict: first.bias has shape \(4,\) in the state but \(3,\) in the module"):
        Net().load_state_dict(state)


def test_train_and_eval_reach_every_submodule(backend_name):
    net = Net()
    assert net.eval() is net
    assert not any(m.training for _, m in net.named_modules())
    net.train()
    assert all(m.training for _, m in net.named_modules())


def test_to_moves_parameters_and_buffers_and_clears_gradients(backend_name):
    net = Net()
    before = net.state_dict()
    net(rnnlab.Tensor(np.ones((4, 2)))).sum().backward()
    target = ("strict", "device1") if backend_name == "numpy" else ("numpy", None)
    assert net.to(*target) is net
    with rnnlab.use_backend(*target):
        xp = backend.active_namespace()
    assert all(rnnlab.get_namespace(p.data) is xp and p.grad is None for p in net.parameters())
    assert all(rnnlab.get_namespace(b) is xp for _, b in net.named_buffers())
    after = net.state_dict()
    for key in before:
        if "running" not in key:
            np.testing.assert_array_equal(after[key], before[key], err_msg=key)


def test_zero_grad_clears_every_parameter(backend_name):
    net = Net()
    net(rnnlab.Tensor(np.ones((4, 2)))).sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    net.zero_grad()
    assert all(p.grad is None for p in net.parameters())
