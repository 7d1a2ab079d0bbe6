"""Recurrent cells, each on two paths (a composed step for autodiff, a fused sequence with hand-written BPTT),
the runner that stacks them over time-major sequences, truncated BPTT, and the gradient-flow probe.

    import rnnlab.cells as cells
    rnn = cells.Recurrent([cells.MomentumLSTM(1, 128, mu=0.6, s=0.6), cells.LSTM(128, 128)], fused=True)
    outputs, state = rnn(x)                 # x (T, B, 1) -> outputs (T, B, 128); state: per layer (h, c, ...)
"""
from .base import Cell
from .fused import FusedSequence
from .rnn import RNN
from .indrnn import IndRNN
from .lstm import LSTM
from .gru import GRU
from .momentum import (AdamLSTM, AdamRNN, MomentumLSTM, MomentumRNN, NesterovLSTM, NesterovRNN, RMSPropLSTM,
                       RMSPropRNN)
from .momentum_rules import nesterov_mu
from .orthogonal import (AdamOrthogonalRNN, DynamicTrivialization, MomentumOrthogonalRNN, NesterovOrthogonalRNN,
                         OrthogonalRNN, RMSPropOrthogonalRNN, modrelu)
from .probe import GradNormProbe
from .recurrent import Recurrent, detach_state, unroll
from .registry import CELLS, cell_class, cell_hyperparameters, register_cell
from .tbptt import TBPTT, Chunk, tbptt

__all__ = ["Cell", "RNN", "IndRNN", "LSTM", "GRU", "MomentumRNN", "MomentumLSTM", "NesterovRNN", "NesterovLSTM",
           "AdamRNN", "AdamLSTM", "RMSPropRNN", "RMSPropLSTM", "Recurrent", "tbptt", "TBPTT", "Chunk",
           "detach_state", "unroll", "nesterov_mu", "GradNormProbe", "FusedSequence",
           "OrthogonalRNN", "MomentumOrthogonalRNN", "NesterovOrthogonalRNN", "AdamOrthogonalRNN",
           "RMSPropOrthogonalRNN", "DynamicTrivialization", "modrelu", "CELLS", "register_cell", "cell_class",
           "cell_hyperparameters"]
