"""Synthetic labelled tweets in the dataset's CSV format, for tests and demos.

SYNTHETIC DATA: none of these rows is real. Sentences are stitched from a neutral Portuguese
word list, often with an invented harmless name (in both classes); hate rows also carry one or two words from a lexicon of invented slurs (made-up
tokens such as "zorvak" that mean nothing in any language). Each invented word belongs to one
category, so the category columns are consistent with the words used and a model can learn
the signal. The layout matches ../shared/data/portuguese-hate-speech/train.csv: an unnamed id
column, `text`, `hate`, then one 0/1 column per category.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

NEUTRAL_WORDS = (
    "hoje amanhã ontem cidade praia futebol jogo governo eleição notícia tempo chuva sol "
    "café escola trabalho casa rua carro autocarro comboio festa música filme livro amigo "
    "família mercado preço domingo semana mês ano bom novo grande pequeno melhor verdade "
    "sempre nunca muito pouco aqui ali agora depois antes porque quando onde como isso "
    "aquilo todos ninguém pessoas povo país mundo lisboa porto coimbra brasil portugal "
    "vamos quero vejo acho gosto falar votar ganhar perder ler ver ouvir andar comer"
).split()

# Invented slurs: category -> words. They are nonsense tokens chosen for this generator only.
OFFENSIVE_LEXICON: dict[str, tuple[str, ...]] = {
    "Sexism": ("zorvak", "plimtra", "gurdesa"),
    "Racism": ("trondix", "vemulo", "skarbo"),
    "Homophobia": ("quilmor", "fastrelo", "brunzig"),
}

CATEGORY_COLUMNS = tuple(OFFENSIVE_LEXICON)

# Invented harmless names, in rows of both classes, so that "a rare word" alone does not mean hate.
NEUTRAL_NAMES = ("mirelda", "tavosko", "quenbrio", "lusvarta", "doribel", "franzola")


def synthetic_rows(n_rows: int = 400, seed: int = 0, hate_fraction: float = 0.25) -> list[dict]:
    """Rows as dicts with keys id, text, hate and one key per category column."""
    if n_rows < 2:
        raise ValueError(f"n_rows must be at least 2 (one row per class), got {n_rows!r}")
    if not 0.0 < hate_fraction < 1.0:
        raise ValueError(f"hate_fraction must be strictly between 0 and 1, got {hate_fraction!r}")
    rng = random.Random(seed)
    n_hate = min(max(1, round(n_rows * hate_fraction)), n_rows - 1)
    labels = [1] * n_hate + [0] * (n_rows - n_hate)
    rng.shuffle(labels)
    rows = []
    for row_id, hate in enumerate(labels):
        words = rng.choices(NEUTRAL_WORDS, k=rng.randint(6, 16))
        if rng.random() < 0.4:
            words.insert(rng.randrange(len(words) + 1), rng.choice(NEUTRAL_NAMES))
        row: dict[str, int | str] = {"id": 10_000 + row_id, "hate": hate, **{c: 0 for c in CATEGORY_COLUMNS}}
        if hate:
            for category in rng.sample(CATEGORY_COLUMNS, k=rng.choice((1, 1, 2))):
                row[category] = 1
                words.insert(rng.randrange(len(words) + 1), rng.choice(OFFENSIVE_LEXICON[category]))
        row["text"] = " ".join(words).capitalize()
        rows.append(row)
    return rows


def write_synthetic_csv(path, n_rows: int = 400, seed: int = 0, hate_fraction: float = 0.25) -> Path:
    """Write a synthetic dataset CSV (see the module docstring) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = ["", "text", "hate", *CATEGORY_COLUMNS]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in synthetic_rows(n_rows, seed, hate_fraction):
            writer.writerow([row["id"], row["text"], row["hate"], *(row[c] for c in CATEGORY_COLUMNS)])
    return path
