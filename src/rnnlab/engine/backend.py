"""The one module that knows which array library does the math.

Three backends share one interface:

* ``numpy``  -- the default, on the CPU;
* ``cupy``   -- CuPy on a CUDA device (``pip install rnnlab[cuda]``), through ``array_api_compat.cupy``,
  which gives CuPy the Array API names the engine uses (``concat``, ``permute_dims``, ``astype``,
  ``device=`` in creation functions, ...) while its arrays stay plain ``cupy.ndarray``;
* ``strict`` -- ``array_api_strict``, a minimal Array API implementation that refuses NumPy arrays and
  refuses to mix devices. It runs on the CPU but behaves like an accelerator library, so the test suite
  uses it (on the non-default device ``device1``) as a stand-in for CuPy.

Everything else in rnnlab asks this module for a namespace, ``xp = get_namespace(*arrays)``, and writes
its math against ``xp``. NumPy is named here, and for host-side work (file parsing, data sets, benchmarks'
references), never for the engine's array math.
"""
from __future__ import annotations

import contextlib
import os
from types import ModuleType

import numpy as _np

__all__ = [
    "use_backend", "current_backend", "active_namespace", "get_namespace", "device_of", "asarray",
    "to_numpy", "set_default_dtype", "get_default_dtype", "default_dtype_name", "is_numpy", "is_cupy",
    "index_add", "BackendError", "BACKENDS", "host", "namespace_of", "load_cupy", "cupy_available", "device_kwargs",
    "snapshot", "restore",
]

BACKENDS = ("numpy", "cupy", "strict")
host = _np
"""The host namespace (NumPy), for data that lives on the CPU before it is moved to a device."""


class BackendError(RuntimeError):
    """A backend cannot be used, or arrays of two backends or devices met in one operation."""


class _State:
    name = "numpy"
    xp: ModuleType = _np
    device = None           # device new arrays are created on (None: the library's default)
    dtype_name = "float32"
    backend_from_env = True   # RNNLAB_BACKEND / RNNLAB_DEVICE still to be read (until use_backend or first use)
    dtype_from_env = True     # RNNLAB_DTYPE still to be read (until set_default_dtype or first use)


_state = _State()
_FIELDS = ("name", "xp", "device", "dtype_name", "backend_from_env", "dtype_from_env")
_strict_module = None
_strict_array_type = None
_cupy_module = None        # the cupy module itself (array type, devices, cupyx)
_cupy_namespace = None     # array_api_compat.cupy: the namespace the engine's array math uses


def _load_strict():
    global _strict_module, _strict_array_type
    if _strict_module is None:
        try:
            import array_api_strict
        except ImportError as exc:  # pragma: no cover - the test extra installs it
            raise BackendError(
                "backend 'strict' needs array_api_strict, which is not installed: "
                "pip install 'rnnlab[test]' (or pip install array-api-strict)") from exc
        _strict_module = array_api_strict
        _strict_array_type = type(array_api_strict.asarray(0))
    return _strict_module


def load_cupy():
    """The ``cupy`` module, imported on first use; a :class:`BackendError` saying why when it cannot be used."""
    global _cupy_module
    if _cupy_module is None:
        try:
            import cupy
        except ImportError as exc:
            raise BackendError(
                "backend 'cupy' needs CuPy, which is not installed: pip install 'rnnlab[cuda]' "
                "(CuPy for CUDA 12; a CUDA device and driver are needed too)") from exc
        try:
            count = cupy.cuda.runtime.getDeviceCount()
        except Exception as exc:  # CUDARuntimeError when no driver is present
            raise BackendError(
                f"backend 'cupy': CuPy is installed but no CUDA device is usable ({exc}); "
                "use --backend numpy, or run on a machine with an NVIDIA GPU and driver") from exc
        if count < 1:
            raise BackendError("backend 'cupy': CuPy is installed but no CUDA device was found; "
                               "use --backend numpy, or run on a machine with an NVIDIA GPU")
        import array_api_compat.cupy as namespace
        global _cupy_namespace
        _cupy_module, _cupy_namespace = cupy, namespace
    return _cupy_module


def cupy_available() -> tuple[bool, str]:
    """(True, '') when the cupy backend can be used, else (False, the reason)."""
    try:
        load_cupy()
    except BackendError as exc:
        return False, str(exc)
    return True, ""


def _resolve(name: str, device):
    if name not in BACKENDS:
        raise BackendError(f"use_backend: unknown backend {name!r}; expected one of {', '.join(BACKENDS)}")
    if name == "numpy":
        return _np, None
    if name == "strict":
        xp = _load_strict()
        if isinstance(device, str):
            device = xp.Device(device)
        return xp, device
    cupy = load_cupy()
    if device is not None and not isinstance(device, cupy.cuda.Device):
        device = cupy.cuda.Device(int(device))
    return _cupy_namespace, device


class _BackendSwitch(contextlib.AbstractContextManager):
    """Returned by :func:`use_backend`: the switch has already happened; ``with`` undoes it on exit."""

    def __init__(self, previous):
        self._previous = previous

    def __exit__(self, *exc):
        _state.name, _state.xp, _state.device, _state.backend_from_env = self._previous
        return False


def use_backend(name: str, device=None) -> _BackendSwitch:
    """Make ``name`` (``numpy``, ``cupy`` or ``strict``) the backend new arrays are created on.

    ``device``: for ``strict`` a device name such as ``"device1"``; for ``cupy`` a GPU index.
    Call it plainly to switch for good, or use it as a context manager to switch for a block::

        with rnnlab.use_backend("strict", device="device1"):
            ...

    It overrides ``RNNLAB_BACKEND`` and ``RNNLAB_DEVICE``, which are read only when the active backend is
    first used without a ``use_backend`` before it.
    """
    xp, dev = _resolve(name, device)
    previous = (_state.name, _state.xp, _state.device, _state.backend_from_env)
    if name == "cupy" and dev is not None:
        dev.use()
    _state.name, _state.xp, _state.device, _state.backend_from_env = name, xp, dev, False
    return _BackendSwitch(previous)


def _backend_state() -> _State:
    """The state, once ``RNNLAB_BACKEND`` (and ``RNNLAB_DEVICE``) have been applied when no use_backend came first."""
    if _state.backend_from_env:
        _backend_from_environment()
    return _state


def _backend_from_environment() -> None:
    name = os.environ.get("RNNLAB_BACKEND") or ""
    device = os.environ.get("RNNLAB_DEVICE") or None
    if name:
        if name not in BACKENDS:
            raise BackendError(f"RNNLAB_BACKEND: unknown backend {name!r}; expected one of {', '.join(BACKENDS)} "
                               "(or unset it, or pass --backend)")
        try:
            use_backend(name, device=device)
        except BackendError as exc:
            raise BackendError(f"RNNLAB_BACKEND={name}: {exc}") from None
        except (ValueError, TypeError) as exc:
            raise BackendError(f"RNNLAB_DEVICE: {device!r} is not a device of backend {name!r} ({exc})") from None
    _state.backend_from_env = False


def snapshot():
    """The active backend, device and default dtype (and whether the environment is still to be read), as a
    token for :func:`restore`. Reads no environment variable."""
    return tuple(getattr(_state, f) for f in _FIELDS)


def restore(token) -> None:
    """Make the state saved by :func:`snapshot` active again."""
    for field, value in zip(_FIELDS, token):
        setattr(_state, field, value)


def current_backend() -> str:
    """The active backend's name: 'numpy', 'cupy' or 'strict'."""
    return _backend_state().name


def active_namespace() -> ModuleType:
    """The namespace of the active backend (for creating new arrays)."""
    return _backend_state().xp


def active_device():
    """The device new arrays are created on (None: the library's default)."""
    return _backend_state().device


def namespace_of(a) -> ModuleType | None:
    """The namespace of a backend array ``a`` (numpy, array_api_strict, or CuPy's compat namespace); None for
    anything else (Python numbers, lists, Tensors)."""
    t = type(a)
    if t is _np.ndarray or isinstance(a, _np.generic):
        return _np
    if t is _strict_array_type:
        return _strict_module
    if _cupy_module is not None and t is _cupy_module.ndarray:
        return _cupy_namespace
    return None


def _describe(a) -> str:
    xp = namespace_of(a)
    name = {_np: "numpy"}.get(xp) or ("strict" if xp is _strict_module else "cupy")
    dev = device_of(a)
    return name if dev is None else f"{name} on {dev}"


def get_namespace(*arrays, op="operation") -> ModuleType:
    """The array namespace shared by ``arrays``; the active backend's when none is an array.

    Raises :class:`BackendError` naming both sides when arrays of two libraries or two devices meet;
    ``op`` names the operation in that message (a string, or a Function, whose ``op_name`` is used).
    """
    found = None
    first = None
    for a in arrays:
        xp = _np if type(a) is _np.ndarray else namespace_of(a)
        if xp is None:
            continue
        if found is None:
            found, first = xp, a
        elif xp is not found or (xp is not _np and a.device != first.device):
            name = op if isinstance(op, str) else op.op_name
            raise BackendError(f"{name}: arrays from different backends or devices cannot be mixed "
                               f"({_describe(first)} and {_describe(a)}); move one side first: "
                               "tensor.to('numpy') or module.to('numpy') (or the other backend), or "
                               "rnnlab.asarray(x, like=...) for a raw array")
    return found if found is not None else _backend_state().xp


def device_of(a):
    """The device an array lives on (None for NumPy)."""
    if type(a) is _np.ndarray or isinstance(a, _np.generic):
        return None
    return a.device


def is_numpy(xp) -> bool:
    return xp is _np


def is_cupy(xp) -> bool:
    return _cupy_module is not None and (xp is _cupy_namespace or xp is _cupy_module)


def _dtype_in(xp, dtype):
    """Translate a dtype (name, NumPy dtype or another namespace's dtype) into ``xp``'s dtype object."""
    if dtype is None:
        return None
    name = dtype if isinstance(dtype, str) else _dtype_name(dtype)
    return getattr(xp, name)


def _dtype_name(dtype) -> str:
    try:
        return _np.dtype(dtype).name
    except TypeError:
        return str(dtype).rsplit(".", 1)[-1]


def asarray(x, like=None, dtype=None, copy=None):
    """Return ``x`` as an array of the namespace and device of ``like`` (an array), else of the active backend.

    Host data (NumPy arrays, lists, scalars) is copied to the target device; arrays already there are
    returned unchanged unless a dtype conversion or ``copy=True`` asks otherwise.
    """
    if like is not None:
        xp = get_namespace(like)
        device = device_of(like)
    else:
        state = _backend_state()
        xp, device = state.xp, state.device
    dt = _dtype_in(xp, dtype)
    src = namespace_of(x)
    if src is not None and src is not xp:
        x = to_numpy(x)
    if xp is _np:
        out = _np.asarray(x, dtype=dt)
        return out.copy() if copy and out is x else out
    if xp is _strict_module:
        if src is xp and device is not None and x.device != device:
            x = xp.asarray(to_numpy(x))
        return xp.asarray(x, dtype=dt, device=device, copy=copy)
    with (device if device is not None else contextlib.nullcontext()):
        return xp.asarray(x, dtype=dt) if not copy else xp.array(x, dtype=dt, copy=True)


def to_numpy(x):
    """Copy an array of any backend (or a Tensor's data) to a NumPy array on the host."""
    data = getattr(x, "data", x) if not isinstance(x, (_np.ndarray, _np.generic)) else x
    xp = namespace_of(data)
    if xp is None or xp is _np:
        return _np.asarray(data)
    if xp is _strict_module:
        return _np.array(_np.from_dlpack(data), copy=True)
    return data.get()


def set_default_dtype(dtype) -> None:
    """Set the floating dtype of new parameters and tensors made from Python data: float32 or float64."""
    name = _dtype_name(dtype) if not isinstance(dtype, str) else dtype
    if name not in ("float32", "float64"):
        raise ValueError(f"set_default_dtype: dtype must be 'float32' or 'float64', got {dtype!r}")
    _state.dtype_name, _state.dtype_from_env = name, False


def default_dtype_name() -> str:
    """'float32' or 'float64': ``RNNLAB_DTYPE`` when set and no set_default_dtype came first, else float32."""
    if _state.dtype_from_env:
        dtype = os.environ.get("RNNLAB_DTYPE")
        if dtype and dtype not in ("float32", "float64"):
            raise BackendError(f"RNNLAB_DTYPE: dtype must be 'float32' or 'float64', got {dtype!r}")
        _state.dtype_name, _state.dtype_from_env = dtype or _state.dtype_name, False
    return _state.dtype_name


def get_default_dtype(xp=None):
    """The default floating dtype as an object of namespace ``xp`` (the active one when omitted)."""
    return getattr(xp or active_namespace(), default_dtype_name())


def complete_index(index, ndim: int):
    """``index`` as a tuple that names every axis (a trailing ``...`` added where NumPy would imply one)."""
    items = index if isinstance(index, tuple) else (index,)
    named = sum(1 for i in items if i is not None and i is not Ellipsis)
    if not any(i is Ellipsis for i in items) and named < ndim:
        items = items + (Ellipsis,)
    return items


def index_add(xp, shape, index, values):
    """Return ``out`` of ``shape``, zero except ``out[index] += values``, with repeated indices summed.

    ``index`` is a 1-D integer array (selecting rows), or a tuple of integers, slices and integer arrays;
    ``values`` has the shape of ``out[index]``. NumPy and CuPy scatter in place. The Array API has no
    scatter-add, so on the strict backend the linear positions that ``index`` selects are found by
    indexing an ``arange`` the same way, and the sum goes through a one-hot matrix: exact, and fine at
    test sizes.
    """
    if xp is _np:
        out = _np.zeros(shape, dtype=values.dtype)
        _np.add.at(out, index, values)
        return out
    if is_cupy(xp):
        import cupyx
        out = xp.zeros(shape, dtype=values.dtype)
        cupyx.scatter_add(out, index, values)
        return out
    size = 1
    for n in shape:
        size *= n
    device = values.device
    positions = xp.reshape(xp.arange(size, device=device), shape)
    if namespace_of(index) is not None:     # one 1-D integer array: rows
        positions = xp.take(positions, index, axis=0)
    else:
        positions = positions[complete_index(index, len(shape))]
    flat_pos = xp.reshape(positions, (-1,))
    onehot = xp.astype(flat_pos[:, None] == xp.arange(size, device=device)[None, :], values.dtype)
    flat = xp.matmul(xp.reshape(values, (1, -1)), onehot)
    return xp.reshape(flat, shape)


def device_kwargs(a) -> dict:
    """``{"device": ...}`` for creating arrays next to ``a``.

    Empty for NumPy (one device) and for CuPy, whose creation functions take no ``device`` argument and
    allocate on the current device (the one ``use_backend("cupy", device=...)`` selected).
    """
    if type(a) is _np.ndarray or (_cupy_module is not None and type(a) is _cupy_module.ndarray):
        return {}
    dev = device_of(a)
    return {} if dev is None else {"device": dev}
