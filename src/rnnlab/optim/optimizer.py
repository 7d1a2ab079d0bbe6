"""``Optimizer``: the base of every optimizer -- parameter groups, ``step``, ``zero_grad`` and state.

A subclass declares its hyperparameters (``defaults``) and how to check them (``_check_hyper``), and writes
``_update(group, params, grads)``: the new ``p.data`` for each parameter of one group, given the gradients.
The base collects the gradients, refuses or skips a step whose gradients hold NaN or Inf (``nonfinite``),
and converts the state to host arrays and back (``state_dict`` / ``load_state_dict``).
"""
from __future__ import annotations

import math
import numbers

from ..engine import backend
from ..engine.tensor import Tensor, enable_grad

NONFINITE_MODES = ("raise", "skip")


class NonFiniteGradientError(FloatingPointError):
    """A gradient holds NaN or Inf; the parameters were left as they were before the step."""


class Optimizer:
    """Updates a list of parameters from their gradients.

    ``params``: an iterable of Tensors (Parameters), or of dicts ``{"params": [...], "lr": ..., ...}`` --
    parameter groups, each with its own hyperparameters (those it leaves out take the defaults).
    ``nonfinite``: ``"raise"`` (a :class:`NonFiniteGradientError` naming the parameter) or ``"skip"``
    (the step is skipped and ``skipped_steps`` counts it); the parameters are untouched either way.

    ``state_dict()`` holds only host NumPy arrays and plain Python values, so a state saved on one backend
    loads on another; parameters are named by their position in the groups.
    """

    def __init__(self, params, defaults: dict, nonfinite: str = "raise"):
        self.defaults = dict(defaults)
        self._check_hyper(self.defaults, "")
        if nonfinite not in NONFINITE_MODES:
            raise ValueError(f"{self._name}: nonfinite must be one of {', '.join(map(repr, NONFINITE_MODES))}, "
                             f"got {nonfinite!r}")
        self.nonfinite = nonfinite
        self.skipped_steps = 0
        self.param_groups: list[dict] = []
        self.state: dict[int, dict] = {}    # id(parameter) -> that parameter's state
        if isinstance(params, (Tensor, dict)):
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of parameter-group dicts, "
                            f"got a single {type(params).__name__}; wrap it in a list")
        try:
            items = list(params)
        except TypeError:
            raise TypeError(f"{self._name}: params must be an iterable of Tensors or of parameter-group "
                            f"dicts, got {type(params).__name__}") from None
        if not items:
            raise ValueError(f"{self._name}: params is empty; give at least one parameter")
        groups = items if isinstance(items[0], dict) else [{"params": items}]
        for group in groups:
            self.add_param_group(group)

    @property
    def _name(self) -> str:
        return type(self).__name__

    # ------------------------------------------------------------------ groups
    def add_param_group(self, group: dict) -> None:
        """Append a group ``{"params": [...], hyperparameter: value, ...}``; missing values take the defaults."""
        where = f"param group {len(self.param_groups)}: "
        if not isinstance(group, dict) or "params" not in group:
            raise TypeError(f"{self._name}: {where}expected a dict with a 'params' key, got "
                            f"{type(group).__name__}")
        unknown = sorted(set(group) - set(self.defaults) - {"params"})
        if unknown:
            raise ValueError(f"{self._name}: {where}unknown hyperparameter(s) {unknown}; known: "
                             f"{sorted(self.defaults)}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
        if not params:
            raise ValueError(f"{self._name}: {where}params is empty")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{self._name}: {where}params[{i}] must be a Tensor (a Parameter), "
                                f"got {type(p).__name__}: {p!r}")
            if not p.requires_grad:
                raise ValueError(f"{self._name}: {where}params[{i}] (shape {p.shape}) does not require grad")
            if id(p) in seen:
                raise ValueError(f"{self._name}: {where}params[{i}] (shape {p.shape}) appears twice; a "
                                 "parameter may be in one group only, once")
            seen.add(id(p))
        full = dict(self.defaults)
        full.update({k: v for k, v in group.items() if k != "params"})
        self._check_hyper(full, where)
        full["params"] = params
        self.param_groups.append(full)

    def _check_hyper(self, group: dict, where: str) -> None:
        """Raise ValueError naming the hyperparameter and its value when one is out of range."""

    def _require(self, ok: bool, where: str, name: str, value, must: str) -> None:
        if not ok:
            raise ValueError(f"{self._name}: {where}{name} must be {must}, got {value!r}")

    def _require_real(self, group: dict, where: str, name: str, low: float = 0.0, high: float = math.inf,
                      low_open: bool = False, high_open: bool = True) -> None:
        """``group[name]`` is a real number in the interval from ``low`` to ``high`` (NaN, bools refused)."""
        value = group[name]
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and not math.isnan(value)
        ok = ok and (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
        interval = f"{'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
        self._require(ok, where, name, value, f"a number in {interval}")

    @property
    def params(self) -> list:
        """Every parameter, group by group."""
        return [p for g in self.param_groups for p in g["params"]]

    # ------------------------------------------------------------------ stepping
    def zero_grad(self) -> None:
        """Clear every parameter's gradient (``grad = None``)."""
        for p in self.params:
            p.grad = None

    def step(self, closure=None):
        """One update from the parameters' current gradients.

        ``closure`` (optional): a callable that clears the gradients, recomputes the loss with backward, and
        returns it; it is called first. Returns the closure's loss, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._check_all_hyper()
        groups = [(g, [p for p in g["params"] if p.grad is not None]) for g in self.param_groups]
        if not self.grads_finite([p for _, ps in groups for p in ps]):
            return loss
        for group, params in groups:
            if params:
                new = self._update(group, params, [p.grad for p in params])
                for p, data in zip(params, new):
                    p.data = data
        return loss

    def _update(self, group: dict, params: list, grads: list) -> list:
        """The new data of each parameter in ``params`` (those of ``group`` that have a gradient)."""
        raise NotImplementedError

    def _check_all_hyper(self) -> None:
        """Check every group again (a schedule or a user may have changed a value since)."""
        for i, g in enumerate(self.param_groups):
            self._check_hyper(g, f"param group {i}: " if len(self.param_groups) > 1 else "")

    def grads_finite(self, params) -> bool:
        """True when every gradient of ``params`` (None counts as zero) is finite.

        Otherwise raises :class:`NonFiniteGradientError` naming the parameter (``nonfinite="raise"``), or
        counts a skipped step and returns False (``nonfinite="skip"``).
        """
        checks = []
        for p in params:
            if p.grad is not None:
                xp = backend.get_namespace(p.grad)
                checks.append(xp.all(xp.isfinite(p.grad)))
        if not checks:
            return True
        xp = backend.get_namespace(*checks)
        every = checks[0]
        for c in checks[1:]:
            every = xp.logical_and(every, c)
        if bool(every):
            return True
        if self.nonfinite == "skip":
            self.skipped_steps += 1
            return False
        index = {id(p): i for i, p in enumerate(self.params)}
        for p in params:
            if p.grad is None:
                continue
            xp = backend.get_namespace(p.grad)
            if not bool(xp.all(xp.isfinite(p.grad))):
                kind = "NaN" if bool(xp.any(xp.isnan(p.grad))) else "Inf"
                raise NonFiniteGradientError(
                    f"{self._name}: the gradient of parameter {index[id(p)]} (shape {p.shape}) contains "
                    f"{kind}; the parameters were left unchanged (pass nonfinite='skip' to skip such steps)")
        raise AssertionError("unreachable")  # pragma: no cover

    # ------------------------------------------------------------------ state
    def state_of(self, p) -> dict:
        """The (mutable) state dict of parameter ``p``."""
        return self.state.setdefault(id(p), {})

    def state_dict(self) -> dict:
        """``{"state": {index: {name: value}}, "param_groups": [...], "extra": {...}}``; arrays on the host.

        Parameters are numbered 0, 1, ... across the groups in order; each group lists its numbers and
        its hyperparameters. Array state is copied to NumPy; everything else is a plain Python value.
        """
        state, groups, n = {}, [], 0
        for g in self.param_groups:
            numbers_ = []
            for p in g["params"]:
                if id(p) in self.state:
                    state[n] = {k: _to_host(v) for k, v in self.state[id(p)].items()}
                numbers_.append(n)
                n += 1
            groups.append({**{k: v for k, v in g.items() if k != "params"}, "params": numbers_})
        return {"state": state, "param_groups": groups, "extra": self._extra_state()}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a :meth:`state_dict` onto this optimizer's parameters (on their current backend)."""
        where = f"{self._name}.load_state_dict"
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{where}: the state has {len(saved_groups)} parameter groups, this optimizer "
                             f"has {len(self.param_groups)}")
        by_number = {}
        for i, (saved, group) in enumerate(zip(saved_groups, self.param_groups)):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(f"{where}: group {i} has {len(saved['params'])} parameters in the state, "
                                 f"{len(group['params'])} here")
            by_number.update(zip(saved["params"], group["params"]))
        new_state = {}
        for number, entries in state_dict["state"].items():
            if int(number) not in by_number:
                raise ValueError(f"{where}: the state names parameter {number}, which no group of the state holds")
            p = by_number[int(number)]
            restored = {}
            for name, value in entries.items():
                if isinstance(value, backend.host.ndarray):
                    if value.ndim and tuple(value.shape) != p.shape:
                        raise ValueError(f"{where}: state {name!r} of parameter {number} has shape "
                                         f"{tuple(value.shape)}, the parameter has shape {p.shape}")
                    value = backend.asarray(value, like=p.data, dtype=value.dtype, copy=True)
                restored[name] = value
            new_state[id(p)] = restored
        hyper = []
        for saved, group in zip(saved_groups, self.param_groups):
            values = {k: v for k, v in saved.items() if k != "params"}
            self._check_hyper({**group, **values}, "load_state_dict: ")
            hyper.append(values)
        self._load_extra_state(state_dict.get("extra", {}))
        self.state = new_state
        for values, group in zip(hyper, self.param_groups):
            group.update(values)

    def _extra_state(self) -> dict:
        return {"skipped_steps": self.skipped_steps}

    def _load_extra_state(self, extra: dict) -> None:
        self.skipped_steps = int(extra.get("skipped_steps", 0))

    def __repr__(self):
        lines = [f"{self._name} ("]
        for i, g in enumerate(self.param_groups):
            hyper = ", ".join(f"{k}={v!r}" for k, v in g.items() if k != "params")
            lines.append(f"  group {i}: {len(g['params'])} parameters, {hyper}")
        return "\n".join(lines + [")"])


def _to_host(value):
    """A state value as the host sees it: backend arrays become NumPy copies, the rest stays."""
    if backend.namespace_of(value) is not None:
        return backend.to_numpy(value).copy()
    return value
