"""The autodiff engine: backends, tensors, functions, operations, modules and gradient checking."""
from . import backend, host_memory, ops
from .backend import (BackendError, asarray, current_backend, get_default_dtype, get_namespace,
                      set_default_dtype, to_numpy, use_backend)
from .errors import EngineError, FunctionError, TensorDataError
from .function import Function
from .tensor import Tensor, enable_grad, no_grad

ops.attach_tensor_methods()     # Tensor's operators come from ops, which imports tensor: attached here
host_memory.keep_freed_memory()
