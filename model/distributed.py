"""Training in several processes (PyTorch DDP), as torchrun or Azure ML's PyTorch distribution start them.

Both launchers give every process RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT
(torch/distributed/run.py, "Environment Variables"; Azure ML's "Distributed GPU training guide",
PyTorch: it sets the same names per process but not torchrun's LOCAL_WORLD_SIZE). A process whose
WORLD_SIZE is above 1 joins a process group (`init_process_group(init_method="env://")`): NCCL on
GPUs, one GPU per process (the one at LOCAL_RANK), gloo on CPUs. Without those variables, or with
WORLD_SIZE 1, training runs in this process alone and nothing here talks to another process.

How the work is shared (model/loops.py): every process builds the same global batches from the same
seed and trains on its share of each (`share`), with a loss scaled so that DDP's gradient average
equals the gradient of the whole batch's loss: the optimiser takes the steps one process would
take. Validation batches are shared out too and their probabilities gathered, so every rank sees
the same probabilities and the decisions taken from them are broadcast from rank 0 (`broadcast`).
Only rank 0 (`is_main`) writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.distributed as dist

LAUNCHER_VARIABLES = ("RANK", "WORLD_SIZE", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT")
_SET_BY = "as torchrun or Azure ML's PyTorch distribution set it"


class DistributionError(ValueError):
    """The launcher's environment variables do not describe a process group this process can join."""


def _default_device() -> torch.device:
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@dataclass(frozen=True)
class Distribution:
    """This process's place among the processes that train one model; the default is one process alone."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    processes_per_node: int = 1
    device: torch.device = field(default_factory=_default_device)
    backend: str | None = None  # "nccl" or "gloo"; None for one process

    @property
    def is_main(self) -> bool:
        """The rank that writes the artifact, runs the export checks and decides when to stop."""
        return self.rank == 0

    @property
    def is_distributed(self) -> bool:
        return self.world_size > 1

    def facts(self) -> dict:
        """How the model was trained, for the artifact's run facts (outside the content version)."""
        return {
            "world_size": self.world_size,
            "processes_per_node": self.processes_per_node,
            "nodes": self.world_size // self.processes_per_node,
            "device": self.device.type,
            "backend": self.backend,
        }

    def share(self, batch: np.ndarray) -> tuple[np.ndarray, bool]:
        """(rows of `batch` this rank computes, whether they count).

        Every rank takes every world_size-th row. A batch smaller than the world leaves some ranks
        without rows: they compute the first row, not counted, so that they still take part in the
        gradient all-reduce that DDP runs after every backward pass.
        """
        batch = np.asarray(batch)
        rows = batch[self.rank :: self.world_size]
        if len(rows) == 0:
            return batch[:1], False
        return rows, True

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """`module` in DistributedDataParallel when distributed (gradients averaged over ranks), else itself."""
        if not self.is_distributed:
            return module
        from torch.nn.parallel import DistributedDataParallel

        device_ids = [self.device.index] if self.device.type == "cuda" else None
        # the networks' buffers are constants (position and token type ids): synced once, when wrapped
        return DistributedDataParallel(module, device_ids=device_ids, forward_sync_buffers=False)

    def sum(self, value: float) -> float:
        """`value` summed over the ranks."""
        if not self.is_distributed:
            return value
        total = torch.tensor([value], dtype=torch.float64, device=self.device)
        dist.all_reduce(total, op=dist.ReduceOp.SUM)
        return float(total.item())

    def gather(self, value) -> list:
        """[value of rank 0, value of rank 1, ...] on every rank (any picklable value)."""
        if not self.is_distributed:
            return [value]
        values = [None] * self.world_size
        dist.all_gather_object(values, value)
        return values

    def broadcast(self, value):
        """Rank 0's `value`, on every rank."""
        if not self.is_distributed:
            return value
        box = [value if self.is_main else None]
        dist.broadcast_object_list(box, src=0)
        return box[0]

    def run_on_main(self, action, share: bool = False):
        """action() on rank 0 only; its result on rank 0 (on every rank when `share`). When it fails,
        every rank fails, the others with a DistributionError quoting it, so that none waits for a
        rank that has given up."""
        error = result = None
        if self.is_main:
            try:
                result = action()
            except Exception as raised:
                error = raised
        if not self.is_distributed:
            if error is not None:
                raise error
            return result
        failure, shared = self.broadcast(
            (None if error is None else f"{type(error).__name__}: {error}", result if share and error is None else None)
        )
        if error is not None:
            raise error
        if failure is not None:
            raise DistributionError(f"rank 0 stopped ({failure})")
        return result if self.is_main else shared


def _integer(environ: Mapping[str, str], name: str, low: int, high: int | None) -> int:
    text = environ.get(name)
    accepted = f"an integer from {low}" + (f" to {high}" if high is not None else "") + f", {_SET_BY}"
    if text is None:
        raise DistributionError(
            f"environment variable {name} is not set but WORLD_SIZE is {environ['WORLD_SIZE']!r}; accepted: {accepted}"
        )
    try:
        value = int(text)
    except ValueError:
        raise DistributionError(f"environment variable {name} is {text[:40]!r}; accepted: {accepted}") from None
    if value < low or (high is not None and value > high):
        raise DistributionError(f"environment variable {name} is {value}; accepted: {accepted}")
    return value


def planned(environ: Mapping[str, str] = os.environ) -> tuple[int, int, int] | None:
    """(rank, world size, local rank) the launcher's variables give, None for one process alone;
    a DistributionError naming the variable when they are incomplete or inconsistent."""
    if environ.get("WORLD_SIZE") is None:
        return None
    world_size = _integer(environ, "WORLD_SIZE", 1, None)
    if world_size == 1:
        return None
    rank = _integer(environ, "RANK", 0, world_size - 1)
    local_rank = _integer(environ, "LOCAL_RANK", 0, world_size - 1)
    for name in ("MASTER_ADDR", "MASTER_PORT"):
        if not environ.get(name):
            raise DistributionError(
                f"environment variable {name} is not set but WORLD_SIZE is {world_size}; "
                f"accepted: the address and port of rank 0, {_SET_BY}"
            )
    return rank, world_size, local_rank


def _device_for(local_rank: int) -> tuple[torch.device, str]:
    if not torch.cuda.is_available():
        return torch.device("cpu"), "gloo"
    gpus = torch.cuda.device_count()
    if local_rank >= gpus:
        raise DistributionError(
            f"environment variable LOCAL_RANK is {local_rank} but this node has {gpus} GPU(s); "
            "accepted: one process per GPU (torchrun --nproc-per-node, or Azure ML's "
            "process_count_per_instance, at most the GPU count)"
        )
    device = torch.device("cuda", local_rank)
    torch.cuda.set_device(device)  # NCCL's object collectives use the current device
    return device, "nccl"


@contextmanager
def joined(environ: Mapping[str, str] = os.environ) -> Iterator[Distribution]:
    """The Distribution of this process; inside a process group for the block when the launcher started several."""
    plan = planned(environ)
    if plan is None:
        yield Distribution()
        return
    rank, world_size, local_rank = plan
    device, backend = _device_for(local_rank)
    owned = not dist.is_initialized()  # a caller's own process group is used, and left to the caller
    if owned:
        dist.init_process_group(
            backend,
            init_method="env://",
            rank=rank,
            world_size=world_size,
            device_id=device if device.type == "cuda" else None,
        )
    try:
        # Azure ML does not set LOCAL_WORLD_SIZE; the highest local rank gives it under both launchers
        highest = torch.tensor([local_rank], dtype=torch.int64, device=device)
        dist.all_reduce(highest, op=dist.ReduceOp.MAX)
        yield Distribution(rank, world_size, local_rank, int(highest.item()) + 1, device, backend)
    finally:
        if owned:
            dist.destroy_process_group()
