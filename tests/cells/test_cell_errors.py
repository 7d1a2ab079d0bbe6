"""Bad input is refused with an error that names the class, the argument and what was expected."""
import numpy as np
import pytest

import rnnlab
import rnnlab.cells as C
from rnnlab.cells.base import Cell


@pytest.mark.parametrize("make, match", [
    (lambda: C.RNN(0, 3), "RNN: input_size must be a positive integer, got 0"),
    (lambda: C.LSTM(2, -1), "LSTM: hidden_size must be a positive integer, got -1"),
    (lambda: C.GRU(2.5, 3), "GRU: input_size must be a positive integer, got 2.5"),
    (lambda: C.RNN(2, 3, nonlinearity="sigmoid"), "RNN: nonlinearity must be one of 'tanh', 'relu', got 'sigmoid'"),
    (lambda: C.RNN(2, 3, weight_hh_init="zeros"), "RNN: weight_hh_init must be one of 'uniform', 'orthogonal'"),
    (lambda: C.LSTM(2, 3, weight_init="xavier"), "LSTM: weight_init must be one of 'reference', 'uniform'"),
    (lambda: C.IndRNN(2, 3, mag=0.0), r"IndRNN: mag must be in \(0, inf\), got 0.0"),
    (lambda: C.IndRNN(2, 3, mag=-2), r"IndRNN: mag must be in \(0, inf\), got -2"),
    (lambda: C.IndRNN(2, 3, seq_len=0), "IndRNN: seq_len must be a positive integer, got 0"),
    (lambda: C.MomentumRNN(2, 3, mu=1.0), r"MomentumRNN: mu must be in \[0, 1\), got 1.0"),
    (lambda: C.MomentumLSTM(2, 3, mu=-0.1), r"MomentumLSTM: mu must be in \[0, 1\), got -0.1"),
    (lambda: C.MomentumLSTM(2, 3, s=0.0), r"MomentumLSTM: s must be in \(0, inf\), got 0.0"),
    (lambda: C.NesterovRNN(2, 3, s=-1.0), r"NesterovRNN: s must be in \(0, inf\), got -1.0"),
    (lambda: C.NesterovLSTM(2, 3, restart=-1), "NesterovLSTM: restart must be an integer >= 0, got -1"),
    (lambda: C.NesterovRNN(2, 3, restart=1.5), "NesterovRNN: restart must be an integer >= 0, got 1.5"),
    (lambda: C.AdamRNN(2, 3, beta=1.0), r"AdamRNN: beta must be in \(0, 1\), got 1.0"),
    (lambda: C.AdamLSTM(2, 3, beta=0.0), r"AdamLSTM: beta must be in \(0, 1\), got 0.0"),
    (lambda: C.AdamLSTM(2, 3, mu=1.5), r"AdamLSTM: mu must be in \[0, 1\), got 1.5"),
    (lambda: C.AdamRNN(2, 3, eps=0.0), r"AdamRNN: eps must be in \(0, inf\), got 0.0"),
    (lambda: C.RMSPropRNN(2, 3, beta=1.5), r"RMSPropRNN: beta must be in \(0, 1\), got 1.5"),
    (lambda: C.RMSPropLSTM(2, 3, s=0), r"RMSPropLSTM: s must be in \(0, inf\), got 0"),
    (lambda: C.Recurrent(C.RNN(2, 3), dropout=1.0), r"Recurrent: dropout must be in \[0, 1\), got 1.0"),
    (lambda: C.Recurrent([C.RNN(2, 3), C.LSTM(4, 3)]),
     "Recurrent: layer 1 \\(LSTM\\) has input_size 4, but layer 0 outputs hidden_size 3"),
])
def test_invalid_sizes_and_hyperparameters_are_refused_naming_the_argument(backend_name, make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("cells", [[], "RNN", [C.RNN]])
def test_recurrent_needs_cells(backend_name, cells):
    with pytest.raises(TypeError, match="Recurrent: cells must be a Cell or a non-empty list of Cells"):
        C.Recurrent(cells)


def _lstm_stack():
    return C.Recurrent([C.LSTM(2, 4, rng=0), C.MomentumRNN(4, 3, rng=1)])


def _x(shape):
    return rnnlab.Tensor(np.zeros(shape, dtype="float32"))


@pytest.mark.parametrize("shape, match", [
    ((5, 2), r"Recurrent: x must be time-major with shape \(T, B, input_size=2\), got 2 dimensions"),
    ((5, 1, 2, 1), r"Recurrent: x must be time-major with shape \(T, B, input_size=2\), got 4 dimensions"),
    ((5, 2, 3), "Recurrent: x has 3 features in its last axis, expected input_size=2"),
    ((0, 2, 2), "Recurrent: x has T = 0 time steps; a sequence needs at least one"),
    ((4, 0, 2), "Recurrent: x has a batch of 0 sequences"),
])
def test_recurrent_refuses_inputs_of_the_wrong_shape(backend_name, shape, match):
    with pytest.raises(ValueError, match=match):
        _lstm_stack()(_x(shape))


def test_recurrent_refuses_inputs_of_another_dtype_than_its_parameters(backend_name):
    with pytest.raises(TypeError, match="Recurrent: x has dtype float64 but the parameters are float32"):
        _lstm_stack()(rnnlab.Tensor(rnnlab.asarray(np.zeros((3, 2, 2)), dtype="float64")))


def _zeros(*shape):
    return _x(shape)


@pytest.mark.parametrize("make_state, match", [
    (lambda: (_zeros(2, 4),), r"Recurrent: state must be a tuple with one state tuple per layer \(2\), got 1"),
    (lambda: (_zeros(2, 4), _zeros(2, 4)),
     r"Recurrent: state\[0\] must be a tuple of 2 tensors \('h', 'c'\), got Tensor"),
    (lambda: ((_zeros(2, 4),), (_zeros(2, 3), _zeros(2, 3))),
     r"Recurrent: state\[0\] must be a tuple of 2 tensors \('h', 'c'\), got 1 entries"),
    (lambda: ((_zeros(2, 4), _zeros(3, 4)), (_zeros(2, 3), _zeros(2, 3))),
     r"Recurrent: state\[0\]\[1\] \(c\) has shape \(3, 4\), expected \(2, 4\)"),
    (lambda: ((_zeros(2, 4), _zeros(2, 4)), (_zeros(2, 3), _zeros(2, 4))),
     r"Recurrent: state\[1\]\[1\] \(v\) has shape \(2, 4\), expected \(2, 3\)"),
    (lambda: ((_zeros(2, 4), np.zeros((2, 4))), (_zeros(2, 3), _zeros(2, 3))),
     r"Recurrent: state\[0\]\[1\] \(c\) must be a Tensor, got ndarray"),
    (lambda: None, None),
])
def test_recurrent_refuses_a_state_of_the_wrong_structure_or_shape(backend_name, make_state, match):
    rnn = _lstm_stack()
    if match is None:  # the control: a None state means zeros, and works
        outputs, state = rnn(_x((3, 2, 2)))
        assert outputs.shape == (3, 2, 3) and [s.shape for s in state[1]] == [(2, 3), (2, 3)]
        return
    with pytest.raises(ValueError, match=match):
        rnn(_x((3, 2, 2)), make_state())


def test_recurrent_refuses_a_negative_step_index(backend_name):
    with pytest.raises(ValueError, match="Recurrent: t0 must be an integer >= 0, got -1"):
        _lstm_stack()(_x((3, 2, 2)), t0=-1)


def test_a_single_checked_cell_step_refuses_bad_input_and_state(backend_name):
    cell = C.LSTM(2, 4, rng=0)
    with pytest.raises(ValueError, match=r"LSTM: x_t must have shape \(batch, input_size=2\), got shape \(3, 5\)"):
        cell(_zeros(3, 5))
    with pytest.raises(ValueError, match=r"LSTM: state must be a tuple of 2 tensors \('h', 'c'\), got 1 entries"):
        cell(_zeros(3, 2), (_zeros(3, 4),))
    h, c = cell(_zeros(3, 2))
    assert h.shape == c.shape == (3, 4)


def test_grad_norms_before_recording_or_before_backward_is_an_error(backend_name):
    rnn = C.Recurrent(C.RNN(2, 3, rng=0))
    with pytest.raises(RuntimeError, match=r"Recurrent.grad_norms: nothing recorded; call rnn\(x, record_grad_norms"):
        rnn.grad_norms
    x = rnnlab.Tensor(np.ones((4, 1, 2), dtype="float32"), requires_grad=True)
    outputs, _ = rnn(x, record_grad_norms=True)
    with pytest.raises(RuntimeError, match="Recurrent.grad_norms: backward\\(\\) has not run"):
        rnn.grad_norms
    outputs.sum().backward()
    assert rnn.grad_norms[0].shape == (4,)


class _NoCore(C.RNN):
    def __init__(self):
        super().__init__(2, 3, rng=0)
        self.core = None


class _NoPaths(C.RNN):
    """A core, but neither the fused path's core_params nor the composed path's recur."""

    core_params = Cell.core_params
    recur = Cell.recur


@pytest.mark.parametrize("fused", [True, False])
def test_a_cell_subclass_without_a_core_says_to_set_one(backend_name, fused):
    with pytest.raises(NotImplementedError, match=r"_NoCore: a Cell subclass must set core, the raw-array loops "
                                                  r"of its family \(an object with state_names, n_params"):
        C.Recurrent(_NoCore(), fused=fused)(_x((3, 1, 2)))


@pytest.mark.parametrize("fused, match", [
    (True, r"_NoPaths: the fused path \(Recurrent\(\.\.\., fused=True\), cell\.sequence\) needs core_params\(\), "
           r"the parameters the core's forward and backward take, in their order; implement it, or use fused=False"),
    (False, r"_NoPaths: the composed path \(Recurrent\(\.\.\., fused=False\), cell\.step\) needs "
            r"recur\(drive, state\), one step of the family's recurrence"),
])
def test_a_cell_subclass_without_a_path_says_what_to_implement(backend_name, fused, match):
    with pytest.raises(NotImplementedError, match=match):
        C.Recurrent(_NoPaths(2, 3, rng=0), fused=fused)(_x((3, 1, 2)))


@pytest.mark.parametrize("which", ["weight_hh", "h0"])
def test_a_wrong_gradient_shape_from_a_core_is_named_by_its_parameter_or_state(which, backend_name, float64):
    """The fused backward's shape error names what the gradient is for (the attribute, or the initial state),
    not a position; a subclass with no fast_kinds runs its own (here broken) loop on every backend."""
    from rnnlab.cells.rnn import RNNCore

    class WrongShape(RNNCore):
        def backward(self, xp, cache, dhs, dfinals, norms=None):
            dZ, (dU,), (dh0,) = super().backward(xp, cache, dhs, dfinals, norms)
            if which == "weight_hh":
                return dZ, (dU[:, :1],), (dh0,)
            return dZ, (dU,), (dh0[:, :1],)

    cell = C.RNN(2, 3, rng=0)
    cell.core = WrongShape("tanh")
    x = rnnlab.Tensor(np.ones((4, 2, 2)), requires_grad=True)
    out, _ = C.Recurrent(cell, fused=True)(x, ((rnnlab.Tensor(np.zeros((2, 3)), requires_grad=True),),))
    expected = r"weight_hh \(3, 3\)" if which == "weight_hh" else r"h0 \(2, 3\)"
    with pytest.raises(rnnlab.engine.errors.FunctionError, match=rf"the gradient for {expected} has shape"):
        out.sum().backward()
