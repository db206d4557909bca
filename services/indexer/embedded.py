"""The embedded index: SQLite FTS5 (BM25, snippets) plus the structured fields in plain tables.

By default it lives in the bus file (``settings.index_path``), so the indexer can write documents
and its consumer offsets in one transaction (``EmbeddedConsumer.commit_with``): exactly-once.
``write_documents(conn, docs)`` is that unit of work; ``EmbeddedIndex.upsert_many`` wraps it in
its own transaction for everyone else. The table layout is described in
``newswatch.query.sqlite``, which compiles queries against it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from newswatch.bus.embedded import connect
from newswatch.errors import IndexError_
from newswatch.query.analysis import FTS_TOKENIZE
from newswatch.query.ast import Query
from newswatch.query.filters import Filters
from newswatch.query.sqlite import SqlQuery, compile_sql, fts_highlight_expression
from newswatch.sqlite import write_transaction
from services.indexer.index import (
    DEFAULT_HIGHLIGHT,
    HIT_EXCLUDES,
    Bucket,
    Facets,
    Hit,
    Index,
    SearchResult,
    Sort,
    UpsertReport,
    check_document,
    fallback_snippet,
    prepare,
)

__all__ = ["EmbeddedIndex", "ensure_schema", "write_alerts", "write_documents"]

log = logging.getLogger(__name__)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS idx_articles (
    doc INTEGER PRIMARY KEY,
    article_id TEXT NOT NULL UNIQUE,
    published_at REAL,
    word_count INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_articles_published ON idx_articles (published_at);
CREATE TABLE IF NOT EXISTS idx_docs (
    doc INTEGER PRIMARY KEY,
    data TEXT NOT NULL
);
CREATE VIRTUAL TABLE IF NOT EXISTS idx_fts USING fts5 (
    title, summary, text, tokenize = '{FTS_TOKENIZE}'
);
CREATE TABLE IF NOT EXISTS idx_keys (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    doc INTEGER NOT NULL,
    PRIMARY KEY (key, value, doc)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_keys_doc ON idx_keys (doc);
CREATE TABLE IF NOT EXISTS idx_events (
    doc INTEGER NOT NULL,
    n INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    fatalities INTEGER NOT NULL,
    injured INTEGER NOT NULL,
    terrorism INTEGER NOT NULL,
    background INTEGER NOT NULL,
    date REAL,
    precision INTEGER,
    PRIMARY KEY (doc, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_events_fatalities ON idx_events (fatalities);
CREATE TABLE IF NOT EXISTS idx_event_keys (
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    doc INTEGER NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (key, value, doc, n)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS idx_event_keys_doc ON idx_event_keys (doc);
CREATE TABLE IF NOT EXISTS idx_alerts (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    created_at REAL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS idx_alerts_article ON idx_alerts (article_id, created_at);
"""

#: bm25 weights of (title, summary, text): a hit in the headline counts most.
BM25_WEIGHTS = "4.0, 2.0, 1.0"
SNIPPET_TOKENS = 24


def ensure_schema(conn: sqlite3.Connection) -> None:
    """Create the index tables if missing (idempotent; safe beside the bus tables)."""
    conn.executescript(SCHEMA)


def _epoch(value: str | None) -> float | None:
    if not value:
        return None
    if len(value) == 10:
        day = dt.date.fromisoformat(value)
        return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC).timestamp()
    moment = dt.datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.timestamp()


def write_documents(conn: sqlite3.Connection, docs: Sequence[dict[str, Any]]) -> UpsertReport:
    """Upsert ``docs`` using ``conn`` inside the caller's transaction (no commit here)."""
    report = UpsertReport()
    good: dict[str, dict[str, Any]] = {}
    accepted = 0
    for doc in docs:
        problem = check_document(doc)
        if problem is not None:
            report.failures.append((str(doc.get("article_id") or "?"), problem))
            continue
        good[doc["article_id"]] = doc  # the last version of an id in one batch wins
        accepted += 1
    if not good:
        return report
    ids = list(good)
    existing: dict[str, int] = {}
    for chunk_start in range(0, len(ids), 500):
        chunk = ids[chunk_start : chunk_start + 500]
        marks = ",".join("?" * len(chunk))
        existing.update(
            conn.execute(
                f"SELECT article_id, doc FROM idx_articles WHERE article_id IN ({marks})", chunk
            ).fetchall()
        )
    if existing:
        old = [(d,) for d in existing.values()]
        conn.executemany("DELETE FROM idx_fts WHERE rowid = ?", old)
        conn.executemany("DELETE FROM idx_keys WHERE doc = ?", old)
        conn.executemany("DELETE FROM idx_events WHERE doc = ?", old)
        conn.executemany("DELETE FROM idx_event_keys WHERE doc = ?", old)
        conn.executemany("DELETE FROM idx_articles WHERE doc = ?", old)
        conn.executemany("DELETE FROM idx_docs WHERE doc = ?", old)
    (next_doc,) = conn.execute("SELECT COALESCE(MAX(doc), 0) + 1 FROM idx_articles").fetchone()
    numbered = []
    for article_id, doc in good.items():
        number = existing.get(article_id)
        if number is None:
            number = next_doc
            next_doc += 1
        numbered.append((number, doc))
    insert_rows(conn, document_rows(numbered))
    report.written = accepted
    return report


@dataclass
class Rows:
    """The rows of the index tables for a set of documents (see ``document_rows``)."""

    articles: list[tuple[Any, ...]] = field(default_factory=list)
    docs: list[tuple[Any, ...]] = field(default_factory=list)
    fts: list[tuple[Any, ...]] = field(default_factory=list)
    keys: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    event_keys: list[tuple[Any, ...]] = field(default_factory=list)


def document_rows(numbered: Iterable[tuple[int, dict[str, Any]]]) -> Rows:
    """Spread ``(doc number, document)`` pairs over the index tables' rows."""
    rows = Rows()
    for number, doc in numbered:
        stored = {k: v for k, v in doc.items() if k not in HIT_EXCLUDES}
        rows.articles.append(
            (
                number,
                doc["article_id"],
                _epoch(doc.get("published_at")),
                int(doc.get("word_count") or 0),
            )
        )
        rows.docs.append((number, json.dumps(stored, ensure_ascii=False, separators=(",", ":"))))
        rows.fts.append(
            (number, doc.get("title") or "", doc.get("summary") or "", doc.get("text") or "")
        )
        for key, values in doc["keys"].items():
            rows.keys.extend((key, value, number) for value in values)
        for n, event in enumerate(doc["events"]):
            location = event.get("location") or {}
            rows.events.append(
                (
                    number,
                    n,
                    event["event_type"],
                    int(event.get("fatalities") or 0),
                    int(event.get("injured") or 0),
                    1 if event.get("terrorism") else 0,
                    1 if event.get("background") else 0,
                    _epoch(event.get("date")),
                    location.get("precision"),
                )
            )
            for key, values in event.get("keys", {}).items():
                rows.event_keys.extend((key, value, number, n) for value in values)
    return rows


def insert_rows(conn: sqlite3.Connection, rows: Rows) -> None:
    """Insert prepared rows (no existing rows for these doc numbers)."""
    conn.executemany(
        "INSERT INTO idx_articles (doc, article_id, published_at, word_count) VALUES (?, ?, ?, ?)",
        rows.articles,
    )
    conn.executemany("INSERT INTO idx_docs (doc, data) VALUES (?, ?)", rows.docs)
    conn.executemany(
        "INSERT INTO idx_fts (rowid, title, summary, text) VALUES (?, ?, ?, ?)", rows.fts
    )
    conn.executemany("INSERT OR IGNORE INTO idx_keys (key, value, doc) VALUES (?, ?, ?)", rows.keys)
    conn.executemany(
        "INSERT INTO idx_events (doc, n, event_type, fatalities, injured, terrorism, background, "
        "date, precision) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows.events,
    )
    conn.executemany(
        "INSERT OR IGNORE INTO idx_event_keys (key, value, doc, n) VALUES (?, ?, ?, ?)",
        rows.event_keys,
    )


def write_alerts(conn: sqlite3.Connection, docs: Sequence[dict[str, Any]]) -> UpsertReport:
    """Upsert delivery-log documents inside the caller's transaction."""
    rows = [
        (
            doc["id"],
            doc["article_id"],
            _epoch(doc.get("created_at")),
            json.dumps(doc, ensure_ascii=False, separators=(",", ":")),
        )
        for doc in docs
    ]
    conn.executemany(
        "INSERT INTO idx_alerts (id, article_id, created_at, data) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (id) DO UPDATE SET article_id = excluded.article_id, "
        "created_at = excluded.created_at, data = excluded.data",
        rows,
    )
    return UpsertReport(written=len(rows))


class _Stats:
    """Row counts for the query planner (``newswatch.query.sqlite.Stats``), capped so that
    estimating never costs more than a fraction of running the query."""

    CAP = 50_000

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def _count(self, where: str, args: Sequence[Any], table: str) -> float:
        (n,) = self.conn.execute(
            f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {where} LIMIT {self.CAP})", args
        ).fetchone()
        return float(n)

    def keyword(self, key: str, value: str) -> float:
        return self._count("key = ? AND value = ?", (key, value), "idx_keys")

    def event_keyword(self, key: str, value: str) -> float:
        return self._count("key = ? AND value = ?", (key, value), "idx_event_keys")

    def published(self, low: float | None, high: float | None) -> float:
        return self._count(
            "published_at >= ? AND published_at <= ?",
            (float("-inf") if low is None else low, float("inf") if high is None else high),
            "idx_articles",
        )


class EmbeddedIndex(Index):
    """The FTS5 index in one SQLite file (shared with the bus by default)."""

    name = "embedded"

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._conn = connect(self.path)
        self._lock = threading.RLock()
        self._stats = _Stats(self._conn)
        self.setup()

    @property
    def connection(self) -> sqlite3.Connection:
        return self._conn

    def setup(self) -> None:
        with self._lock:
            ensure_schema(self._conn)

    # -- writes ---------------------------------------------------------------------------------

    def upsert_many(self, docs: Sequence[dict[str, Any]]) -> UpsertReport:
        with self._lock, write_transaction(self._conn) as conn:
            return write_documents(conn, docs)

    def upsert_alerts(self, docs: Sequence[dict[str, Any]]) -> UpsertReport:
        with self._lock, write_transaction(self._conn) as conn:
            return write_alerts(conn, docs)

    def delete(self, ids: Iterable[str]) -> int:
        removed = 0
        with self._lock, write_transaction(self._conn) as conn:
            for article_id in ids:
                row = conn.execute(
                    "SELECT doc FROM idx_articles WHERE article_id = ?", (article_id,)
                ).fetchone()
                if row is None:
                    continue
                for table, column in (
                    ("idx_fts", "rowid"),
                    ("idx_keys", "doc"),
                    ("idx_events", "doc"),
                    ("idx_event_keys", "doc"),
                    ("idx_articles", "doc"),
                    ("idx_docs", "doc"),
                ):
                    conn.execute(f"DELETE FROM {table} WHERE {column} = ?", row)
                removed += 1
        return removed

    # -- reads ----------------------------------------------------------------------------------

    def get(self, article_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute(
                "SELECT d.data, f.summary, f.text FROM idx_articles a "
                "JOIN idx_docs d ON d.doc = a.doc "
                "JOIN idx_fts f ON f.rowid = a.doc WHERE a.article_id = ?",
                (article_id,),
            ).fetchone()
        if row is None:
            return None
        doc: dict[str, Any] = json.loads(row[0])
        doc["summary"], doc["text"] = row[1], row[2]
        return doc

    def count(
        self,
        query: str | Query = "",
        *,
        filters: Filters | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        with self._lock:
            sql = compile_sql(prepare(query, filters), now=now, stats=self._stats)
            return self._count(sql)

    def _count(self, sql: SqlQuery) -> int:
        if sql.fts is not None and sql.rest is None:
            statement, args = "SELECT COUNT(*) FROM idx_fts WHERE idx_fts MATCH ?", [sql.fts]
        else:
            statement, args = f"SELECT COUNT(*) FROM idx_articles a WHERE {sql.where}", sql.params
        (total,) = self._conn.execute(statement, args).fetchone()
        return int(total)

    def search(
        self,
        query: str | Query = "",
        *,
        filters: Filters | None = None,
        sort: Sort = "relevance",
        offset: int = 0,
        size: int = 20,
        facets: bool = False,
        highlight: tuple[str, str] = DEFAULT_HIGHLIGHT,
        now: dt.datetime | None = None,
    ) -> SearchResult:
        parsed = prepare(query, filters)
        positive = fts_highlight_expression(parsed)
        try:
            with self._lock:
                sql = compile_sql(parsed, now=now, stats=self._stats)
                total = self._count(sql)
                rows = self._page(sql, positive, sort, offset, size)
                docs = [r[0] for r in rows]
                data = self._documents(docs)
                snippets = self._snippets(positive, docs, highlight)
                hits = []
                for doc, _article_id, score in rows:
                    document = json.loads(data[doc])
                    snippet = snippets.get(doc) or fallback_snippet(self._texts(doc))
                    hits.append(Hit(document["article_id"], score, document, snippet))
                found_facets = self._facets(sql.where, sql.params) if facets else None
        except sqlite3.OperationalError as exc:
            raise IndexError_(f"embedded search failed for {parsed.source!r}: {exc}") from exc
        return SearchResult(int(total), hits, found_facets)

    def _documents(self, docs: list[int]) -> dict[int, str]:
        if not docs:
            return {}
        marks = ",".join("?" * len(docs))
        rows = self._conn.execute(
            f"SELECT doc, data FROM idx_docs WHERE doc IN ({marks})", docs
        ).fetchall()
        return {int(doc): data for doc, data in rows}

    def _page(
        self, sql: SqlQuery, positive: str | None, sort: Sort, offset: int, size: int
    ) -> list[tuple[int, str, float | None]]:
        if size <= 0:
            return []
        newest = "a.published_at IS NULL, a.published_at DESC, a.article_id"
        oldest = "a.published_at IS NULL, a.published_at ASC, a.article_id"
        if sort == "relevance" and sql.fts is not None and sql.rest is None:
            # Pure full text: FTS5 ranks its own matches; articles are looked up for the page.
            ranked = self._conn.execute(
                f"SELECT rowid, -bm25(idx_fts, {BM25_WEIGHTS}) FROM idx_fts WHERE idx_fts MATCH ? "
                f"ORDER BY bm25(idx_fts, {BM25_WEIGHTS}), rowid DESC LIMIT ? OFFSET ?",
                [sql.fts, size, offset],
            ).fetchall()
            ids = dict(
                self._conn.execute(
                    "SELECT doc, article_id FROM idx_articles WHERE doc IN "
                    f"({','.join('?' * len(ranked))})",
                    [doc for doc, _ in ranked],
                ).fetchall()
            )
            return [(int(doc), ids[doc], float(score)) for doc, score in ranked if doc in ids]
        if sort == "relevance" and sql.fts is not None:
            # Every hit matches sql.fts: FTS5 drives, ranks with bm25, the rest filters.
            statement = (
                f"SELECT a.doc, a.article_id, -bm25(idx_fts, {BM25_WEIGHTS}) AS score "
                "FROM idx_fts f JOIN idx_articles a ON a.doc = f.rowid "
                f"WHERE idx_fts MATCH ? AND {sql.rest or '1'} "
                f"ORDER BY score DESC, {newest} LIMIT ? OFFSET ?"
            )
            args = [sql.fts, *sql.rest_params, size, offset]
        elif sort == "relevance" and positive is not None:
            # Full text only under an OR: score the articles that match any positive term.
            statement = (
                "SELECT a.doc, a.article_id, -s.score FROM idx_articles a "
                "LEFT JOIN (SELECT rowid AS doc, "
                f"bm25(idx_fts, {BM25_WEIGHTS}) AS score FROM idx_fts WHERE idx_fts MATCH ?) s "
                f"ON s.doc = a.doc WHERE {sql.where} "
                f"ORDER BY s.score IS NULL, s.score, {newest} LIMIT ? OFFSET ?"
            )
            args = [positive, *sql.params, size, offset]
        else:
            order = oldest if sort == "oldest" else newest
            statement = (
                "SELECT a.doc, a.article_id, NULL FROM idx_articles a "
                f"WHERE {sql.where} ORDER BY {order} LIMIT ? OFFSET ?"
            )
            args = [*sql.params, size, offset]
        return [tuple(r) for r in self._conn.execute(statement, args).fetchall()]

    def _snippets(
        self, positive: str | None, docs: list[int], highlight: tuple[str, str]
    ) -> dict[int, str]:
        if positive is None or not docs:
            return {}
        marks = ",".join("?" * len(docs))
        pre, post = highlight
        # Prefer a fragment of the body, then the summary, then the headline (as Elasticsearch).
        columns = ", ".join(
            f"snippet(idx_fts, {c}, ?, ?, '…', {SNIPPET_TOKENS})" for c in (2, 1, 0)
        )
        rows = self._conn.execute(
            f"SELECT rowid, {columns} FROM idx_fts WHERE idx_fts MATCH ? AND rowid IN ({marks})",
            [pre, post] * 3 + [positive, *docs],
        ).fetchall()
        out: dict[int, str] = {}
        for doc, *fragments in rows:
            chosen = next((f for f in fragments if f and pre in f), None)
            if chosen is not None:
                out[int(doc)] = chosen
        return out

    def _texts(self, doc: int) -> dict[str, Any]:
        row = self._conn.execute(
            "SELECT summary, text FROM idx_fts WHERE rowid = ?", (doc,)
        ).fetchone()
        return {"summary": row[0], "text": row[1]} if row else {}

    def _facets(self, where: str, params: list[Any]) -> Facets:
        # The hits once, into a temporary table (not the shared file): three aggregates read it.
        self._conn.execute("DROP TABLE IF EXISTS temp.nw_hits")
        self._conn.execute("CREATE TEMP TABLE nw_hits (doc INTEGER PRIMARY KEY, published_at REAL)")
        self._conn.execute(
            f"INSERT INTO nw_hits SELECT a.doc, a.published_at FROM idx_articles a WHERE {where}",
            params,
        )
        try:
            types = self._conn.execute(
                "SELECT e.event_type, COUNT(DISTINCT e.doc) FROM nw_hits h "
                "CROSS JOIN idx_events e ON e.doc = h.doc GROUP BY e.event_type"
            ).fetchall()
            countries = self._conn.execute(
                "SELECT k.value, COUNT(*) FROM nw_hits h CROSS JOIN idx_keys k "
                "ON k.doc = h.doc AND k.key = 'country' GROUP BY k.value"
            ).fetchall()
            days = self._conn.execute(
                "SELECT strftime('%Y-%m-%d', published_at, 'unixepoch') AS day, COUNT(*) "
                "FROM nw_hits WHERE published_at IS NOT NULL GROUP BY day ORDER BY day"
            ).fetchall()
        finally:
            self._conn.execute("DROP TABLE IF EXISTS temp.nw_hits")
        return Facets(
            event_types=_top([(k, c) for k, c in types]),
            countries=_top([(k.upper(), c) for k, c in countries]),
            days=[Bucket(k, int(c)) for k, c in days],
        )

    def alerts(self, *, article_id: str | None = None, size: int = 100) -> list[dict[str, Any]]:
        with self._lock:
            if article_id is None:
                rows = self._conn.execute(
                    "SELECT data FROM idx_alerts ORDER BY created_at DESC, id LIMIT ?", (size,)
                ).fetchall()
            else:
                rows = self._conn.execute(
                    "SELECT data FROM idx_alerts WHERE article_id = ? "
                    "ORDER BY created_at DESC, id LIMIT ?",
                    (article_id, size),
                ).fetchall()
        return [json.loads(r[0]) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._conn.close()


#: How many buckets the event-type and country facets return.
FACET_SIZE = 20


def _top(pairs: list[tuple[str, int]]) -> list[Bucket]:
    ordered = sorted(pairs, key=lambda p: (-p[1], p[0]))[:FACET_SIZE]
    return [Bucket(k, int(c)) for k, c in ordered]
