"""The BERT networks (classifier and masked-LM head over the same encoder) and batching."""

from __future__ import annotations

import numpy as np
import torch
from transformers import BertConfig, BertForMaskedLM, BertForSequenceClassification

from model.settings import TrainSettings

LABELS = ["no-hate", "hate"]  # logit order; index 1 = hate
INFERENCE_BATCH = 128  # rows per forward pass when scoring


def bert_config(settings: TrainSettings, vocab_size: int, pad_id: int) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=settings.hidden_size,
        num_hidden_layers=settings.num_layers,
        num_attention_heads=settings.num_heads,
        intermediate_size=settings.intermediate_size,
        hidden_dropout_prob=settings.dropout,
        attention_probs_dropout_prob=settings.dropout,
        max_position_embeddings=settings.max_length,
        type_vocab_size=1,
        pad_token_id=pad_id,
        # no num_labels: transformers 5 derives it from id2label (PreTrainedConfig.num_labels is a property of it)
        id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    )


def classifier(config: BertConfig) -> BertForSequenceClassification:
    return BertForSequenceClassification(config)


def masked_lm(config: BertConfig) -> BertForMaskedLM:
    return BertForMaskedLM(config)


def copy_encoder(source: BertForMaskedLM, target: BertForSequenceClassification) -> None:
    """Start the classifier from the pre-trained embeddings and encoder layers."""
    missing, unexpected = target.bert.load_state_dict(source.bert.state_dict(), strict=False)
    not_pooler = [name for name in missing if not name.startswith("pooler.")]
    if not_pooler or unexpected:
        raise RuntimeError(f"encoder weights do not line up: missing {not_pooler}, unexpected {unexpected}")


def pad_batch(sequences: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) int64 tensors padded on the right to the longest sequence."""
    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


class OnlyLogits(torch.nn.Module):
    """(input_ids, attention_mask) -> logits; the signature exported to ONNX."""

    def __init__(self, model: BertForSequenceClassification):
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask):
        return self.model(input_ids=input_ids, attention_mask=attention_mask).logits


@torch.no_grad()
def hate_probabilities(
    model, sequences: list[list[int]], pad_id: int, device, batch_size: int = INFERENCE_BATCH
) -> np.ndarray:
    """P(hate) from the torch model, shape (n,)."""
    model.eval()
    result = []
    for start in range(0, len(sequences), batch_size):
        ids, mask = pad_batch(sequences[start : start + batch_size], pad_id)
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
        result.append(torch.softmax(logits.float(), dim=-1)[:, 1].cpu().numpy())
    return np.concatenate(result).astype(np.float64) if result else np.zeros(0)
