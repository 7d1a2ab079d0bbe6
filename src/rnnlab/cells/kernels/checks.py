"""Argument checks of the kernels' entry points: each error names the function, the argument and what was
expected."""
from __future__ import annotations

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_float_array(fn: str, name: str, a, ndim: int, layout: str) -> np.ndarray:
    """``a`` as a C-contiguous float32/float64 NumPy array of rank ``ndim`` (``layout`` names its axes)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"{fn}: {name} must be a NumPy array {layout} (the kernels are the numpy backend's "
                        f"compiled path), got {type(a).__module__}.{type(a).__name__}")
    if a.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{fn}: {name} must have dtype float32 or float64, got {a.dtype}")
    if a.ndim != ndim:
        raise ValueError(f"{fn}: {name} must be {ndim}-D {layout}, got shape {a.shape}")
    return np.ascontiguousarray(a)


def same_dtype(fn: str, arrays: dict) -> np.dtype:
    """The one dtype of all ``arrays`` (name -> array); a TypeError naming the first that differs."""
    names = list(arrays)
    dtype = arrays[names[0]].dtype
    for name in names[1:]:
        if arrays[name].dtype != dtype:
            raise TypeError(f"{fn}: all arrays must have the same dtype; {names[0]} is {dtype} but "
                            f"{name} is {arrays[name].dtype}")
    return dtype


def expect_shape(fn: str, name: str, a: np.ndarray, shape: tuple, layout: str) -> None:
    if a.shape != shape:
        raise ValueError(f"{fn}: {name} must have shape {layout} = {shape}, got {a.shape}")


def vector(fn: str, name: str, a, size: int, like, like_name: str) -> np.ndarray:
    """A 1-D array ``name`` (size,) of ``like``'s dtype (``like_name`` names that array in errors), checked."""
    a = as_float_array(fn, name, a, 1, "(H,)")
    expect_shape(fn, name, a, (size,), "(H,)")
    same_dtype(fn, {like_name: like, name: a})
    return a


def sequence_inputs(fn: str, gates: int, x, W_ih, W_hh, b, states: dict):
    """Check the inputs of a forward kernel with ``gates`` blocks of H columns per weight matrix.

    Returns (x, W_ih, W_hh, b, states) as C-contiguous arrays of one dtype; shapes x (T, B, D), W_ih (D, G),
    W_hh (H, G), b (G,), every state (B, H), with G = gates * H and T >= 1.
    """
    G = _width(gates)
    x = as_float_array(fn, "x", x, 3, "(T, B, D)")
    W_ih = as_float_array(fn, "W_ih", W_ih, 2, f"(D, {G})")
    _, W_hh, b, states = drive_inputs(fn, gates, x, W_hh, b, states, x_name="x", W_ih=W_ih)
    expect_shape(fn, "W_ih", W_ih, (x.shape[2], W_hh.shape[1]),
                 f"(D, {G}) with D = x.shape[2] and H = W_hh.shape[0]")
    return x, W_ih, W_hh, b, states


def drive_inputs(fn: str, gates: int, D, W_hh, b, states: dict, x_name: str = "D", W_ih=None):
    """Check the inputs of a drive entry: D (T, B, G) (T >= 1), W_hh (H, G) (or (H,) when ``gates`` = 0:
    IndRNN's u, G = H), b (G,) or None, every state (B, H). Returns (D, W_hh, b, states), all C-contiguous
    and of D's dtype; raises naming ``fn`` and the argument otherwise (``x_name`` names D's role)."""
    G = _width(gates)
    D = as_float_array(fn, x_name, D, 3, "(T, B, D)" if W_ih is not None else f"(T, B, {G})")
    T, B = D.shape[0], D.shape[1]
    W_hh = as_float_array(fn, "W_hh" if gates else "u", W_hh, 2 if gates else 1, f"(H, {G})" if gates else "(H,)")
    b = None if b is None else as_float_array(fn, "b", b, 1, f"({G},)")
    states = {name: as_float_array(fn, name, s, 2, "(B, H)") for name, s in states.items()}
    named = {x_name: D, **({"W_ih": W_ih} if W_ih is not None else {}), "W_hh" if gates else "u": W_hh,
             **({"b": b} if b is not None else {}), **states}
    same_dtype(fn, named)
    if T < 1:
        raise ValueError(f"{fn}: {x_name} must hold at least one time step (T >= 1), got shape {D.shape}")
    H = W_hh.shape[0]
    width = max(gates, 1) * H
    if gates:
        expect_shape(fn, "W_hh", W_hh, (H, width), f"(H, {G})")
    if W_ih is None:
        expect_shape(fn, "D", D, (T, B, width), f"(T, B, {G}) with G from W_hh")
    if b is not None:
        expect_shape(fn, "b", b, (width,), f"({G},)")
    for name, s in states.items():
        expect_shape(fn, name, s, (B, H), f"(B, H) with B = {x_name}.shape[1] and H = "
                     f"{'W_hh' if gates else 'u'}.shape[0]")
    return D, W_hh, b, states


def _width(gates: int) -> str:
    return f"{gates}H" if gates > 1 else "H"


def output_gradient(fn: str, name: str, g, shape: tuple, dtype, layout: str):
    """``g`` (None allowed: a zero gradient) as a C-contiguous array of ``shape`` and ``dtype``."""
    if g is None:
        return None
    g = as_float_array(fn, name, g, len(shape), layout)
    expect_shape(fn, name, g, shape, layout)
    if g.dtype != dtype:
        raise TypeError(f"{fn}: {name} must have the dtype of the forward pass ({dtype}), got {g.dtype}")
    return g


def cache_of(fn: str, cache, kind: type, family: str, suffixes: tuple = ("", "")):
    """Refuse a cache that is not a ``kind`` from ``{family}_forward`` (``suffixes[1]``: the forward's name
    ending, ``_input`` for the GRU and IndRNN)."""
    if not isinstance(cache, kind):
        raise TypeError(f"{fn}: cache must be the {kind.__name__} that {family}_forward{suffixes[1]} returned, got "
                        f"{type(cache).__name__}")
    return cache


def incoming(fn: str, T: int, B: int, H: int, dtype, dhs, **finals):
    """The upstream gradients of a backward, checked: dL/dhs (T, B, H) (None: zeros) and, for each final
    state given by name (e.g. ``dhT=...``), a writable (B, H) copy (zeros when None)."""
    dhs = output_gradient(fn, "dhs", dhs, (T, B, H), dtype, "(T, B, H)")
    carried = []
    for name, g in finals.items():
        g = output_gradient(fn, name, g, (B, H), dtype, "(B, H)")
        carried.append(np.zeros((B, H), dtype) if g is None else g.copy())
    return (dhs, *carried)
