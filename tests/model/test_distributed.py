"""Distributed training (issue 16 item 3): `model train` under torchrun, DDP on gloo, and the pieces
that make a distributed run take the steps one process takes (model/distributed.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from model.distributed import Distribution, DistributionError, planned
from model.loops import _shared_loss
from model.settings import cpus_per_process
from tests.paths import REPO_ROOT

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


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("RANK", None, "RANK is not set"),
        ("RANK", "2", "RANK is 2; accepted: an integer from 0 to 1"),
        ("LOCAL_RANK", "one", "LOCAL_RANK is 'one'"),
        ("WORLD_SIZE", "0", "WORLD_SIZE is 0; accepted: an integer from 1"),
        ("MASTER_ADDR", None, "MASTER_ADDR is not set"),
    ],
)
def test_a_broken_launcher_environment_is_named(name, value, says):
    environ = {key: text for key, text in {**LAUNCHER, name: value}.items() if text is not None}
    with pytest.raises(DistributionError, match=says):
        planned(environ)


def test_torchrun_processes_share_the_cpus_of_their_node():
    alone = cpus_per_process({})
    assert cpus_per_process({"LOCAL_WORLD_SIZE": "2"}) == max(1, alone // 2)
    assert cpus_per_process({"LOCAL_WORLD_SIZE": "1000000"}) == 1


def test_train_with_a_broken_launcher_environment_is_one_error_line(synthetic_csv, tmp_path, monkeypatch, capsys):
    from model.__main__ import main

    for name, value in {**LAUNCHER, "RANK": "5"}.items():
        monkeypatch.setenv(name, value)
    out = tmp_path / "model"
    assert main(["train", "--data", str(synthetic_csv), "--out", str(out), "--preset", "tiny", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: environment variable RANK is 5") and err.count("\n") == 1, err
    assert list(tmp_path.iterdir()) == []


def torchrun(*arguments, timeout=120):
    """`python -m model train ...` under torchrun with two CPU processes on this machine."""
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc-per-node",
        "2",
        "-m",
        "model",
        "train",
        *arguments,
    ]
    environ = {key: value for key, value in os.environ.items() if key not in LAUNCHER and key != "LOCAL_WORLD_SIZE"}
    return subprocess.run(
        command, cwd=REPO_ROOT, env=environ, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.mark.slow
def test_two_processes_train_one_model_and_only_rank_0_writes_it(tmp_path, synthetic_csv, tiny_training):
    from transformers import AutoTokenizer, BertForSequenceClassification

    from model.data import load_dataset, stratified_split
    from model.evaluate import load_classifier
    from model.export import FP32_FILE, INT8_FILE, check_export
    from model.metrics import classification_metrics
    from model.network import hate_probabilities

    parent = tmp_path / "outputs"
    out = parent / "model"
    result = torchrun("--data", str(synthetic_csv), "--out", str(out), "--preset", "tiny", "--json")
    assert result.returncode == 0, result.stderr
    reported = json.loads(result.stdout)  # rank 0 alone prints
    training = reported["training"]
    # stderr is a pipe: one line per epoch, from rank 0 alone
    epochs = [line for line in result.stderr.splitlines() if line.startswith("fine-tuning epoch ")]
    assert [line.split()[2] for line in epochs] == [f"{n}/12:" for n in range(1, training["epochs_run"] + 1)]

    # both ranks trained, each on its half of every batch
    for rank in (0, 1):
        assert f"rank {rank} of 2: joined 2 processes (2 per node, 1 node) on cpu, gloo" in result.stderr
        assert f"rank {rank} of 2: trained on {training['rows_per_rank'][rank]} rows" in result.stderr
    assert sum(training["rows_per_rank"]) == training["train_rows"] * training["epochs_run"]
    assert (
        min(training["rows_per_rank"]) >= training["train_rows"] * training["epochs_run"] // 2 - training["epochs_run"]
    )

    # exactly one artifact, no partial folder left beside it
    assert [path.name for path in parent.iterdir()] == ["model"]
    artifact = json.loads((out / "artifact.json").read_text())
    assert artifact["distribution"] == {
        "world_size": 2,
        "processes_per_node": 2,
        "nodes": 1,
        "device": "cpu",
        "backend": "gloo",
    }
    assert "trained by: 2 processes (2 per node, 1 node) on cpu, gloo" in (out / "MODEL_CARD.md").read_text()
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["training"]["rows_per_rank"] == training["rows_per_rank"]

    # the validation metrics are those one process measures on the same rows with the saved weights
    dataset = load_dataset(synthetic_csv)
    _, val_idx = stratified_split(dataset.labels, 0.2, 0)
    validation = dataset.subset(val_idx)
    tokenizer = AutoTokenizer.from_pretrained(out)
    network = BertForSequenceClassification.from_pretrained(out).eval()
    sequences = [tokenizer(text, truncation=True, max_length=32)["input_ids"] for text in validation.texts]
    p_hate = hate_probabilities(network, sequences, tokenizer.pad_token_id, "cpu")
    again = classification_metrics(validation.labels, p_hate, artifact["threshold"], validation.categories)
    assert saved["confusion_matrix"] == again["confusion_matrix"] and saved["n"] == len(val_idx)
    assert saved["macro_f1"] == pytest.approx(again["macro_f1"], abs=1e-12)
    assert saved["roc_auc"] == pytest.approx(again["roc_auc"], abs=1e-9)

    # it passes the export checks again, and serving loads it
    check_export(network, out / FP32_FILE, out / INT8_FILE, sequences, tokenizer.pad_token_id, artifact["threshold"])
    assert load_classifier(out, precision="int8").predict_proba(validation.texts[:5]).shape == (5,)

    # the ranks' shared losses took the steps of one process: the tiny preset has no dropout, so the
    # losses follow the one-process training of the same data and seed up to float rounding
    alone = tiny_training[1]
    assert training["epochs_run"] == alone["fit"]["epochs_run"]
    for ddp, single in zip(training["history"], alone["fit"]["history"], strict=True):
        assert ddp["train_loss"] == pytest.approx(single["train_loss"], rel=1e-4, abs=1e-6)
        assert ddp["val_loss"] == pytest.approx(single["val_loss"], rel=1e-4, abs=1e-6)
    assert reported["macro_f1"] == pytest.approx(alone["metrics"]["macro_f1"], abs=0.02)


@pytest.mark.slow
def test_when_rank_0_cannot_write_every_rank_stops_and_nothing_is_written(tmp_path, synthetic_csv):
    out = tmp_path / "model"
    out.mkdir()
    (out / "keep.txt").write_text("keep me")
    result = torchrun("--data", str(synthetic_csv), "--out", str(out), "--preset", "tiny", "--quiet", timeout=90)
    assert result.returncode != 0
    assert result.stderr.count(f"error: --out {out} is not empty") == 1
    assert "error: rank 0 stopped (OutputError: --out" in result.stderr  # rank 1 did not wait for it
    assert sorted(path.name for path in tmp_path.iterdir()) == ["model"]
    assert [path.name for path in out.iterdir()] == ["keep.txt"]
