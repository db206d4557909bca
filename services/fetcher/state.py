"""The fetcher's durable state: one SQLite file (``fetcher.state_path`` under ``data_dir``).

Tables:

* ``feed_state`` — one row per feed ever polled: validators (ETag, Last-Modified, a hash of the
  last body), the URL in use after permanent redirects, the adaptive interval and the next poll
  time, and health (last poll, last HTTP status and outcome, last error, items published,
  consecutive failures, disabled and why). ``newswatch feeds list`` reads it.
* ``imported_feeds`` — feeds added with ``newswatch feeds import`` (the config's ``feeds:`` plus
  these are the feed list).
* ``seen_items`` — the dedupe memory: one row per key (canonical URL, site+GUID, site+title; see
  ``canonical.dedupe_keys``) with when it was first and last seen. Rows not seen for
  ``seen_ttl_days`` are pruned, so the table stays bounded; keys of items still present in a feed
  are refreshed at every poll and never expire while the item is listed.

Writes for a batch of polls happen in one transaction, and only after the batch's items were
flushed to the bus (see ``FetcherService``): a crash in between re-publishes (at-least-once,
downstream sinks are idempotent on ``article_id``) but never loses an item. WAL mode lets the
CLI read while the fetcher writes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

from newswatch.settings import FeedConfig
from newswatch.sqlite import write_transaction

__all__ = ["FeedState", "FeedStateStore", "SeenRow"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feed_state (
    feed_id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    current_url TEXT,
    etag TEXT,
    last_modified TEXT,
    body_hash TEXT,
    interval_s REAL,
    next_poll_at REAL NOT NULL DEFAULT 0,
    last_poll_at REAL,
    last_status INTEGER,
    last_outcome TEXT,
    last_reason TEXT,
    last_error TEXT,
    last_success_at REAL,
    last_new_item_at REAL,
    items_seen INTEGER NOT NULL DEFAULT 0,
    items_in_feed INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    disabled_at REAL,
    disabled_reason TEXT,
    title TEXT
);
CREATE TABLE IF NOT EXISTS imported_feeds (
    url TEXT PRIMARY KEY,
    config TEXT NOT NULL,
    origin TEXT,
    added_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_items (
    key TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    feed_id TEXT NOT NULL,
    first_seen REAL NOT NULL,
    last_seen REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_items_last_seen ON seen_items (last_seen);
"""

_IN_CHUNK = 500


@dataclass
class FeedState:
    """What the fetcher knows about one feed between polls."""

    feed_id: str
    url: str
    current_url: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    interval_s: float | None = None
    next_poll_at: float = 0.0
    last_poll_at: float | None = None
    last_status: int | None = None
    last_outcome: str | None = None
    #: Short failure reason of the last poll (``timeout``, ``html``, ``http_404`` …), else None.
    last_reason: str | None = None
    last_error: str | None = None
    last_success_at: float | None = None
    last_new_item_at: float | None = None
    items_seen: int = 0
    items_in_feed: int | None = None
    consecutive_failures: int = 0
    disabled_at: float | None = None
    disabled_reason: str | None = None
    title: str | None = None

    @property
    def fetch_url(self) -> str:
        """Where to poll: the permanent-redirect target if any, else the configured URL."""
        return self.current_url or self.url

    @property
    def disabled(self) -> bool:
        return self.disabled_at is not None


_COLUMNS = [f.name for f in fields(FeedState)]


@dataclass(frozen=True)
class SeenRow:
    key: str
    article_id: str
    feed_id: str


class FeedStateStore:
    """Thread-safe access to the state file (one connection, one lock)."""

    def __init__(self, path: Path, *, clock: Callable[[], float] | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock or time.time
        self._conn = sqlite3.connect(
            str(path), timeout=30.0, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=30000")
            self._conn.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, write_transaction(self._conn) as conn:
            yield conn

    # -- feed health ---------------------------------------------------------------------------

    def load_states(self) -> dict[str, FeedState]:
        with self._lock:
            rows = self._conn.execute(f"SELECT {', '.join(_COLUMNS)} FROM feed_state").fetchall()
        return {row[0]: FeedState(*row) for row in rows}

    def save(
        self,
        states: Sequence[FeedState],
        seen: Sequence[SeenRow] = (),
    ) -> None:
        """Write feed states and seen keys in one transaction (after the bus flush)."""
        if not states and not seen:
            return
        now = self._clock()
        placeholders = ", ".join("?" for _ in _COLUMNS)
        with self._transaction() as conn:
            conn.executemany(
                f"INSERT OR REPLACE INTO feed_state ({', '.join(_COLUMNS)}) "
                f"VALUES ({placeholders})",
                [tuple(getattr(state, column) for column in _COLUMNS) for state in states],
            )
            conn.executemany(
                "INSERT INTO seen_items (key, article_id, feed_id, first_seen, last_seen) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT(key) DO UPDATE SET last_seen = "
                "excluded.last_seen",
                [(row.key, row.article_id, row.feed_id, now, now) for row in seen],
            )

    def enable(self, feed_id: str) -> bool:
        """Clear a feed's disabled flag and failure count so it is polled again at once."""
        with self._transaction() as conn:
            cursor = conn.execute(
                "UPDATE feed_state SET disabled_at = NULL, disabled_reason = NULL, "
                "consecutive_failures = 0, next_poll_at = 0 WHERE feed_id = ?",
                (feed_id,),
            )
            return cursor.rowcount > 0

    # -- seen items ----------------------------------------------------------------------------

    def seen_lookup(self, keys: Iterable[str]) -> dict[str, str]:
        """Which of ``keys`` were seen before: key -> the feed_id that first saw it."""
        unique = list(dict.fromkeys(keys))
        found: dict[str, str] = {}
        with self._lock:
            for start in range(0, len(unique), _IN_CHUNK):
                chunk = unique[start : start + _IN_CHUNK]
                marks = ", ".join("?" for _ in chunk)
                for key, feed_id in self._conn.execute(
                    f"SELECT key, feed_id FROM seen_items WHERE key IN ({marks})", chunk
                ):
                    found[key] = feed_id
        return found

    def prune_seen(self, older_than: float) -> int:
        """Forget keys not seen since ``older_than`` (epoch seconds); returns how many."""
        with self._transaction() as conn:
            cursor = conn.execute("DELETE FROM seen_items WHERE last_seen < ?", (older_than,))
            return cursor.rowcount

    def seen_count(self) -> int:
        with self._lock:
            (count,) = self._conn.execute("SELECT COUNT(*) FROM seen_items").fetchone()
        return int(count)

    # -- imported feeds ------------------------------------------------------------------------

    def imported_feeds(self) -> list[FeedConfig]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT config FROM imported_feeds ORDER BY added_at, rowid"
            ).fetchall()
        return [FeedConfig.model_validate(json.loads(config)) for (config,) in rows]

    def add_imported(self, feeds: Sequence[FeedConfig], origin: str) -> None:
        now = self._clock()
        with self._transaction() as conn:
            conn.executemany(
                "INSERT OR IGNORE INTO imported_feeds (url, config, origin, added_at) "
                "VALUES (?, ?, ?, ?)",
                [(feed.url, feed.model_dump_json(), origin, now) for feed in feeds],
            )

    def remove_imported(self, url: str) -> bool:
        with self._transaction() as conn:
            cursor = conn.execute("DELETE FROM imported_feeds WHERE url = ?", (url,))
            return cursor.rowcount > 0
