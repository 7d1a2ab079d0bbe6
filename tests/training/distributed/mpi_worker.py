"""Run under ``mpiexec -n 2`` by the tests: ``python mpi_worker.py SPEC.json``.

SPEC holds ``{"cases": {name: settings}, "resume": {name: {"run_dir": ..., "steps": ...}}, "results": DIR}``.
Each case trains with ``distributed`` on; rank 0 writes into ``settings["out"]``, every other rank is given
``settings["out"] + ".rank<r>"`` (allowed to differ, and expected to stay absent). After every optimizer step
the ranks compare their parameters bit for bit. Rank 0 saves, per case, ``DIR/<name>.npz``: the final
parameters and ``identical`` (one flag per step). The ``resume`` entries continue single-process runs.
"""
import dataclasses
import json
import sys

import numpy as np

from rnnlab import training as train
from rnnlab.training import distributed
from rnnlab.training.config import from_mapping
from rnnlab.engine.backend import to_numpy


class CheckedRun(train.Run):
    """A Run that, after every step, records whether all ranks hold bit-identical parameters."""

    def train_step(self) -> None:
        super().train_step()
        flat = np.concatenate([to_numpy(p.data).ravel() for p in self.params])
        everyone = self.comm.comm.allgather(flat)
        self.identical = getattr(self, "identical", []) + [all(np.array_equal(everyone[0], f) for f in everyone)]


def main(path: str) -> None:
    spec = json.loads(open(path).read())
    for name, settings in spec["cases"].items():
        cfg = from_mapping({**settings, "distributed": True}, "spec")
        rank = distributed.communicator(cfg).rank
        if rank:
            cfg = dataclasses.replace(cfg, out=f"{settings['out']}.rank{rank}")
        run = CheckedRun(cfg)
        run.run()
        if run.comm.is_root:
            params = {k: to_numpy(v) for k, v in run.model.state_dict().items()}
            np.savez(f"{spec['results']}/{name}.npz", identical=np.array(run.identical), **params)
    for name, job in spec.get("resume", {}).items():
        train.resume(job["run_dir"], steps=job["steps"], progress=False, distributed=True)


if __name__ == "__main__":
    main(sys.argv[1])
