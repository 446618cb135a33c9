"""Optimisation loops: masked-LM pre-training and classification fine-tuning with early stopping."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import torch

from model.distributed import Distribution
from model.metrics import best_threshold, binary_scores
from model.network import INFERENCE_BATCH, hate_probabilities, pad_batch
from model.progress import Progress
from model.settings import TrainSettings


def log_loss(y_true, p_hate) -> float:
    p = np.clip(np.asarray(p_hate, dtype=np.float64), 1e-7, 1 - 1e-7)
    y = np.asarray(y_true)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _optimizer_and_schedule(model, learning_rate, weight_decay, total_steps, warmup_fraction):
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    for name, parameter in model.named_parameters():
        (no_decay if parameter.ndim < 2 or "LayerNorm" in name else decay).append(parameter)
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=learning_rate
    )
    warmup = int(total_steps * warmup_fraction)

    def factor(step):
        if step < warmup:
            return (step + 1) / warmup
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def _batches(lengths, batch_size: int, generator: np.random.Generator, pool: int = 50):
    """Shuffled batches of similar lengths (less padding): shuffle, sort pools of `pool` batches by
    length, cut them into batches, shuffle the batch order."""
    lengths = np.asarray(lengths)
    order = generator.permutation(len(lengths))
    batches = []
    for start in range(0, len(order), batch_size * pool):
        chunk = order[start : start + batch_size * pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in generator.permutation(len(batches))]


def mask_tokens(ids, mask, probability, mask_id, vocab_size, special_ids, generator: torch.Generator):
    """BERT masking: of the chosen tokens 80 % become [MASK], 10 % a random token, 10 % stay."""
    labels = ids.clone()
    candidates = mask.bool() & ~torch.isin(ids, torch.tensor(sorted(special_ids)))
    chosen = (torch.rand(ids.shape, generator=generator) < probability) & candidates
    labels[~chosen] = -100
    inputs = ids.clone()
    replace = chosen & (torch.rand(ids.shape, generator=generator) < 0.8)
    inputs[replace] = mask_id
    randomise = chosen & ~replace & (torch.rand(ids.shape, generator=generator) < 0.5)
    inputs[randomise] = torch.randint(len(special_ids), vocab_size, ids.shape, generator=generator)[randomise]
    return inputs, labels


class MaskedLMLoss(torch.nn.Module):
    """Cross-entropy at the masked positions only: the vocabulary projection, the costliest layer,
    runs on those ~15 % of tokens instead of all of them (BertForMaskedLM's own loss runs it on all).
    A module, so that DDP sees the forward pass it must follow with a gradient all-reduce."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, inputs, mask, labels, reduction: str = "mean"):
        hidden = self.model.bert(input_ids=inputs, attention_mask=mask).last_hidden_state
        chosen = labels != -100
        logits = self.model.cls(hidden[chosen])
        return torch.nn.functional.cross_entropy(logits, labels[chosen], reduction=reduction)


def _shared_loss(summed, world_size: int, whole_batch_weight: float):
    """A rank's loss term: its summed loss over the whole batch's total weight, times the world size,
    so that DDP's average of the ranks' gradients is the gradient of the whole batch's mean loss."""
    return summed * (world_size / whole_batch_weight)


def pretrain_mlm(
    model,
    sequences,
    settings: TrainSettings,
    pad_id,
    mask_id,
    special_ids,
    device,
    quiet,
    distribution: Distribution | None = None,
) -> list[float]:
    """Masked-LM training on the training texts; returns the mean loss of each epoch.

    Distributed, every rank masks the whole batch with the same generator (so all agree on which
    tokens are masked and how many) and computes the loss on its share of the rows.
    """
    distribution = distribution or Distribution()
    rng = np.random.default_rng(settings.seed)
    generator = torch.Generator().manual_seed(settings.seed)
    steps_per_epoch = -(-len(sequences) // settings.batch_size)
    optimizer, schedule = _optimizer_and_schedule(
        model,
        settings.mlm_learning_rate,
        settings.weight_decay,
        steps_per_epoch * settings.mlm_epochs,
        settings.warmup_fraction,
    )
    vocab_size = model.config.vocab_size
    masked_loss = distribution.wrap(MaskedLMLoss(model))
    losses = []
    with Progress(steps_per_epoch * settings.mlm_epochs, settings.mlm_epochs, "mlm pre-training", quiet) as bar:
        for epoch in range(1, settings.mlm_epochs + 1):
            masked_loss.train()
            total = 0.0
            for batch in _batches([len(q) for q in sequences], settings.batch_size, rng):
                ids, mask = pad_batch([sequences[i] for i in batch], pad_id)
                inputs, labels = mask_tokens(
                    ids, mask, settings.mlm_probability, mask_id, vocab_size, special_ids, generator
                )
                masked = int((labels != -100).sum())
                if masked == 0:
                    bar.step(epoch)
                    continue
                if distribution.is_distributed:
                    shared, counted = distribution.share(np.arange(len(batch)))
                    rows = torch.from_numpy(shared)
                    labels_here = labels[rows] if counted else torch.full_like(labels[rows], -100)
                    summed = masked_loss(inputs[rows].to(device), mask[rows].to(device), labels_here.to(device), "sum")
                    loss = _shared_loss(summed, distribution.world_size, masked)
                else:
                    loss = masked_loss(inputs.to(device), mask.to(device), labels.to(device))
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                total += loss.item() / distribution.world_size
                bar.step(epoch, loss.item())
            losses.append(distribution.sum(total) / steps_per_epoch)
            bar.epoch_done(epoch, losses[-1])
    return losses


@dataclass
class FitResult:
    best_epoch: int
    epochs_run: int
    threshold: float
    validation_probabilities: np.ndarray
    history: list[dict]
    stopped_by: str  # "patience", "epochs" or "time"
    rows_per_rank: list[int]  # training rows each rank computed the loss of, over all epochs


@dataclass
class _BestEpoch:
    """The best epoch so far; the initial one (epoch 0, no weights) loses to any real epoch."""

    score: float = -1.0
    loss: float = np.inf
    epoch: int = 0
    state: dict[str, torch.Tensor] | None = None
    threshold: float = 0.5
    probabilities: np.ndarray | None = None


def validation_probabilities(model, sequences, pad_id, device, distribution: Distribution) -> np.ndarray:
    """P(hate) of every validation sequence, on every rank.

    Distributed, the ranks take turns at the batches one process would run (INFERENCE_BATCH rows
    each) and gather the results, so each probability comes from the same batch as in one process.
    """
    if not distribution.is_distributed:
        return hate_probabilities(model, sequences, pad_id, device)
    starts = range(0, len(sequences), INFERENCE_BATCH)
    mine = {
        start: hate_probabilities(model, sequences[start : start + INFERENCE_BATCH], pad_id, device)
        for start in starts[distribution.rank :: distribution.world_size]
    }
    gathered = {start: part for parts in distribution.gather(mine) for start, part in parts.items()}
    return np.concatenate([gathered[start] for start in starts]) if len(starts) else np.zeros(0)


def finetune(
    model,
    train_seqs,
    train_labels,
    val_seqs,
    val_labels,
    settings: TrainSettings,
    pad_id,
    device,
    quiet,
    distribution: Distribution | None = None,
) -> FitResult:
    """Train the classifier; keep the weights of the epoch with the best validation macro-F1.

    Validation macro-F1 is measured at the threshold that is best for that epoch, the same
    threshold rule that the saved model uses; ties go to the lower validation log-loss, the
    better separated of the tied models. Distributed, each rank trains on its share of every batch
    (model.distributed) and rank 0's decisions (a better epoch, stop) are every rank's.
    """
    distribution = distribution or Distribution()
    rng = np.random.default_rng(settings.seed + 1)
    train_labels = np.asarray(train_labels)
    counts = np.bincount(train_labels, minlength=2).astype(np.float64)
    weights = len(train_labels) / (2.0 * np.maximum(counts, 1.0)) if settings.class_weighted else np.ones(2)
    loss_function = torch.nn.CrossEntropyLoss(
        weight=torch.tensor(weights, dtype=torch.float32, device=device), label_smoothing=settings.label_smoothing
    )
    # the same loss summed: its weighted mean divides by the summed weights of the targets (torch's
    # CrossEntropyLoss "mean" reduction), which a rank knows for the whole batch, not from its share
    summed_loss = torch.nn.CrossEntropyLoss(
        weight=loss_function.weight, label_smoothing=settings.label_smoothing, reduction="sum"
    )
    steps_per_epoch = -(-len(train_seqs) // settings.batch_size)
    optimizer, schedule = _optimizer_and_schedule(
        model,
        settings.learning_rate,
        settings.weight_decay,
        steps_per_epoch * settings.epochs,
        settings.warmup_fraction,
    )
    trainable = distribution.wrap(model)
    start = time.monotonic()
    best = _BestEpoch()
    history: list[dict] = []
    stopped_by = "epochs"
    rows_trained = 0
    with Progress(steps_per_epoch * settings.epochs, settings.epochs, "fine-tuning", quiet) as bar:
        for epoch in range(1, settings.epochs + 1):
            trainable.train()
            total = 0.0
            for batch in _batches([len(q) for q in train_seqs], settings.batch_size, rng):
                rows, counted = distribution.share(batch)
                ids, mask = pad_batch([train_seqs[i] for i in rows], pad_id)
                targets = torch.from_numpy(train_labels[rows]).to(device)
                logits = trainable(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
                if distribution.is_distributed:
                    loss = _shared_loss(
                        summed_loss(logits, targets) * (1.0 if counted else 0.0),
                        distribution.world_size,
                        float(weights[train_labels[batch]].sum()),
                    )
                else:
                    loss = loss_function(logits, targets)
                optimizer.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                schedule.step()
                total += loss.item() / distribution.world_size
                rows_trained += len(rows) if counted else 0
                bar.step(epoch, loss.item())
            total = distribution.sum(total)
            probabilities = validation_probabilities(model, val_seqs, pad_id, device, distribution)
            threshold = best_threshold(val_labels, probabilities, settings.threshold_tolerance)
            score = binary_scores(val_labels, probabilities >= threshold)["macro_f1"]
            val_loss = log_loss(val_labels, probabilities)
            history.append(
                {
                    "epoch": epoch,
                    "train_loss": total / steps_per_epoch,
                    "val_loss": val_loss,
                    "val_macro_f1": score,
                    "threshold": threshold,
                }
            )
            improved = (score, -val_loss) > (best.score, -best.loss)
            since_best = 0 if improved else epoch - best.epoch
            stop: str | None
            if since_best >= settings.patience:
                stop = "patience"
            elif settings.max_seconds is not None and time.monotonic() - start > settings.max_seconds:
                stop = "time"
            else:
                stop = None
            improved, stop = distribution.broadcast((improved, stop))  # rank 0's clock decides "time"
            if improved:
                best = _BestEpoch(
                    score=score,
                    loss=val_loss,
                    epoch=epoch,
                    state=copy.deepcopy(model.state_dict()),
                    threshold=threshold,
                    probabilities=probabilities,
                )
            bar.epoch_done(epoch, total / steps_per_epoch, val_loss=val_loss, val_macro_f1=score, threshold=threshold)
            if stop:
                stopped_by = stop
                break
    if best.state is None or best.probabilities is None:
        raise ValueError(f"epochs is {settings.epochs}; accepted: at least 1 fine-tuning epoch")
    model.load_state_dict(best.state)
    model.eval()
    return FitResult(
        best.epoch,
        len(history),
        best.threshold,
        best.probabilities,
        history,
        stopped_by,
        distribution.gather(rows_trained),
    )
