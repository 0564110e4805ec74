"""The workers of one prediction job: under torchrun, one process per device (LOCAL_RANK),
each labelling its share (data/shards.py); otherwise this process alone.

Workers exchange nothing but counts, so they need no collective: they add to counters in the
job's torch.distributed store, which the main worker reads for the progress bar and polls to
know that every share is done. A worker that finishes early never waits on a timeout, and one
that dies makes torchrun stop the others.
"""
import os
import time
from datetime import timedelta

import torch
import torch.distributed as dist

from .engines import pick_device


def launched() -> tuple[int, int]:
    """(rank, world size) as torchrun sets them; (0, 1) for a plain run."""
    return int(os.environ.get("RANK", 0)), int(os.environ.get("WORLD_SIZE", 1))


def worker_device(requested: str = "auto") -> torch.device:
    """`--device` as asked; a bare `cuda` under torchrun is this worker's own GPU."""
    device = pick_device(requested)
    if device.type == "cuda" and device.index is None and "LOCAL_RANK" in os.environ:
        device = torch.device("cuda", int(os.environ["LOCAL_RANK"]))
    return device


class Workers:
    """This process's place in the job, and the job's shared counts of labelled and bad articles."""

    def __init__(self):
        self.rank, self.count = launched()
        self.main = self.rank == 0
        self._store = None
        self._counts = {"labelled": 0, "bad": 0}

    def start(self, device: torch.device) -> None:
        """Join the torchrun job (gloo on the CPU, nccl on GPUs): call after everything that can be
        checked has been."""
        if self.count == 1:
            return
        if device.type == "cuda":
            torch.cuda.set_device(device)
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
        # the store the job rendezvoused through (torchrun's, or rank 0's); keys per restart
        store = dist.TCPStore(os.environ["MASTER_ADDR"], int(os.environ["MASTER_PORT"]), is_master=False,
                              timeout=timedelta(minutes=5))
        self._store = dist.PrefixStore(f"stance-predict/{os.environ.get('TORCHELASTIC_RESTART_COUNT', '0')}", store)

    def add(self, labelled: int, bad: int) -> None:
        for key, n in (("labelled", labelled), ("bad", bad)):
            if self._store:
                self._store.add(key, n)
            else:
                self._counts[key] += n

    def counts(self) -> tuple[int, int]:
        """Articles labelled and bad, over all workers so far."""
        if self._store:
            return self._store.add("labelled", 0), self._store.add("bad", 0)
        return self._counts["labelled"], self._counts["bad"]

    def finish(self, waiting=lambda: None, poll: float = 0.5) -> None:
        """Say this worker's share is done; the main worker then waits for all the others,
        calling `waiting` (to move the progress bar) meanwhile."""
        if not self._store:
            return
        self._store.add("finished", 1)
        while self.main and self._store.add("finished", 0) < self.count:
            waiting()
            time.sleep(poll)

    def close(self) -> None:
        if dist.is_initialized():
            dist.destroy_process_group()
