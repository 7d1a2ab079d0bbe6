"""The gradient-flow probe: ||dL/dh_t|| for every time step of one layer (Fig. 2 of the MomentumRNN paper)."""
from __future__ import annotations

from ..engine import backend
from ..engine.norms import lp_norm


def grad_norm(dh):
    """||dh||_2 over every element of ``dh`` (the whole (B, H) batch), as a 0-d array of its namespace.

    Scaled, m sqrt(sum((dh / m)^2)) with m = max |dh|, so that vanishing gradients (1e-162, whose squares
    underflow to 0) and exploding ones (1e+160, whose squares overflow to inf) keep their norm; 0 when dh is
    all zeros. No host sync: the fused BPTT loop calls it at every step.
    """
    return lp_norm([dh], 2.0)


class GradNormProbe:
    """Collects n_t = ||dL/dh_t||_2 (over the whole (B, H) batch), t = 1..T, for one layer and one forward.

    dL/dh_t is the total derivative: through the output at step t and through every later step. The fused
    path records it inside its BPTT loop (``record``); the composed path keeps the T tensors h_t with
    ``retain_grad`` (``watch``) and reads their gradients. Both take the norm with :func:`grad_norm`.
    ``norms()`` returns a host array of shape (T,).
    """

    def __init__(self):
        self._watched = None
        self._recorded = None

    def watch(self, hidden_states) -> None:
        """Composed path: keep the gradients of these h_t tensors after backward."""
        self._watched = [h.retain_grad() for h in hidden_states]

    def record(self, norms) -> None:
        """Fused path: the (T,) array of norms computed by the BPTT loop."""
        self._recorded = backend.to_numpy(norms)

    def norms(self):
        """||dL/dh_t|| for t = 1..T as a NumPy array (T,); None before backward has reached this layer."""
        if self._recorded is not None:
            return self._recorded
        if self._watched is None or all(h.grad is None for h in self._watched):
            return None
        return backend.host.array([0.0 if h.grad is None else float(backend.to_numpy(grad_norm(h.grad)))
                                   for h in self._watched])
