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


def _pipeline(tokenizer: Tokenizer, strip_accents: bool) -> Tokenizer:
    steps = [normalizers.Replace(Regex(URL_PATTERN), URL_TOKEN), normalizers.NFD(), normalizers.Lowercase()]
    if strip_accents:
        steps.append(normalizers.StripAccents())
    tokenizer.normalizer = normalizers.Sequence(steps)
    tokenizer.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tokenizer.decoder = decoders.WordPiece(prefix="##")
    return tokenizer


def _continuation_alphabet(tokenizer: Tokenizer, texts: Sequence[str]) -> list[str]:
    characters = set()
    for text in texts:
        for word, _ in tokenizer.pre_tokenizer.pre_tokenize_str(tokenizer.normalizer.normalize_str(text)):
            characters.update(word)
    return [f"##{c}" for c in sorted(characters)]


def train_tokenizer(
    texts: Sequence[str], vocab_size: int, max_length: int, min_frequency: int = 2, strip_accents: bool = True
) -> Tokenizer:
    """Train WordPiece on `texts`; the result truncates to `max_length` ids including [CLS] and [SEP].

    The trainer breaks ties between equally frequent merges by token id, and it numbers the
    "##x" continuation tokens in hash-map order, which changes from run to run. Seeding those
    tokens first (in sorted order) makes the vocabulary the same on every run; the final
    tokenizer is then rebuilt from that vocabulary with only the five real special tokens.
    """
    scratch = _pipeline(Tokenizer(models.WordPiece(unk_token=UNK, max_input_chars_per_word=100)), strip_accents)
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size,
        min_frequency=min_frequency,
        show_progress=False,
        special_tokens=list(SPECIAL_TOKENS) + _continuation_alphabet(scratch, texts),
    )
    scratch.train_from_iterator(list(texts), trainer=trainer)
    tokenizer = _pipeline(
        Tokenizer(models.WordPiece(scratch.get_vocab(), unk_token=UNK, max_input_chars_per_word=100)), strip_accents
    )
    tokenizer.add_special_tokens(list(SPECIAL_TOKENS))
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
