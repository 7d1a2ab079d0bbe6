"""Every name the training program accepts, each registered once, and the builders behind the names.

* cells: :data:`rnnlab.cells.CELLS` (``@register_cell`` beside each class; hyperparameters from the
  constructor's signature);
* tasks: :data:`rnnlab.datasets.TASKS` (``@register_task`` beside each factory; options from its signature);
* optimizers (:data:`OPTIMIZERS`) and schedules (:data:`SCHEDULES`): name -> builder, here;
* backends: :data:`rnnlab.engine.backend.BACKENDS`.

:func:`choices` gives, for every configuration key that takes a name, the names it accepts: the
configuration's checks, ``rnnlab train --help``, the README's table and the experiments all read it.
"""
from __future__ import annotations

from .. import optim
from ..cells import CELLS
from ..cells.momentum_rules import NESTEROV_FORMS
from ..cells.orthogonal import SKEW_INITS
from ..cells.rnn import NONLINEARITIES
from ..datasets import TASKS
from ..datasets.mnist import PIXEL_SCALES
from ..engine.backend import BACKENDS
from ..optim.frank_wolfe import NORMS as FW_NORMS

DTYPES = ("float32", "float64")
MOMENTUM_CLOCKS = ("sequence", "chunk")
"""``sequence``: a momentum cell's step index runs on across a PTB stream's chunks; ``chunk``: it restarts at
every chunk, as the MomentumRNN authors' PTB code does."""


def _sgd(cfg, params, lr):
    return optim.SGD(params, lr=lr, momentum=cfg.momentum, nesterov=cfg.nesterov, weight_decay=cfg.weight_decay)


def _adam(cfg, params, lr):
    return optim.Adam(params, lr=lr, weight_decay=cfg.weight_decay)


def _rmsprop(cfg, params, lr):
    return optim.RMSProp(params, lr=lr, alpha=cfg.alpha, momentum=cfg.momentum, weight_decay=cfg.weight_decay)


STEP_OPTIMIZERS = {"sgd": _sgd, "adam": _adam, "rmsprop": _rmsprop}
"""Optimizers that take one gradient per step: name -> builder(cfg, params, lr)."""


def _frank_wolfe(cfg, params):
    outer = None if cfg.fw_outer == "none" else STEP_OPTIMIZERS[cfg.fw_outer](cfg, params, cfg.lr)
    fw = optim.FrankWolfe(params, lr=cfg.lr if outer is None else 0.0, delta=cfg.fw_delta, K=cfg.fw_k,
                          p=cfg.fw_p, outer=outer, norm=cfg.fw_norm, cumulative=cfg.fw_cumulative)
    scaled = [(fw, ("lr", "delta") if outer is None else ("delta",))]
    if outer is not None:
        scaled.append((outer, ("lr",)))
    return fw, scaled


def _step_optimizer(name):
    def build(cfg, params):
        opt = STEP_OPTIMIZERS[name](cfg, params, cfg.lr)
        return opt, [(opt, ("lr",))]
    return build


OPTIMIZERS = {**{name: _step_optimizer(name) for name in STEP_OPTIMIZERS}, "fw": _frank_wolfe}
"""``--optimizer`` name -> builder(cfg, params) -> (optimizer, [(optimizer, keys a schedule scales)])."""

SCHEDULES = {
    "none": None,
    "step": lambda cfg, o, keys: optim.StepDecay(o, cfg.lr_step, cfg.lr_decay, keys=keys),
    "exp": lambda cfg, o, keys: optim.ExponentialDecay(o, cfg.lr_decay, keys=keys),
    "plateau": lambda cfg, o, keys: optim.ReduceOnPlateau(o, factor=cfg.lr_decay, patience=cfg.patience, keys=keys),
}
"""``--schedule`` name -> builder(cfg, optimizer, keys) (``plateau`` steps on the validation loss)."""


def build_optimizer(cfg, params):
    """The optimizer ``cfg.optimizer`` and what the schedule scales (for FW with an outer optimizer: both)."""
    return OPTIMIZERS[cfg.optimizer](cfg, params)


def build_schedulers(cfg, scaled) -> list:
    make = SCHEDULES[cfg.schedule]
    return [] if make is None else [make(cfg, o, keys) for o, keys in scaled]


def choices() -> dict[str, tuple]:
    """Configuration key -> the names it accepts (cells as registered now, plugins included)."""
    return {
        "task": tuple(TASKS), "cell": tuple(CELLS), "optimizer": tuple(OPTIMIZERS), "schedule": tuple(SCHEDULES),
        "backend": BACKENDS, "dtype": DTYPES, "nonlinearity": NONLINEARITIES,
        "fw_outer": ("none", *STEP_OPTIMIZERS), "fw_norm": FW_NORMS, "skew_init": SKEW_INITS,
        "nesterov_form": NESTEROV_FORMS, "momentum_clock": MOMENTUM_CLOCKS, "pixels": PIXEL_SCALES,
    }


def orthogonal_cells() -> tuple:
    """The registered cells that DTRIV can re-base (they have ``rebase``)."""
    return tuple(name for name, cls in CELLS.items() if hasattr(cls, "rebase"))


__all__ = ["choices", "build_optimizer", "build_schedulers", "OPTIMIZERS", "STEP_OPTIMIZERS", "SCHEDULES",
           "DTYPES", "MOMENTUM_CLOCKS", "orthogonal_cells"]
