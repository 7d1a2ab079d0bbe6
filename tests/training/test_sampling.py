"""sample_text: min-char-rnn's sampling loop (feed, draw from softmax(y / tau), feed back), seeded apart from
training, on every backend."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import rnnlab
from rnnlab.engine import init
from rnnlab.engine.module import Module
from rnnlab.engine.tensor import Tensor
from rnnlab.training.sampling import sample_text

ALPHABET = "\n abcd"


class FixedLogits(Module):
    """A 'model' whose logits ignore the input: y (k, 1, V) = ``logits`` every step; it records what it was fed."""

    def __init__(self, logits):
        super().__init__()
        self.logits = rnnlab.Parameter(rnnlab.asarray(np.asarray(logits, dtype=np.float64)))
        self.fed, self.t0s = [], []

    def forward(self, x, state=None, t0=0):
        self.fed.append(rnnlab.to_numpy(x.data)[:, 0].tolist())
        self.t0s.append(t0)
        k = x.shape[0]
        return self.logits.reshape(1, 1, -1) * Tensor(rnnlab.asarray(np.ones((k, 1, 1)))), (state or 0) + 1


class NextLetter(Module):
    """A 'model' that always predicts the character after its input (cyclically), with margin ``margin``."""

    def __init__(self, margin=5.0):
        super().__init__()
        self.weight = rnnlab.Parameter(rnnlab.asarray(margin * np.roll(np.eye(len(ALPHABET)), 1, axis=1)))

    def forward(self, x, state=None, t0=0):
        ids = rnnlab.to_numpy(x.data)
        onehot = rnnlab.asarray(np.eye(len(ALPHABET))[ids])
        return Tensor(onehot) @ self.weight, state


def test_the_sample_is_seeded_and_the_prime_feeds_the_first_step(backend_name):
    with rnnlab.use_backend(backend_name):
        model = FixedLogits([0.0, 1.0, 2.0, 0.5, 0.0, 1.0])
        a = sample_text(model, ALPHABET, 40, seed=[3, 1])
        fed = list(model.fed)
        assert sample_text(model, ALPHABET, 40, seed=[3, 1]) == a
        assert sample_text(model, ALPHABET, 40, seed=[3, 2]) != a
    assert len(a) == 40 and set(a) <= set(ALPHABET)
    assert fed[0] == [ALPHABET.index("\n")] and [f[0] for f in fed[1:]] == [ALPHABET.index(c) for c in a[:-1]]
    assert model.t0s[:3] == [0, 1, 2]                 # the momentum clock runs on across the fed steps


def test_sampling_leaves_the_global_generator_and_training_mode_alone():
    model = FixedLogits([0.0, 1.0, 2.0, 0.5, 0.0, 1.0])
    init.manual_seed(7)
    before = init.get_rng(None).bit_generator.state
    sample_text(model, ALPHABET, 20, seed=0)
    assert init.get_rng(None).bit_generator.state == before
    assert model.training


@settings(deadline=None)
@given(st.sampled_from([0.5, 1.0, 2.0]), st.integers(0, 2**16))
def test_characters_come_at_the_softmax_of_logits_over_temperature(tau, seed):
    logits = np.array([0.0, 1.0, 2.0, -1.0, 0.5, 1.5])
    p = np.exp(logits / tau) / np.exp(logits / tau).sum()
    n = 3000
    text = sample_text(FixedLogits(logits), ALPHABET, n, temperature=tau, seed=seed)
    counts = np.array([text.count(c) for c in ALPHABET])
    # each count is binomial(n, p_c): 5 standard deviations, so a right sampler fails about once in 10^6 draws
    assert np.all(np.abs(counts - n * p) <= 5 * np.sqrt(n * p * (1 - p)) + 1), (counts, n * p)


def test_a_low_temperature_writes_the_most_likely_characters():
    text = sample_text(NextLetter(margin=2.0), ALPHABET, 12, temperature=0.01, seed=0, prime="a")
    assert text == "bcd\n abcd\n a"
    noisy = sample_text(NextLetter(margin=2.0), ALPHABET, 200, temperature=5.0, seed=0, prime="a")
    follows = sum(ALPHABET.index(b) == (ALPHABET.index(a) + 1) % 6 for a, b in zip("a" + noisy, noisy))
    assert follows < 120                               # at tau = 5 the margin 2 is nearly flattened away


@pytest.mark.parametrize("kwargs, message", [
    ({"length": -1}, "length must be an integer >= 0"), ({"length": 2.0}, "length must be an integer"),
    ({"temperature": 0.0}, "temperature must be a positive number, got 0.0"),
    ({"temperature": math.nan}, "temperature must be a positive number"),
    ({"prime": ""}, "prime must hold at least one character"),
    ({"prime": "xyz"}, "prime line 1 has the character 'x', which is not in the training alphabet")])
def test_impossible_arguments_are_refused_naming_them(kwargs, message):
    args = {"length": 5, **kwargs}
    with pytest.raises((ValueError, rnnlab.datasets.DataFormatError), match="sample_text: " + message):
        sample_text(NextLetter(), ALPHABET, args.pop("length"), **args)


def test_length_zero_is_the_empty_text():
    assert sample_text(NextLetter(), ALPHABET, 0) == ""
