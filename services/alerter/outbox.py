"""The delivery queue (``outbox``) and the bus records waiting to be published (``bus_outbox``).

Why an outbox: sending an email or calling a webhook cannot be part of a SQLite transaction, and
the bus offsets of a batch must not be committed before its alerts are safe. So processing a
batch only *queues* deliveries (with the dedupe records, in one transaction, before the offsets);
the delivery worker sends queued rows and marks each one delivered right after the receiver
accepted it. After a crash, rows still ``pending`` are sent on restart; a row whose sender has
died is claimed again at once (same host: its pid is gone) or after ``lease_s`` (heartbeat).

The one window no design closes: the receiver accepted a request and the process died before the
row was marked. That request is sent again on restart with the *same* ``Newswatch-Delivery-Id``
(webhooks) / ``Message-ID`` (email), so receivers can drop the repeat. The window is the few
microseconds between the response and the ``UPDATE``.

Retries never block other deliveries: a failed attempt reschedules its row (``next_attempt_at``)
and frees the worker for the next due row.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from services.alerter.state import StateDB

__all__ = ["Outbox", "OutboxRow", "WorkerRegistry"]

_COLUMNS = (
    "delivery_id, alert_id, subscription_id, article_ids, alert_ids, kind, channel, target, "
    "payload, status, attempts, next_attempt_at, created_at"
)


@dataclass(frozen=True)
class OutboxRow:
    delivery_id: str
    alert_id: str
    subscription_id: str
    article_ids: tuple[str, ...]
    alert_ids: tuple[str, ...]
    kind: str
    channel: str
    target: str
    payload: str
    status: str
    attempts: int
    next_attempt_at: float
    created_at: float

    @classmethod
    def from_row(cls, row: Sequence[object]) -> OutboxRow:
        (did, aid, sid, arts, alerts, kind, channel, target, payload, status, n, nxt, created) = row
        return cls(
            str(did),
            str(aid),
            str(sid),
            tuple(json.loads(str(arts))),
            tuple(json.loads(str(alerts))),
            str(kind),
            str(channel),
            str(target),
            str(payload),
            str(status),
            int(n),  # type: ignore[call-overload]
            float(nxt),  # type: ignore[arg-type]
            float(created),  # type: ignore[arg-type]
        )


class Outbox:
    def __init__(self, db: StateDB) -> None:
        self.db = db

    @staticmethod
    def enqueue(
        conn: sqlite3.Connection,
        *,
        delivery_id: str,
        alert_id: str,
        subscription_id: str,
        article_ids: Sequence[str],
        alert_ids: Sequence[str],
        kind: str,
        channel: str,
        target: str,
        payload: str,
        now: float,
        not_before: float | None = None,
    ) -> bool:
        """Queue one delivery inside the caller's transaction (idempotent on ``delivery_id``)."""
        cur = conn.execute(
            "INSERT OR IGNORE INTO outbox (delivery_id, alert_id, subscription_id, article_ids, "
            "alert_ids, kind, channel, target, payload, status, attempts, next_attempt_at, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)",
            (
                delivery_id,
                alert_id,
                subscription_id,
                json.dumps(list(article_ids)),
                json.dumps(list(alert_ids)),
                kind,
                channel,
                target,
                payload,
                max(now, not_before or now),
                now,
                now,
            ),
        )
        return cur.rowcount == 1

    @staticmethod
    def emit(conn: sqlite3.Connection, topic: str, key: str | None, value: bytes) -> None:
        """Queue a bus record (delivery log, dead letter) inside the caller's transaction."""
        conn.execute(
            "INSERT INTO bus_outbox (topic, key, value) VALUES (?, ?, ?)", (topic, key, value)
        )

    def claim(
        self,
        worker_id: str,
        now: float,
        limit: int,
        *,
        skip: Callable[[OutboxRow], bool] | None = None,
    ) -> list[OutboxRow]:
        """Take up to ``limit`` due, unclaimed rows for ``worker_id`` (oldest due first).
        ``skip`` leaves rows unclaimed (e.g. a target that already has enough in flight)."""
        if limit <= 0:
            return []
        with self.db.transaction() as conn:
            rows = [
                OutboxRow.from_row(r)
                for r in conn.execute(
                    f"SELECT {_COLUMNS} FROM outbox WHERE status = 'pending' "
                    "AND next_attempt_at <= ? AND claimed_by IS NULL "
                    "ORDER BY next_attempt_at LIMIT ?",
                    (now, limit * 4),
                )
            ]
            chosen: list[OutboxRow] = []
            for row in rows:
                if len(chosen) >= limit:
                    break
                if skip is not None and skip(row):
                    continue
                chosen.append(row)
            conn.executemany(
                "UPDATE outbox SET claimed_by = ? WHERE delivery_id = ?",
                [(worker_id, r.delivery_id) for r in chosen],
            )
        return chosen

    @staticmethod
    def finish(
        conn: sqlite3.Connection,
        delivery_id: str,
        *,
        status: str,
        attempts: int,
        now: float,
        error: str | None = None,
        next_attempt_at: float | None = None,
    ) -> None:
        """Record an attempt's outcome and release the claim (inside the caller's transaction).
        ``status='pending'`` with ``next_attempt_at`` schedules a retry."""
        conn.execute(
            "UPDATE outbox SET status = ?, attempts = ?, updated_at = ?, last_error = ?, "
            "claimed_by = NULL, next_attempt_at = COALESCE(?, next_attempt_at), "
            "delivered_at = CASE WHEN ? = 'delivered' THEN ? ELSE delivered_at END "
            "WHERE delivery_id = ?",
            (status, attempts, now, error, next_attempt_at, status, now, delivery_id),
        )

    def prune(self, before: float) -> int:
        """Delete finished rows last updated before ``before``; how many."""
        with self.db.transaction() as conn:
            cur = conn.execute(
                "DELETE FROM outbox WHERE status != 'pending' AND updated_at < ?", (before,)
            )
        return cur.rowcount

    def next_due(self) -> float | None:
        row = self.db.conn.execute(
            "SELECT MIN(next_attempt_at) FROM outbox "
            "WHERE status = 'pending' AND claimed_by IS NULL"
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def counts(self) -> dict[str, int]:
        return {
            status: int(n)
            for status, n in self.db.conn.execute(
                "SELECT status, COUNT(*) FROM outbox GROUP BY status"
            )
        }

    def get(self, delivery_id: str) -> OutboxRow | None:
        row = self.db.conn.execute(
            f"SELECT {_COLUMNS} FROM outbox WHERE delivery_id = ?", (delivery_id,)
        ).fetchone()
        return None if row is None else OutboxRow.from_row(row)

    def pending_bus_records(self, limit: int = 500) -> list[tuple[int, str, str | None, bytes]]:
        return [
            (int(i), str(t), None if k is None else str(k), bytes(v))
            for i, t, k, v in self.db.conn.execute(
                "SELECT id, topic, key, value FROM bus_outbox ORDER BY id LIMIT ?", (limit,)
            )
        ]

    def drop_bus_records(self, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self.db.transaction() as conn:
            conn.executemany("DELETE FROM bus_outbox WHERE id = ?", [(i,) for i in ids])


def _process_alive(pid: int, started_at: float) -> bool:
    """Whether ``pid`` is still the process that registered at ``started_at``."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        try:
            os.kill(pid, 0)
        except OSError:
            return False
        return True
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        return proc.create_time() <= started_at + 1.0
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return False


class WorkerRegistry:
    """Delivery workers sharing the state file; claims of a dead worker are released."""

    def __init__(self, db: StateDB, *, lease_s: float) -> None:
        self.db = db
        self.lease_s = lease_s
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.worker_id = f"{self.host}-{self.pid}-{uuid.uuid4().hex[:8]}"
        self.started_at = time.time()

    def register(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO workers (worker_id, host, pid, started_at, heartbeat) "
                "VALUES (?, ?, ?, ?, ?)",
                (self.worker_id, self.host, self.pid, self.started_at, time.time()),
            )
        self.reap()

    def heartbeat(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE workers SET heartbeat = ? WHERE worker_id = ?",
                (time.time(), self.worker_id),
            )

    def reap(self) -> int:
        """Release claims held by workers that are gone: on this host when their process has
        exited, anywhere when their heartbeat is older than the lease. Returns rows released."""
        now = time.time()
        with self.db.transaction() as conn:
            dead = []
            for worker_id, host, pid, started, beat in conn.execute(
                "SELECT worker_id, host, pid, started_at, heartbeat FROM workers"
            ).fetchall():
                if worker_id == self.worker_id:
                    continue
                gone = (host == self.host and not _process_alive(int(pid), float(started))) or (
                    now - float(beat) > self.lease_s
                )
                if gone:
                    dead.append(worker_id)
            released = 0
            for worker_id in dead:
                conn.execute("DELETE FROM workers WHERE worker_id = ?", (worker_id,))
            # Claims by ids not in the registry (reaped, or never registered) are void too.
            cur = conn.execute(
                "UPDATE outbox SET claimed_by = NULL WHERE claimed_by IS NOT NULL "
                "AND claimed_by NOT IN (SELECT worker_id FROM workers)"
            )
            released = cur.rowcount
        return released

    def unregister(self) -> None:
        with self.db.transaction() as conn:
            conn.execute(
                "UPDATE outbox SET claimed_by = NULL WHERE claimed_by = ?", (self.worker_id,)
            )
            conn.execute("DELETE FROM workers WHERE worker_id = ?", (self.worker_id,))
