"""Optional: the optimizers against torch.optim on the same gradients (skipped when PyTorch is not installed)."""
import hypothesis.strategies as st
import pytest
from tests.optim.optim_helpers import float_arrays, given_on_backend, host, on_host, param, set_grad

from rnnlab.optim import SGD, Adam, RMSProp

torch = pytest.importorskip("torch", reason="PyTorch is not installed (pip install torch) -- an optional reference")

start_and_grads = st.tuples(float_arrays(st.just((3, 2))),
                            st.lists(float_arrays(st.just((3, 2))), min_size=1, max_size=6))
fractions = st.floats(0.0, 0.99)


def compare(ours, theirs, theta0, grads):
    w = param(theta0)
    t = torch.tensor(theta0, dtype=torch.float64, requires_grad=True)
    opt, ref = ours([w]), theirs([t])
    for step, g in enumerate(grads, start=1):
        set_grad(w, g)
        t.grad = torch.tensor(g, dtype=torch.float64)
        opt.step()
        ref.step()
        expected = t.detach().numpy()
        assert host.allclose(on_host(w), expected, rtol=1e-10, atol=1e-12), f"step {step}"


@given_on_backend(data=start_and_grads, lr=st.floats(1e-3, 1.0), mu=fractions, tau=fractions,
                  wd=st.floats(0.0, 0.1), nesterov=st.booleans())
def test_sgd_matches_torch_optim_sgd(backend_name, float64, data, lr, mu, tau, wd, nesterov):
    if nesterov:
        mu, tau = max(mu, 0.1), 0.0
    kw = dict(lr=lr, momentum=mu, dampening=tau, nesterov=nesterov, weight_decay=wd)
    compare(lambda p: SGD(p, **kw), lambda p: torch.optim.SGD(p, **kw), *data)


@given_on_backend(data=start_and_grads, lr=st.floats(1e-3, 1.0), b1=fractions, b2=fractions,
                  eps=st.floats(1e-8, 1e-3), wd=st.floats(0.0, 0.1), decoupled=st.booleans())
def test_adam_matches_torch_optim_adam_and_adamw(backend_name, float64, data, lr, b1, b2, eps, wd, decoupled):
    kw = dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    theirs = torch.optim.AdamW if decoupled else torch.optim.Adam
    compare(lambda p: Adam(p, decoupled_weight_decay=decoupled, **kw), lambda p: theirs(p, **kw), *data)


# α >= 0.5: with α near 0 the centered variance v - ḡ² is 0 up to rounding, and torch's fused
# multiply-add can round it below 0 (NaN) where the plain formula gives 0
@given_on_backend(data=start_and_grads, lr=st.floats(1e-3, 1.0), alpha=st.floats(0.5, 0.99), eps=st.floats(1e-8, 1e-3),
                  wd=st.floats(0.0, 0.1), mu=fractions, centered=st.booleans())
def test_rmsprop_matches_torch_optim_rmsprop(backend_name, float64, data, lr, alpha, eps, wd, mu, centered):
    kw = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=wd, momentum=mu, centered=centered)
    compare(lambda p: RMSProp(p, **kw), lambda p: torch.optim.RMSprop(p, **kw), *data)
