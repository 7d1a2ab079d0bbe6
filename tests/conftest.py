"""Shared fixtures: every array test runs on numpy and on strict (a non-default device); cupy when a GPU exists."""
import os

import pytest
from hypothesis import HealthCheck, settings

import rnnlab
from rnnlab.engine import backend

settings.register_profile("ci", max_examples=15, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
settings.register_profile("dev", max_examples=50, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
settings.register_profile("thorough", max_examples=400, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.differing_executors])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

pytest_plugins = ["tests.skip_summary"]    # skip reasons, counted, at the end of a run

STRICT_DEVICE = "device1"


def _cupy_reason():
    ok, reason = backend.cupy_available()
    return None if ok else reason


BACKEND_PARAMS = [
    pytest.param("numpy", id="numpy"),
    pytest.param("strict", id="strict"),
    pytest.param("cupy", id="cupy", marks=[pytest.mark.cupy]),
]


@pytest.fixture(params=BACKEND_PARAMS)
def backend_name(request):
    """Run the test on each backend: numpy, strict on a non-default device, cupy (skipped without a GPU)."""
    name = request.param
    if name == "cupy":
        reason = _cupy_reason()
        if reason:
            pytest.skip(f"cupy backend unavailable: {reason}")
    device = STRICT_DEVICE if name == "strict" else None
    with rnnlab.use_backend(name, device=device):
        yield name


@pytest.fixture
def float64():
    """Make float64 the default dtype for the test (gradient checks need it)."""
    previous = backend.default_dtype_name()
    rnnlab.set_default_dtype("float64")
    yield
    rnnlab.set_default_dtype(previous)


@pytest.fixture(autouse=True)
def _restore_state():
    """No test leaks a backend or dtype switch into the next."""
    token = backend.snapshot()
    yield
    backend.restore(token)
