"""Backends: switching (call, context manager, environment), moving data, refusing to mix, and cupy's absence."""
import os
import subprocess
import sys
import types

import array_api_compat
import numpy as np  # host-side data only
import pytest

import rnnlab
from rnnlab.engine import backend


def test_use_backend_as_a_context_manager_restores_the_previous_backend(backend_name):
    with rnnlab.use_backend("numpy"):
        assert rnnlab.current_backend() == "numpy"
        assert backend.is_numpy(rnnlab.get_namespace(rnnlab.Tensor([1.0]).data))
    assert rnnlab.current_backend() == backend_name


def test_use_backend_called_plainly_switches_until_switched_back(backend_name):
    rnnlab.use_backend("strict", device="device1")
    t = rnnlab.Tensor([1.0])
    assert rnnlab.current_backend() == "strict" and str(backend.device_of(t.data)).endswith("'device1')")
    rnnlab.use_backend(backend_name, device="device1" if backend_name == "strict" else None)
    assert rnnlab.current_backend() == backend_name


def test_unknown_backend_name_is_refused_with_the_valid_names():
    with pytest.raises(backend.BackendError,
                       match="use_backend: unknown backend 'jax'; expected one of numpy, cupy, strict"):
        rnnlab.use_backend("jax")


def _python(code, **env):
    """Run ``code`` in a fresh interpreter with these environment variables; (exit status, stdout, stderr)."""
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, **env), capture_output=True, text=True,
                         timeout=120)
    return out.returncode, out.stdout, out.stderr


@pytest.mark.parametrize("name, device, dtype", [("strict", "device1", "float64"), ("numpy", "", "float32")])
def test_environment_variables_choose_backend_device_and_dtype_on_first_use(name, device, dtype):
    code = ("import rnnlab; t = rnnlab.Tensor([1.0]); "
            "print(rnnlab.current_backend(), rnnlab.backend.device_of(t.data), str(t.dtype).rsplit('.')[-1])")
    rc, out, err = _python(code, RNNLAB_BACKEND=name, RNNLAB_DEVICE=device, RNNLAB_DTYPE=dtype)
    assert rc == 0, err
    words = out.split()
    assert words[0] == name and words[-1] == dtype
    assert ("device1" in out) == (device == "device1")


def test_an_invalid_environment_breaks_neither_import_nor_an_explicit_backend_and_is_one_line_when_used():
    code = ("import rnnlab\n"
            "try:\n    rnnlab.current_backend()\nexcept rnnlab.BackendError as exc:\n    print('error:', exc)\n"
            "rnnlab.use_backend('numpy'); rnnlab.set_default_dtype('float64')\n"
            "print('explicit:', rnnlab.current_backend(), rnnlab.Tensor([1.0]).dtype)")
    rc, out, err = _python(code, RNNLAB_BACKEND="foo", RNNLAB_DTYPE="float16")
    assert rc == 0, err
    lines = out.splitlines()
    assert lines[0] == ("error: RNNLAB_BACKEND: unknown backend 'foo'; expected one of numpy, cupy, strict "
                        "(or unset it, or pass --backend)")
    assert lines[1] == "explicit: numpy float64"


@pytest.mark.parametrize("env, message", [
    ({"RNNLAB_BACKEND": "strict", "RNNLAB_DEVICE": "nowhere"},
     "RNNLAB_DEVICE: 'nowhere' is not a device of backend 'strict'"),
    ({"RNNLAB_DTYPE": "float16"}, "RNNLAB_DTYPE: dtype must be 'float32' or 'float64', got 'float16'"),
])
def test_an_invalid_device_or_dtype_in_the_environment_is_named_when_used(env, message):
    rc, out, err = _python("import rnnlab; rnnlab.Tensor([1.0])", **env)
    assert rc != 0 and err.strip().splitlines()[-1].startswith(f"rnnlab.engine.backend.BackendError: {message}")


def test_the_training_command_shows_its_help_under_an_invalid_environment():
    rc, out, err = _python("from rnnlab.cli import main; main(['train', '--help'])", RNNLAB_BACKEND="foo")
    assert rc == 0, err
    assert "usage: rnnlab train" in out and "--backend" in out


def test_snapshot_and_restore_bring_back_backend_device_and_dtype(backend_name):
    token = backend.snapshot()
    before = (rnnlab.current_backend(), backend.active_device(), backend.default_dtype_name())
    rnnlab.use_backend("strict" if backend_name == "numpy" else "numpy")
    rnnlab.set_default_dtype("float64" if before[2] == "float32" else "float32")
    assert (rnnlab.current_backend(), backend.default_dtype_name()) != (before[0], before[2])
    backend.restore(token)
    assert (rnnlab.current_backend(), backend.active_device(), backend.default_dtype_name()) == before


def test_asking_for_cupy_without_cupy_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(backend, "_cupy_module", None)
    monkeypatch.setitem(sys.modules, "cupy", None)       # import cupy now raises ImportError
    with pytest.raises(backend.BackendError, match=r"needs CuPy, which is not installed: pip install 'rnnlab\[cuda\]'"):
        rnnlab.use_backend("cupy")
    available, reason = backend.cupy_available()
    assert not available and "pip install 'rnnlab[cuda]'" in reason


@pytest.mark.parametrize("count, failure, message", [
    (0, None, "CuPy is installed but no CUDA device was found"),
    (None, RuntimeError("cudaErrorNoDevice"), r"CuPy is installed but no CUDA device is usable \(cudaErrorNoDevice\)"),
])
def test_asking_for_cupy_without_a_cuda_device_says_which_is_missing(monkeypatch, count, failure, message):
    def device_count():
        if failure is not None:
            raise failure
        return count
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=device_count))
    monkeypatch.setattr(backend, "_cupy_module", None)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    with pytest.raises(backend.BackendError, match=message):
        rnnlab.use_backend("cupy")


def _other_side(backend_name):
    """A tensor on a different backend than the active one, and how the error message names it."""
    if backend_name == "numpy":
        with rnnlab.use_backend("strict", device="device1"):
            return rnnlab.Tensor([1.0, 2.0]), "strict on .*device1.*"
    with rnnlab.use_backend("numpy"):
        return rnnlab.Tensor([1.0, 2.0]), "numpy"


def test_mixing_backends_in_one_operation_names_both(backend_name):
    here = rnnlab.Tensor([1.0, 2.0])
    there, described = _other_side(backend_name)
    mine = {"numpy": "numpy", "strict": "strict on .*device1.*", "cupy": "cupy.*"}[backend_name]
    with pytest.raises(backend.BackendError, match=rf"mul: arrays from different backends or devices cannot be "
                                                   rf"mixed \({mine} and {described}\)"):
        _ = here * there


def test_mixing_devices_of_one_backend_names_both_devices(backend_name):
    if backend_name != "strict":
        pytest.skip("only the strict backend offers two devices without a GPU")
    here = rnnlab.Tensor([1.0, 2.0])
    with rnnlab.use_backend("strict"):
        default_device = rnnlab.Tensor([1.0, 2.0])
    with pytest.raises(backend.BackendError, match=r"add: .*\(strict on .*device1.* and strict on .*CPU_DEVICE"):
        _ = here + default_device


def test_asarray_moves_host_data_next_to_a_reference_and_to_numpy_brings_it_back(backend_name):
    ref = rnnlab.Tensor([0.0]).data
    a = rnnlab.asarray(np.array([[1.5, 2.5]]), like=ref, dtype="float64")
    assert rnnlab.get_namespace(a) is rnnlab.get_namespace(ref)
    assert backend.device_of(a) == backend.device_of(ref)
    back = rnnlab.to_numpy(a)
    assert isinstance(back, np.ndarray) and back.dtype == np.float64
    np.testing.assert_array_equal(back, [[1.5, 2.5]])


def test_tensor_to_moves_data_and_keeps_requires_grad(backend_name):
    t = rnnlab.Tensor([1.0, 2.0], requires_grad=True)
    moved = t.to("strict", device="device1") if backend_name == "numpy" else t.to("numpy")
    assert moved.requires_grad and moved.is_leaf
    assert rnnlab.get_namespace(moved.data) is not rnnlab.get_namespace(t.data)
    np.testing.assert_array_equal(moved.numpy(), t.numpy())


def test_index_add_sums_repeated_indices(backend_name, float64):
    xp = rnnlab.get_namespace(rnnlab.Tensor([0.0]).data)
    values = rnnlab.Tensor([[1.0, 2.0], [10.0, 20.0], [100.0, 200.0]]).data
    rows = rnnlab.asarray(np.array([2, 0, 2]), like=values)
    out = backend.index_add(xp, (3, 2), rows, values)
    np.testing.assert_array_equal(rnnlab.to_numpy(out), [[10.0, 20.0], [0.0, 0.0], [101.0, 202.0]])


def test_set_default_dtype_accepts_only_float32_and_float64():
    with pytest.raises(ValueError, match="set_default_dtype: dtype must be 'float32' or 'float64', got 'int32'"):
        rnnlab.set_default_dtype("int32")


def test_cupy_arrays_are_computed_through_the_array_api_namespace_of_array_api_compat(monkeypatch):
    class FakeCupyArray:
        device = "gpu0"

    fake = types.ModuleType("cupy")
    fake.ndarray = FakeCupyArray
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1), Device=object)
    compat = types.ModuleType("array_api_compat.cupy")
    monkeypatch.setattr(backend, "_cupy_module", None)
    monkeypatch.setattr(backend, "_cupy_namespace", None)
    monkeypatch.setitem(sys.modules, "cupy", fake)
    monkeypatch.setitem(sys.modules, "array_api_compat.cupy", compat)
    monkeypatch.setattr(array_api_compat, "cupy", compat, raising=False)
    with rnnlab.use_backend("cupy"):
        assert backend.active_namespace() is compat
        assert backend.get_namespace(FakeCupyArray()) is compat
        assert backend.is_cupy(compat) and not backend.is_numpy(compat)
