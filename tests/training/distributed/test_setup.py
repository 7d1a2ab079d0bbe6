"""Without mpiexec: the shares of a global batch, and the errors that name what to fix."""
import sys

import numpy as np
import pytest

from rnnlab.training import distributed
from rnnlab.training.config import TrainConfig
from rnnlab.datasets import load_task
from rnnlab.datasets.loader import BatchLoader


@pytest.mark.parametrize("n_train, batch, ranks", [(40, 8, 2), (13, 16, 2), (50, 12, 3)])
def test_rank_shares_of_each_global_batch_join_into_the_single_process_batch(n_train, batch, ranks):
    task = load_task("adding", seq_len=4, n_train=n_train, n_test=4)
    options = dict(seed=3, drop_last=n_train >= batch)
    alone = list(task.loader("train", batch, **options))
    shares = [list(BatchLoader(distributed.BatchShare(task.train, r, ranks), batch, **options))
              for r in range(ranks)]
    assert all(len(s) == len(alone) for s in shares)
    for i, (x, y) in enumerate(alone):
        np.testing.assert_array_equal(np.concatenate([s[i][0] for s in shares], axis=1), x)
        np.testing.assert_array_equal(np.concatenate([s[i][1] for s in shares], axis=0), y)


class TwoRanks:
    """Stands in for an mpi4py communicator of two ranks that were given the same settings."""

    def Get_rank(self):
        return 0

    def Get_size(self):
        return 2

    def allgather(self, value):
        return [value, value]


def test_a_global_batch_the_ranks_do_not_divide_is_refused_naming_batch_size():
    comm = distributed.MPIComm(TwoRanks(), MPI=None)
    with pytest.raises(distributed.DistributedError, match=r"config: batch_size is the global batch and must be "
                       r"divisible by the 2 ranks \(each takes batch_size / ranks\), got 7"):
        comm.check_config(TrainConfig(batch_size=7))


def test_distributed_without_mpi4py_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setattr(distributed, "_world", None)
    with pytest.raises(distributed.DistributedError, match=r"distributed: training on several processes needs "
                       r"mpi4py, which is not installed: pip install 'rnnlab\[mpi\]'"):
        distributed.communicator(TrainConfig(distributed=True))


def test_one_process_without_the_flag_uses_no_mpi(monkeypatch):
    for name in distributed.SIZE_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert distributed.communicator(TrainConfig()) is distributed.LOCAL
