"""The Frank-Wolfe RNN optimizer (Yue, Li, Saligrama & Zhang, Algorithm 1)."""
from __future__ import annotations

import numbers

from ..engine import backend
from ..engine.tensor import enable_grad
from .lmo import check_p, lmo
from .optimizer import Optimizer

NORMS = ("global", "per_tensor")
GAMMAS = ("1/k", "2/(k+1)")


class FrankWolfe(Optimizer):
    """Frank-Wolfe RNN optimizer: an inner Frank-Wolfe loop in a δ-ball around the weights, then one outer step.

    Algorithm 1 of the paper, for outer step t with learning rate η, radius δ_t, K inner steps and norm p::

        Δω_{t,0} = 0
        for k = 1..K:
            s_{t,k}  = argmin_{||s||_p <= δ_t} <s, ∇F(ω_{t-1} + Δω_{t,k-1})>       (see :func:`lmo`)
            Δω_{t,k} = (1 - γ_k) Δω_{t,k-1} + γ_k s_{t,k},   γ_k = 1/k
        ω_t = ω_{t-1} + η Δω_{t,K}

    ``step(closure)`` runs one whole outer step and calls ``closure`` K times. The closure computes the
    loss and its gradients (``loss.backward()``) at the parameters' current data and returns the loss; it
    may draw a new minibatch or the next TBPTT chunk on each call (stochastic Frank-Wolfe). Gradients are
    cleared before each call. At inner step k the parameters hold ω + Δω_{k-1}; after the step they hold
    ω + η Δω_K. ``step`` returns the first call's loss: the loss at ω, before the step. Afterwards each
    ``.grad`` holds the last inner gradient (plain update) or -Δω_K / δ (what ``outer`` was given).

    Arguments (``lr``, ``delta``, ``p`` and ``norm`` may differ per parameter group):

    * ``lr`` (η) -- the plain outer step size; unused when ``outer`` is given;
    * ``delta`` (δ) -- the radius, > 0. It can follow a schedule with the learning rate, as in the paper:
      ``StepDecay(opt, 10, 0.5, keys=("lr", "delta"))``; with an outer optimizer, schedule its own lr
      beside it: ``StepDecay(opt.outer, 10, 0.5)`` and ``StepDecay(opt, 10, 0.5, keys=("delta",))``;
    * ``K`` -- inner steps (gradient evaluations) per outer step; K = 1, p = 2 is a normalized-gradient
      step ω ← ω - η δ g / ||g||_2, and K = 1, p = inf a sign step ω ← ω - η δ sign(g);
    * ``p`` -- the ball's norm: any p >= 1, ``math.inf`` included;
    * ``norm`` -- ``"global"``: one ball for all parameters of a group together (the paper's ω is the
      whole weight vector); ``"per_tensor"``: one ball of radius δ per parameter tensor (the released code);
    * ``outer`` -- None, or another optimizer over the same parameters. It is stepped once per outer step
      from ω with the gradient -Δω_K / δ (for p = 2 and K = 1, the normalized gradient). The released code
      uses Adam this way: ``FrankWolfe(params, lr=0, delta=1e-3, outer=Adam(params, 1e-3))``;
    * ``gamma`` -- ``"1/k"`` (Algorithm 1: Δω_{t,K} is the mean of s_{t,1..K}) or ``"2/(k+1)"`` (the
      classic Frank-Wolfe step). On a convex F with curvature constant M over the ball, the inner gap
      h_k = F(ω + Δω_k) - min_ball F obeys h_k <= 2M/(k+2) for "2/(k+1)" (Jaggi 2013) and
      h_k <= M (1 + 1/2 + ... + 1/k) / (2k) = O(log k / k) for "1/k";
    * ``cumulative`` -- False (Algorithm 1) or True, the released code's inner update. The released code
      keeps the same recursion b_k = (1 - 1/k) b_{k-1} - (δ/k) ĝ_k (b_k = Δω_k for p = 2) but moves the
      weights by every b_k as it goes, so the closure at inner step k sees ω + Σ_{j<k} Δω_j instead of
      ω + Δω_{k-1}; the outer step is the same. The two agree for K = 1. The released code's setting
      in full: ``norm="per_tensor", p=2, outer=Adam(...), cumulative=True`` and a new minibatch per call;
    * ``nonfinite`` -- a NaN or Inf gradient in any inner step: ``"raise"`` or ``"skip"`` the outer step;
      the parameters are restored to ω either way (and the outer optimizer is not stepped).
    """

    def __init__(self, params, lr: float, delta: float, K: int = 1, p: float = 2, outer: Optimizer | None = None,
                 norm: str = "global", gamma: str = "1/k", cumulative: bool = False, nonfinite: str = "raise"):
        if not isinstance(K, numbers.Integral) or isinstance(K, bool) or K < 1:
            raise ValueError(f"FrankWolfe: K (inner steps) must be an integer >= 1, got {K!r}")
        if gamma not in GAMMAS:
            raise ValueError(f"FrankWolfe: gamma must be one of {', '.join(map(repr, GAMMAS))}, got {gamma!r}")
        if not isinstance(cumulative, bool):
            raise ValueError(f"FrankWolfe: cumulative must be True or False, got {cumulative!r}")
        super().__init__(params, dict(lr=lr, delta=delta, p=p, norm=norm), nonfinite=nonfinite)
        self.K, self.gamma, self.cumulative = int(K), gamma, cumulative
        if outer is not None:
            if not isinstance(outer, Optimizer) or isinstance(outer, FrankWolfe):
                raise TypeError(f"FrankWolfe: outer must be None or an optimizer such as Adam or SGD, got "
                                f"{type(outer).__name__}")
            mine, theirs = {id(p) for p in self.params}, {id(p) for p in outer.params}
            if mine != theirs:
                raise ValueError(f"FrankWolfe: outer must optimize the same parameters as FrankWolfe; it has "
                                 f"{len(theirs - mine)} parameters FrankWolfe lacks and lacks "
                                 f"{len(mine - theirs)} of FrankWolfe's")
        self.outer = outer

    def _check_hyper(self, group, where):
        self._require_real(group, where, "lr")
        self._require_real(group, where, "delta", low_open=True)    # the outer gradient is -Δω_K / δ
        check_p(f"{self._name}: {where}".rstrip(": "), group["p"])
        self._require(group["norm"] in NORMS, where, "norm", group["norm"], f"one of {NORMS}")

    def step(self, closure=None):
        """One outer step: K calls of ``closure``, then the update of ω. Returns the first call's loss."""
        if not callable(closure):
            raise TypeError(f"FrankWolfe: step needs a closure that computes the loss and its gradients at "
                            f"the current weights and returns the loss (it is called K={self.K} times), "
                            f"got {closure!r}")
        self._check_all_hyper()
        params = self.params
        omega = [p.data for p in params]
        delta_k = [None] * len(params)      # Δω_{k}; None stands for 0
        moved = [None] * len(params)        # Σ_{j<k} Δω_j, the released code's cumulative offset
        first_loss = None
        try:
            for k in range(1, self.K + 1):
                offset = moved if self.cumulative else delta_k
                for p, w, d in zip(params, omega, offset):
                    p.data = w if d is None else w + d
                    p.grad = None
                with enable_grad():
                    loss = closure()
                if k == 1:
                    first_loss = loss
                if not self.grads_finite(params):
                    self._restore(params, omega)
                    return first_loss
                s = self._oracle()
                g_k = 1.0 / k if self.gamma == "1/k" else 2.0 / (k + 1)
                delta_k = [s_i if d is None else (1.0 - g_k) * d + g_k * s_i for d, s_i in zip(delta_k, s)]
                if self.cumulative:
                    moved = [d if m is None else m + d for m, d in zip(moved, delta_k)]
        except BaseException:
            self._restore(params, omega)
            raise
        self._restore(params, omega)
        self._outer_update(params, omega, delta_k)
        return first_loss

    def _oracle(self) -> list:
        """s_k for every parameter, group by group: the LMO of each group's ball at the current gradients."""
        s = []
        for group in self.param_groups:
            grads = [p.grad if p.grad is not None else backend.get_namespace(p.data).zeros_like(p.data)
                     for p in group["params"]]
            delta, p = group["delta"], group["p"]
            if group["norm"] == "per_tensor" or len(grads) == 1:
                s.extend(lmo(g, delta, p) for g in grads)
                continue
            xp = backend.get_namespace(*grads)
            flat = lmo(xp.concat([xp.reshape(g, (-1,)) for g in grads]), delta, p)
            start = 0
            for g in grads:
                s.append(xp.reshape(flat[start:start + g.size], g.shape))
                start += g.size
        return s

    def _outer_update(self, params, omega, delta_k) -> None:
        i = 0
        for group in self.param_groups:
            for p in group["params"]:
                if self.outer is None:
                    p.data = omega[i] + group["lr"] * delta_k[i]
                else:
                    p.grad = (-1.0 / group["delta"]) * delta_k[i]
                i += 1
        if self.outer is not None:
            self.outer.step()

    @staticmethod
    def _restore(params, omega) -> None:
        for p, w in zip(params, omega):
            p.data = w

    def _extra_state(self) -> dict:
        extra = super()._extra_state()
        if self.outer is not None:
            extra["outer"] = self.outer.state_dict()
        return extra

    def _load_extra_state(self, extra: dict) -> None:
        if (self.outer is None) != ("outer" not in extra):
            raise ValueError("FrankWolfe.load_state_dict: the state was saved "
                             f"{'with' if 'outer' in extra else 'without'} an outer optimizer, this "
                             f"FrankWolfe has {'one' if self.outer is not None else 'none'}")
        if self.outer is not None:
            self.outer.load_state_dict(extra["outer"])
        super()._load_extra_state(extra)
