"""Layers built from engine operations: Linear, Embedding, BatchNorm, Dropout."""
from __future__ import annotations

from . import backend, init, ops
from .module import Module, Parameter
from .tensor import Tensor


class Linear(Module):
    """y = x W + b.

    Parameters: ``weight`` (in_features, out_features), ``bias`` (out_features,), both
    U(-1/sqrt(in_features), 1/sqrt(in_features)). ``x`` has shape (..., in_features).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, rng=None):
        super().__init__()
        _check_positive("Linear", in_features=in_features, out_features=out_features)
        rng = init.get_rng(rng)
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(init.kaiming_uniform((in_features, out_features), in_features, rng))
        self.bias = Parameter(init.kaiming_uniform((out_features,), in_features, rng)) if bias else None

    def forward(self, x):
        if x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: input has {x.shape[-1]} features in its last axis, expected "
                             f"{self.in_features} (input shape {tuple(x.shape)})")
        y = x @ self.weight
        return y + self.bias if self.bias is not None else y


class Embedding(Module):
    """y[...] = W[idx[...]]: a table ``weight`` of shape (num_embeddings, embedding_dim), N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, rng=None, std: float = 1.0):
        super().__init__()
        _check_positive("Embedding", num_embeddings=num_embeddings, embedding_dim=embedding_dim)
        self.weight = Parameter(init.normal((num_embeddings, embedding_dim), std, init.get_rng(rng)))

    def forward(self, idx):
        return ops.embedding(self.weight, idx)


class BatchNorm(Module):
    """y = gamma * (x - mean) / sqrt(var + eps) + beta over the last axis's features.

    Statistics are taken over every axis but the last: the batch for (B, F) inputs, time and batch
    together for (T, B, F) sequences. In training the batch statistics are used (and differentiated
    through) and the running averages move by ``momentum``; in eval the running averages are used.
    Parameters ``weight`` (gamma, ones) and ``bias`` (beta, zeros); buffers ``running_mean``, ``running_var``.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        _check_positive("BatchNorm", num_features=num_features)
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1], got {momentum}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(init.constant((num_features,), 1.0))
        self.bias = Parameter(init.zeros((num_features,)))
        self.register_buffer("running_mean", init.zeros((num_features,)))
        self.register_buffer("running_var", init.constant((num_features,), 1.0))

    def forward(self, x):
        if x.shape[-1] != self.num_features:
            raise ValueError(f"BatchNorm: input has {x.shape[-1]} features in its last axis, expected "
                             f"{self.num_features}")
        axes = tuple(range(x.ndim - 1))
        if self.training:
            n = x.size // self.num_features
            if n < 2:
                raise ValueError("BatchNorm: training needs more than one value per feature "
                                 f"(input shape {tuple(x.shape)})")
            mean = ops.mean(x, axis=axes, keepdims=True)
            centered = x - mean
            var = ops.mean(centered * centered, axis=axes, keepdims=True)
            m, xp = self.momentum, backend.get_namespace(var.data)
            dtype = self.running_mean.dtype          # the buffers keep their dtype whatever the input's
            batch_mean = xp.astype(xp.reshape(mean.data, (-1,)), dtype)
            unbiased = xp.astype(xp.reshape(var.data, (-1,)), dtype) * (n / (n - 1))
            self.running_mean = (1 - m) * self.running_mean + m * batch_mean
            self.running_var = (1 - m) * self.running_var + m * unbiased
        else:
            centered = x - Tensor.wrap(self.running_mean, False)
            var = Tensor.wrap(self.running_var, False)
        return centered / ops.sqrt(var + self.eps) * self.weight + self.bias


class Dropout(Module):
    """y = x * mask / (1 - p), mask ~ Bernoulli(1 - p), in training only.

    With ``shared_axis=0`` one mask is drawn per sequence and reused at every time step of a (T, B, F)
    input (variational dropout, as the IndRNN reference uses).
    """

    def __init__(self, p: float = 0.5, shared_axis: int | None = None, rng=None):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1), got {p}")
        self.p, self.shared_axis, self.rng = p, shared_axis, init.get_rng(rng)

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        shape = list(x.shape)
        if self.shared_axis is not None:
            shape[self.shared_axis] = 1
        keep = self.rng.random(tuple(shape)) >= self.p
        mask = backend.asarray(keep / (1.0 - self.p), like=x.data, dtype=x.dtype)
        return x * Tensor.wrap(mask, False)


def _check_positive(layer, **sizes):
    for name, value in sizes.items():
        if not isinstance(value, int) or value <= 0:
            raise ValueError(f"{layer}: {name} must be a positive integer, got {value!r}")
