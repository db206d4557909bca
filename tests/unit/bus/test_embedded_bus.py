"""What only the embedded bus promises: retention, transactional commits, multi-process appends,
membership expiry. The behaviour every bus shares is in tests/contract/."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from newswatch.bus import TopicPartition, TopicSpec
from newswatch.bus.embedded import EmbeddedBus, partition_for
from newswatch.errors import CommitError


class FakeClock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_retention_by_age_deletes_only_old_messages(tmp_path: Path) -> None:
    clock = FakeClock()
    bus = EmbeddedBus(
        tmp_path / "b.db", partitions=1, retention_hours=1, retention_mb=0, clock=clock
    )
    with bus.producer() as producer:
        producer.publish_many("t", [(None, b"old") for _ in range(5)])
        clock.now += 2 * 3600
        producer.publish_many("t", [(None, b"new") for _ in range(3)])
    assert bus.enforce_retention() == 5
    consumer = bus.consumer("g", ["t"])
    values = [m.value for m in consumer.poll(100, timeout=0.1)]
    assert values == [b"new"] * 3
    assert [m.offset for m in bus.read("t", from_beginning=True, limit=10)] == [5, 6, 7]


def test_retention_by_size_keeps_the_newest(tmp_path: Path) -> None:
    size_mb = 10 * 1024 / (1024 * 1024)  # room for ten 1 KiB messages
    bus = EmbeddedBus(tmp_path / "b.db", partitions=1, retention_hours=0, retention_mb=size_mb)
    with bus.producer() as producer:
        producer.publish_many("t", [(None, bytes([i]) * 1024) for i in range(25)])
    assert bus.enforce_retention() == 15
    remaining = bus.read("t", from_beginning=True, limit=100)
    assert [m.offset for m in remaining] == list(range(15, 25))


def test_per_topic_retention_overrides_the_default(tmp_path: Path) -> None:
    clock = FakeClock()
    bus = EmbeddedBus(
        tmp_path / "b.db", partitions=1, retention_hours=1, retention_mb=0, clock=clock
    )
    bus.ensure_topics([TopicSpec("keep", retention_hours=0)])
    with bus.producer() as producer:
        producer.publish("keep", None, b"x")
        producer.publish("drop", None, b"x")
    clock.now += 10 * 3600
    bus.enforce_retention()
    assert len(bus.read("keep", limit=5)) == 1
    assert bus.read("drop", limit=5) == []


def test_commit_with_is_atomic_with_the_sink(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "b.db", partitions=1)
    with bus.producer() as producer:
        producer.publish_many("t", [(None, b"a"), (None, b"b")])
    setup = sqlite3.connect(tmp_path / "b.db")
    setup.execute("CREATE TABLE sink (v BLOB)")
    setup.commit()
    setup.close()

    consumer = bus.consumer("g", ["t"])
    batch = consumer.poll(10, timeout=0.5)

    def failing(conn: sqlite3.Connection) -> None:
        conn.executemany("INSERT INTO sink VALUES (?)", [(m.value,) for m in batch])
        raise RuntimeError("sink broke half-way")

    with pytest.raises(RuntimeError):
        consumer.commit_with(failing)
    consumer.close()

    again = bus.consumer("g", ["t"])
    redelivered = again.poll(10, timeout=0.5)
    assert [m.value for m in redelivered] == [b"a", b"b"], "offsets rolled back with the sink"
    again.commit_with(
        lambda conn: conn.executemany(
            "INSERT INTO sink VALUES (?)", [(m.value,) for m in redelivered]
        )
    )
    check = sqlite3.connect(tmp_path / "b.db")
    assert check.execute("SELECT COUNT(*) FROM sink").fetchone()[0] == 2
    assert again.poll(10, timeout=0.1) == []


def test_a_silent_member_loses_its_partitions(tmp_path: Path) -> None:
    clock = FakeClock()
    bus = EmbeddedBus(tmp_path / "b.db", partitions=4, session_timeout_s=5, clock=clock)
    first = bus.consumer("g", ["t"], member_id="a")
    second = bus.consumer("g", ["t"], member_id="b")
    first.heartbeat_interval_s = second.heartbeat_interval_s = 0
    first.poll(1, timeout=0)
    second.poll(1, timeout=0)
    first.poll(1, timeout=0)  # releases what the assignment gives to "b"
    second.poll(1, timeout=0)
    assert len(first.assignment()) == 2
    assert len(second.assignment()) == 2
    assert not first.assignment() & second.assignment()

    clock.now += 6  # "a" stops polling (crashed); "b" notices at its next heartbeat
    second._last_heartbeat = float("-inf")
    second.poll(1, timeout=0)
    assert len(second.assignment()) == 4
    with pytest.raises(CommitError, match="no longer owns"):
        first.commit({TopicPartition("t", p): 0 for p in range(4)})


def test_commit_of_an_unowned_partition_raises(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "b.db", partitions=2)
    consumer = bus.consumer("g", ["t"])
    consumer.poll(1, timeout=0)
    with pytest.raises(CommitError):
        consumer.commit({TopicPartition("t", 7): 3})


def test_latest_offset_reset_skips_history(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "b.db", partitions=1)
    with bus.producer() as producer:
        producer.publish("t", None, b"before")
        consumer = bus.consumer("late", ["t"], offset_reset="latest")
        consumer.poll(1, timeout=0)
        producer.publish("t", None, b"after")
    assert [m.value for m in consumer.poll(10, timeout=0.5)] == [b"after"]


def _append(path: str, worker: int, count: int) -> None:
    bus = EmbeddedBus(path, partitions=2)
    with bus.producer() as producer:
        for i in range(count):
            producer.publish("t", f"w{worker}-{i % 7}", f"{worker}:{i}".encode())


def test_several_processes_append_without_losing_or_reusing_offsets(tmp_path: Path) -> None:
    path = str(tmp_path / "b.db")
    EmbeddedBus(path, partitions=2).close()
    procs = [multiprocessing.Process(target=_append, args=(path, w, 150)) for w in range(3)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    bus = EmbeddedBus(path, partitions=2)
    messages = bus.read("t", from_beginning=True, limit=10_000)
    assert len(messages) == 450
    for partition in (0, 1):
        offsets = [m.offset for m in messages if m.partition == partition]
        assert sorted(offsets) == list(range(len(offsets)))
    assert {m.value for m in messages} == {
        f"{w}:{i}".encode() for w in range(3) for i in range(150)
    }


def test_key_partitioning_is_stable() -> None:
    assert partition_for(b"abc", 4) == partition_for(b"abc", 4)
    spread = {partition_for(f"key-{i}".encode(), 4) for i in range(100)}
    assert spread == {0, 1, 2, 3}


def test_headers_survive_the_round_trip(tmp_path: Path) -> None:
    bus = EmbeddedBus(tmp_path / "b.db", partitions=1)
    with bus.producer() as producer:
        producer.publish("t", "k", b"v", headers=[("trace", b"\x00\x01"), ("é", b"")])
    (message,) = bus.read("t", limit=1)
    assert message.headers == (("trace", b"\x00\x01"), ("é", b""))
    assert message.key == b"k"


def _open_and_publish(path: str, worker: int) -> None:
    bus = EmbeddedBus(path, partitions=2)
    with bus.producer() as producer:
        producer.publish("t", f"k{worker}", b"x")
    bus.close()


def test_several_processes_can_create_the_same_new_file_at_once(tmp_path: Path) -> None:
    path = str(tmp_path / "fresh.db")
    procs = [multiprocessing.Process(target=_open_and_publish, args=(path, w)) for w in range(6)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
    assert [proc.exitcode for proc in procs] == [0] * 6
    assert len(EmbeddedBus(path).read("t", limit=100)) == 6
