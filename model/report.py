"""Human-facing outputs of a training run: the evaluation plot and the model card."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from model.metrics import precision_recall_curve


def write_plot(path: Path, y_true, p_hate, threshold: float, confusion_matrix) -> Path:
    """Confusion matrix and precision-recall curve of the hate class, side by side (PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4.2))
    matrix = np.asarray(confusion_matrix)
    left.imshow(matrix, cmap="Blues")
    for (row, column), value in np.ndenumerate(matrix):
        left.text(
            column,
            row,
            str(value),
            ha="center",
            va="center",
            color="white" if value > matrix.max() / 2 else "black",
            fontsize=14,
        )
    left.set_xticks([0, 1], ["no-hate", "hate"])
    left.set_yticks([0, 1], ["no-hate", "hate"])
    left.set_xlabel("predicted")
    left.set_ylabel("true")
    left.set_title(f"Confusion matrix (threshold {threshold:.3f})")
    precision, recall = precision_recall_curve(y_true, p_hate)
    right.plot(recall, precision, drawstyle="steps-post")
    predicted = np.asarray(p_hate) >= threshold
    true = np.asarray(y_true).astype(bool)
    tp = np.sum(predicted & true)
    if predicted.any() and true.any():
        right.scatter([tp / true.sum()], [tp / predicted.sum()], color="red", zorder=3, label="chosen threshold")
        right.legend(loc="lower left")
    right.set_xlim(0, 1.02)
    right.set_ylim(0, 1.02)
    right.set_xlabel("recall (hate)")
    right.set_ylabel("precision (hate)")
    right.set_title("Precision-recall, hate class")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def _number(value) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def trained_by(distribution: dict) -> str:
    """artifact.json's `distribution` facts in words, e.g. "2 processes (2 per node, 1 node) on cpu, gloo"."""
    world, per_node, nodes = distribution["world_size"], distribution["processes_per_node"], distribution["nodes"]
    processes = (
        "1 process"
        if world == 1
        else f"{world} processes ({per_node} per node, {nodes} node{'s' if nodes != 1 else ''})"
    )
    return f"{processes} on {distribution['device']}" + (
        f", {distribution['backend']}" if distribution.get("backend") else ""
    )


def model_card(artifact: dict, metrics: dict, fit: dict) -> str:
    settings = artifact["settings"]
    categories = {k: v for k, v in metrics["recall_hate_by_category"].items() if v is not None}
    lines = [
        f"# Model card: {artifact['name']}",
        "",
        "Binary hate-speech classifier for Portuguese tweets: a small BERT trained from scratch "
        "(WordPiece tokenizer and network, no pre-trained weights), exported to ONNX fp32 and int8.",
        "",
        "## Data",
        f"- source: `{artifact['data_source']}`",
        f"- sha256: `{artifact['data_sha256']}`, rows: {artifact['data_rows']} "
        f"(train {fit['train_rows']}, validation {fit['validation_rows']}, stratified, seed {settings['seed']})",
        "",
        "## Settings",
        "",
        "| setting | value |",
        "|---|---|",
        *[f"| {name} | {value} |" for name, value in settings.items()],
        "",
        "## Validation metrics",
        f"Measured on the validation split, which also chose the early-stopping epoch ({fit['best_epoch']}) "
        f"and the decision threshold ({artifact['threshold']:.3f}); expect held-out figures to be lower.",
        "",
        "| metric | value |",
        "|---|---|",
        *[
            f"| {key} | {_number(metrics[key])} |"
            for key in ("macro_f1", "f1_hate", "precision_hate", "recall_hate", "roc_auc", "accuracy")
        ],
        f"| n | {metrics['n']} |",
        f"| confusion matrix [[tn, fp], [fn, tp]] | {metrics['confusion_matrix']} |",
        "",
        "Hate recall by category (validation rows of that category): "
        + (", ".join(f"{k} {v:.2f}" for k, v in categories.items()) or "no category columns"),
        "",
        "## Export",
        f"- fp32 ONNX max logit difference from torch: {fit['export']['fp32_max_logit_difference']:.2e}",
        f"- int8 labels agreeing with fp32: {fit['export']['int8_label_agreement']:.2%} of {fit['export']['n']} texts",
        "",
        "## Provenance",
        f"- commit: {artifact['commit'] or 'unknown (not built from a git checkout)'}",
        f"- training run: {artifact.get('training_run') or 'none (trained outside CI and Azure ML)'}",
        f"- created (UTC): {artifact['created_utc']}",
        f"- trained by: {trained_by(artifact['distribution'])}",
        f"- training time: {fit['seconds']:.0f} s, stopped by {fit['stopped_by']} after {fit['epochs_run']} epochs",
        "",
        "## Limits",
        "Trained on a few thousand tweets; it learns surface words, not intent. Check the per-category "
        "recall before relying on it for a category, and keep a human in the loop for moderation decisions.",
        "",
    ]
    return "\n".join(lines)
