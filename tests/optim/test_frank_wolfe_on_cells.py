"""FrankWolfe on the recurrent cells: both paths give the same step, with inner steps on successive TBPTT
chunks or on successive minibatches."""
import pytest
from tests.optim.optim_helpers import host, on_host

import rnnlab
from rnnlab import cells
from rnnlab.optim import Adam, FrankWolfe

CELLS = {
    "RNN": lambda: cells.RNN(2, 3, rng=0),
    "LSTM": lambda: cells.LSTM(2, 3, rng=0),
    "GRU": lambda: cells.GRU(2, 3, rng=0),
    "IndRNN": lambda: cells.IndRNN(2, 3, rng=0),
    "MomentumLSTM": lambda: cells.MomentumLSTM(2, 3, mu=0.6, s=0.6, rng=0),
}


def model(cell_name, fused):
    rnn = cells.Recurrent([CELLS[cell_name]()], fused=fused)
    head = rnnlab.Linear(3, 1, rng=1)
    return rnn, head, rnn.parameters() + head.parameters()


def data(seed):
    rng = host.random.default_rng(seed)
    return rnnlab.Tensor(rng.standard_normal((6, 2, 2))), rnnlab.Tensor(rng.standard_normal((6, 2, 1)))


def tbptt_step(cell_name, fused, outer):
    """One Frank-Wolfe step whose K = 2 inner steps are the two TBPTT chunks (3 steps each) of one sequence."""
    rnn, head, params = model(cell_name, fused)
    x, y = data(0)
    chunks = iter(cells.tbptt(rnn, x, k1=3))
    seen = []

    def closure():
        chunk = next(chunks)
        seen.append((chunk.start, chunk.stop))
        loss = rnnlab.mse_loss(head(chunk.outputs), y[chunk.slice])
        loss.backward()
        return loss
    opt = FrankWolfe(params, lr=1.0, delta=0.05, K=2, outer=Adam(params, lr=0.01) if outer else None)
    before = [on_host(p) for p in params]
    opt.step(closure)
    assert seen == [(0, 3), (3, 6)]
    return before, [on_host(p) for p in params]


@pytest.mark.parametrize("outer", [False, True], ids=["plain", "outer_adam"])
@pytest.mark.parametrize("cell_name", sorted(CELLS))
def test_tbptt_chunks_as_inner_steps_give_the_same_step_on_both_paths(backend_name, float64, cell_name, outer):
    before, fused = tbptt_step(cell_name, True, outer)
    _, composed = tbptt_step(cell_name, False, outer)
    for b, f, c in zip(before, fused, composed):
        assert host.allclose(f, c, rtol=1e-9, atol=1e-12)
    moved = host.sqrt(sum(((f - b) ** 2).sum() for f, b in zip(fused, before)))
    if not outer:
        assert moved <= 0.05 * (1 + 1e-9)   # ||Δ_2||_2 <= δ, lr = 1
    assert moved > 0


def test_new_minibatch_per_inner_step_lowers_the_loss_of_a_small_rnn(backend_name, float64):
    rnn, head, params = model("RNN", True)
    batches = iter(range(10 ** 6))
    opt = FrankWolfe(params, lr=1.0, delta=0.05, K=3)

    def closure():
        x, y = data(next(batches) % 4)
        loss = rnnlab.mse_loss(head(rnn(x)[0]), y)
        loss.backward()
        return loss

    def full_loss():
        with rnnlab.no_grad():
            return sum(float(rnnlab.mse_loss(head(rnn(x)[0]), y).item()) for x, y in map(data, range(4)))
    start = full_loss()
    for _ in range(15):
        opt.step(closure)
    assert full_loss() < 0.9 * start
