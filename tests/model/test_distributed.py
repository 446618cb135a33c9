"""Distributed training (issue 16 item 3): the pieces that make a distributed run take the steps one
process takes (model/distributed.py)."""
import numpy as np
import pytest
import torch

from model.distributed import Distribution, DistributionError, planned
from model.loops import _shared_loss
from model.settings import cpus_per_process

LAUNCHER = {"WORLD_SIZE": "2", "RANK": "1", "LOCAL_RANK": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29511"}


def test_each_rank_takes_every_world_size_th_row_of_a_batch():
    batch = np.array([40, 41, 42, 43, 44])
    shares = [Distribution(rank=r, world_size=2).share(batch) for r in (0, 1)]
    assert [list(rows) for rows, _ in shares] == [[40, 42, 44], [41, 43]]
    assert all(counted for _, counted in shares)
    assert sorted(np.concatenate([rows for rows, _ in shares])) == list(batch)


def test_a_rank_left_without_rows_computes_one_uncounted_so_it_joins_the_all_reduce():
    rows, counted = Distribution(rank=2, world_size=3).share(np.array([7, 8]))
    assert list(rows) == [7] and not counted


def test_one_process_shares_the_whole_batch():
    rows, counted = Distribution().share(np.array([3, 1, 2]))
    assert list(rows) == [3, 1, 2] and counted


@pytest.mark.parametrize("label_smoothing", [0.0, 0.1])
def test_shared_losses_give_the_gradient_of_the_whole_batch(label_smoothing):
    """What DDP does with the ranks' losses (the mean of their gradients, torch DistributedDataParallel's
    documented averaging) gives the gradient of the one-process weighted mean loss, with label
    smoothing too: torch's weighted "mean" reduction divides by the targets' summed weights."""
    torch.manual_seed(0)
    weights = torch.tensor([0.6, 2.5])
    targets = torch.tensor([0, 1, 0, 0, 1, 0, 0])
    logits = torch.randn(7, 2, requires_grad=True)
    whole = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=label_smoothing)(logits, targets)
    (expected,) = torch.autograd.grad(whole, logits)
    summed = torch.nn.CrossEntropyLoss(weight=weights, label_smoothing=label_smoothing, reduction="sum")
    world = 3
    total_weight = float(weights[targets].sum())
    gradient = torch.zeros_like(logits)
    for rank in range(world):
        rows, _ = Distribution(rank=rank, world_size=world).share(np.arange(7))
        rows = torch.from_numpy(rows)
        loss = _shared_loss(summed(logits[rows], targets[rows]), world, total_weight)
        gradient += torch.autograd.grad(loss, logits)[0] / world
    assert torch.allclose(gradient, expected, atol=1e-7)


def test_without_launcher_variables_training_runs_alone():
    assert planned({}) is None
    assert planned({"WORLD_SIZE": "1", "RANK": "0"}) is None
    assert planned(LAUNCHER) == (1, 2, 1)


@pytest.mark.parametrize("name, value, says", [
    ("RANK", None, "RANK is not set"),
    ("RANK", "2", "RANK is 2; accepted: an integer from 0 to 1"),
    ("LOCAL_RANK", "one", "LOCAL_RANK is 'one'"),
    ("WORLD_SIZE", "0", "WORLD_SIZE is 0; accepted: an integer from 1"),
    ("MASTER_ADDR", None, "MASTER_ADDR is not set"),
])
def test_a_broken_launcher_environment_is_named(name, value, says):
    environ = {key: text for key, text in {**LAUNCHER, name: value}.items() if text is not None}
    with pytest.raises(DistributionError, match=says):
        planned(environ)


def test_torchrun_processes_share_the_cpus_of_their_node():
    alone = cpus_per_process({})
    assert cpus_per_process({"LOCAL_WORLD_SIZE": "2"}) == max(1, alone // 2)
    assert cpus_per_process({"LOCAL_WORLD_SIZE": "1000000"}) == 1
