"""The Kafka bus's clients: producer and consumer adapters over kafka-python, and ``read``.

``newswatch.bus.kafka`` (the bus and topic administration) explains the guarantees; this module
keeps them for one producer or one group member:

* the producer is idempotent with ``acks=all``; ``flush`` raises ``TransportError`` when anything
  was not acknowledged, and the client keeps retrying those messages while the caller, not having
  committed its input, publishes them again — duplicates, never losses;
* the consumer commits only explicit offsets, after processing; a rebalance listener forgets the
  positions of revoked partitions, and a commit naming a partition this member no longer owns
  (or one the broker rejects because the group moved on) raises ``CommitError``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata
from kafka import TopicPartition as KafkaTopicPartition
from kafka import errors as kerr
from kafka.consumer.subscription_state import ConsumerRebalanceListener

from newswatch.bus.base import (
    Consumer,
    Headers,
    Message,
    OffsetReset,
    Producer,
    TopicPartition,
    ensure_owned,
    key_bytes,
)
from newswatch.errors import BusError, CommitError, TransportError

if TYPE_CHECKING:
    from newswatch.bus.kafka import KafkaBus

__all__ = [
    "GROUP_MOVED",
    "TRANSIENT",
    "KafkaConsumerAdapter",
    "KafkaProducerAdapter",
    "close_quietly",
    "read_window",
]

log = logging.getLogger(__name__)

#: Errors worth retrying: the broker is down, restarting, or electing a leader.
TRANSIENT: tuple[type[BaseException], ...] = (kerr.RetriableError, OSError)
#: The broker rejected a commit because the group has rebalanced since this member's last poll.
GROUP_MOVED: tuple[type[BaseException], ...] = (
    kerr.CommitFailedError,
    kerr.IllegalGenerationError,
    kerr.RebalanceInProgressError,
    kerr.UnknownMemberIdError,
    kerr.FencedInstanceIdError,
)


def _to_kafka(tp: TopicPartition) -> KafkaTopicPartition:
    return KafkaTopicPartition(tp.topic, tp.partition)


def _from_kafka(tp: KafkaTopicPartition) -> TopicPartition:
    return TopicPartition(tp.topic, tp.partition)


def _force_close(producer: KafkaProducer) -> None:
    """Close without waiting. kafka-python's ``close`` gives up before stopping its sender
    thread when its own flush times out, so stop the sender ourselves then."""
    try:
        producer.close(timeout=0)
    except kerr.KafkaError:
        sender = getattr(producer, "_sender", None)
        if sender is not None:
            sender.force_close()
        producer._closed = True  # nothing left to close; keeps __del__ from retrying


def close_quietly(client: Any) -> None:
    try:
        client.close()
    except Exception:  # closing a broken client must not hide the real error
        log.debug("closing a Kafka client failed", exc_info=True)


def _to_message(record: Any) -> Message:
    return Message(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=record.key,
        value=record.value if record.value is not None else b"",
        headers=tuple((name, value or b"") for name, value in (record.headers or [])),
        timestamp=record.timestamp / 1000.0 if record.timestamp and record.timestamp > 0 else 0.0,
    )


def read_window(
    reader: KafkaConsumer, topic: str, *, from_beginning: bool, limit: int
) -> list[Message]:
    """The first or last ``limit`` messages of ``topic`` over all partitions, by timestamp.

    Reads each partition until its end offset or until an empty fetch, whichever comes first (a
    broker whose end offsets lag behind must not make ``topics tail`` hang or miss messages)."""
    parts = reader.partitions_for_topic(topic) or set()
    tps = [KafkaTopicPartition(topic, p) for p in sorted(parts)]
    if not tps or limit <= 0:
        return []
    reader.assign(tps)
    lows = reader.beginning_offsets(tps)
    highs = reader.end_offsets(tps)
    for tp in tps:
        start = lows[tp] if from_beginning else max(lows[tp], highs[tp] - limit)
        reader.seek(tp, start)
    kept: dict[KafkaTopicPartition, list[Message]] = {tp: [] for tp in tps}
    remaining = set(tps)
    while remaining:
        batch = reader.poll(timeout_ms=1000, max_records=1000)
        if not batch:
            break
        for tp, records in batch.items():
            messages = kept[tp]
            messages.extend(_to_message(r) for r in records)
            if from_beginning:
                if len(messages) >= limit:
                    del messages[limit:]
                    remaining.discard(tp)
                    reader.pause(tp)
            else:
                del messages[:-limit]
        remaining = {tp for tp in remaining if not from_beginning or len(kept[tp]) < limit}
        if not from_beginning and all(reader.position(tp) >= highs[tp] for tp in tps):
            # Caught up with the end offsets seen at the start; one more short poll picks up
            # anything a lagging end offset hid.
            extra = reader.poll(timeout_ms=200, max_records=1000)
            for tp, records in extra.items():
                kept[tp].extend(_to_message(r) for r in records)
                del kept[tp][:-limit]
            if not extra:
                break
    merged = sorted(
        (m for messages in kept.values() for m in messages),
        key=lambda m: (m.timestamp, m.partition, m.offset),
    )
    return merged[:limit] if from_beginning else merged[-limit:]


class KafkaProducerAdapter(Producer):
    """An idempotent ``KafkaProducer`` (acks=all). Thread-safe, like the client it wraps."""

    def __init__(self, bus: KafkaBus) -> None:
        self._bus = bus
        self._lock = threading.Lock()
        self._futures: list[Any] = []
        self._producer: KafkaProducer | None = self._connect()

    def _connect(self) -> KafkaProducer:
        bus = self._bus
        return bus.connect(
            "producer",
            lambda: KafkaProducer(
                **bus.client_config(),
                acks="all",
                enable_idempotence=True,
                compression_type=bus.compression,
                linger_ms=bus.linger_ms,
                max_in_flight_requests_per_connection=5,
            ),
        )

    def _client(self) -> KafkaProducer:
        if self._producer is None:
            self._producer = self._connect()
        return self._producer

    def publish(
        self, topic: str, key: bytes | str | None, value: bytes, headers: Headers | None = None
    ) -> None:
        with self._lock:
            self._send(topic, key, value, headers)

    def publish_many(
        self,
        topic: str,
        messages: Iterable[tuple[bytes | str | None, bytes]],
        headers: Headers | None = None,
    ) -> None:
        with self._lock:
            for key, value in messages:
                self._send(topic, key, value, headers)

    def _send(
        self, topic: str, key: bytes | str | None, value: bytes, headers: Headers | None
    ) -> None:
        try:
            future = self._client().send(
                topic,
                key=key_bytes(key),
                value=value,
                headers=[(name, bytes(val)) for name, val in headers] if headers else None,
            )
        except kerr.KafkaTimeoutError as exc:
            # No metadata for the topic within max_block_ms (or a full buffer): broker away.
            raise TransportError(f"publish to {topic} timed out: {exc}") from exc
        except kerr.KafkaError as exc:
            # Anything else leaves the client in an error state: start over with a new one.
            self._abandon()
            raise TransportError(f"publish to {topic} failed: {exc}") from exc
        self._futures.append(future)

    def flush(self, timeout: float | None = None) -> None:
        """Wait for every acknowledgement. On failure the unacknowledged messages stay with the
        client, which keeps retrying them (idempotently) until they are delivered or time out;
        the caller, not having committed its input, re-publishes them too — duplicates, never
        losses."""
        with self._lock:
            if self._producer is None:
                return
            budget = self._bus.flush_timeout_s if timeout is None else timeout
            futures, self._futures = self._futures, []
            try:
                self._producer.flush(timeout=budget)
            except kerr.KafkaTimeoutError as exc:
                raise TransportError(
                    f"{len(futures)} message(s) not acknowledged within {budget:.0f}s: {exc}"
                ) from exc
            failed = [f for f in futures if f.is_done and f.failed()]
            pending = [f for f in futures if not f.is_done]
            if failed or pending:
                first = failed[0].exception if failed else "still pending after flush"
                raise TransportError(
                    f"{len(failed) + len(pending)} of {len(futures)} message(s) were not "
                    f"acknowledged: {first}"
                )

    def _abandon(self) -> None:
        """Drop a client in an error state; the next publish builds a fresh one."""
        producer, self._producer = self._producer, None
        self._futures = []
        if producer is not None:
            _force_close(producer)

    def close(self) -> None:
        try:
            self.flush()
        finally:
            with self._lock:
                producer, self._producer = self._producer, None
                if producer is not None:
                    try:
                        producer.close(timeout=5.0)
                    except kerr.KafkaError:
                        _force_close(producer)


class _Listener(ConsumerRebalanceListener):
    """Keeps the adapter's read positions in step with the group's assignment."""

    def __init__(self, adapter: KafkaConsumerAdapter) -> None:
        self.adapter = adapter

    def on_partitions_revoked(self, revoked: Iterable[KafkaTopicPartition]) -> None:
        lost = {_from_kafka(tp) for tp in revoked}
        for tp in lost:
            self.adapter._positions.pop(tp, None)
        if lost:
            log.debug("group %s: revoked %s", self.adapter.group, sorted(lost))

    def on_partitions_assigned(self, assigned: Iterable[KafkaTopicPartition]) -> None:
        log.debug(
            "group %s: assigned %s", self.adapter.group, sorted(_from_kafka(t) for t in assigned)
        )


class KafkaConsumerAdapter(Consumer):
    """A member of a Kafka consumer group with manual commits. Use from one thread."""

    def __init__(
        self,
        bus: KafkaBus,
        group: str,
        topics: Sequence[str],
        *,
        offset_reset: OffsetReset = "earliest",
        member_id: str | None = None,
    ) -> None:
        self._bus = bus
        self.group = group
        self.topics = tuple(topics)
        self.member_id = member_id
        #: Per owned partition, the offset after the last message ``poll`` returned.
        self._positions: dict[TopicPartition, int] = {}
        config = bus.client_config()
        if member_id:
            config["client_id"] = f"{bus.client_id}-{member_id}"
        session = bus.session_timeout_ms
        self._consumer: KafkaConsumer = bus.connect(
            "consumer",
            lambda: KafkaConsumer(
                **config,
                group_id=group,
                enable_auto_commit=False,
                auto_offset_reset=offset_reset,
                max_poll_interval_ms=bus.max_poll_interval_ms,
                session_timeout_ms=session,
                heartbeat_interval_ms=max(100, min(3000, session // 3)),
            ),
        )
        self._consumer.subscribe(list(self.topics), listener=_Listener(self))
        self._closed = False

    def poll(self, max_messages: int = 500, timeout: float = 1.0) -> list[Message]:
        try:
            batch = self._consumer.poll(
                timeout_ms=int(max(0.0, timeout) * 1000), max_records=max(1, max_messages)
            )
        except kerr.KafkaError as exc:
            if isinstance(exc, TRANSIENT):
                log.warning("group %s: poll failed, will retry: %s", self.group, exc)
                return []
            raise BusError(f"group {self.group}: poll failed: {exc}") from exc
        messages: list[Message] = []
        for ktp, records in batch.items():
            if not records:
                continue
            messages.extend(_to_message(r) for r in records)
            self._positions[_from_kafka(ktp)] = records[-1].offset + 1
        return messages

    def commit(self, offsets: Mapping[TopicPartition, int] | None = None) -> None:
        owned = self.assignment()
        if offsets is None:
            to_commit = {tp: off for tp, off in self._positions.items() if tp in owned}
        else:
            to_commit = dict(offsets)
            ensure_owned(self.group, self.member_id, to_commit, owned)
        if not to_commit:
            return
        request = {_to_kafka(tp): OffsetAndMetadata(off, "", -1) for tp, off in to_commit.items()}
        try:
            self._consumer.commit(request, timeout_ms=int(self._bus.flush_timeout_s * 1000))
        except GROUP_MOVED as exc:
            raise CommitError(
                f"group {self.group}: commit rejected, group rebalanced: {exc}"
            ) from exc
        except kerr.KafkaTimeoutError as exc:
            raise TransportError(f"group {self.group}: commit timed out: {exc}") from exc
        except kerr.KafkaError as exc:
            raise BusError(f"group {self.group}: commit failed: {exc}") from exc

    def _seek(self, partitions: Iterable[TopicPartition] | None, to_end: bool) -> None:
        owned = self.assignment()
        targets = sorted(owned if partitions is None else {tp for tp in partitions if tp in owned})
        if not targets:
            return
        ktps = [_to_kafka(tp) for tp in targets]
        if to_end:
            self._consumer.seek_to_end(*ktps)
        else:
            self._consumer.seek_to_beginning(*ktps)
        for tp, ktp in zip(targets, ktps, strict=True):
            # ``position`` resolves the lazy reset now, so a following commit() uses it.
            self._positions[tp] = int(self._consumer.position(ktp))

    def seek_to_beginning(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        self._seek(partitions, to_end=False)

    def seek_to_end(self, partitions: Iterable[TopicPartition] | None = None) -> None:
        self._seek(partitions, to_end=True)

    def assignment(self) -> set[TopicPartition]:
        return {_from_kafka(tp) for tp in self._consumer.assignment() or ()}

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._consumer.close(autocommit=False, timeout_ms=5000)
        except kerr.KafkaError as exc:
            log.warning("group %s: leaving the group failed: %s", self.group, exc)
