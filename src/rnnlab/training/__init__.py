"""The training program behind ``rnnlab train``, as a package of small parts.

    from rnnlab.training import train, TrainConfig
    summary = train(TrainConfig(task="adding", cell="momentum-lstm", steps=500, out="runs/demo"))

* :mod:`.config` -- every setting, its default and its checks; :mod:`.registry` -- the names settings take;
* :mod:`.data` -- the task; :mod:`.model` -- the network; :mod:`.work` -- units of work (minibatch, TBPTT
  chunk, token chunk); :mod:`.evaluation` -- losses and metrics over a split;
* :mod:`.loop` -- the run; :mod:`.records` and :mod:`.rundir` -- what it writes, where; :mod:`.checkpoints`;
  :mod:`.saved` -- a run loaded back (``load_run``); :mod:`.sampling` -- text a character model writes;
* :mod:`.distributed` -- data parallelism over MPI; :mod:`.plots`; :mod:`.experiments` -- the papers' runs.
"""
from .checkpoints import CheckpointError
from .config import ConfigError, TrainConfig, from_mapping, load_toml
from .evaluation import evaluate
from .loop import Diverged, Interrupted, Run
from .rundir import RunDirError
from .sampling import sample_text
from .saved import SavedRun, load_run
from .session import evaluate_run, resume, train

__all__ = ["train", "resume", "evaluate_run", "evaluate", "TrainConfig", "ConfigError", "from_mapping", "load_toml",
           "Run", "Diverged", "Interrupted", "CheckpointError", "RunDirError", "load_run", "SavedRun",
           "sample_text"]
