"""A WordPiece tokenizer trained on the training texts.

The whole text pipeline (URL normalisation, lower-casing, accent stripping, word splitting,
WordPiece, [CLS] ... [SEP] and truncation to max_length) lives inside tokenizer.json, so
`tokenizers.Tokenizer.from_file("tokenizer.json")` alone and
`transformers.AutoTokenizer.from_pretrained(dir)` give the same ids.
"""
from __future__ import annotations

from collections.abc import Sequence

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIAL_TOKENS = (PAD, UNK, CLS, SEP, MASK)  # PAD gets id 0, which BertConfig expects
URL_PATTERN = r"https?://\S+"
URL_TOKEN = "http"


def train_tokenizer(
    texts: Sequence[str], vocab_size: int, max_length: int, min_frequency: int = 2, strip_accents: bool = True
) -> Tokenizer:
    """Train WordPiece on `texts`; the result truncates to `max_length` ids including [CLS] and [SEP]."""
    steps = [normalizers.Replace(Regex(URL_PATTERN), URL_TOKEN), normalizers.NFD(), normalizers.Lowercase()]
    if strip_accents:
        steps.append(normalizers.StripAccents())
    tokenizer = Tokenizer(models.WordPiece(unk_token=UNK, max_input_chars_per_word=100))
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=list(SPECIAL_TOKENS), show_progress=False
    )
    tokenizer.train_from_iterator(list(texts), trainer=trainer)
    cls_id, sep_id = tokenizer.token_to_id(CLS), tokenizer.token_to_id(SEP)
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{CLS} $A {SEP}",
        pair=f"{CLS} $A {SEP} $B:1 {SEP}:1",
        special_tokens=[(CLS, cls_id), (SEP, sep_id)],
    )
    tokenizer.enable_truncation(max_length=max_length)
    return tokenizer


def as_transformers_tokenizer(tokenizer: Tokenizer, max_length: int):
    """Wrap for transformers (save_pretrained / AutoTokenizer)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        unk_token=UNK,
        pad_token=PAD,
        cls_token=CLS,
        sep_token=SEP,
        mask_token=MASK,
        model_max_length=max_length,
        padding_side="right",
        truncation_side="right",
    )
