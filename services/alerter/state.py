"""The alerter's SQLite file: subscriptions, dedupe records, the outbox, digests and spike windows.

Everything the alerter must not forget lives in one file so that a batch's dedupe records and its
pending deliveries commit in one transaction, before the bus offsets (see ``service``). WAL mode
with ``synchronous=NORMAL`` survives a process crash (SIGKILL); several processes may share the
file (the API in the CLI, replicas of the alerter on one host).

Each thread gets its own connection (``StateDB.conn``); ``StateDB.transaction()`` is a
``BEGIN IMMEDIATE`` … ``COMMIT`` block that takes the write lock up front.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from newswatch.sqlite import write_transaction

__all__ = ["StateDB"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS subscriptions (
    id TEXT PRIMARY KEY,
    doc TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
);
-- One row per (subscription, article) that ever matched: the dedupe record.
CREATE TABLE IF NOT EXISTS alerts (
    subscription_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    alert_id TEXT NOT NULL UNIQUE,
    created_at REAL NOT NULL,
    -- immediate | digest | spike | muted | rate_limited
    disposition TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- for digest alerts: the digest delivery that carried it (NULL while waiting)
    digest_id TEXT,
    PRIMARY KEY (subscription_id, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS alerts_digest_pending
    ON alerts (subscription_id, disposition, digest_id);
CREATE INDEX IF NOT EXISTS alerts_recent ON alerts (subscription_id, created_at);
-- The delivery queue: one row per (alert or digest, channel target).
CREATE TABLE IF NOT EXISTS outbox (
    delivery_id TEXT PRIMARY KEY,
    alert_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    article_ids TEXT NOT NULL,
    alert_ids TEXT NOT NULL,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    target TEXT NOT NULL,
    payload TEXT NOT NULL,
    -- pending | delivered | failed | deadlettered | cancelled
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    claimed_by TEXT,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    delivered_at REAL,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
-- Records for the bus (delivery log, dead letters) written in the same transaction as the
-- state change they describe, published and deleted afterwards (at-least-once).
CREATE TABLE IF NOT EXISTS bus_outbox (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    key TEXT,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS digests (
    subscription_id TEXT PRIMARY KEY,
    last_flush_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS spike_hits (
    subscription_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    ts REAL NOT NULL,
    payload TEXT NOT NULL,
    PRIMARY KEY (subscription_id, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS spike_hits_ts ON spike_hits (subscription_id, ts);
CREATE TABLE IF NOT EXISTS spike_state (
    subscription_id TEXT PRIMARY KEY,
    fired INTEGER NOT NULL DEFAULT 0,
    fired_at REAL,
    crossings INTEGER NOT NULL DEFAULT 0
);
-- Delivery workers alive on this file; a claim by a worker that is gone is void.
CREATE TABLE IF NOT EXISTS workers (
    worker_id TEXT PRIMARY KEY,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    started_at REAL NOT NULL,
    heartbeat REAL NOT NULL
);
"""


class StateDB:
    """The alerter's state file; hands out one connection per thread."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self.conn.executescript(_SCHEMA)

    @property
    def conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=60.0, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=60000")
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT`` on this thread's connection; rolled back on error."""
        with write_transaction(self.conn) as conn:
            yield conn

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                with suppress(sqlite3.Error):
                    conn.close()
            self._all.clear()
        self._local = threading.local()
