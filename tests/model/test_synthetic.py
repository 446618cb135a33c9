import csv

from model.data import load_dataset
from model.synthetic import CATEGORY_COLUMNS, OFFENSIVE_LEXICON, synthetic_rows, write_synthetic_csv


def test_file_has_the_dataset_layout(tmp_path):
    path = write_synthetic_csv(tmp_path / "s.csv", n_rows=50, seed=2)
    header = next(csv.reader(path.open(encoding="utf-8")))
    assert header == ["", "text", "hate", *CATEGORY_COLUMNS]
    dataset = load_dataset(path)
    assert len(dataset) == 50
    assert set(dataset.categories) == set(CATEGORY_COLUMNS)


def test_hate_fraction_and_seed():
    rows = synthetic_rows(200, seed=5, hate_fraction=0.3)
    assert sum(r["hate"] for r in rows) == 60
    assert rows == synthetic_rows(200, seed=5, hate_fraction=0.3)
    assert rows != synthetic_rows(200, seed=6, hate_fraction=0.3)


def test_categories_match_the_invented_words():
    word_category = {word: category for category, words in OFFENSIVE_LEXICON.items() for word in words}
    for row in synthetic_rows(300, seed=0):
        used = {word_category[w] for w in row["text"].lower().split() if w in word_category}
        marked = {c for c in CATEGORY_COLUMNS if row[c]}
        assert used == marked
        assert bool(used) == bool(row["hate"])
