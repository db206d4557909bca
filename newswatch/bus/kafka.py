"""The Kafka bus: the interface of ``newswatch.bus.base`` over kafka-python.

How each promise of the interface is kept:

* **Partitioning** is kafka-python's default partitioner (murmur2 of the key, the Java client's
  choice), so newswatch and any other Kafka client agree on where a key lives.
* **Publishing** uses an idempotent producer with ``acks=all``: the broker de-duplicates the
  producer's own retries and acknowledges only what every in-sync replica holds. ``flush`` waits
  for every acknowledgement and raises ``TransportError`` if any send failed; the producer is then
  rebuilt, and the caller's input (not yet committed) is delivered again, so nothing is lost.
* **Consuming** is a ``KafkaConsumer`` in a group with ``enable_auto_commit=False``. A rebalance
  listener forgets the read positions of revoked partitions, so a commit can only name partitions
  this member still owns; naming any other raises ``CommitError`` (as does a commit the broker
  rejects because the group moved on).
* **Topics** are created at start-up with partitions, replication and retention from the
  configuration; the dead-letter topic keeps its messages longer and the subscriptions topic is
  compacted (``cleanup.policy=compact``).
* **An unreachable broker** is retried with exponential backoff (tenacity) for
  ``bus.kafka.connect_timeout_s`` when a client starts, then reported as ``TransportError``;
  ``health()`` probes the broker so ``/healthz`` shows it while services wait.

``member_id`` is used only in the client id (for the broker's logs): Kafka assigns member ids
itself, and static membership (``group.instance.id``) would keep a closed member's partitions
until its session expires, contrary to ``Consumer.close``.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import tenacity
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, OffsetAndMetadata
from kafka import TopicPartition as KafkaTopicPartition
from kafka import codec as kafka_codec
from kafka import errors as kerr
from kafka.consumer.subscription_state import ConsumerRebalanceListener

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
    key_bytes,
)
from newswatch.errors import BusError, CommitError, ConfigError, TransportError

if TYPE_CHECKING:
    from newswatch.settings import KafkaSettings, Settings

__all__ = ["KafkaBus", "KafkaConsumerAdapter", "KafkaProducerAdapter"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Errors worth retrying: the broker is down, restarting, or electing a leader.
_TRANSIENT: tuple[type[BaseException], ...] = (kerr.RetriableError, OSError)
#: The broker rejected a commit because the group has rebalanced since this member's last poll.
_GROUP_MOVED: tuple[type[BaseException], ...] = (
    kerr.CommitFailedError,
    kerr.IllegalGenerationError,
    kerr.RebalanceInProgressError,
    kerr.UnknownMemberIdError,
    kerr.FencedInstanceIdError,
)
#: Compression codecs and the check that their library is installed.
_CODECS: dict[str, Callable[[], bool]] = {
    "gzip": kafka_codec.has_gzip,
    "snappy": kafka_codec.has_snappy,
    "lz4": kafka_codec.has_lz4,
    "zstd": kafka_codec.has_zstd,
}
_HOUR_MS = 3_600_000
#: How long ``health`` trusts its last probe (``/healthz`` may be scraped every second).
_HEALTH_CACHE_S = 2.0


class _QuietShutdown(logging.Filter):
    """kafka-python logs the metadata request it cancels while closing a client as an ERROR;
    it is not one. Everything else passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith("Metadata refresh: failed") and "Cancelled" in message)


logging.getLogger("kafka.cluster").addFilter(_QuietShutdown())


def _to_kafka(tp: TopicPartition) -> KafkaTopicPartition:
    return KafkaTopicPartition(tp.topic, tp.partition)


def _from_kafka(tp: KafkaTopicPartition) -> TopicPartition:
    return TopicPartition(tp.topic, tp.partition)


class KafkaBus(Bus):
    """Producers, consumers and topic administration over one Kafka cluster."""

    name = "kafka"

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        client_id: str = "newswatch",
        partitions: int = 6,
        replication_factor: int = 1,
        retention_hours: float = 168.0,
        compression: str = "gzip",
        max_poll_interval_ms: int = 300_000,
        session_timeout_ms: int = 10_000,
        connect_timeout_s: float = 120.0,
        flush_timeout_s: float = 60.0,
        linger_ms: int = 5,
        security: Mapping[str, Any] | None = None,
    ) -> None:
        codec = None if compression == "none" else compression
        if codec is not None and not _CODECS[codec]():
            raise ConfigError(
                f"bus.kafka.compression: {codec} needs its Python library "
                "(python-snappy, lz4 or zstandard); use gzip or install it"
            )
        self.bootstrap_servers = bootstrap_servers
        self.client_id = client_id
        self.default_partitions = partitions
        self.replication_factor = replication_factor
        self.retention_hours = retention_hours
        self.compression = codec
        self.max_poll_interval_ms = max_poll_interval_ms
        self.session_timeout_ms = session_timeout_ms
        self.connect_timeout_s = connect_timeout_s
        self.flush_timeout_s = flush_timeout_s
        self.linger_ms = linger_ms
        self.security = dict(security or {})
        self._admin: KafkaAdminClient | None = None
        self._admin_lock = threading.Lock()
        self._health: tuple[float, bool, str] = (float("-inf"), True, "not probed")
        self._probe: KafkaAdminClient | None = None
        self._probe_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaBus:
        cfg: KafkaSettings = settings.bus.kafka
        security: dict[str, Any] = {"security_protocol": cfg.security_protocol}
        if cfg.sasl_mechanism:
            security["sasl_mechanism"] = cfg.sasl_mechanism
            security["sasl_plain_username"] = cfg.sasl_username
            if cfg.sasl_password is not None:
                security["sasl_plain_password"] = cfg.sasl_password.get_secret_value()
        return cls(
            cfg.bootstrap_servers,
            client_id=cfg.client_id,
            partitions=cfg.partitions,
            replication_factor=cfg.replication_factor,
            retention_hours=cfg.retention_hours,
            compression=cfg.compression,
            max_poll_interval_ms=cfg.max_poll_interval_ms,
            session_timeout_ms=cfg.session_timeout_ms,
            connect_timeout_s=cfg.connect_timeout_s,
            flush_timeout_s=cfg.flush_timeout_s,
            linger_ms=cfg.linger_ms,
            security=security,
        )

    # -- connecting -----------------------------------------------------------------------------

    def client_config(self) -> dict[str, Any]:
        """Settings shared by every client this bus creates."""
        return {
            "bootstrap_servers": self.bootstrap_servers.split(","),
            "client_id": self.client_id,
            # Fail one attempt quickly; ``connect`` retries with backoff for the full budget.
            "bootstrap_timeout_ms": int(min(10.0, self.connect_timeout_s) * 1000),
            **self.security,
        }

    def connect(self, what: str, factory: Callable[[], T]) -> T:
        """Run ``factory`` (which talks to the broker), retrying transient failures with
        exponential backoff for ``connect_timeout_s``; then raise ``TransportError``."""

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "kafka at %s unreachable (%s: %s); retrying %s in %.1fs",
                self.bootstrap_servers,
                what,
                exc,
                what,
                wait,
            )
            self._health = (time.monotonic(), False, f"unreachable: {exc}")

        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_TRANSIENT),
            wait=tenacity.wait_exponential(multiplier=0.5, max=10.0),
            stop=tenacity.stop_after_delay(self.connect_timeout_s),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(factory)
        except _TRANSIENT as exc:
            raise TransportError(
                f"kafka at {self.bootstrap_servers} unreachable for "
                f"{self.connect_timeout_s:.0f}s ({what}): {exc}"
            ) from exc

    @property
    def admin(self) -> KafkaAdminClient:
        with self._admin_lock:
            if self._admin is None:
                self._admin = self.connect(
                    "admin client", lambda: KafkaAdminClient(**self.client_config())
                )
            return self._admin

    def _drop_admin(self) -> None:
        with self._admin_lock:
            if self._admin is not None:
                _close_quietly(self._admin)
                self._admin = None

    def _admin_call(self, what: str, call: Callable[[KafkaAdminClient], T]) -> T:
        """An admin request with the same retry policy as connecting."""

        def attempt() -> T:
            try:
                return call(self.admin)
            except _TRANSIENT:
                self._drop_admin()
                raise

        return self.connect(what, attempt)

    # -- topics ---------------------------------------------------------------------------------

    def topic_configs(self, spec: TopicSpec) -> dict[str, str]:
        """The topic-level configuration a spec asks for."""
        if spec.compacted:
            return {"cleanup.policy": "compact"}
        hours = self.retention_hours if spec.retention_hours is None else spec.retention_hours
        retention_ms = -1 if hours <= 0 else int(hours * _HOUR_MS)
        return {"cleanup.policy": "delete", "retention.ms": str(retention_ms)}

    def ensure_topics(self, specs: Iterable[TopicSpec]) -> None:
        wanted = {spec.name: spec for spec in specs}
        if not wanted:
            return
        existing = set(self._admin_call("list topics", lambda admin: admin.list_topics()))
        missing = [spec for name, spec in wanted.items() if name not in existing]
        if not missing:
            return
        request = {
            spec.name: {
                "num_partitions": spec.partitions or self.default_partitions,
                "replication_factor": self.replication_factor,
                "configs": self.topic_configs(spec),
            }
            for spec in missing
        }
        result = self._admin_call(
            "create topics",
            lambda admin: admin.create_topics(request, timeout_ms=30_000, raise_errors=False),
        )
        problems = []
        for topic in result.get("topics", []):
            code = topic.get("error_code", 0)
            if code in (0, kerr.TopicAlreadyExistsError.errno):
                continue
            error = kerr.for_code(code)
            problems.append(f"{topic['name']}: {error.__name__} {topic.get('error_message') or ''}")
        if problems:
            raise BusError("could not create Kafka topics: " + "; ".join(problems))
        log.info("created Kafka topics %s", ", ".join(sorted(request)))
        try:
            self.admin.wait_for_topics(list(request), timeout_ms=30_000)
        except kerr.KafkaError as exc:
            log.warning("created topics not yet visible in metadata: %s", exc)

    def _groupless_consumer(self) -> KafkaConsumer:
        return self.connect(
            "consumer",
            lambda: KafkaConsumer(**self.client_config(), group_id=None, enable_auto_commit=False),
        )

    def list_topics(self) -> list[TopicInfo]:
        names = sorted(
            name
            for name in self._admin_call("list topics", lambda admin: admin.list_topics())
            if not name.startswith("__")
        )
        if not names:
            return []
        described = self._admin_call("describe topics", lambda admin: admin.describe_topics(names))
        partitions = {
            topic["name"]: [
                KafkaTopicPartition(topic["name"], p["partition_index"])
                for p in topic.get("partitions", [])
            ]
            for topic in described
        }
        all_tps = [tp for tps in partitions.values() for tp in tps]
        reader = self._groupless_consumer()
        try:
            lows = reader.beginning_offsets(all_tps)
            highs = reader.end_offsets(all_tps)
        finally:
            reader.close(autocommit=False)
        committed = self._committed_by_group()
        infos = []
        for name in names:
            tps = partitions.get(name, [])
            messages = sum(max(0, highs.get(tp, 0) - lows.get(tp, 0)) for tp in tps)
            lag: dict[str, int] = {}
            for group, offsets in committed.items():
                mine = {tp: off for tp, off in offsets.items() if tp.topic == name}
                if mine:
                    lag[group] = sum(
                        max(0, highs.get(tp, 0) - mine.get(tp, lows.get(tp, 0))) for tp in tps
                    )
            infos.append(TopicInfo(name, len(tps), messages, lag))
        return infos

    def _committed_by_group(self) -> dict[str, dict[KafkaTopicPartition, int]]:
        """Committed offsets of every consumer group, asked one group at a time (older brokers
        answer one group per OffsetFetch)."""
        groups = self._admin_call("list groups", lambda admin: admin.list_groups())
        out: dict[str, dict[KafkaTopicPartition, int]] = {}
        for group in groups:
            group_id = group["group_id"] if isinstance(group, dict) else group[0]
            try:
                fetched = self._admin_call(
                    "group offsets", functools.partial(_group_offsets, group_id=group_id)
                )
            except (kerr.KafkaError, BusError) as exc:
                log.warning("offsets of group %s unavailable: %s", group_id, exc)
                continue
            offsets = {
                tp: meta.offset
                for tp, meta in fetched.get(group_id, {}).items()
                if meta is not None and meta.offset >= 0
            }
            if offsets:
                out[group_id] = offsets
        return out

    def read(self, topic: str, *, from_beginning: bool = False, limit: int = 10) -> list[Message]:
        reader = self._groupless_consumer()
        try:
            return _read_window(reader, topic, from_beginning=from_beginning, limit=limit)
        finally:
            reader.close(autocommit=False)

    # -- clients --------------------------------------------------------------------------------

    def producer(self) -> KafkaProducerAdapter:
        return KafkaProducerAdapter(self)

    def consumer(
        self,
        group: str,
        topics: Sequence[str],
        *,
        offset_reset: OffsetReset = "earliest",
        member_id: str | None = None,
    ) -> KafkaConsumerAdapter:
        return KafkaConsumerAdapter(
            self, group, topics, offset_reset=offset_reset, member_id=member_id
        )

    def health(self) -> tuple[bool, str]:
        """Probe the cluster (a metadata request with a 3 s budget), at most every 2 s; a probe
        already running in another thread answers with the last result."""
        probed_at, ok, detail = self._health
        if time.monotonic() - probed_at < _HEALTH_CACHE_S or not self._probe_lock.acquire(False):
            return ok, detail
        try:
            if self._probe is None:
                self._probe = KafkaAdminClient(
                    **{**self.client_config(), "bootstrap_timeout_ms": 3000},
                    request_timeout_ms=3000,
                )
            self._probe.describe_cluster()
            ok, detail = True, f"kafka {self.bootstrap_servers} reachable"
        except Exception as exc:  # any failure to answer is "unhealthy", with the reason
            if self._probe is not None:
                _close_quietly(self._probe)
                self._probe = None
            ok, detail = False, f"kafka {self.bootstrap_servers} unreachable: {exc}"
        finally:
            self._probe_lock.release()
        self._health = (time.monotonic(), ok, detail)
        return ok, detail

    def close(self) -> None:
        self._drop_admin()
        with self._probe_lock:
            if self._probe is not None:
                _close_quietly(self._probe)
                self._probe = None


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


def _close_quietly(client: Any) -> None:
    try:
        client.close()
    except Exception:  # closing a broken client must not hide the real error
        log.debug("closing a Kafka client failed", exc_info=True)


def _group_offsets(admin: KafkaAdminClient, group_id: str) -> Any:
    return admin.list_group_offsets({group_id: None})


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


def _read_window(
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
            if isinstance(exc, _TRANSIENT):
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
            lost = sorted(tp for tp in to_commit if tp not in owned)
            if lost:
                raise CommitError(
                    f"group {self.group}: this member no longer owns "
                    + ", ".join(f"{tp.topic}[{tp.partition}]" for tp in lost)
                )
        if not to_commit:
            return
        request = {_to_kafka(tp): OffsetAndMetadata(off, "", -1) for tp, off in to_commit.items()}
        try:
            self._consumer.commit(request, timeout_ms=int(self._bus.flush_timeout_s * 1000))
        except _GROUP_MOVED as exc:
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
