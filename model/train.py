"""Train the classifier from a dataset CSV and write the artifact folder, as the README's "Model artifact folder" describes."""

from __future__ import annotations

import json
import random
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from tokenizers import Tokenizer

from model.data import DataError, Dataset, load_dataset, stratified_split
from model.distributed import Distribution, joined
from model.export import export_and_check
from model.loops import finetune, pretrain_mlm
from model.metrics import classification_metrics
from model.network import LABELS, bert_config, classifier, copy_encoder, masked_lm
from model.provenance import git_commit, training_run
from model.report import model_card, trained_by, write_plot
from model.settings import PRESETS, TrainSettings
from model.staging import staged_folder
from model.tokenizer import MASK, PAD, SPECIAL_TOKENS, as_transformers_tokenizer, train_tokenizer

__all__ = ["PRESETS", "TrainSettings", "train", "train_on"]

ARTIFACT_NAME = "hate-speech-pt"
MIN_TRAINING_ROWS = 50
MIN_VALIDATION_ROWS = 20


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def train(data_path, out_dir, settings: TrainSettings = TrainSettings(), quiet: bool = False) -> dict:
    """Train on the CSV at `data_path`, write the artifact folder `out_dir`, return validation metrics."""
    dataset = load_dataset(data_path)
    return train_on(dataset, out_dir, settings, quiet=quiet)["metrics"]


def check_sizes(dataset: Dataset, train_idx, val_idx, validation_fraction: float) -> None:
    """DataError unless the training and validation parts are big enough to learn from and to judge by.

    The validation rows pick the epoch and the threshold and check the export: at 20 rows one row
    still moves validation macro-F1 by several points, below that it is noise.
    """
    if len(np.unique(dataset.labels)) < 2:
        raise DataError(f"{dataset.source}: column 'hate' holds one class only; training needs both 0 and 1")
    parts = {"training": train_idx, "validation": val_idx}
    minimums = {"training": MIN_TRAINING_ROWS, "validation": MIN_VALIDATION_ROWS}
    if any(len(parts[part]) < minimums[part] or len(np.unique(dataset.labels[parts[part]])) < 2 for part in parts):
        found = ", ".join(
            f"{len(indices)} {part} ({int(dataset.labels[indices].sum())} hate)" for part, indices in parts.items()
        )
        raise DataError(
            f"{dataset.source}: {len(dataset)} rows give {found} rows at validation_fraction {validation_fraction}; "
            f"accepted: at least {MIN_TRAINING_ROWS} training and {MIN_VALIDATION_ROWS} validation rows, "
            "each part with hate and non-hate rows"
        )


def train_on(dataset: Dataset, out_dir, settings: TrainSettings = TrainSettings(), quiet: bool = False) -> dict:
    """Like `train`, on an already loaded dataset; returns {"metrics", "fit"} (fit = how it went).

    The artifact folder is written beside `out_dir` and becomes `out_dir` only when everything,
    the export checks included, has passed; otherwise `out_dir` is left as it was. Started by
    torchrun or Azure ML's PyTorch distribution, every process trains its share (model.distributed)
    and only rank 0 writes `out_dir`; the others return {"metrics", "fit", "rank"} and write nothing.
    """
    started = time.monotonic()
    train_idx, val_idx = stratified_split(dataset.labels, settings.validation_fraction, settings.seed)
    check_sizes(dataset, train_idx, val_idx, settings.validation_fraction)
    with joined() as distribution, ExitStack() as publish:
        if distribution.is_distributed:
            _say(distribution, f"joined {trained_by(distribution.facts())}")
        staging = distribution.run_on_main(lambda: publish.enter_context(staged_folder(out_dir, "--out")))
        return _train_into(staging, dataset, train_idx, val_idx, settings, quiet, started, distribution)


def _special_id(tokenizer: Tokenizer, token: str) -> int:
    """The id of a special token, which `train_tokenizer` always puts in the vocabulary."""
    token_id = tokenizer.token_to_id(token)
    if token_id is None:
        raise ValueError(f"the trained tokenizer has no {token} token; accepted: one trained by train_tokenizer")
    return token_id


def _say(distribution: Distribution, message: str) -> None:
    sys.stderr.write(
        f"rank {distribution.rank} of {distribution.world_size}: {message}\n"
    )  # one write: ranks share stderr
    sys.stderr.flush()


def _tokenizer(texts, settings: TrainSettings, distribution: Distribution) -> Tokenizer:
    """The WordPiece tokenizer, trained by rank 0 and sent to the others, so that all ranks share one vocabulary."""

    def trained() -> Tokenizer:
        return train_tokenizer(
            texts, settings.vocab_size, settings.max_length, settings.min_frequency, settings.strip_accents
        )

    if not distribution.is_distributed:
        return trained()
    return Tokenizer.from_str(distribution.run_on_main(lambda: trained().to_str(), share=True))


def _train_into(
    out_dir: Path | None,
    dataset: Dataset,
    train_idx,
    val_idx,
    settings: TrainSettings,
    quiet: bool,
    started: float,
    distribution: Distribution,
) -> dict:
    if quiet or not sys.stderr.isatty() or not distribution.is_main:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    quiet = quiet or not distribution.is_main  # one set of progress bars
    seed_everything(settings.seed)
    torch.set_num_threads(settings.num_threads)
    device = distribution.device

    train_set, val_set = dataset.subset(train_idx), dataset.subset(val_idx)

    raw_tokenizer = _tokenizer(train_set.texts, settings, distribution)
    pad_id, mask_id = _special_id(raw_tokenizer, PAD), _special_id(raw_tokenizer, MASK)
    special_ids = {raw_tokenizer.token_to_id(token) for token in SPECIAL_TOKENS}
    train_seqs = [e.ids for e in raw_tokenizer.encode_batch(train_set.texts)]
    val_seqs = [e.ids for e in raw_tokenizer.encode_batch(val_set.texts)]

    config = bert_config(settings, raw_tokenizer.get_vocab_size(), pad_id)
    network = classifier(config)
    # transformers wraps PreTrainedModel.to in functools.wraps(torch.nn.Module.to); typeshed's _Wrapped
    # then takes the device for `self`. The call is the ordinary Module.to.
    language_model = masked_lm(config).to(device) if settings.mlm_epochs else None  # type: ignore[arg-type]
    if distribution.is_distributed:
        torch.manual_seed(
            settings.seed + distribution.rank
        )  # each rank its own dropout masks; DDP starts all from rank 0's weights
    mlm_losses = []
    if language_model is not None:
        mlm_losses = pretrain_mlm(
            language_model, train_seqs, settings, pad_id, mask_id, special_ids, device, quiet, distribution
        )
        copy_encoder(language_model, network)
        del language_model
    network.to(device)  # type: ignore[arg-type]  # same functools.wraps typing as masked_lm(config).to above
    fit = finetune(
        network, train_seqs, train_set.labels, val_seqs, val_set.labels, settings, pad_id, device, quiet, distribution
    )
    metrics = classification_metrics(val_set.labels, fit.validation_probabilities, fit.threshold, val_set.categories)
    fit_summary = {
        "train_rows": len(train_set),
        "validation_rows": len(val_set),
        "best_epoch": fit.best_epoch,
        "epochs_run": fit.epochs_run,
        "stopped_by": fit.stopped_by,
        "history": fit.history,
        "mlm_losses": mlm_losses,
        "rows_per_rank": fit.rows_per_rank,
    }
    if distribution.is_distributed:
        _say(
            distribution,
            f"trained on {fit.rows_per_rank[distribution.rank]} rows, its share of "
            f"{fit.epochs_run} epoch(s) of {len(train_set)} training rows"
            + ("; writes the artifact" if distribution.is_main else "; rank 0 writes the artifact"),
        )
    if not distribution.is_main:
        return {
            "metrics": metrics,
            "fit": {**fit_summary, "seconds": time.monotonic() - started},
            "rank": distribution.rank,
        }

    assert out_dir is not None  # rank 0 staged it (run_on_main)
    network.to("cpu")  # type: ignore[arg-type]  # same functools.wraps typing as above
    network.save_pretrained(out_dir)
    as_transformers_tokenizer(raw_tokenizer, settings.max_length).save_pretrained(out_dir)
    export = export_and_check(
        network, out_dir, val_seqs, pad_id, fit.threshold, settings.max_length, settings.onnx_exporter
    )

    artifact = {
        "name": ARTIFACT_NAME,
        "labels": LABELS,
        "max_length": settings.max_length,
        "threshold": fit.threshold,
        "commit": git_commit(),
        "training_run": training_run(),
        "distribution": distribution.facts(),
        "data_sha256": dataset.sha256,
        "data_rows": len(dataset),
        "data_source": dataset.source,
        "settings": settings.as_dict(),
        "created_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    fit_summary = {**fit_summary, "export": export, "seconds": time.monotonic() - started}
    (out_dir / "artifact.json").write_text(json.dumps(artifact, indent=2) + "\n", encoding="utf-8")
    (out_dir / "metrics.json").write_text(
        json.dumps({**metrics, "training": fit_summary}, indent=2) + "\n", encoding="utf-8"
    )
    write_plot(
        out_dir / "evaluation.png",
        val_set.labels,
        fit.validation_probabilities,
        fit.threshold,
        metrics["confusion_matrix"],
    )
    (out_dir / "MODEL_CARD.md").write_text(model_card(artifact, metrics, fit_summary), encoding="utf-8")
    for path in out_dir.iterdir():
        path.chmod(0o644)  # safetensors writes its file owner-only; the artifact is meant to be shared
    return {"metrics": metrics, "fit": fit_summary}
