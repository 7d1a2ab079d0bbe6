"""The matrix exponential and its Fréchet derivative against SciPy, closed forms and finite differences.

Matrices are drawn by hypothesis: size 1-6, entries in [-1, 1] (zero or at least 0.01 in magnitude), one of
four structures (general, skew-symmetric, symmetric, upper triangular), rescaled to a drawn 1-norm. Every
Padé degree (3 to 13) is reached below theta_13 = 5.37; above it the scaling and squaring runs.

SciPy 1.17's own ``expm`` loses accuracy at large norms (against a 40-digit mpmath reference: up to 7e-12
relative at ||X||_1 = 100 and 5e-11 at 300, where rnnlab's stays under 2e-13), so large norms are checked
against SciPy applied where it is accurate, expm(X) = expm(X / 2^k)^(2^k) with ||X / 2^k||_1 <= 1, and,
independently of any Padé approximant, against the eigendecomposition of symmetric and skew matrices.
"""
import itertools
import math

import numpy as np  # host-side data and references only
import pytest
import scipy.linalg as sl  # the reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import rnnlab
from rnnlab.engine import backend
from rnnlab.engine.expm import expm, expm_array, expm_frechet_array

FIXTURE_SETTINGS = settings(
    suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.function_scoped_fixture])
THETA_13 = 5.371920351148152
STRUCTURES = {
    "general": lambda a: a,
    "skew": lambda a: a - a.T,
    "symmetric": lambda a: a + a.T,
    "triangular": np.triu,
}


THETAS = (1e-4, 1.495585217958292e-2, 2.539398330063230e-1, 9.504178996162932e-1, 2.097847961257068, THETA_13)
DEGREE_BANDS = st.sampled_from(list(itertools.pairwise(THETAS))).flatmap(lambda band: st.floats(*band))
"""1-norms uniform within a Padé degree's band (theta_{m-1}, theta_m], the band drawn first: every degree alike."""
AROUND_THETAS = st.sampled_from(THETAS[1:]).flatmap(lambda theta: st.floats(0.75 * theta, 1.5 * theta))
"""1-norms around a switch of degree, [0.75, 1.5] theta_m: the top of degree m's band, where its Padé error is
largest, and the bottom of the next, which a theta_m set too large would still give to degree m."""


@st.composite
def matrices(draw, max_norm, structures=tuple(STRUCTURES), min_side=1, max_side=6, norms=None):
    """A float64 host matrix of the drawn structure with 1-norm drawn from ``norms`` (default: 10^u, u uniform
    in [-4, log10(max_norm)])."""
    n = draw(st.integers(min_side, max_side))
    entries = st.just(0.0) | st.floats(0.01, 1.0) | st.floats(-1.0, -0.01)
    a = STRUCTURES[draw(st.sampled_from(structures))](draw(hnp.arrays(np.float64, (n, n), elements=entries)))
    norm = np.abs(a).sum(axis=0).max()
    target = draw(norms if norms is not None else st.floats(-4.0, math.log10(max_norm)).map(lambda u: 10.0 ** u))
    return a * (target / norm) if norm > 0 else a


def relative_error(got, ref):
    return np.linalg.norm(rnnlab.to_numpy(got) - ref) / np.linalg.norm(ref)


def on_backend(a):
    return rnnlab.asarray(a, dtype="float64")


@FIXTURE_SETTINGS
@given(a=matrices(max_norm=THETA_13, norms=DEGREE_BANDS))
def test_expm_matches_scipy_to_1e12_relative_for_every_pade_degree(backend_name, a):
    x = on_backend(a)
    y = expm_array(x)
    assert backend.device_of(y) == backend.device_of(x)
    assert relative_error(y, sl.expm(a)) < 1e-12


@FIXTURE_SETTINGS
@given(a=matrices(max_norm=300.0))
def test_expm_at_large_norms_matches_scipy_of_the_scaled_matrix_squared(backend_name, a):
    k = max(0, math.ceil(math.log2(np.abs(a).sum(axis=0).max() or 1.0)))
    ref = sl.expm(a / 2.0 ** k)
    for _ in range(k):
        ref = ref @ ref
    assert relative_error(expm_array(on_backend(a)), ref) < 1e-12


def expm_by_eigendecomposition(a):
    """exp(a) for a symmetric a = v diag(lam) v^T, or a skew a (i a Hermitian: a = v diag(-i lam) v^H)."""
    if np.array_equal(a, a.T):
        lam, v = np.linalg.eigh(a)
        return (v * np.exp(lam)) @ v.T
    lam, v = np.linalg.eigh(1j * a)
    return ((v * np.exp(-1j * lam)) @ v.conj().T).real


@FIXTURE_SETTINGS
@given(a=matrices(max_norm=300.0, structures=("skew", "symmetric"), min_side=2))
def test_expm_of_symmetric_and_skew_matrices_matches_their_eigendecomposition(backend_name, a):
    assert relative_error(expm_array(on_backend(a)), expm_by_eigendecomposition(a)) < 1e-12


@FIXTURE_SETTINGS
@given(a=matrices(max_norm=THETA_13, structures=("skew", "symmetric"), min_side=2, norms=AROUND_THETAS))
def test_expm_near_every_degree_switch_is_accurate_to_a_few_dozen_roundoffs(backend_name, a):
    """Each degree's theta_m keeps the Padé error under float64's unit roundoff (measured: at most 1e-14 at
    norms up to 1.5 theta_13; a theta_9 or theta_13 50% too large gives 4e-13 and 3e-11), so 5e-14 checks the
    degree switching."""
    assert relative_error(expm_array(on_backend(a)), expm_by_eigendecomposition(a)) < 5e-14


@FIXTURE_SETTINGS
@given(a=matrices(max_norm=100.0), seed=st.integers(0, 2**32 - 1), log_scale=st.floats(-3.0, 3.0))
def test_expm_frechet_matches_scipy_expm_frechet(backend_name, a, seed, log_scale):
    e = np.random.default_rng(seed).standard_normal(a.shape) * 10.0 ** log_scale
    _, ref = sl.expm_frechet(a, e)
    assert relative_error(expm_frechet_array(on_backend(a), on_backend(e)), ref) < 1e-12


@FIXTURE_SETTINGS
@given(a=matrices(max_norm=100.0), seed=st.integers(0, 2**32 - 1))
def test_expm_backward_is_the_adjoint_of_the_frechet_derivative(backend_name, float64, a, seed):
    """<G, L(X, E)> = <dL/dX, E> where dL/dX is what backward returns for upstream G."""
    rng = np.random.default_rng(seed)
    e, g = rng.standard_normal(a.shape), rng.standard_normal(a.shape)
    x = rnnlab.Tensor(on_backend(a), requires_grad=True)
    expm(x).backward(on_backend(g))
    lhs = np.sum(g * rnnlab.to_numpy(expm_frechet_array(on_backend(a), on_backend(e))))
    rhs = np.sum(rnnlab.to_numpy(x.grad) * e)
    assert abs(lhs - rhs) <= 1e-12 * np.linalg.norm(g) * np.linalg.norm(sl.expm_frechet(a, e)[1])


@FIXTURE_SETTINGS
@given(a=matrices(max_norm=8.0, max_side=4))
def test_expm_gradient_matches_finite_differences(backend_name, float64, a):
    assert rnnlab.gradcheck(expm, [rnnlab.Tensor(on_backend(a), requires_grad=True)])


def test_expm_keeps_float32_and_is_accurate_to_float32_precision(backend_name):
    a = np.random.default_rng(0).standard_normal((5, 5))
    y = expm_array(rnnlab.asarray(a, dtype="float32"))
    assert y.dtype == rnnlab.get_namespace(y).float32
    assert relative_error(y, sl.expm(a.astype(np.float32).astype(np.float64))) < 1e-5


def test_expm_of_an_empty_matrix_is_empty(backend_name):
    assert tuple(expm_array(rnnlab.asarray(np.zeros((0, 0)), dtype="float64")).shape) == (0, 0)


def arr(*shape, dtype="float64", fill=0.0):
    return rnnlab.asarray(np.full(shape, fill), dtype=dtype)


ERRORS = [
    ("non-square", lambda: expm(rnnlab.Tensor(arr(2, 3))), ValueError,
     r"^expm: the input must be a square matrix of shape \(n, n\), got shape \(2, 3\)$"),
    ("vector", lambda: expm(rnnlab.Tensor(arr(3))), ValueError,
     r"^expm: the input must be a square matrix of shape \(n, n\), got shape \(3,\)$"),
    ("batch of matrices", lambda: expm_array(arr(2, 3, 3)), ValueError,
     r"^expm: the input must be a square matrix of shape \(n, n\), got shape \(2, 3, 3\)$"),
    ("integer dtype", lambda: expm_array(arr(2, 2, dtype="int64")), TypeError,
     r"^expm: the input must have a real floating dtype \(float32 or float64\), got .*int64$"),
    ("non-finite", lambda: expm_array(arr(2, 2, fill=float("nan"))), ValueError,
     r"^expm: the input has non-finite entries \(inf or nan\)$"),
    ("frechet direction shape", lambda: expm_frechet_array(arr(3, 3), arr(2, 2)), ValueError,
     r"^expm_frechet: e must have the shape of x \(3, 3\), got \(2, 2\)$"),
    ("frechet non-square direction", lambda: expm_frechet_array(arr(3, 3), arr(3, 2)), ValueError,
     r"^expm_frechet: e must be a square matrix of shape \(n, n\), got shape \(3, 2\)$"),
]


@pytest.mark.parametrize("make, error, message", [c[1:] for c in ERRORS], ids=[c[0] for c in ERRORS])
def test_bad_input_to_expm_raises_an_error_naming_the_function_and_the_problem(backend_name, make, error,
                                                                                 message):
    with pytest.raises(error, match=message):
        make()
