"""Text analysis shared by every backend: the tokens a text is indexed and searched as.

The embedded index uses SQLite FTS5 with ``tokenize='porter unicode61 remove_diacritics 2'``:
words are runs of letters and digits (everything else separates), lower-cased, diacritics
folded, then reduced by the classic Porter stemmer. The in-memory matcher must find exactly what
that index finds, so rather than re-implementing the tokenizer (and drifting from it on some
corner of Unicode or Porter's rules) it *asks* FTS5: a private in-memory FTS5 table per thread
tokenizes a text and its ``fts5vocab`` 'instance' view reports every token with its position.
The Elasticsearch analyzer (``ES_ANALYSIS``) is configured to produce the same tokens.
"""

from __future__ import annotations

import sqlite3
import threading
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "ES_ANALYSIS",
    "ES_TEXT_ANALYZER",
    "FTS_TOKENIZE",
    "fold",
    "tokenize",
    "tokenize_columns",
]

#: The FTS5 tokenizer every embedded index table uses.
FTS_TOKENIZE = "porter unicode61 remove_diacritics 2"

#: Name of the Elasticsearch analyzer that mirrors ``FTS_TOKENIZE``.
ES_TEXT_ANALYZER = "newswatch_english"

#: Index settings ``analysis`` block defining ``ES_TEXT_ANALYZER``. Every character that is not a
#: letter or digit becomes a space (one for one, so highlight offsets stay exact), whitespace
#: splits, then ``lowercase``, ``asciifolding`` and ``porter_stem`` — token for token what FTS5's
#: ``unicode61`` + ``porter`` produce (checked by tests through ``_analyze``). A ``pattern``
#: tokenizer would say the same more directly, but osmem-server mis-tokenizes with it at index
#: time, and the standard tokenizer keeps ``1,200``, ``force's`` and ``a_b`` whole.
ES_ANALYSIS: dict[str, Any] = {
    "char_filter": {
        "newswatch_separators": {
            "type": "pattern_replace",
            "pattern": "[^\\p{L}\\p{N}]",
            "replacement": " ",
        },
    },
    "analyzer": {
        ES_TEXT_ANALYZER: {
            "type": "custom",
            "char_filter": ["newswatch_separators"],
            "tokenizer": "whitespace",
            "filter": ["lowercase", "asciifolding", "porter_stem"],
        },
    },
}

_local = threading.local()


def _connection() -> sqlite3.Connection:
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(":memory:", isolation_level=None)
        conn.execute(
            f"CREATE VIRTUAL TABLE tok USING fts5(c0, c1, c2, c3, tokenize='{FTS_TOKENIZE}')"
        )
        conn.execute("CREATE VIRTUAL TABLE tok_vocab USING fts5vocab(tok, 'instance')")
        _local.conn = conn
    return conn


#: Tokens of each whitespace-separated chunk of text seen so far ("killed," -> ("kill",)).
_chunk_tokens: dict[str, tuple[str, ...]] = {}
#: Past this many chunks the cache starts again (names and numbers make it grow without end);
#: 100,000 chunks hold a news vocabulary with room to spare in about 25 MB.
CHUNK_CACHE_SIZE = 100_000


def _tokenize_chunks(chunks: Sequence[str]) -> list[tuple[str, ...]]:
    """FTS5's tokens of each chunk, in one transaction: one row per chunk."""
    conn = _connection()
    out: list[list[str]] = [[] for _ in chunks]
    conn.execute("BEGIN")
    try:
        conn.executemany(
            "INSERT INTO tok (rowid, c0, c1, c2, c3) VALUES (?, ?, '', '', '')",
            ((n + 1, chunk) for n, chunk in enumerate(chunks)),
        )
        found: list[dict[int, str]] = [{} for _ in chunks]
        for term, doc, offset in conn.execute("SELECT term, doc, offset FROM tok_vocab"):
            found[int(doc) - 1][int(offset)] = term
        for n, by_offset in enumerate(found):
            out[n] = [by_offset[k] for k in sorted(by_offset)]
    finally:
        conn.execute("ROLLBACK")
    return [tuple(tokens) for tokens in out]


def tokenize_columns(texts: Sequence[str]) -> list[list[str]]:
    """Tokens of up to four texts at once, each as a list in position order.

    This is the in-memory matcher's per-article cost, so FTS5 is asked only about what it has
    not seen: whitespace separates tokens in every tokenizer configuration, so a text's tokens
    are its whitespace-separated chunks' tokens in order, and most chunks of a news text
    ("the", "said", "killed,") recur from article to article. New chunks go to FTS5 together,
    one row each; the answers are cached.
    """
    if len(texts) > 4:
        raise ValueError("at most four columns per call")
    split = [text.split() for text in texts]
    known = _known_chunks(split)
    out: list[list[str]] = []
    for chunks in split:
        tokens: list[str] = []
        for chunk in chunks:
            tokens.extend(known[chunk])
        out.append(tokens)
    return out


def _known_chunks(split: Sequence[Sequence[str]]) -> dict[str, tuple[str, ...]]:
    """The tokens of every distinct chunk in ``split``, from the cache or from FTS5.

    The matcher runs in several threads and the cache is shared, so each chunk is read from it
    once, with ``get``, into this call's own dict: another thread may clear the cache at any
    moment (it is full), and a second lookup could then miss. Single ``dict`` operations are
    atomic under the GIL; at worst two threads tokenize the same new chunk and store it twice.
    """
    cache = _chunk_tokens
    known: dict[str, tuple[str, ...]] = {}
    unseen: list[str] = []
    for chunk in dict.fromkeys(chunk for chunks in split for chunk in chunks):
        cached = cache.get(chunk)
        if cached is None:
            unseen.append(chunk)
        else:
            known[chunk] = cached
    if unseen:
        fresh = dict(zip(unseen, _tokenize_chunks(unseen), strict=True))
        known.update(fresh)
        if len(cache) + len(fresh) > CHUNK_CACHE_SIZE:
            cache.clear()
        cache.update(fresh)
    return known


def _tokenize_whole(texts: Sequence[str]) -> list[list[str]]:
    """The reference: FTS5 tokenizes the texts whole (tests hold ``tokenize_columns`` to it)."""
    conn = _connection()
    padded = list(texts) + [""] * (4 - len(texts))
    out: list[list[str]] = [[] for _ in texts]
    conn.execute("BEGIN")
    try:
        conn.execute("INSERT INTO tok (rowid, c0, c1, c2, c3) VALUES (1, ?, ?, ?, ?)", padded)
        positions: list[dict[int, str]] = [{} for _ in texts]
        for term, col, offset in conn.execute("SELECT term, col, offset FROM tok_vocab"):
            index = int(col[1:])
            if index < len(texts):
                positions[index][offset] = term
        for index, by_offset in enumerate(positions):
            out[index] = [by_offset[k] for k in sorted(by_offset)]
    finally:
        conn.execute("ROLLBACK")
    return out


def tokenize(text: str) -> list[str]:
    """The tokens of one text, as the index sees them (folded, lower-cased, stemmed)."""
    return tokenize_columns([text])[0]


def fold(value: str) -> str:
    """Normalise a keyword value for exact matching: NFKD, diacritics removed, case-folded,
    inner whitespace collapsed. Applied to indexed keyword values and query values alike, in
    Python, so no backend's own normalisation is relied on."""
    if value.isascii():  # most values: NFKD and diacritic removal change nothing
        return " ".join(value.lower().split())
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def fold_all(values: Sequence[str | None] | Mapping[str, Any]) -> list[str]:
    """``fold`` every non-empty value, de-duplicated, in first-seen order."""
    seen: dict[str, None] = {}
    for value in values:
        if value:
            folded = fold(str(value))
            if folded:
                seen.setdefault(folded, None)
    return list(seen)
