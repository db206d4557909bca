"""One alert per (subscription, article), ever: the dedupe record.

The record is a row of ``alerts`` keyed by both ids. It is inserted (``INSERT OR IGNORE``) in the
same SQLite transaction as the alert's pending deliveries, and that transaction commits *before*
the bus offsets of the batch (see ``service``). So:

* a crash before the commit loses both the record and the deliveries, and the batch is read
  again from the last committed offset: the alert is created then, once;
* a crash after it (before the offsets) re-reads the batch, finds the records, and creates
  nothing — the deliveries already queued are sent by the delivery worker;
* a replay (``seek_to_beginning``, a new consumer group, a re-published article) finds the
  records too.

Alert ids are derived from the pair, so every runtime (and every replica) names an alert alike.
"""

from __future__ import annotations

import hashlib
import sqlite3

from services.alerter.state import StateDB

__all__ = ["DedupeStore", "alert_id", "delivery_id"]


def alert_id(subscription_id: str, article_id: str) -> str:
    """The stable id of the alert of ``article_id`` for ``subscription_id``."""
    return hashlib.sha256(f"{subscription_id}\x00{article_id}".encode()).hexdigest()[:32]


def delivery_id(alert_or_digest_id: str, channel: str, target: str) -> str:
    """The stable id of one delivery (an alert or digest to one target): the idempotency key
    receivers see as ``Newswatch-Delivery-Id`` / in the email's ``Message-ID``."""
    raw = f"{alert_or_digest_id}\x00{channel}\x00{target}".encode()
    return hashlib.sha256(raw).hexdigest()[:32]


class DedupeStore:
    """The ``alerts`` table."""

    def __init__(self, db: StateDB) -> None:
        self.db = db

    @staticmethod
    def claim(
        conn: sqlite3.Connection,
        *,
        subscription_id: str,
        article_id: str,
        disposition: str,
        payload: str,
        now: float,
    ) -> bool:
        """Record the alert inside the caller's transaction; False if it already existed."""
        cur = conn.execute(
            "INSERT OR IGNORE INTO alerts "
            "(subscription_id, article_id, alert_id, created_at, disposition, payload) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                subscription_id,
                article_id,
                alert_id(subscription_id, article_id),
                now,
                disposition,
                payload,
            ),
        )
        return cur.rowcount == 1

    def seen(self, subscription_id: str, article_id: str) -> bool:
        row = self.db.conn.execute(
            "SELECT 1 FROM alerts WHERE subscription_id = ? AND article_id = ?",
            (subscription_id, article_id),
        ).fetchone()
        return row is not None

    @staticmethod
    def recent_count(
        conn: sqlite3.Connection, subscription_id: str, since: float, dispositions: tuple[str, ...]
    ) -> int:
        marks = ",".join("?" * len(dispositions))
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM alerts WHERE subscription_id = ? AND created_at >= ? "
            f"AND disposition IN ({marks})",
            (subscription_id, since, *dispositions),
        ).fetchone()
        return int(count)

    def count(self) -> int:
        (count,) = self.db.conn.execute("SELECT COUNT(*) FROM alerts").fetchone()
        return int(count)
