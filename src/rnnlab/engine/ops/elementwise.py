"""Element-wise functions and their local derivatives."""
from ..function import Function
from .shape import sum_to


class Exp(Function):
    """y = exp(x);  dL/dx = gy * y."""

    def forward(self, x):
        self.y = self.xp.exp(x)
        return self.y

    def backward(self, gy):
        return gy * self.y


class Log(Function):
    """y = log(x);  dL/dx = gy / x."""

    def forward(self, x):
        self.x = x
        return self.xp.log(x)

    def backward(self, gy):
        return gy / self.x


class Sqrt(Function):
    """y = sqrt(x);  dL/dx = gy / (2 y)."""

    def forward(self, x):
        self.y = self.xp.sqrt(x)
        return self.y

    def backward(self, gy):
        return gy / (2 * self.y)


class Tanh(Function):
    """y = tanh(x);  dL/dx = gy * (1 - y**2)."""

    def forward(self, x):
        self.y = self.xp.tanh(x)
        return self.y

    def backward(self, gy):
        return gy * (1 - self.y * self.y)


class Sigmoid(Function):
    """y = 1 / (1 + exp(-x)), computed as (tanh(x/2) + 1) / 2 (no overflow);  dL/dx = gy * y (1 - y)."""

    def forward(self, x):
        y = self.xp.tanh(x * 0.5)   # then in place: two fresh arrays per call instead of four
        y += 1
        y *= 0.5
        self.y = y
        return y

    def backward(self, gy):
        g = gy * self.y
        g *= 1 - self.y
        return g


class ReLU(Function):
    """y = max(x, 0);  dL/dx = gy * 1[x > 0] (subgradient 0 at x = 0)."""

    def forward(self, x):
        self.mask = x > 0
        return self.xp.where(self.mask, x, self.xp.zeros_like(x))

    def backward(self, gy):
        return self.xp.where(self.mask, gy, self.xp.zeros_like(gy))


class Abs(Function):
    """y = |x|;  dL/dx = gy * sign(x) (subgradient 0 at x = 0)."""

    def forward(self, x):
        self.x = x
        return self.xp.abs(x)

    def backward(self, gy):
        return gy * self.xp.sign(self.x)


class Clip(Function):
    """y = min(max(x, lo), hi);  dL/dx = gy * 1[lo <= x <= hi].

    The subgradient passes the gradient through at the boundaries themselves (x == lo or x == hi) and
    blocks it strictly outside. ``lo`` or ``hi`` may be None (no bound on that side).
    """

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        xp = self.xp
        mask = xp.ones_like(x, dtype=xp.bool)
        if self.lo is not None:
            mask = mask & (x >= self.lo)
        if self.hi is not None:
            mask = mask & (x <= self.hi)
        self.mask = mask
        return xp.clip(x, self.lo, self.hi)

    def backward(self, gy):
        return self.xp.where(self.mask, gy, self.xp.zeros_like(gy))


class Maximum(Function):
    """y = max(a, b) element-wise;  the gradient goes to the larger input, split equally on ties."""

    def forward(self, a, b):
        xp = self.xp
        self.shapes = (a.shape, b.shape)
        self.wa = xp.astype(a > b, a.dtype) + xp.astype(a == b, a.dtype) * 0.5
        return xp.maximum(a, b)

    def backward(self, gy):
        xp = self.xp
        ga = gy * self.wa
        return sum_to(xp, ga, self.shapes[0]), sum_to(xp, gy - ga, self.shapes[1])


class Where(Function):
    """y = a where cond else b;  dL/da = gy * cond, dL/db = gy * (1 - cond); ``cond`` gets none."""

    def forward(self, cond, a, b):
        xp = self.xp
        if cond.dtype != xp.bool:
            raise TypeError(f"where: cond must be a boolean array, got dtype {cond.dtype}")
        self.cond, self.shapes = cond, (a.shape, b.shape)
        return xp.where(cond, a, b)

    def backward(self, gy):
        xp = self.xp
        zero = xp.zeros_like(gy)
        ga = xp.where(self.cond, gy, zero)
        gb = xp.where(self.cond, zero, gy)
        return None, sum_to(xp, ga, self.shapes[0]), sum_to(xp, gb, self.shapes[1])
