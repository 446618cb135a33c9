from tokenizers import Tokenizer
from transformers import AutoTokenizer

from model.synthetic import synthetic_rows
from model.tokenizer import as_transformers_tokenizer, train_tokenizer

TEXTS = [row["text"] for row in synthetic_rows(200, seed=0)]
PROBES = [
    "Hoje vamos à praia com os amigos",
    "zorvak VEMULO quilmor https://t.co/AbC123 fim",
    "palavrasinventadasquenãoexistem xyzzy",
    " ".join(["futebol"] * 100),
]


def saved(tmp_path, max_length=16):
    tokenizer = train_tokenizer(TEXTS, vocab_size=300, max_length=max_length, min_frequency=1)
    as_transformers_tokenizer(tokenizer, max_length).save_pretrained(tmp_path)
    return tmp_path


def test_auto_tokenizer_and_tokenizer_json_give_the_same_ids(tmp_path):
    folder = saved(tmp_path)
    auto = AutoTokenizer.from_pretrained(folder)
    raw = Tokenizer.from_file(str(folder / "tokenizer.json"))
    expected = auto(PROBES, truncation=True, max_length=16)["input_ids"]
    assert [encoding.ids for encoding in raw.encode_batch(PROBES)] == expected
    assert max(len(ids) for ids in expected) == 16  # the long probe is truncated


def test_special_tokens_and_template(tmp_path):
    auto = AutoTokenizer.from_pretrained(saved(tmp_path))
    assert [auto.pad_token_id, auto.unk_token_id, auto.cls_token_id, auto.sep_token_id, auto.mask_token_id] == [
        0,
        1,
        2,
        3,
        4,
    ]
    ids = auto("Zorvak HOJE")["input_ids"]
    tokens = auto.convert_ids_to_tokens(ids)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and "hoje" in tokens
    assert auto.decode(ids, skip_special_tokens=True) == "zorvak hoje"


def test_truncated_text_still_ends_with_sep(tmp_path):
    raw = Tokenizer.from_file(str(saved(tmp_path, max_length=8) / "tokenizer.json"))
    ids = raw.encode(PROBES[3]).ids
    assert len(ids) == 8 and ids[0] == raw.token_to_id("[CLS]") and ids[-1] == raw.token_to_id("[SEP]")


def test_urls_case_and_accents_are_normalised():
    tokenizer = train_tokenizer(TEXTS, vocab_size=300, max_length=32, min_frequency=1)
    assert tokenizer.encode("ZORVAK https://t.co/x1").ids == tokenizer.encode("zorvak http://example.org/y").ids
    assert tokenizer.encode("Amanhã").ids == tokenizer.encode("amanha").ids


def test_training_gives_the_same_vocabulary_every_time():
    first = train_tokenizer(TEXTS, vocab_size=300, max_length=32, min_frequency=1)
    for _ in range(3):
        assert train_tokenizer(TEXTS, vocab_size=300, max_length=32, min_frequency=1).get_vocab() == first.get_vocab()
    assert [token.content for token in first.get_added_tokens_decoder().values()] == [
        "[PAD]",
        "[UNK]",
        "[CLS]",
        "[SEP]",
        "[MASK]",
    ]
