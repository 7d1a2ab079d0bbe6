"""Independent references for the kernel tests: the same equations written with rnnlab's autodiff engine
(composed operations, so BPTT is done by the engine, not by hand), plus input generators."""
from __future__ import annotations

import numpy as np

import rnnlab


def lstm_reference(x, W_ih, W_hh, b, h0, c0, dhs, dhT, dcT):
    """(hs, c_T, grads) for L = <dhs, hs> + <dhT, h_T> + <dcT, c_T>; grads in the kernels' order."""
    leaves = [rnnlab.Tensor(a.copy(), requires_grad=True) for a in (x, W_ih, W_hh, b, h0, c0)]
    tx, tWi, tWh, tb, th, tc = leaves
    H = W_hh.shape[0]
    hs = []
    for t in range(x.shape[0]):
        z = tx[t] @ tWi + th @ tWh + tb
        i, f = rnnlab.sigmoid(z[:, :H]), rnnlab.sigmoid(z[:, H:2 * H])
        g, o = rnnlab.tanh(z[:, 2 * H:3 * H]), rnnlab.sigmoid(z[:, 3 * H:])
        tc = f * tc + i * g
        th = o * rnnlab.tanh(tc)
        hs.append(th)
    out = rnnlab.stack(hs, axis=0)
    loss = rnnlab.sum(out * rnnlab.Tensor(dhs))
    for state, grad in ((th, dhT), (tc, dcT)):
        if grad is not None:
            loss = loss + rnnlab.sum(state * rnnlab.Tensor(grad))
    loss.backward()
    return out.data, tc.data, tuple(_grad(leaf) for leaf in leaves)


def rnn_reference(x, W_ih, W_hh, b, h0, nonlinearity, dhs, dhT):
    """(hs, grads) for L = <dhs, hs> + <dhT, h_T>; grads in the kernels' order."""
    phi = rnnlab.tanh if nonlinearity == "tanh" else rnnlab.relu
    return _one_state_reference((x, W_ih, W_hh, b, h0), lambda p, h, t: phi(p[0][t] @ p[1] + h @ p[2] + p[3]),
                                dhs, dhT)


def modrelu_reference(D, W_hh, b, c, h0, dhs, dhT):
    """(hs, grads) of h_t = modReLU(D_t + h_{t-1} W_hh + b) by autodiff through engine operations (no flush),
    for L = <dhs, hs> + <dhT, h_T>; grads (dD, dW_hh, db, dc, dh0), the order of modrelu_rnn_backward_drive."""
    from rnnlab.cells.orthogonal import modrelu
    return _one_state_reference((D, W_hh, b, c, h0), lambda p, h, t: modrelu(p[0][t] + h @ p[1] + p[2], p[3]),
                                dhs, dhT)


def _one_state_reference(arrays, step, dhs, dhT):
    """Autodiff of a one-state recurrence over T = arrays[0].shape[0] steps, h_t = step(leaves, h_{t-1}, t)
    with h_0 the last of ``arrays``: (hs, the gradient of each array) for L = <dhs, hs> + <dhT, h_T>."""
    leaves = [rnnlab.Tensor(a.copy(), requires_grad=True) for a in arrays]
    h, hs = leaves[-1], []
    for t in range(arrays[0].shape[0]):
        h = step(leaves, h, t)
        hs.append(h)
    out = rnnlab.stack(hs, axis=0)
    loss = rnnlab.sum(out * rnnlab.Tensor(dhs))
    if dhT is not None:
        loss = loss + rnnlab.sum(h * rnnlab.Tensor(dhT))
    loss.backward()
    return out.data, tuple(_grad(leaf) for leaf in leaves)


def _grad(leaf):
    return leaf.grad if leaf.grad is not None else np.zeros_like(leaf.data)


def lstm_inputs(rng, T, B, D, H, dtype=np.float64, scale=1.0):
    """x, W_ih, W_hh, b, h0, c0 with entries of a size that keeps gates away from saturation."""
    r = lambda *shape, s=1.0: (s * rng.standard_normal(shape)).astype(dtype)
    return (r(T, B, D), r(D, 4 * H, s=scale / np.sqrt(D)), r(H, 4 * H, s=scale / np.sqrt(H)), r(4 * H, s=0.5),
            r(B, H, s=0.5), r(B, H))


def rnn_inputs(rng, T, B, D, H, dtype=np.float64, scale=1.0):
    """x, W_ih, W_hh, b, h0 for the RNN."""
    r = lambda *shape, s=1.0: (s * rng.standard_normal(shape)).astype(dtype)
    return (r(T, B, D), r(D, H, s=scale / np.sqrt(D)), r(H, H, s=scale / np.sqrt(H)), r(H, s=0.5),
            r(B, H, s=0.5))


def directional_derivative(loss, inputs, k, u, eps=1e-6):
    """Central difference of ``loss(*inputs)`` along direction ``u`` of input ``k`` (error O(eps^2))."""
    plus = [a.copy() for a in inputs]
    minus = [a.copy() for a in inputs]
    plus[k] += eps * u
    minus[k] -= eps * u
    return (loss(*plus) - loss(*minus)) / (2 * eps)
