"""The bus contract: what every backend (embedded SQLite, Kafka) must do, as ``base`` promises.

Each test runs once per backend (the ``bus_factory`` fixture in ``conftest.py``), on topics and
groups with fresh names. A backend's known gap is declared with ``bus_factory.known_gap`` (a
strict xfail on that broker only), so the day the gap closes the suite says so.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

from newswatch.bus.base import Consumer, Message, TopicPartition, TopicSpec
from newswatch.errors import CommitError
from tests.contract.bus_fixtures import BusFactory
from tests.contract.buses import PARTITIONS

TANSU_END_OFFSET = (
    "tansu 0.6.0 answers ListOffsets(latest) with the base offset of a partition's last record "
    "batch + 1, not the offset after its last record, so positioning at the end of a partition "
    "whose last batch holds several records lands before them"
)
#: Upper bound for a group to settle (join, rebalance, take over a dead member's partitions).
SETTLE_S = 60.0


# -- helpers ------------------------------------------------------------------------------------


def publish(bus_factory: BusFactory, topic: str, items: Iterable[tuple[str | None, str]]) -> None:
    with bus_factory.make().producer() as producer:
        for key, value in items:
            producer.publish(topic, key, value.encode())
        producer.flush()


def poll_until(
    consumer: Consumer,
    done: Callable[[list[Message]], bool],
    *,
    timeout: float = SETTLE_S,
    commit: bool = False,
) -> list[Message]:
    """Poll until ``done(all messages so far)``; fail after ``timeout``."""
    got: list[Message] = []
    deadline = time.monotonic() + timeout
    while not done(got):
        assert time.monotonic() < deadline, f"gave up after {timeout}s with {len(got)} messages"
        batch = consumer.poll(100, timeout=0.5)
        got.extend(batch)
        if commit and batch:
            consumer.commit()
    return got


def drain(
    consumer: Consumer, count: int, *, quiet_polls: int = 2, commit: bool = False
) -> list[Message]:
    """Poll until ``count`` messages arrived, then a few more empty polls prove nothing else
    comes (at least once means "at least", so the suite checks for extras too)."""
    got = poll_until(consumer, lambda ms: len(ms) >= count, commit=commit)
    for _ in range(quiet_polls):
        extra = consumer.poll(100, timeout=1.0)
        got.extend(extra)
        if commit and extra:
            consumer.commit()
    return got


def values(messages: Iterable[Message]) -> list[str]:
    return [m.value.decode() for m in messages]


def wait_assigned(consumer: Consumer, *, timeout: float = SETTLE_S) -> set[TopicPartition]:
    """Poll (discarding nothing: the topic must be empty) until the member owns partitions."""
    deadline = time.monotonic() + timeout
    while not consumer.assignment():
        assert time.monotonic() < deadline, "no partitions assigned"
        assert consumer.poll(10, timeout=0.5) == []
    return consumer.assignment()


# -- ordering and delivery ----------------------------------------------------------------------


def test_order_per_key_and_stable_partition(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("order")
    keys = [f"article-{i}" for i in range(6)]
    publish(bus_factory, topic, [(k, f"{k}:{n}") for n in range(15) for k in keys])
    with bus_factory.make().consumer(bus_factory.group(), [topic]) as consumer:
        got = drain(consumer, 90)
    assert len(got) == 90
    for key in keys:
        mine = [m for m in got if m.key == key.encode()]
        assert [int(v.split(":")[1]) for v in values(mine)] == list(range(15))
        assert len({m.partition for m in mine}) == 1, f"{key} spread over partitions"
    assert len({m.partition for m in got}) > 1, "six keys all hashed to one partition"


def test_publish_many(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("many")
    pairs = [(f"k{i % 7}", f"v{i}".encode()) for i in range(50)]
    with bus_factory.make().producer() as producer:
        producer.publish_many(topic, pairs)
        producer.publish_many(topic, [(None, b"unkeyed-1"), (None, b"unkeyed-2")])
        producer.flush()
    with bus_factory.make().consumer(bus_factory.group(), [topic]) as consumer:
        got = drain(consumer, 52)
    assert sorted(m.value for m in got) == sorted(
        [v for _, v in pairs] + [b"unkeyed-1", b"unkeyed-2"]
    )
    by_key: dict[bytes | None, set[int]] = {}
    for m in got:
        by_key.setdefault(m.key, set()).add(m.partition)
    assert all(len(parts) == 1 for key, parts in by_key.items() if key is not None)


def test_headers_and_timestamps_round_trip(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("headers")
    headers = [("schema", b"newswatch.article/1"), ("trace", bytes(range(256))), ("empty", b"")]
    before = time.time()
    with bus_factory.make().producer() as producer:
        producer.publish(topic, "k", b"with headers", headers)
        producer.publish(topic, b"k", b"without headers")
        producer.flush()
    with bus_factory.make().consumer(bus_factory.group(), [topic]) as consumer:
        got = drain(consumer, 2)
    assert [m.value for m in got] == [b"with headers", b"without headers"]
    assert list(got[0].headers) == headers
    assert got[1].headers == ()
    assert all(m.key == b"k" for m in got)
    assert all(before - 60 <= m.timestamp <= time.time() + 60 for m in got)


def test_uncommitted_messages_are_redelivered_after_restart(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("redeliver", partitions=1)
    group = bus_factory.group()
    publish(bus_factory, topic, [("k", f"m{i}") for i in range(10)])
    with bus_factory.make().consumer(group, [topic]) as first:
        got = drain(first, 10)
        assert values(got) == [f"m{i}" for i in range(10)]
        first.commit({got[3].tp: got[3].offset + 1})  # m0..m3 done; m4..m9 polled, not done
    with bus_factory.make().consumer(group, [topic]) as second:
        again = drain(second, 6)
        assert values(again) == [f"m{i}" for i in range(4, 10)]
        second.commit()
    with bus_factory.make().consumer(group, [topic]) as third:
        assert drain_nothing(third)


def drain_nothing(consumer: Consumer) -> bool:
    """True when the member, once it owns its partitions, receives nothing."""
    deadline = time.monotonic() + SETTLE_S
    while not consumer.assignment():
        assert time.monotonic() < deadline, "no partitions assigned"
        if consumer.poll(10, timeout=0.5):
            return False
    return all(consumer.poll(10, timeout=1.0) == [] for _ in range(2))


def test_commit_without_arguments_commits_what_was_polled(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("commitall")
    group = bus_factory.group()
    publish(bus_factory, topic, [(f"k{i}", f"m{i}") for i in range(20)])
    with bus_factory.make().consumer(group, [topic]) as first:
        drain(first, 20)
        first.commit()
    publish(bus_factory, topic, [("late", "after-commit")])
    with bus_factory.make().consumer(group, [topic]) as second:
        assert values(drain(second, 1)) == ["after-commit"]


def test_two_groups_each_see_every_message(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("groups")
    sent = [f"m{i}" for i in range(30)]
    publish(bus_factory, topic, [(f"k{i}", v) for i, v in enumerate(sent)])
    bus = bus_factory.make()
    with bus.consumer(bus_factory.group("a"), [topic]) as a:
        got_a = drain(a, 30, commit=True)
    with bus.consumer(bus_factory.group("b"), [topic]) as b:
        got_b = drain(b, 30, commit=True)
    assert sorted(values(got_a)) == sorted(sent)
    assert sorted(values(got_b)) == sorted(sent)


def test_latest_reset_skips_what_came_before(bus_factory: BusFactory) -> None:
    bus_factory.known_gap("tansu", TANSU_END_OFFSET)
    topic = bus_factory.topic("latest")
    publish(bus_factory, topic, [(f"k{i}", f"old{i}") for i in range(8)])
    with bus_factory.make().consumer(bus_factory.group(), [topic], offset_reset="latest") as c:
        deadline = time.monotonic() + SETTLE_S
        early: list[Message] = []
        while not c.assignment():
            assert time.monotonic() < deadline
            early.extend(c.poll(10, timeout=0.5))
        publish(bus_factory, topic, [(f"k{i}", f"new{i}") for i in range(3)])
        got = early + drain(c, 3)
    assert sorted(values(got)) == ["new0", "new1", "new2"]


# -- groups -------------------------------------------------------------------------------------


def _poll_both(
    members: list[Consumer], got: list[Message], overlaps: list[set[TopicPartition]]
) -> None:
    for member in members:
        batch = member.poll(50, timeout=0.3)
        got.extend(batch)
        if batch:
            member.commit()
        a, b = members[0].assignment(), members[1].assignment()
        if a & b:
            overlaps.append(a & b)


def test_members_of_a_group_share_partitions_without_overlap(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("share")
    group = bus_factory.group()
    everything = {TopicPartition(topic, p) for p in range(PARTITIONS)}
    sent = [f"m{i}" for i in range(40)]
    publish(bus_factory, topic, [(f"key-{i}", v) for i, v in enumerate(sent)])
    bus = bus_factory.make()
    first = bus.consumer(group, [topic], member_id="member-a")
    second = bus.consumer(group, [topic], member_id="member-b")
    members = [first, second]
    got: list[Message] = []
    overlaps: list[set[TopicPartition]] = []
    try:
        deadline = time.monotonic() + SETTLE_S
        while True:
            _poll_both(members, got, overlaps)
            a, b = first.assignment(), second.assignment()
            if a and b and a | b == everything and not a & b:
                break
            assert time.monotonic() < deadline, f"never shared: {sorted(a)} / {sorted(b)}"
        publish(bus_factory, topic, [(f"key-{i}", f"late{i}") for i in range(40)])
        deadline = time.monotonic() + SETTLE_S
        while not {f"late{i}" for i in range(40)} <= set(values(got)):
            assert time.monotonic() < deadline, "late messages not delivered"
            _poll_both(members, got, overlaps)
        assert overlaps == []
        assert set(sent) <= set(values(got))
        assert len(first.assignment()) == len(second.assignment()) == PARTITIONS // 2
    finally:
        first.close()
        second.close()


def test_commit_after_revocation_raises(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("revoke")
    group = bus_factory.group()
    publish(bus_factory, topic, [(f"k{i}", f"m{i}") for i in range(20)])
    bus = bus_factory.make()
    first = bus.consumer(group, [topic], member_id="member-a")
    second = bus.consumer(group, [topic], member_id="member-b")
    try:
        polled = drain(first, 20)
        assert len(first.assignment()) == PARTITIONS
        stale = {}
        for m in polled:
            stale[m.tp] = m.offset + 1
        deadline = time.monotonic() + SETTLE_S
        while not (second.assignment() and len(first.assignment()) < PARTITIONS):
            assert time.monotonic() < deadline, "the second member never got partitions"
            first.poll(10, timeout=0.3)
            second.poll(10, timeout=0.3)
        lost = {tp: off for tp, off in stale.items() if tp not in first.assignment()}
        assert lost
        with pytest.raises(CommitError):
            first.commit(lost)
        kept = {tp: off for tp, off in stale.items() if tp in first.assignment()}
        if kept:
            first.commit(kept)  # what it still owns commits fine
    finally:
        first.close()
        second.close()


# -- seeking ------------------------------------------------------------------------------------


def test_seek_to_beginning_rereads_without_moving_the_commit(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("seekbeg")
    group = bus_factory.group()
    publish(bus_factory, topic, [(f"k{i}", f"m{i}") for i in range(12)])
    with bus_factory.make().consumer(group, [topic]) as consumer:
        first = drain(consumer, 12)
        consumer.commit()
        consumer.seek_to_beginning()
        again = drain(consumer, 12)
        assert sorted(values(again)) == sorted(values(first))
    with bus_factory.make().consumer(group, [topic]) as later:
        assert drain_nothing(later)


def test_seek_to_end_skips_the_backlog(bus_factory: BusFactory) -> None:
    bus_factory.known_gap("tansu", TANSU_END_OFFSET)
    topic = bus_factory.topic("seekend")
    group = bus_factory.group()
    with bus_factory.make().consumer(group, [topic]) as consumer:
        wait_assigned(consumer)
        with bus_factory.make().producer() as producer:
            producer.publish_many(topic, [(f"k{i}", f"old{i}".encode()) for i in range(24)])
            producer.flush()
        consumer.seek_to_end()
        publish(bus_factory, topic, [(f"k{i}", f"new{i}") for i in range(4)])
        got = drain(consumer, 4)
    assert sorted(values(got)) == ["new0", "new1", "new2", "new3"]


# -- administration -----------------------------------------------------------------------------


def test_ensure_topics_is_idempotent(bus_factory: BusFactory) -> None:
    bus = bus_factory.make()
    name = f"contract.admin.{os.urandom(5).hex()}"
    bus.ensure_topics([TopicSpec(name, partitions=3)])
    bus.ensure_topics([TopicSpec(name, partitions=3), TopicSpec(name + ".dl", retention_hours=1)])
    bus.ensure_topics([TopicSpec(name, partitions=5)])  # an existing topic is left as it is
    infos = {info.name: info for info in bus.list_topics()}
    assert infos[name].partitions == 3
    assert infos[name + ".dl"].partitions == PARTITIONS
    with bus.producer() as producer:
        for i in range(6):
            producer.publish(name, f"k{i}", b"x")
        producer.flush()
    with bus.consumer(bus_factory.group(), [name]) as consumer:
        got = drain(consumer, 6)
    assert {m.partition for m in got} <= {0, 1, 2}


def test_list_topics_counts_messages_and_lag(bus_factory: BusFactory) -> None:
    bus_factory.known_gap("tansu", TANSU_END_OFFSET + " (so message counts and lag are low)")
    bus = bus_factory.make()
    name = bus_factory.topic("lag", partitions=3)
    group = bus_factory.group()
    idle_group = bus_factory.group("idle")
    with bus.producer() as producer:
        for i in range(10):
            producer.publish(name, "one-key", f"m{i}".encode())
        producer.flush()
    with bus.consumer(group, [name]) as consumer:
        got = drain(consumer, 10)
        consumer.commit({got[5].tp: got[5].offset + 1})
    infos = {info.name: info for info in bus.list_topics()}
    assert infos[name].messages == 10
    assert infos[name].lag_by_group[group] == 4
    assert idle_group not in infos[name].lag_by_group  # a group that never committed here


def test_read_returns_first_or_last_messages(bus_factory: BusFactory) -> None:
    topic = bus_factory.topic("read")
    for i in range(8):  # one at a time: distinct timestamps make the order unambiguous
        publish(bus_factory, topic, [(f"k{i}", f"m{i}")])
        time.sleep(0.01)
    bus = bus_factory.make()
    assert values(bus.read(topic, from_beginning=True, limit=3)) == ["m0", "m1", "m2"]
    assert values(bus.read(topic, limit=3)) == ["m5", "m6", "m7"]
    assert len(bus.read(topic, limit=100)) == 8


# -- crashes ------------------------------------------------------------------------------------

WORKER = Path(__file__).with_name("kill_worker.py")


def test_nothing_committed_is_lost_when_a_consumer_is_killed(
    bus_factory: BusFactory, tmp_path: Path
) -> None:
    """A worker consumes and commits in a loop and is SIGKILLed mid-run. A new member of its
    group then receives exactly the uncommitted remainder: per partition it starts at the
    worker's last commit (the confirmed one, or the one in flight when it died), reads without a
    gap to the end, and together with what the worker committed covers every message."""
    topic = bus_factory.topic("kill")
    group = bus_factory.group()
    sent = {f"m{i}" for i in range(400)}
    publish(bus_factory, topic, [(f"k{i}", v) for i, v in enumerate(sorted(sent))])
    journal = tmp_path / "journal.jsonl"
    proc = subprocess.Popen(
        [sys.executable, str(WORKER), json.dumps(bus_factory.spec), group, topic, str(journal)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        commits = 0
        for line in proc.stdout:  # the worker prints one line per commit
            commits += line.startswith("committed")
            if commits >= 3:
                break
        assert commits >= 3, proc.stderr.read() if proc.stderr else "worker died"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    confirmed: dict[tuple[str, int], int] = {}
    attempted: dict[tuple[str, int], int] = {}
    processed: dict[tuple[str, int, int], str] = {}
    for line in journal.read_text().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # the line being written when the worker died
        if record["event"] == "processed":
            for t, p, o, v in record["messages"]:
                processed[(t, p, o)] = v
        else:
            target = confirmed if record["event"] == "committed" else attempted
            target.update({(t, p): o for t, p, o in record["offsets"]})
    assert confirmed, "the worker never committed"

    with bus_factory.make().consumer(group, [topic]) as survivor:
        wait_assigned_or_messages = poll_until(
            survivor, lambda ms: bool(ms) or len(survivor.assignment()) == PARTITIONS
        )
        rest = wait_assigned_or_messages + drain_remaining(survivor)
    by_partition: dict[tuple[str, int], list[Message]] = {}
    for m in rest:
        by_partition.setdefault((m.topic, m.partition), []).append(m)
    for key, messages in by_partition.items():
        offsets = [m.offset for m in messages]
        start = offsets[0]
        assert start in {confirmed.get(key, 0), attempted.get(key, 0)}, (key, start, confirmed)
        assert start >= confirmed.get(key, 0), "a committed message was delivered again"
        assert offsets == list(range(start, start + len(offsets))), "gap or duplicate"
    committed_values = {v for (t, p, o), v in processed.items() if o < confirmed.get((t, p), 0)}
    # Everything the worker committed, it had processed (commit follows processing)...
    assert len(committed_values) == sum(confirmed.values())
    # ...and what it committed plus what the survivor received is every message, once.
    assert committed_values | set(values(rest)) == sent
    assert len(committed_values) + len(rest) >= len(sent)


def drain_remaining(consumer: Consumer) -> list[Message]:
    """Everything left: poll until three polls in a row come back empty."""
    got: list[Message] = []
    empty = 0
    deadline = time.monotonic() + SETTLE_S
    while empty < 3:
        assert time.monotonic() < deadline, "the remainder never ended"
        batch = consumer.poll(500, timeout=1.0)
        got.extend(batch)
        empty = 0 if batch else empty + 1
    return got
