"""The cached chunk tokenizer must give exactly what FTS5 gives on the whole text."""

from __future__ import annotations

import random

import pytest

from newswatch.query import analysis
from newswatch.query.analysis import _tokenize_whole, tokenize, tokenize_columns

#: Characters chosen for the corners: separators of every kind (no-break and ideographic
#: spaces, tabs, dashes, curly quotes), diacritics composed and combining, Arabic, digits with
#: separators, the underscore (a separator for FTS5, a word character for Python's regexes).
ALPHABET = [
    *"abcdefghij KLMNOP 0123456789 ,.;:'\"()-_/",
    "\u00a0",
    "\u3000",
    "\t",
    "\n",
    "\u2019",
    "\u201c",
    "\u2014",
    "é",
    "Ü",
    "e\u0301",
    "ß",
    "ﬁ",
    "داعش",
    "١٢",
    "running ",
    "killed ",
]


def _random_text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 120)))


def test_chunks_tokenize_as_the_whole_text() -> None:
    rng = random.Random(61)
    for _ in range(300):
        texts = [_random_text(rng) for _ in range(rng.randint(1, 4))]
        assert tokenize_columns(texts) == _tokenize_whole(texts), texts


def test_news_sentence_tokens() -> None:
    text = "Gunmen killed 12 people in Derna\u2019s old city, officials said."
    assert tokenize(text) == [
        "gunmen",
        "kill",
        "12",
        "peopl",
        "in",
        "derna",
        "s",
        "old",
        "citi",
        "offici",
        "said",
    ]


def test_cache_starts_again_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(analysis, "CHUNK_CACHE_SIZE", 5)
    analysis._chunk_tokens.clear()
    first = tokenize("one two three four")
    assert len(analysis._chunk_tokens) == 4
    # Three new chunks overflow the bound: the cache is emptied, then holds this text's chunks.
    assert tokenize("five six seven") == ["five", "six", "seven"]
    assert len(analysis._chunk_tokens) == 3
    assert tokenize("one two three four") == first


def test_a_cache_cleared_by_another_thread_mid_call_is_harmless(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The matcher's threads share the cache; one may empty it (full) while another is between
    # looking up its known chunks and asking FTS5 about the new ones.
    analysis._chunk_tokens.clear()
    tokenize("killed two")
    ask_fts5 = analysis._tokenize_chunks

    def cleared_meanwhile(chunks: list[str]) -> list[tuple[str, ...]]:
        found = ask_fts5(chunks)
        analysis._chunk_tokens.clear()
        return found

    monkeypatch.setattr(analysis, "_tokenize_chunks", cleared_meanwhile)
    assert tokenize("killed two soldiers") == ["kill", "two", "soldier"]


def test_more_than_four_columns_is_refused() -> None:
    with pytest.raises(ValueError):
        tokenize_columns(["a"] * 5)


def test_fold_ascii_shortcut_agrees_with_the_unicode_path() -> None:
    import unicodedata

    def slow(value: str) -> str:
        decomposed = unicodedata.normalize("NFKD", value)
        stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        return " ".join(stripped.casefold().split())

    rng = random.Random(7)
    for _ in range(500):
        value = "".join(rng.choice("aZ 9_-\t\n.'QxY") for _ in range(rng.randint(0, 30)))
        assert analysis.fold(value) == slow(value)
    assert analysis.fold("  Sheikh   ZUWEID ") == "sheikh zuweid"
    assert analysis.fold("Tébessa") == "tebessa"
