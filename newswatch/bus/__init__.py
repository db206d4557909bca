"""The message bus: one interface (``base``), two backends (``embedded``, ``kafka``).

Services get their bus from ``open_bus(settings)`` and never import a backend directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from newswatch.bus.base import (
    Bus,
    Consumer,
    Message,
    Producer,
    TopicInfo,
    TopicPartition,
    TopicSpec,
)
from newswatch.errors import NotAvailableError

if TYPE_CHECKING:
    from newswatch.settings import Settings

__all__ = [
    "Bus",
    "Consumer",
    "Message",
    "Producer",
    "TopicInfo",
    "TopicPartition",
    "TopicSpec",
    "open_bus",
    "pipeline_topics",
]


def pipeline_topics(settings: Settings) -> list[TopicSpec]:
    """The topics the pipeline needs, with their per-topic policies."""
    names = settings.topics
    kafka = settings.bus.kafka
    return [
        TopicSpec(names.discovered),
        TopicSpec(names.articles),
        TopicSpec(names.alerts),
        TopicSpec(names.deadletter, retention_hours=kafka.deadletter_retention_hours),
        TopicSpec(names.subscriptions, partitions=1, compacted=True),
    ]


def open_bus(settings: Settings) -> Bus:
    """The configured bus, with the pipeline's topics created (idempotent)."""
    bus: Bus
    if settings.bus.backend == "embedded":
        from newswatch.bus.embedded import EmbeddedBus

        cfg = settings.bus.embedded
        bus = EmbeddedBus(
            settings.bus_path,
            partitions=cfg.partitions,
            retention_hours=cfg.retention_hours,
            retention_mb=cfg.retention_mb,
            session_timeout_s=cfg.session_timeout_s,
        )
    else:
        try:
            from newswatch.bus.kafka import KafkaBus  # type: ignore[import-not-found,unused-ignore]
        except ImportError as exc:
            raise NotAvailableError(
                "the Kafka bus is not available in this build (issue 8 lands it)"
            ) from exc
        bus = KafkaBus.from_settings(settings)
    bus.ensure_topics(pipeline_topics(settings))
    return bus
