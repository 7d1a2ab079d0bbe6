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


def sequence_inputs(fn: str, gates: int, x, W_ih, W_hh, b, states: dict):
    """Check the inputs of a forward kernel with ``gates`` blocks of H columns per weight matrix.

    Returns (x, W_ih, W_hh, b, states) as C-contiguous arrays of one dtype; shapes x (T, B, D), W_ih (D, G),
    W_hh (H, G), b (G,), every state (B, H), with G = gates * H and T >= 1.
    """
    G = "4H" if gates == 4 else "H"
    x = as_float_array(fn, "x", x, 3, "(T, B, D)")
    W_ih = as_float_array(fn, "W_ih", W_ih, 2, f"(D, {G})")
    W_hh = as_float_array(fn, "W_hh", W_hh, 2, f"(H, {G})")
    b = as_float_array(fn, "b", b, 1, f"({G},)")
    states = {name: as_float_array(fn, name, s, 2, "(B, H)") for name, s in states.items()}
    same_dtype(fn, {"x": x, "W_ih": W_ih, "W_hh": W_hh, "b": b, **states})
    T, B, D = x.shape
    if T < 1:
        raise ValueError(f"{fn}: x must hold at least one time step (T >= 1), got shape {x.shape}")
    H = W_hh.shape[0]
    expect_shape(fn, "W_hh", W_hh, (H, gates * H), f"(H, {G})")
    expect_shape(fn, "W_ih", W_ih, (D, gates * H), f"(D, {G}) with D = x.shape[2] and H = W_hh.shape[0]")
    expect_shape(fn, "b", b, (gates * H,), f"({G},)")
    for name, s in states.items():
        expect_shape(fn, name, s, (B, H), "(B, H) with B = x.shape[1] and H = W_hh.shape[0]")
    return x, W_ih, W_hh, b, states


def output_gradient(fn: str, name: str, g, shape: tuple, dtype, layout: str):
    """``g`` (None allowed: a zero gradient) as a C-contiguous array of ``shape`` and ``dtype``."""
    if g is None:
        return None
    g = as_float_array(fn, name, g, len(shape), layout)
    expect_shape(fn, name, g, shape, layout)
    if g.dtype != dtype:
        raise TypeError(f"{fn}: {name} must have the dtype of the forward pass ({dtype}), got {g.dtype}")
    return g
