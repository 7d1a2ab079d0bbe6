"""The momentum cells are declarations: each constructor is written from its rule's hyperparameters, with a
signature the registry reads (the rule's keys first, then the base cell's) and the values it was given."""
import inspect

import pytest

import rnnlab.cells as C
from rnnlab.cells.registry import cell_hyperparameters

RNN_KEYS, LSTM_KEYS, ORTHOGONAL_KEYS = ["nonlinearity", "weight_hh_init"], ["forget_bias", "weight_init"], ["skew_init"]
RULE_KEYS = {"Momentum": ["mu", "s"], "Nesterov": ["s", "restart", "form"], "Adam": ["mu", "s", "beta", "eps"],
             "RMSProp": ["s", "beta", "eps"]}
CELLS = [(f"{rule}{base}", keys, base_keys) for rule, keys in RULE_KEYS.items()
         for base, base_keys in (("RNN", RNN_KEYS), ("LSTM", LSTM_KEYS), ("OrthogonalRNN", ORTHOGONAL_KEYS))]


@pytest.mark.parametrize("name, keys, base_keys", CELLS)
def test_constructor_signature_lists_the_rules_keys_then_the_base_cells(name, keys, base_keys):
    cls = getattr(C, name)
    assert list(cell_hyperparameters(cls)) == keys + base_keys
    params = list(inspect.signature(cls).parameters)
    assert params == ["input_size", "hidden_size", *keys, "base"]


def test_defaults_are_the_papers_and_values_reach_the_rule(backend_name):
    defaults = {k: p.default for k, p in cell_hyperparameters(C.AdamLSTM).items()}
    assert defaults == {"mu": 0.9, "s": 0.1, "beta": 0.9, "eps": 1e-8, "forget_bias": 2.0, "weight_init": "reference"}
    assert cell_hyperparameters(C.NesterovRNN)["form"].default == "paper"
    cell = C.MomentumRNN(2, 3, 0.5, 0.25, nonlinearity="relu", rng=0)      # positional, as before
    assert (cell.rule.mu_const, cell.rule.s, cell.nonlinearity) == (0.5, 0.25, "relu")
    rms = C.RMSPropOrthogonalRNN(2, 4, s=0.3, beta=0.5, eps=1e-16, skew_init="henaff", rng=0)
    assert (rms.rule.mu_const, rms.rule.s, rms.rule.beta, rms.rule.eps, rms.skew_init) == (0.0, 0.3, 0.5, 1e-16,
                                                                                         "henaff")


def test_a_bad_hyperparameter_or_base_keyword_is_reported_by_name(backend_name):
    with pytest.raises(ValueError, match=r"^MomentumLSTM: mu must be in \[0, 1\), got 1\.0$"):
        C.MomentumLSTM(2, 3, mu=1.0)
    with pytest.raises(TypeError, match="nonlinearity"):
        C.AdamLSTM(2, 3, nonlinearity="tanh")
