"""Shared by the extractor's integration tests (and importable by spawned worker processes)."""

from __future__ import annotations

import datetime as dt
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newswatch.bus import Message, open_bus
from newswatch.ids import article_id
from newswatch.models.messages import Article, DeadLetter, DiscoveredItem, Source, decode, encode
from newswatch.runtime import ServiceContext
from newswatch.settings import Settings, load_settings
from services.extractor.download import FetchedPage
from services.extractor.service import ExtractorService

FEED_DATE = dt.datetime(2024, 5, 3, 6, 0, tzinfo=dt.UTC)


def make_settings(data_dir: Path, **extractor: Any) -> Settings:
    http = {"per_host_delay_ms": 0, "per_host_concurrency": 4, "connect_timeout_s": 2.0}
    http.update(extractor.pop("http", {}))
    config = {"retries": 2, "retry_backoff_s": 0.05, "tagging_workers": 0, "http": http}
    config.update(extractor)
    return load_settings(
        None,
        overrides={
            "data_dir": str(data_dir),
            "observability": {"enabled": False},
            "bus": {"embedded": {"session_timeout_s": 3.0}},
            "extractor": config,
        },
    )


def item(url: str, **changes: Any) -> DiscoveredItem:
    discovered = DiscoveredItem(
        article_id=article_id(url),
        url=url,
        canonical_url=url,
        feed_id="test-feed",
        feed_url="http://127.0.0.1/feed.xml",
        source=Source(name="Test Wire", country="LY", language="en"),
        title="Feed title",
        summary="Feed summary: clashes reported near the border.",
        published_at=FEED_DATE,
    )
    return discovered.model_copy(update=changes)


def publish(settings: Settings, *items: DiscoveredItem | bytes) -> None:
    bus = open_bus(settings)
    try:
        with bus.producer() as producer:
            for entry in items:
                if isinstance(entry, bytes):
                    producer.publish(settings.topics.discovered, "poison", entry)
                else:
                    producer.publish(settings.topics.discovered, entry.article_id, encode(entry))
            producer.flush()
    finally:
        bus.close()


def run_once(
    settings: Settings, tagger: Callable[..., Any] | None = None
) -> tuple[list[Article], list[DeadLetter]]:
    """Run one extractor until the input is drained; return everything published so far."""
    bus = open_bus(settings)
    try:
        service = ExtractorService(ServiceContext(settings, bus), tagger=tagger)
        service.poll_timeout_s = 0.2
        service.run(once=True)
    finally:
        bus.close()
    return outputs(settings)


def outputs(settings: Settings) -> tuple[list[Article], list[DeadLetter]]:
    bus = open_bus(settings)
    try:
        articles = _read(bus.read(settings.topics.articles, from_beginning=True, limit=10_000))
        dead = bus.read(settings.topics.deadletter, from_beginning=True, limit=10_000)
    finally:
        bus.close()
    return [decode(Article, m.value) for m in articles], [decode(DeadLetter, m.value) for m in dead]


def _read(messages: list[Message]) -> list[Message]:
    return sorted(messages, key=lambda m: (m.partition, m.offset))


def run_recording_extractor(data_dir: str, record_path: str) -> None:
    """A worker process: one ExtractorService that appends every article_id it extracts to
    ``record_path`` (one per line) until SIGTERM."""
    settings = make_settings(Path(data_dir), tagging=False, batch_size=4)
    bus = open_bus(settings)
    ctx = ServiceContext(settings, bus)
    signal.signal(signal.SIGTERM, lambda *_: ctx.stopping.set())
    record = Path(record_path)

    class Recording(ExtractorService):
        def process_page(self, item: DiscoveredItem, page: FetchedPage) -> Article:
            with record.open("a", encoding="utf-8") as out:
                out.write(item.article_id + "\n")
            return super().process_page(item, page)

    service = Recording(ctx)
    service.poll_timeout_s = 0.2
    service.warm_up()
    with record.open("a", encoding="utf-8") as out:
        out.write("ready\n")
    try:
        service.run()
    finally:
        bus.close()
