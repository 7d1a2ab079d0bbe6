"""Arithmetic: + - * / ** @ and unary minus, each with a broadcasting-aware backward."""
from ..function import Function
from .shape import sum_to


class Add(Function):
    """y = a + b;  dL/da = sum_to(gy), dL/db = sum_to(gy)."""

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a + b

    def backward(self, gy):
        return sum_to(self.xp, gy, self.shapes[0]), sum_to(self.xp, gy, self.shapes[1])


class Sub(Function):
    """y = a - b;  dL/da = gy, dL/db = -gy (each summed to its input's shape)."""

    def forward(self, a, b):
        self.shapes = (a.shape, b.shape)
        return a - b

    def backward(self, gy):
        return sum_to(self.xp, gy, self.shapes[0]), sum_to(self.xp, -gy, self.shapes[1])


class Mul(Function):
    """y = a * b;  dL/da = gy * b, dL/db = gy * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, gy):
        xp, a, b = self.xp, self.a, self.b
        return sum_to(xp, gy * b, a.shape), sum_to(xp, gy * a, b.shape)


class Div(Function):
    """y = a / b;  dL/da = gy / b, dL/db = -gy * a / b**2."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a / b

    def backward(self, gy):
        xp, a, b = self.xp, self.a, self.b
        ga = gy / b
        return sum_to(xp, ga, a.shape), sum_to(xp, -ga * a / b, b.shape)


class Neg(Function):
    """y = -x;  dL/dx = -gy."""

    def forward(self, x):
        return -x

    def backward(self, gy):
        return -gy


class Pow(Function):
    """y = a ** b;  dL/da = gy * b * a**(b-1), dL/db = gy * y * log(a) (needs a > 0)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        self.y = a ** b
        return self.y

    def backward(self, gy):
        xp, a, b = self.xp, self.a, self.b
        ga = sum_to(xp, gy * b * a ** (b - 1), a.shape)
        gb = None
        if self.inputs[1].requires_grad:
            gb = sum_to(xp, gy * self.y * xp.log(a), b.shape)
        return ga, gb


class MatMul(Function):
    """y = a @ b, batched over leading axes with broadcasting (NumPy's matmul rules).

    dL/da = gy @ b^T, dL/db = a^T @ gy, each summed over broadcast batch axes. 1-D operands are
    treated as a row (a) or a column (b) vector, as in the forward.
    """

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError(f"matmul: operands must have at least one dimension, got shapes "
                             f"{tuple(a.shape)} and {tuple(b.shape)}")
        ka = a.shape[-1]
        kb = b.shape[-2] if b.ndim > 1 else b.shape[0]
        if ka != kb:
            raise ValueError(f"matmul: shapes {tuple(a.shape)} and {tuple(b.shape)} do not align "
                             f"({ka} != {kb})")
        self.a, self.b = a, b
        if ka == 1 and a.ndim > 1 and b.ndim > 1:
            # an outer product: the same values (no sum), but BLAS took 2.5x as long as this broadcast
            return a * b
        return self.xp.matmul(a, b)

    def backward(self, gy):
        xp, a, b = self.xp, self.a, self.b
        a2 = xp.reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
        b2 = xp.reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
        if a.ndim == 1 and b.ndim == 1:
            gy = xp.reshape(gy, (1, 1))
        elif a.ndim == 1:                   # gy (..., N) -> (..., 1, N)
            gy = xp.reshape(gy, tuple(gy.shape[:-1]) + (1, gy.shape[-1]))
        elif b.ndim == 1:                   # gy (..., M) -> (..., M, 1)
            gy = xp.reshape(gy, tuple(gy.shape) + (1,))
        ga = xp.matmul(gy, xp.matrix_transpose(b2))
        if b2.ndim == 2 and a2.ndim > 2:
            # a stack of inputs times one weight: the batch sum is part of one (K, rows) @ (rows, N) product
            rows_a = xp.reshape(a2, (-1, a2.shape[-1]))
            gb = xp.matmul(xp.matrix_transpose(rows_a), xp.reshape(gy, (-1, gy.shape[-1])))
        else:
            gb = xp.matmul(xp.matrix_transpose(a2), gy)
        ga = sum_to(xp, ga, a2.shape)
        gb = sum_to(xp, gb, b2.shape)
        return xp.reshape(ga, a.shape), xp.reshape(gb, b.shape)
