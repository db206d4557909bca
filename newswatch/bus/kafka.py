"""The Kafka bus: the interface of ``newswatch.bus.base`` over kafka-python.

How each promise of the interface is kept:

* **Partitioning** is kafka-python's default partitioner (murmur2 of the key, the Java client's
  choice), so newswatch and any other Kafka client agree on where a key lives.
* **Publishing** uses an idempotent producer with ``acks=all``: the broker de-duplicates the
  producer's own retries and acknowledges only what every in-sync replica holds. ``flush`` waits
  for every acknowledgement and raises ``TransportError`` if any send failed; the client keeps
  retrying what it holds, and the caller's input (not yet committed) is delivered again, so
  nothing is lost.
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

The producer and consumer adapters live in ``newswatch.bus.kafka_clients``.

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
from kafka import KafkaAdminClient, KafkaConsumer
from kafka import TopicPartition as KafkaTopicPartition
from kafka import codec as kafka_codec
from kafka import errors as kerr

from newswatch.bus.base import Bus, Message, OffsetReset, TopicInfo, TopicSpec
from newswatch.bus.kafka_clients import (
    TRANSIENT,
    KafkaConsumerAdapter,
    KafkaProducerAdapter,
    close_quietly,
    read_window,
)
from newswatch.errors import BusError, ConfigError, TransportError

if TYPE_CHECKING:
    from newswatch.settings import KafkaSettings, Settings

__all__ = ["KafkaBus", "KafkaConsumerAdapter", "KafkaProducerAdapter"]

log = logging.getLogger(__name__)

T = TypeVar("T")

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
            retry=tenacity.retry_if_exception_type(TRANSIENT),
            wait=tenacity.wait_exponential(multiplier=0.5, max=10.0),
            stop=tenacity.stop_after_delay(self.connect_timeout_s),
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            return retrying(factory)
        except TRANSIENT as exc:
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
                close_quietly(self._admin)
                self._admin = None

    def _admin_call(self, what: str, call: Callable[[KafkaAdminClient], T]) -> T:
        """An admin request with the same retry policy as connecting."""

        def attempt() -> T:
            try:
                return call(self.admin)
            except TRANSIENT:
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
        """A reader outside any group (``read``, ``list_topics``); looking at a topic that does
        not exist must not create it."""
        return self.connect(
            "consumer",
            lambda: KafkaConsumer(
                **self.client_config(),
                group_id=None,
                enable_auto_commit=False,
                allow_auto_create_topics=False,
            ),
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
            return read_window(reader, topic, from_beginning=from_beginning, limit=limit)
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
                close_quietly(self._probe)
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
                close_quietly(self._probe)
                self._probe = None


def _group_offsets(admin: KafkaAdminClient, group_id: str) -> Any:
    return admin.list_group_offsets({group_id: None})
