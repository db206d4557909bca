"""The embedded bus: an append-only log in one SQLite file (WAL), safe for several processes.

Tables (all prefixed ``bus_``):

* ``bus_topics`` and ``bus_partitions`` (the next offset of each partition);
* ``bus_messages``: the log itself, one row per message, unique on (topic, partition, offset);
* ``bus_offsets``: committed offsets per (group, topic, partition);
* ``bus_members``: live group members and their last heartbeat;
* ``bus_owners``: which member owns which partition. A member claims a partition only while no
  row names another owner, and gives up (at its next poll) the partitions the current assignment
  hands to others, so two members never own one partition at the same time.

Assignment is computed by every member from the sorted list of live members of its group:
partition ``p`` of a topic goes to the member at index ``p % n``. A member is live while its
heartbeat (written while polling) is younger than the session timeout; a member killed with
SIGKILL therefore loses its partitions after that timeout, and its uncommitted messages are read
again by the new owner from the committed offset (at-least-once).

Durability: WAL with ``synchronous=NORMAL`` survives a process crash (SIGKILL) — a committed
transaction is in the WAL file before ``commit`` returns — but not necessarily a power loss.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from newswatch.bus.base import (
    Bus,
    Consumer,
    Headers,
    Message,
    OffsetReset,
    Producer,
    TopicInfo,
    TopicPartition,
    TopicSpec,
    ensure_owned,
    key_bytes,
)
from newswatch.sqlite import write_transaction

__all__ = ["EmbeddedBus", "EmbeddedConsumer", "EmbeddedProducer"]

log = logging.getLogger(__name__)

Clock = Callable[[], float]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bus_topics (
    name TEXT PRIMARY KEY,
    partitions INTEGER NOT NULL,
    retention_hours REAL,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS bus_partitions (
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    next_offset INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (topic, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bus_messages (
    id INTEGER PRIMARY KEY,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    key BLOB,
    value BLOB NOT NULL,
    headers BLOB,
    ts REAL NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS bus_messages_position
    ON bus_messages (topic, partition, offset);
CREATE TABLE IF NOT EXISTS bus_offsets (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    offset INTEGER NOT NULL,
    committed_at REAL NOT NULL,
    PRIMARY KEY (grp, topic, partition)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bus_members (
    grp TEXT NOT NULL,
    member TEXT NOT NULL,
    heartbeat REAL NOT NULL,
    PRIMARY KEY (grp, member)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bus_owners (
    grp TEXT NOT NULL,
    topic TEXT NOT NULL,
    partition INTEGER NOT NULL,
    member TEXT NOT NULL,
    PRIMARY KEY (grp, topic, partition)
) WITHOUT ROWID;
"""


def connect(path: Path) -> sqlite3.Connection:
    """Open the bus file for this thread of work: WAL, a generous busy timeout, autocommit off.

    ``isolation_level=None`` lets us issue ``BEGIN IMMEDIATE`` ourselves, which takes the write
    lock up front and so avoids the deadlock of two readers upgrading at once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=60.0, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=60000")
    _use_wal(conn)
    conn.execute("PRAGMA synchronous=NORMAL")
    return conn


def _use_wal(conn: sqlite3.Connection, attempts: int = 200) -> None:
    """Switch the file to WAL (persistent, so only the first opener really does it).

    SQLite does not run the busy handler for the journal-mode switch, so two processes creating
    the same new file at once can get "database is locked" here: retry for a while.
    """
    for attempt in range(attempts):
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            transient = "locked" in str(exc) or "busy" in str(exc)
            if not transient or attempt == attempts - 1:
                raise
            time.sleep(0.05)


def partition_for(key: bytes, partitions: int) -> int:
    """The stable key → partition mapping (CRC-32, identical in every process)."""
    return zlib.crc32(key) % partitions


def _encode_headers(headers: Headers | None) -> bytes | None:
    if not headers:
        return None
    parts = []
    for name, value in headers:
        raw_name = name.encode("utf-8")
        parts.append(len(raw_name).to_bytes(2, "big") + raw_name)
        parts.append(len(value).to_bytes(4, "big") + value)
    return b"".join(parts)


def _decode_headers(raw: bytes | None) -> tuple[tuple[str, bytes], ...]:
    if not raw:
        return ()
    out = []
    pos = 0
    while pos < len(raw):
        n = int.from_bytes(raw[pos : pos + 2], "big")
        name = raw[pos + 2 : pos + 2 + n].decode("utf-8")
        pos += 2 + n
        m = int.from_bytes(raw[pos : pos + 4], "big")
        out.append((name, bytes(raw[pos + 4 : pos + 4 + m])))
        pos += 4 + m
    return tuple(out)


class EmbeddedBus(Bus):
    """A bus over one SQLite file; each producer and consumer opens its own connection."""

    name = "embedded"

    def __init__(
        self,
        path: Path | str,
        *,
        partitions: int = 4,
        retention_hours: float = 168.0,
        retention_mb: float = 1024.0,
        session_timeout_s: float = 10.0,
        clock: Clock = time.time,
    ) -> None:
        self.path = Path(path)
        self.default_partitions = partitions
        self.retention_hours = retention_hours
        self.retention_mb = retention_mb
        self.session_timeout_s = session_timeout_s
        self.clock = clock
        self._conn = connect(self.path)
        self._lock = threading.RLock()
        # executescript commits on its own; every statement is idempotent (IF NOT EXISTS).
        self._conn.executescript(_SCHEMA)

    # -- topics ---------------------------------------------------------------------------------

    def ensure_topics(self, specs: Iterable[TopicSpec]) -> None:
        with self._lock, write_transaction(self._conn) as conn:
            for spec in specs:
                _create_topic(conn, spec, self.default_partitions, self.clock())

    def partitions_of(self, topic: str) -> int:
        """The partition count of ``topic``, creating it with the default count if missing."""
        with self._lock:
            row = self._conn.execute(
                "SELECT partitions FROM bus_topics WHERE name = ?", (topic,)
            ).fetchone()
            if row is not None:
                return int(row[0])
            self.ensure_topics([TopicSpec(topic)])
            return self.partitions_of(topic)

    def list_topics(self) -> list[TopicInfo]:
        with self._lock:
            conn = self._conn
            infos = []
            for name, partitions in conn.execute(
                "SELECT name, partitions FROM bus_topics ORDER BY name"
            ).fetchall():
                heads = dict(
                    conn.execute(
                        "SELECT partition, next_offset FROM bus_partitions WHERE topic = ?",
                        (name,),
                    ).fetchall()
                )
                count = conn.execute(
                    "SELECT COUNT(*) FROM bus_messages WHERE topic = ?", (name,)
                ).fetchone()[0]
                lows = dict(
                    conn.execute(
                        "SELECT partition, MIN(offset) FROM bus_messages WHERE topic = ? "
                        "GROUP BY partition",
                        (name,),
                    ).fetchall()
                )
                lag: dict[str, int] = {}
                groups = [
                    g
                    for (g,) in conn.execute(
                        "SELECT DISTINCT grp FROM bus_offsets WHERE topic = ? ORDER BY grp",
                        (name,),
                    )
                ]
                for group in groups:
                    committed = dict(
                        conn.execute(
                            "SELECT partition, offset FROM bus_offsets WHERE grp = ? AND topic = ?",
                            (group, name),
                        ).fetchall()
                    )
                    lag[group] = sum(
                        max(0, head - committed.get(p, lows.get(p, head)))
                        for p, head in heads.items()
                    )
                infos.append(TopicInfo(name, int(partitions), int(count), lag))
            return infos

    def read(self, topic: str, *, from_beginning: bool = False, limit: int = 10) -> list[Message]:
        order = "ASC" if from_beginning else "DESC"
        with self._lock:
            rows = self._conn.execute(
                "SELECT topic, partition, offset, key, value, headers, ts FROM bus_messages "
                f"WHERE topic = ? ORDER BY id {order} LIMIT ?",
                (topic, limit),
            ).fetchall()
        messages = [_row_to_message(row) for row in rows]
        return messages if from_beginning else messages[::-1]

    # -- clients --------------------------------------------------------------------------------

    def producer(self) -> EmbeddedProducer:
        return EmbeddedProducer(self)

    def consumer(
        self,
        group: str,
        topics: Sequence[str],
        *,
        offset_reset: OffsetReset = "earliest",
        member_id: str | None = None,
    ) -> EmbeddedConsumer:
        return EmbeddedConsumer(self, group, topics, offset_reset=offset_reset, member_id=member_id)

    # -- retention ------------------------------------------------------------------------------

    def enforce_retention(self) -> int:
        """Delete messages older than the retention age, then the oldest of each partition beyond
        its share of the size limit. Returns how many messages were deleted."""
        deleted = 0
        now = self.clock()
        with self._lock:
            topics = self._conn.execute(
                "SELECT name, partitions, retention_hours FROM bus_topics"
            ).fetchall()
            for name, partitions, topic_hours in topics:
                hours = self.retention_hours if topic_hours is None else topic_hours
                with write_transaction(self._conn) as conn:
                    if hours > 0:
                        cur = conn.execute(
                            "DELETE FROM bus_messages WHERE topic = ? AND ts < ?",
                            (name, now - hours * 3600.0),
                        )
                        deleted += cur.rowcount
                    if self.retention_mb > 0:
                        share = self.retention_mb * 1024 * 1024 / partitions
                        for partition in range(partitions):
                            row = conn.execute(
                                "SELECT offset FROM (SELECT offset, SUM(length(value) + "
                                "IFNULL(length(key), 0)) OVER (ORDER BY offset DESC) AS total "
                                "FROM bus_messages WHERE topic = ? AND partition = ?) "
                                "WHERE total > ? ORDER BY offset DESC LIMIT 1",
                                (name, partition, share),
                            ).fetchone()
                            if row is not None:
                                cur = conn.execute(
                                    "DELETE FROM bus_messages WHERE topic = ? AND partition = ? "
                                    "AND offset <= ?",
                                    (name, partition, row[0]),
                                )
                                deleted += cur.rowcount
        if deleted:
            log.info("retention deleted %d message(s) from %s", deleted, self.path)
        return deleted

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _create_topic(
    conn: sqlite3.Connection, spec: TopicSpec, default_partitions: int, now: float
) -> None:
    partitions = spec.partitions or default_partitions
    cur = conn.execute(
        "INSERT OR IGNORE INTO bus_topics (name, partitions, retention_hours, created_at) "
        "VALUES (?, ?, ?, ?)",
        (spec.name, partitions, spec.retention_hours, now),
    )
    if cur.rowcount:
        conn.executemany(
            "INSERT OR IGNORE INTO bus_partitions (topic, partition, next_offset) VALUES (?, ?, 0)",
            [(spec.name, p) for p in range(partitions)],
        )


def _row_to_message(row: Any) -> Message:
    # sqlite3 returns BLOBs as bytes already: no copies on this hot path.
    topic, partition, offset, key, value, headers, ts = row
    return Message(
        topic, partition, offset, key, value, _decode_headers(headers) if headers else (), ts
    )


class EmbeddedProducer(Producer):
    """Appends to the log. ``publish`` is durable on return; ``publish_many`` writes one
    transaction for the whole batch. Thread-safe (one lock around its connection)."""

    def __init__(self, bus: EmbeddedBus) -> None:
        self._bus = bus
        self._conn = connect(bus.path)
        self._lock = threading.Lock()
        self._partitions: dict[str, int] = {}
        self._round_robin = 0

    def _partition(self, topic: str, key: bytes | None) -> int:
        count = self._partitions.get(topic)
        if count is None:
            count = self._partitions[topic] = self._bus.partitions_of(topic)
        if key is None:
            self._round_robin += 1
            return self._round_robin % count
        return partition_for(key, count)

    def publish(
        self, topic: str, key: bytes | str | None, value: bytes, headers: Headers | None = None
    ) -> None:
        self.publish_many(topic, [(key, value)], headers)

    def publish_many(
        self,
        topic: str,
        messages: Iterable[tuple[bytes | str | None, bytes]],
        headers: Headers | None = None,
    ) -> None:
        encoded_headers = _encode_headers(headers)
        by_partition: dict[int, list[tuple[bytes | None, bytes]]] = {}
        for key, value in messages:
            raw_key = key_bytes(key)
            by_partition.setdefault(self._partition(topic, raw_key), []).append((raw_key, value))
        if not by_partition:
            return
        now = self._bus.clock()
        with self._lock, write_transaction(self._conn) as conn:
            for partition, items in by_partition.items():
                (head,) = conn.execute(
                    "SELECT next_offset FROM bus_partitions WHERE topic = ? AND partition = ?",
                    (topic, partition),
                ).fetchone()
                conn.executemany(
                    "INSERT INTO bus_messages (topic, partition, offset, key, value, headers, ts) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        (topic, partition, head + i, key, value, encoded_headers, now)
                        for i, (key, value) in enumerate(items)
                    ],
                )
                conn.execute(
                    "UPDATE bus_partitions SET next_offset = ? WHERE topic = ? AND partition = ?",
                    (head + len(items), topic, partition),
                )

    def flush(self, timeout: float | None = None) -> None:
        """Nothing to do: every publish is already committed to the file."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()


class EmbeddedConsumer(Consumer):
    """A group member over the SQLite log. Heartbeats and rebalancing happen inside ``poll``."""

    #: How often (at most) ``poll`` rewrites the heartbeat and re-checks the assignment.
    heartbeat_interval_s = 0.5
    #: Sleep between empty reads while ``poll`` waits, growing up to the max.
    idle_sleep_s = 0.02
    idle_sleep_max_s = 0.1

    def __init__(
        self,
        bus: EmbeddedBus,
        group: str,
        topics: Sequence[str],
        *,
        offset_reset: OffsetReset = "earliest",
        member_id: str | None = None,
    ) -> None:
        self._bus = bus
        self.group = group
        self.topics = tuple(topics)
        self.member_id = member_id or f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        self._offset_reset = offset_reset
        self._conn = connect(bus.path)
        self._lock = threading.RLock()
        self._owned: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._last_heartbeat = float("-inf")
        self._closed = False
        self._rr = 0
        for topic in self.topics:
            bus.partitions_of(topic)

    # -- membership -----------------------------------------------------------------------------

    def _heartbeat(self, force: bool = False) -> None:
        now = self._bus.clock()
        if not force and now - self._last_heartbeat < self.heartbeat_interval_s:
            return
        self._last_heartbeat = now
        expired_before = now - self._bus.session_timeout_s
        with write_transaction(self._conn) as conn:
            conn.execute(
                "INSERT INTO bus_members (grp, member, heartbeat) VALUES (?, ?, ?) "
                "ON CONFLICT (grp, member) DO UPDATE SET heartbeat = excluded.heartbeat",
                (self.group, self.member_id, now),
            )
            dead = [
                m
                for (m,) in conn.execute(
                    "SELECT member FROM bus_members WHERE grp = ? AND heartbeat < ?",
                    (self.group, expired_before),
                )
            ]
            for member in dead:
                log.info("group %s: member %s timed out; its partitions move", self.group, member)
                conn.execute(
                    "DELETE FROM bus_members WHERE grp = ? AND member = ?", (self.group, member)
                )
                conn.execute(
                    "DELETE FROM bus_owners WHERE grp = ? AND member = ?", (self.group, member)
                )
            members = [
                m
                for (m,) in conn.execute(
                    "SELECT member FROM bus_members WHERE grp = ? ORDER BY member", (self.group,)
                )
            ]
            index = members.index(self.member_id)
            target: set[TopicPartition] = set()
            for topic in self.topics:
                (count,) = conn.execute(
                    "SELECT partitions FROM bus_topics WHERE name = ?", (topic,)
                ).fetchone()
                target.update(
                    TopicPartition(topic, p) for p in range(count) if p % len(members) == index
                )
            owners = {
                TopicPartition(t, p): m
                for t, p, m in conn.execute(
                    "SELECT topic, partition, member FROM bus_owners WHERE grp = ?", (self.group,)
                )
            }
            for tp, owner in owners.items():
                if owner == self.member_id and tp not in target:
                    conn.execute(
                        "DELETE FROM bus_owners WHERE grp = ? AND topic = ? AND partition = ?",
                        (self.group, tp.topic, tp.partition),
                    )
            owned = {tp for tp in target if owners.get(tp) == self.member_id}
            for tp in sorted(target - owned):
                if tp not in owners:
                    conn.execute(
                        "INSERT INTO bus_owners (grp, topic, partition, member) "
                        "VALUES (?, ?, ?, ?)",
                        (self.group, tp.topic, tp.partition, self.member_id),
                    )
                    owned.add(tp)
            for tp in owned - self._owned:
                self._positions[tp] = self._starting_position(conn, tp)
            for tp in self._owned - owned:
                self._positions.pop(tp, None)
            if owned != self._owned:
                log.debug("group %s member %s owns %s", self.group, self.member_id, sorted(owned))
            self._owned = owned

    def _starting_position(self, conn: sqlite3.Connection, tp: TopicPartition) -> int:
        row = conn.execute(
            "SELECT offset FROM bus_offsets WHERE grp = ? AND topic = ? AND partition = ?",
            (self.group, tp.topic, tp.partition),
        ).fetchone()
        if row is not None:
            return int(row[0])
        if self._offset_reset == "latest":
            return _head(conn, tp)
        return _low(conn, tp)

    # -- consuming ------------------------------------------------------------------------------

    def poll(self, max_messages: int = 500, timeout: float = 1.0) -> list[Message]:
        deadline = time.monotonic() + max(0.0, timeout)
        sleep = self.idle_sleep_s
        with self._lock:
            while True:
                self._heartbeat()
                batch = self._read(max_messages)
                if batch or time.monotonic() >= deadline:
                    return batch
                time.sleep(min(sleep, max(0.0, deadline - time.monotonic())))
                sleep = min(sleep * 2, self.idle_sleep_max_s)

    def _read(self, max_messages: int) -> list[Message]:
        owned = sorted(self._owned)
        if not owned:
            return []
        self._rr = (self._rr + 1) % len(owned)
        batch: list[Message] = []
        for tp in owned[self._rr :] + owned[: self._rr]:
            room = max_messages - len(batch)
            if room <= 0:
                break
            rows = self._conn.execute(
                "SELECT topic, partition, offset, key, value, headers, ts FROM bus_messages "
                "WHERE topic = ? AND partition = ? AND offset >= ? ORDER BY offset LIMIT ?",
                (tp.topic, tp.partition, self._positions[tp], room),
            ).fetchall()
            if rows:
                messages = [_row_to_message(row) for row in rows]
                batch.extend(messages)
                self._positions[tp] = messages[-1].offset + 1
        return batch

    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        self.commit_with(None, offsets)

    def commit_with(
        self,
        work: Callable[[sqlite3.Connection], None] | None,
        offsets: Mapping[TopicPartition, int] | None = None,
    ) -> None:
        """Commit offsets and run ``work(conn)`` in the same SQLite transaction.

        This is how a sink that lives in the bus file (the embedded index) becomes exactly-once:
        its writes and the offsets that cover them commit together or not at all.
        """
        with self._lock:
            to_commit = dict(self._positions) if offsets is None else dict(offsets)
            with write_transaction(self._conn) as conn:
                owned = {
                    TopicPartition(t, p)
                    for t, p in conn.execute(
                        "SELECT topic, partition FROM bus_owners WHERE grp = ? AND member = ?",
                        (self.group, self.member_id),
                    )
                }
                ensure_owned(self.group, self.member_id, to_commit, owned)
                if work is not None:
                    work(conn)
                now = self._bus.clock()
                conn.executemany(
                    "INSERT INTO bus_offsets (grp, topic, partition, offset, committed_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (grp, topic, partition) "
                    "DO UPDATE SET offset = excluded.offset, committed_at = excluded.committed_at",
                    [
                        (self.group, tp.topic, tp.partition, off, now)
                        for tp, off in to_commit.items()
                    ],
                )

    def seek_to_beginning(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        with self._lock:
            self._heartbeat()
            for tp in self._owned if partitions is None else partitions:
                if tp in self._owned:
                    self._positions[tp] = _low(self._conn, tp)

    def seek_to_end(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        with self._lock:
            self._heartbeat()
            for tp in self._owned if partitions is None else partitions:
                if tp in self._owned:
                    self._positions[tp] = _head(self._conn, tp)

    def assignment(self) -> set[TopicPartition]:
        with self._lock:
            self._heartbeat()
            return set(self._owned)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                with write_transaction(self._conn) as conn:
                    conn.execute(
                        "DELETE FROM bus_owners WHERE grp = ? AND member = ?",
                        (self.group, self.member_id),
                    )
                    conn.execute(
                        "DELETE FROM bus_members WHERE grp = ? AND member = ?",
                        (self.group, self.member_id),
                    )
            finally:
                self._conn.close()


def _head(conn: sqlite3.Connection, tp: TopicPartition) -> int:
    row = conn.execute(
        "SELECT next_offset FROM bus_partitions WHERE topic = ? AND partition = ?",
        (tp.topic, tp.partition),
    ).fetchone()
    return 0 if row is None else int(row[0])


def _low(conn: sqlite3.Connection, tp: TopicPartition) -> int:
    row = conn.execute(
        "SELECT MIN(offset) FROM bus_messages WHERE topic = ? AND partition = ?",
        (tp.topic, tp.partition),
    ).fetchone()
    if row is None or row[0] is None:
        return _head(conn, tp)
    return int(row[0])
