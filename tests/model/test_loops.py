"""Pieces of the training loops that the tiny preset does not exercise (masked-LM pre-training)."""

import numpy as np
import pytest
import torch

from model.loops import _batches, mask_tokens, pretrain_mlm
from model.network import bert_config, classifier, copy_encoder, masked_lm, pad_batch
from model.settings import TrainSettings
from model.synthetic import synthetic_rows
from model.tokenizer import MASK, PAD, SPECIAL_TOKENS, train_tokenizer


def test_masking_never_touches_special_or_padding_tokens():
    ids, mask = pad_batch([[2] + list(range(5, 205)) + [3], [2, 7, 8, 3]], pad_id=0)
    generator = torch.Generator().manual_seed(0)
    inputs, labels = mask_tokens(ids, mask, 0.15, 4, 300, {0, 1, 2, 3, 4}, generator)
    chosen = labels != -100
    assert not chosen[:, 0].any() and not chosen[ids == 3].any() and not chosen[mask == 0].any()
    assert torch.equal(labels[chosen], ids[chosen])
    assert 0.08 < chosen[0].float().sum().item() / 200 < 0.25
    assert (inputs[chosen] == 4).float().mean() > 0.6  # most chosen tokens become [MASK]
    assert torch.equal(inputs[~chosen], ids[~chosen])


def test_batches_cover_every_row_once():
    lengths = np.random.default_rng(0).integers(3, 40, size=103)
    batches = _batches(lengths, 8, np.random.default_rng(1), pool=4)
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    assert all(len(b) <= 8 for b in batches)


@pytest.mark.slow
def test_masked_lm_pre_training_learns_and_hands_its_encoder_over():
    texts = [row["text"] for row in synthetic_rows(200, seed=3)]
    settings = TrainSettings(preset="tiny", mlm_epochs=6, mlm_learning_rate=3e-3, num_threads=1)
    tokenizer = train_tokenizer(texts, 300, 32, 1)
    sequences = [e.ids for e in tokenizer.encode_batch(texts)]
    config = bert_config(settings, tokenizer.get_vocab_size(), tokenizer.token_to_id(PAD))
    torch.manual_seed(0)
    language_model = masked_lm(config)
    special = {tokenizer.token_to_id(t) for t in SPECIAL_TOKENS}
    losses = pretrain_mlm(
        language_model, sequences, settings, 0, tokenizer.token_to_id(MASK), special, "cpu", quiet=True
    )
    assert len(losses) == 6
    assert losses[-1] < losses[0] - 0.5
    network = classifier(config)
    copy_encoder(language_model, network)
    source = language_model.bert.state_dict()
    for name, value in network.bert.state_dict().items():
        if not name.startswith("pooler."):
            assert torch.equal(value, source[name]), name
