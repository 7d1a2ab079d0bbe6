"""Text sampled from a character model, as min-char-rnn does it: feed a character, draw the next from the
model's softmax, feed that one back.

At temperature tau the next character c is drawn with probability

    p_c = exp(y_c / tau) / sum_j exp(y_j / tau),     y = h_t W + b  (the read-out's logits, one row (V,)),

so tau = 1 draws from the model's own predicted distribution, tau < 1 sharpens it toward the most likely
characters (tau -> 0: always the argmax; safe, repetitive text) and tau > 1 flattens it toward uniform noise.
The draws come from their own seeded generator (host NumPy, ``seed``), never from the one that initializes
weights and shuffles data, so sampling changes nothing about the training that follows.
"""
from __future__ import annotations

from ..datasets.ptb_chars import LINE_END, decode_text, encode_text
from ..engine import backend
from ..engine.backend import to_numpy
from ..engine.tensor import Tensor, no_grad

__all__ = ["sample_text", "SAMPLE_START", "SAMPLE_STREAM"]

SAMPLE_START = LINE_END
"""What a sample is primed with by default: a line end, so the model starts a new sentence."""
SAMPLE_STREAM = 5
"""``rnnlab train`` seeds the sample of step s with [seed, SAMPLE_STREAM, s]: a stream of its own, apart from
the weights' [seed, 1..4, ...]."""


def sample_text(model, alphabet: str, length: int, *, temperature: float = 1.0, seed=0,
                prime: str = SAMPLE_START) -> str:
    """``length`` characters the model writes after ``prime`` (which is not included).

    ``model(x, state, t0=t) -> (logits (k, 1, V), state)`` with x (k, 1) character ids, as
    :class:`rnnlab.training.model.SequenceModel` (or any model with that call) does; ``alphabet``: id i is
    ``alphabet[i]``; ``temperature`` tau > 0 (see the module); ``seed``: anything
    ``numpy.random.default_rng`` takes. The model runs in evaluation mode without a graph and is put back
    in training mode.
    """
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise ValueError(f"sample_text: length must be an integer >= 0 (characters), got {length!r}")
    if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or not temperature > 0:
        raise ValueError(f"sample_text: temperature must be a positive number, got {temperature!r}")
    if not prime:
        raise ValueError("sample_text: prime must hold at least one character (the model needs an input)")
    ids = encode_text(prime, alphabet, where="sample_text: prime")
    host = backend.host
    rng = host.random.default_rng(seed)
    drawn = []
    x = host.asarray(ids, dtype="int64")[:, None]                   # (k, 1): the prime, then one id a step
    state, t = None, 0
    like = model.parameters()[0].data                               # the model's backend and device
    model.eval()
    try:
        with no_grad():
            for _ in range(length):
                logits, state = model(Tensor(backend.asarray(x, like=like, dtype="int64")), state, t0=t)
                t += x.shape[0]
                y = to_numpy(logits.data)[-1, 0].astype("float64") / temperature
                p = host.exp(y - y.max())
                c = int(rng.choice(len(p), p=p / p.sum()))
                drawn.append(c)
                x = host.asarray([[c]], dtype="int64")
    finally:
        model.train()
    return decode_text(drawn, alphabet)
