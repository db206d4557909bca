"""Kafka-only behaviour of the Kafka bus, beyond the shared contract (tests/contract/).

Each test starts its own tansu (or uses ``$KAFKA_BOOTSTRAP_SERVERS``, except the outage test,
which must be able to pause its broker): topic policies, the idempotent producer, and what
happens when the broker cannot be reached at start-up or goes away mid-run.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress

import pytest
from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType

from newswatch.bus.base import TopicSpec
from newswatch.bus.kafka import KafkaBus
from newswatch.errors import TransportError
from newswatch.settings import load_settings
from tests.kafka_broker import BrokerUnavailable, TansuBroker, _free_port

pytestmark = pytest.mark.integration

EXTERNAL = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")


@pytest.fixture
def broker() -> Iterator[TansuBroker]:
    try:
        tansu = TansuBroker().start()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield tansu
    finally:
        tansu.stop()


@pytest.fixture
def bootstrap(request: pytest.FixtureRequest) -> str:
    if EXTERNAL:
        return EXTERNAL
    tansu: TansuBroker = request.getfixturevalue("broker")
    return tansu.bootstrap


def make_bus(bootstrap: str, **overrides: object) -> KafkaBus:
    options: dict[str, object] = {
        "partitions": 3,
        "max_poll_interval_ms": 5000,
        "session_timeout_ms": 6000,
        "connect_timeout_s": 10.0,
        "flush_timeout_s": 10.0,
    }
    options.update(overrides)
    return KafkaBus(bootstrap, **options)  # type: ignore[arg-type]


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}"


def test_pipeline_topics_are_created_from_the_settings(bootstrap: str) -> None:
    prefix = unique("it")
    settings = load_settings(
        None,
        overrides={
            "bus": {
                "backend": "kafka",
                "kafka": {
                    "bootstrap_servers": bootstrap,
                    "partitions": 5,
                    "max_poll_interval_ms": 5000,
                    "session_timeout_ms": 6000,
                },
            },
            "topics": {
                name: f"{prefix}.{name}"
                for name in ("discovered", "articles", "alerts", "deadletter", "subscriptions")
            },
        },
    )
    from newswatch.bus import open_bus

    with open_bus(settings) as bus:
        assert isinstance(bus, KafkaBus)
        infos = {info.name: info for info in bus.list_topics()}
        open_bus(settings).close()  # a second start-up finds them and changes nothing
    assert infos[f"{prefix}.articles"].partitions == 5
    assert infos[f"{prefix}.subscriptions"].partitions == 1
    assert {f"{prefix}.discovered", f"{prefix}.alerts", f"{prefix}.deadletter"} <= set(infos)


def test_topic_policies_reach_the_broker(bootstrap: str) -> None:
    """Retention from the settings, long retention for the dead-letter topic, compaction for
    subscriptions. (tansu stores and describes these, though it labels them DEFAULT_CONFIG, so
    ``config_filter="all"`` is needed to see them.)"""
    bus = make_bus(bootstrap, retention_hours=48)
    names = {"plain": unique("pol"), "dead": unique("pol"), "compact": unique("pol")}
    bus.ensure_topics(
        [
            TopicSpec(names["plain"]),
            TopicSpec(names["dead"], retention_hours=24 * 90),
            TopicSpec(names["compact"], partitions=1, compacted=True),
        ]
    )
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        described = admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name) for name in names.values()],
            config_filter="all",
        )["topic"]
    finally:
        admin.close()
        bus.close()

    def value(topic: str, key: str) -> str:
        return str(described[names[topic]][key]["value"])

    assert value("plain", "retention.ms") == str(48 * 3_600_000)
    assert value("plain", "cleanup.policy") == "delete"
    assert value("dead", "retention.ms") == str(90 * 24 * 3_600_000)
    assert value("compact", "cleanup.policy") == "compact"


def test_idempotent_producer_with_compression_round_trips(bootstrap: str) -> None:
    bus = make_bus(bootstrap, compression="gzip")
    topic = unique("idem")
    bus.ensure_topics([TopicSpec(topic, partitions=2)])
    payload = ("the same sentence, again and again. " * 200).encode()
    with bus.producer() as producer:
        producer.publish_many(topic, [(f"k{i}", payload + str(i).encode()) for i in range(30)])
        producer.flush()
    with bus.consumer(unique("g"), [topic]) as consumer:
        got = []
        deadline = time.monotonic() + 60
        while len(got) < 30 and time.monotonic() < deadline:
            got.extend(consumer.poll(100, timeout=0.5))
    bus.close()
    assert sorted(m.value for m in got) == sorted(payload + str(i).encode() for i in range(30))


def test_an_unreachable_broker_is_retried_then_reported() -> None:
    nobody = f"127.0.0.1:{_free_port()}"
    bus = make_bus(nobody, connect_timeout_s=2.0)
    ok, detail = bus.health()
    assert not ok
    assert "unreachable" in detail and nobody in detail
    started = time.monotonic()
    with pytest.raises(TransportError, match="unreachable"):
        bus.producer()
    assert time.monotonic() - started >= 1.0  # it did retry for its budget, not fail at once
    with pytest.raises(TransportError):
        bus.ensure_topics([TopicSpec("never")])
    bus.close()


@pytest.mark.skipif(bool(EXTERNAL), reason="pauses its own tansu broker")
def test_an_outage_mid_run_fails_flush_and_loses_nothing(broker: TansuBroker) -> None:
    """While the broker is frozen (SIGSTOP) ``flush`` raises ``TransportError`` and ``health``
    says so; once it is back, re-publishing what was not acknowledged (what the service loop
    does, since it did not commit its input) gets every message in, at least once."""
    bus = make_bus(broker.bootstrap, flush_timeout_s=2.0)
    topic = unique("outage")
    bus.ensure_topics([TopicSpec(topic, partitions=2)])
    producer = bus.producer()
    producer.publish_many(topic, [(f"k{i}", f"before{i}".encode()) for i in range(5)])
    producer.flush()
    assert bus.health()[0]

    broker.pause()
    try:
        producer.publish_many(topic, [(f"k{i}", f"during{i}".encode()) for i in range(5)])
        with pytest.raises(TransportError):
            producer.flush()
        time.sleep(2.1)  # past the health cache
        ok, detail = bus.health()
        assert not ok and "unreachable" in detail
    finally:
        broker.resume()

    deadline = time.monotonic() + 60
    while not bus.health()[0]:
        assert time.monotonic() < deadline, "health never recovered"
        time.sleep(0.5)
    # The caller retries the batch it could not flush.
    producer.publish_many(topic, [(f"k{i}", f"during{i}".encode()) for i in range(5)])
    producer.flush()
    producer.close()
    with bus.consumer(unique("g"), [topic]) as consumer:
        got: set[bytes] = set()
        deadline = time.monotonic() + 60
        wanted = {f"{p}{i}".encode() for p in ("before", "during") for i in range(5)}
        while not wanted <= got:
            assert time.monotonic() < deadline, f"missing {sorted(wanted - got)}"
            got.update(m.value for m in consumer.poll(100, timeout=0.5))
    with suppress(Exception):
        bus.close()


def test_reading_a_missing_topic_returns_nothing_and_creates_nothing(bootstrap: str) -> None:
    bus = make_bus(bootstrap)
    name = unique("absent")
    try:
        assert bus.read(name, limit=5) == []
        assert name not in {info.name for info in bus.list_topics()}
    finally:
        bus.close()


def test_a_service_run_once_reads_what_was_published_before_it_joined(bootstrap: str) -> None:
    """``newswatch <role> --once`` on Kafka: the group join takes seconds, and empty polls
    during it must not count as "nothing left"."""
    from newswatch.bus.base import Message
    from newswatch.runtime import ConsumerService, ServiceContext

    bus = make_bus(bootstrap)
    topic = unique("once")
    bus.ensure_topics([TopicSpec(topic)])
    with bus.producer() as producer:
        producer.publish_many(topic, [(f"k{i}", f"m{i}".encode()) for i in range(12)])
        producer.flush()
    seen: list[bytes] = []

    class Collector(ConsumerService):
        name = "collector"
        group = unique("collector")

        @property
        def input_topics(self) -> list[str]:
            return [topic]

        def process_batch(self, messages: list[Message]) -> None:
            seen.extend(m.value for m in messages)

    Collector(ServiceContext(load_settings(None), bus)).run(once=True)
    bus.close()
    assert sorted(seen) == sorted(f"m{i}".encode() for i in range(12))
