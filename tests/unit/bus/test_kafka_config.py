"""The Kafka bus's configuration, without a broker: topic policies, codecs, settings mapping."""

from __future__ import annotations

import pytest

from newswatch.bus import kafka as kafka_module
from newswatch.bus import pipeline_topics
from newswatch.bus.base import TopicSpec
from newswatch.bus.kafka import KafkaBus
from newswatch.errors import ConfigError
from newswatch.settings import load_settings


def test_topic_policies_follow_the_spec() -> None:
    bus = KafkaBus("127.0.0.1:9", retention_hours=10)
    assert bus.topic_configs(TopicSpec("a")) == {
        "cleanup.policy": "delete",
        "retention.ms": str(10 * 3_600_000),
    }
    assert bus.topic_configs(TopicSpec("b", retention_hours=0))["retention.ms"] == "-1"
    assert bus.topic_configs(TopicSpec("c", compacted=True)) == {"cleanup.policy": "compact"}


def test_pipeline_topics_get_long_deadletter_retention_and_compacted_subscriptions() -> None:
    settings = load_settings(None, overrides={"bus": {"backend": "kafka"}})
    bus = KafkaBus.from_settings(settings)
    specs = {spec.name: spec for spec in pipeline_topics(settings)}
    dead = bus.topic_configs(specs["news.deadletter"])
    assert dead["retention.ms"] == str(24 * 90 * 3_600_000)
    assert bus.topic_configs(specs["news.articles"])["retention.ms"] == str(168 * 3_600_000)
    assert bus.topic_configs(specs["news.subscriptions"]) == {"cleanup.policy": "compact"}


def test_a_codec_without_its_library_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(kafka_module._CODECS, "zstd", lambda: False)
    with pytest.raises(ConfigError, match="compression"):
        KafkaBus("127.0.0.1:9", compression="zstd")
    assert KafkaBus("127.0.0.1:9", compression="none").compression is None


def test_settings_reach_the_clients() -> None:
    settings = load_settings(
        None,
        overrides={
            "bus": {
                "backend": "kafka",
                "kafka": {
                    "bootstrap_servers": "k1:9092,k2:9092",
                    "client_id": "nw",
                    "max_poll_interval_ms": 5000,
                    "security_protocol": "SASL_SSL",
                    "sasl_mechanism": "PLAIN",
                    "sasl_username": "svc",
                    "sasl_password": "s3cret",
                },
            }
        },
    )
    bus = KafkaBus.from_settings(settings)
    config = bus.client_config()
    assert config["bootstrap_servers"] == ["k1:9092", "k2:9092"]
    assert config["client_id"] == "nw"
    assert config["security_protocol"] == "SASL_SSL"
    assert config["sasl_plain_password"] == "s3cret"
    assert bus.max_poll_interval_ms == 5000
