"""Optimizers: SGD, Adam, RMSProp and the Frank-Wolfe RNN optimizer; gradient clipping; schedules.

    opt = rnnlab.optim.FrankWolfe(model.parameters(), lr=1.0, delta=1e-2, K=5, p=2)

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    opt.step(closure)
"""
from .adam import Adam, AdamW
from .clip import clip_grad_norm, clip_grad_value
from .frank_wolfe import FrankWolfe
from .lmo import lmo
from ..engine.norms import lp_norm
from .optimizer import NonFiniteGradientError, Optimizer
from .rmsprop import RMSProp
from .schedules import ExponentialDecay, ReduceOnPlateau, Scheduler, StepDecay
from .sgd import SGD

__all__ = ["Optimizer", "NonFiniteGradientError", "SGD", "Adam", "AdamW", "RMSProp", "FrankWolfe", "lmo",
           "lp_norm", "clip_grad_norm", "clip_grad_value", "Scheduler", "StepDecay", "ExponentialDecay",
           "ReduceOnPlateau"]
