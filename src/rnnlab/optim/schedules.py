"""Schedules that change any hyperparameter of an optimizer's groups: step decay, exponential decay,
reduce-on-plateau.

Each scheduler moves the hyperparameters named in ``keys`` (default ``("lr",)``) of every parameter group;
``keys=("lr", "delta")`` makes the Frank-Wolfe radius δ decay with the learning rate, as in the paper.
Call ``step()`` once per epoch (or per update: the unit is yours); ``ReduceOnPlateau.step(metric)`` takes the
monitored value. ``state_dict()`` / ``load_state_dict()`` hold plain Python values.
"""
from __future__ import annotations

import copy
import math
import numbers

from .optimizer import Optimizer


class Scheduler:
    """Base: remembers each group's starting value of each key and sets ``group[key]`` on ``step``."""

    def __init__(self, optimizer: Optimizer, keys=("lr",)):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{self._name}: optimizer must be an rnnlab.optim optimizer, got "
                            f"{type(optimizer).__name__}")
        keys = (keys,) if isinstance(keys, str) else tuple(keys)
        if not keys:
            raise ValueError(f"{self._name}: keys is empty; name at least one hyperparameter, such as 'lr'")
        for key in keys:
            if key == "params" or key not in optimizer.defaults:
                raise ValueError(f"{self._name}: keys: {key!r} is not a hyperparameter of "
                                 f"{type(optimizer).__name__} (it has {sorted(optimizer.defaults)})")
            for i, g in enumerate(optimizer.param_groups):
                if not isinstance(g[key], numbers.Real) or isinstance(g[key], bool):
                    raise ValueError(f"{self._name}: keys: {key!r} of param group {i} is {g[key]!r}, "
                                     "not a number a schedule can scale")
        self.optimizer, self.keys = optimizer, keys
        self.base_values = [{k: g[k] for k in keys} for g in optimizer.param_groups]
        self.last_epoch = 0

    @property
    def _name(self) -> str:
        return type(self).__name__

    def _check(self, ok: bool, name: str, value, must: str) -> None:
        if not ok:
            raise ValueError(f"{self._name}: {name} must be {must}, got {value!r}")

    def _set(self, factor: float) -> None:
        for base, group in zip(self.base_values, self.optimizer.param_groups):
            for k in self.keys:
                group[k] = base[k] * factor

    def current(self) -> list[dict]:
        """The scheduled values now, group by group."""
        return [{k: g[k] for k in self.keys} for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """Every attribute but the optimizer and the keys: plain Python values."""
        return copy.deepcopy({k: v for k, v in vars(self).items() if k not in ("optimizer", "keys")})

    def load_state_dict(self, state: dict) -> None:
        if len(state["base_values"]) != len(self.optimizer.param_groups):
            raise ValueError(f"{self._name}.load_state_dict: the state has {len(state['base_values'])} "
                             f"parameter groups, the optimizer has {len(self.optimizer.param_groups)}")
        for key, value in copy.deepcopy(state).items():
            setattr(self, key, value)


class StepDecay(Scheduler):
    """value_e = value_0 · γ^floor(e / step_size) after e calls of ``step()``."""

    def __init__(self, optimizer, step_size: int, gamma: float = 0.1, keys=("lr",)):
        super().__init__(optimizer, keys)
        self._check(isinstance(step_size, numbers.Integral) and not isinstance(step_size, bool)
                    and step_size >= 1, "step_size", step_size, "an integer >= 1")
        self._check(_positive(gamma), "gamma", gamma, "a number > 0")
        self.step_size, self.gamma = int(step_size), float(gamma)

    def step(self) -> None:
        self.last_epoch += 1
        self._set(self.gamma ** (self.last_epoch // self.step_size))


class ExponentialDecay(Scheduler):
    """value_e = value_0 · γ^e after e calls of ``step()``."""

    def __init__(self, optimizer, gamma: float, keys=("lr",)):
        super().__init__(optimizer, keys)
        self._check(_positive(gamma), "gamma", gamma, "a number > 0")
        self.gamma = float(gamma)

    def step(self) -> None:
        self.last_epoch += 1
        self._set(self.gamma ** self.last_epoch)


class ReduceOnPlateau(Scheduler):
    """Multiply the values by ``factor`` when the metric has not improved for more than ``patience`` steps.

    As ``torch.optim.lr_scheduler.ReduceLROnPlateau``: with ``mode="min"`` a metric m improves on the best
    b when m < b (1 - threshold) (``threshold_mode="rel"``) or m < b - threshold (``"abs"``); ``"max"``
    mirrors this. After a reduction, ``cooldown`` steps pass before bad steps are counted again. No value
    goes below ``min_value`` (a number, or a dict by key). ``num_reductions`` counts the reductions so far.
    """

    def __init__(self, optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_value=0.0, keys=("lr",)):
        super().__init__(optimizer, keys)
        self._check(mode in ("min", "max"), "mode", mode, "'min' or 'max'")
        self._check(_positive(factor) and factor < 1, "factor", factor, "a number in (0, 1)")
        for name, value in (("patience", patience), ("cooldown", cooldown)):
            self._check(isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 0,
                        name, value, "an integer >= 0")
        self._check(_positive(threshold) or threshold == 0, "threshold", threshold, "a number >= 0")
        self._check(threshold_mode in ("rel", "abs"), "threshold_mode", threshold_mode, "'rel' or 'abs'")
        mins = min_value if isinstance(min_value, dict) else {k: min_value for k in self.keys}
        for k in self.keys:
            self._check(_positive(mins.get(k, 0.0)) or mins.get(k, 0.0) == 0, f"min_value[{k!r}]",
                        mins.get(k), "a number >= 0")
        self.mode, self.factor, self.patience, self.threshold = mode, float(factor), int(patience), threshold
        self.threshold_mode, self.cooldown = threshold_mode, int(cooldown)
        self.min_value = {k: float(mins.get(k, 0.0)) for k in self.keys}
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_steps = 0
        self.cooldown_counter = 0
        self.num_reductions = 0

    def _improves(self, metric: float) -> bool:
        rel = self.threshold_mode == "rel"
        if self.mode == "min":
            return metric < (self.best * (1.0 - self.threshold) if rel else self.best - self.threshold)
        return metric > (self.best * (1.0 + self.threshold) if rel else self.best + self.threshold)

    def step(self, metric) -> None:
        metric = float(metric)
        self.last_epoch += 1
        if self._improves(metric):
            self.best, self.num_bad_steps = metric, 0
        else:
            self.num_bad_steps += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_steps = 0
        if self.num_bad_steps > self.patience:
            for group in self.optimizer.param_groups:
                for k in self.keys:
                    group[k] = max(group[k] * self.factor, self.min_value[k])
            self.num_reductions += 1
            self.cooldown_counter, self.num_bad_steps = self.cooldown, 0


def _positive(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool) and x > 0 and math.isfinite(x)
