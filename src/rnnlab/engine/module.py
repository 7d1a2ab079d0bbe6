"""``Module`` and ``Parameter``: containers that find their trainable tensors by attribute."""
from __future__ import annotations

from . import backend
from .tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module registers as trainable (``requires_grad=True``)."""

    __slots__ = ()

    def __init__(self, data, name: str | None = None):
        super().__init__(data, requires_grad=True, name=name)


class Module:
    """Base class of layers and models.

    Assigning a :class:`Parameter`, a Module or a list of Modules to an attribute registers it;
    ``register_buffer`` registers non-trainable state (such as batch-norm running statistics), and a buffer
    stays registered when a new array is assigned to it (``self.running_mean = ...``).
    ``parameters()``, ``named_parameters()``, ``state_dict()`` / ``load_state_dict()``,
    ``train()`` / ``eval()`` and ``to(backend)`` then work over the whole tree.
    """

    def __init__(self):
        object.__setattr__(self, "_params", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "training", True)

    def __setattr__(self, name, value):
        if "_params" not in self.__dict__:
            raise RuntimeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if name in self._buffers and backend.namespace_of(value) is not None:
            object.__setattr__(self, name, value)     # a buffer given a new array stays a buffer
            return
        for registry in (self._params, self._modules, self._buffers):
            registry.pop(name, None)
        if isinstance(value, Parameter):
            self._params[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        elif isinstance(value, (list, tuple)) and value and all(isinstance(m, Module) for m in value):
            value = ModuleList(value)
            self._modules[name] = value
        object.__setattr__(self, name, value)

    def register_buffer(self, name: str, array) -> None:
        """Register ``array`` (a backend array) as non-trainable state: saved by ``state_dict``, moved by ``to``."""
        self._buffers[name] = True
        object.__setattr__(self, name, array)

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def forward(self, *args, **kwargs):
        raise NotImplementedError

    # ------------------------------------------------------------------ traversal
    def named_modules(self, prefix: str = ""):
        yield prefix, self
        for name, m in self._modules.items():
            yield from m.named_modules(f"{prefix}{name}.")

    def named_parameters(self):
        """(dotted name, Parameter) pairs, each parameter once, in registration order."""
        seen = set()
        for prefix, m in self.named_modules():
            for name, p in m._params.items():
                if id(p) not in seen:
                    seen.add(id(p))
                    yield prefix + name, p

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        for prefix, m in self.named_modules():
            for name in m._buffers:
                yield prefix + name, getattr(m, name)

    def zero_grad(self) -> None:
        for p in self.parameters():
            p.grad = None

    def train(self, mode: bool = True) -> "Module":
        for _, m in self.named_modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    # ------------------------------------------------------------------ state
    def state_dict(self) -> dict:
        """Every parameter and buffer as a host NumPy array, by dotted name (backend-independent)."""
        out = {name: backend.to_numpy(p.data).copy() for name, p in self.named_parameters()}
        out.update({name: backend.to_numpy(b).copy() for name, b in self.named_buffers()})
        return out

    def load_state_dict(self, state: dict, strict: bool = True) -> None:
        """Copy arrays from ``state`` into the parameters and buffers, onto their current backend."""
        targets = {name: p for name, p in self.named_parameters()}   # a shared Parameter under one name
        for prefix, m in self.named_modules():
            for name in m._buffers:
                targets[prefix + name] = (m, name)
        missing = [k for k in targets if k not in state]
        unexpected = [k for k in state if k not in targets]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}")
        for key, target in targets.items():
            if key not in state:
                continue
            current = target if isinstance(target, Tensor) else getattr(*target)
            data = current.data if isinstance(current, Tensor) else current
            value = backend.to_numpy(state[key])
            if tuple(value.shape) != tuple(data.shape):
                raise ValueError(f"load_state_dict: {key} has shape {tuple(value.shape)} in the state but "
                                 f"{tuple(data.shape)} in the module")
            new = backend.asarray(value, like=data, dtype=data.dtype)
            if isinstance(current, Tensor):
                current.data = new
            else:
                object.__setattr__(*target, new)

    def to(self, name: str, device=None) -> "Module":
        """Move every parameter and buffer to backend ``name`` (and device), in place."""
        with backend.use_backend(name, device=device):
            for prefix, m in self.named_modules():
                for p in m._params.values():
                    p.data = backend.asarray(backend.to_numpy(p.data), dtype=p.data.dtype)
                    p.grad = None
                for b in m._buffers:
                    arr = getattr(m, b)
                    object.__setattr__(m, b, backend.asarray(backend.to_numpy(arr), dtype=arr.dtype))
        return self

    def __repr__(self):
        inner = ", ".join(f"{n}={tuple(p.shape)}" for n, p in self._params.items())
        subs = "".join(f"\n  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items())
        return f"{type(self).__name__}({inner}){subs}"


class ModuleList(Module):
    """A list of Modules whose parameters are registered (items named 0, 1, ...)."""

    def __init__(self, modules=()):
        super().__init__()
        self._items = []
        for m in modules:
            self.append(m)

    def append(self, m: Module) -> None:
        self._modules[str(len(self._items))] = m
        self._items.append(m)

    def __getitem__(self, i):
        return self._items[i]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)
