"""rnnlab: a from-scratch reverse-mode autodiff engine that trains recurrent networks with explicit BPTT.

    import rnnlab
    x = rnnlab.Tensor([[1.0, 2.0]], requires_grad=True)
    y = rnnlab.tanh(x @ rnnlab.Tensor([[0.5], [-0.3]])).sum()
    y.backward()
    x.grad
"""
from .engine import backend
from .engine.backend import (BackendError, asarray, current_backend, get_default_dtype, get_namespace,
                             set_default_dtype, to_numpy, use_backend)
from .engine.function import Function
from .engine.ops import *  # noqa: F401,F403
from .engine.ops import __all__ as _ops_all
from .engine.expm import expm
from .engine.gradcheck import GradcheckError, gradcheck
from .engine.init import manual_seed
from .engine.layers import BatchNorm, Dropout, Embedding, Linear
from .engine.module import Module, ModuleList, Parameter
from .engine.tensor import Tensor, enable_grad, no_grad

from . import cells, datasets, optim  # noqa: E402  (rnnlab.cells etc. after a plain import)

__version__ = "0.1.0"
__all__ = ["cells", "datasets", "optim", "Tensor", "Function", "no_grad", "enable_grad", "use_backend", "current_backend",
           "get_namespace", "asarray", "to_numpy", "set_default_dtype", "get_default_dtype",
           "BackendError", "backend", "gradcheck", "GradcheckError", "expm", "manual_seed", "Module", "ModuleList",
           "Parameter", "Linear", "Embedding", "BatchNorm", "Dropout", "load_run", *_ops_all]


def __getattr__(name):
    """``rnnlab.load_run``: imported on first use, so that ``import rnnlab`` does not load the training program."""
    if name == "load_run":
        from .training.saved import load_run
        return load_run
    raise AttributeError(f"module 'rnnlab' has no attribute {name!r}")
