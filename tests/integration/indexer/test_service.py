"""IndexerService in process: both backends, dead letters, the alert log, replays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newswatch.bus import open_bus
from newswatch.models.events import Location
from newswatch.models.messages import DeadLetter, decode, encode
from newswatch.runtime import ServiceContext
from newswatch.settings import Settings, load_settings
from services.indexer.elastic import ElasticIndex
from services.indexer.embedded import EmbeddedIndex
from services.indexer.index import Index
from services.indexer.service import IndexerService
from tests.data.search_corpus import corpus
from tests.elastic_support import EsTarget, es_target, isolated, new_client
from tests.factories import alert_delivery

pytestmark = pytest.mark.integration

ARTICLES = corpus()


@pytest.fixture(scope="module")
def elastic() -> Iterator[EsTarget]:
    with es_target() as target:
        yield target


def settings_for(tmp: Path, **index: Any) -> Settings:
    return load_settings(
        None,
        overrides={
            "data_dir": str(tmp),
            "index": index or {"backend": "embedded"},
            "indexer": {"batch_size": 10, "flush_interval_s": 0.1},
            "observability": {"enabled": False},
        },
    )


def publish(settings: Settings, extra: list[tuple[str, bytes]] = ()) -> None:  # type: ignore[assignment]
    bus = open_bus(settings)
    producer = bus.producer()
    producer.publish_many(settings.topics.articles, [(a.article_id, encode(a)) for a in ARTICLES])
    if extra:
        producer.publish_many(settings.topics.articles, list(extra))
    producer.publish(settings.topics.alerts, "a", encode(alert_delivery()))
    producer.close()
    bus.close()


def run(settings: Settings, index: Index | None = None) -> IndexerService:
    bus = open_bus(settings)
    service = IndexerService(ServiceContext(settings, bus), index)
    service.run(once=True)
    bus.close()
    return service


def dead_letters(settings: Settings) -> list[DeadLetter]:
    bus = open_bus(settings)
    consumer = bus.consumer("test-dlq", [settings.topics.deadletter])
    found = [decode(DeadLetter, m.value) for m in consumer.poll(100, 2.0)]
    consumer.close()
    bus.close()
    return found


def test_embedded_service_is_exactly_once_and_dead_letters_poison(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    publish(settings, [("poison", b'{"schema": "newswatch.article/1", "url": 3}')])
    service = run(settings)
    assert service.processed == len(ARTICLES) + 2
    index = EmbeddedIndex(settings.index_path)
    assert index.count() == len(ARTICLES)
    assert [a["status"] for a in index.alerts()] == ["delivered"]
    [letter] = dead_letters(settings)
    assert letter.stage == "indexer" and letter.error_kind == "contract"
    assert letter.original_key == "poison"
    publish(settings)  # a replay of everything
    run(settings)
    assert index.count() == len(ARTICLES) and len(index.alerts()) == 1
    index.close()


def test_elasticsearch_service_dead_letters_refused_documents(
    tmp_path: Path, elastic: EsTarget
) -> None:
    broken = ARTICLES[0].model_copy(deep=True)
    broken.article_id = "f" * 32
    assert broken.events[0].location is not None
    broken.events[0].location = Location(name="Nowhere", lat=123.0, lon=500.0)
    with isolated(elastic) as (url, prefix):
        settings = settings_for(
            tmp_path,
            backend="elasticsearch",
            elasticsearch={"url": url, "index_prefix": prefix},
        )
        publish(settings, [(broken.article_id, encode(broken))])
        index = ElasticIndex(new_client(url, real=elastic.real), prefix=prefix)
        index.setup()
        service = run(settings, index)
        assert service.processed == len(ARTICLES) + 2
        check = ElasticIndex(new_client(url, real=elastic.real), prefix=prefix)
        check.refresh()
        assert check.count() == len(ARTICLES)
        assert [a["status"] for a in check.alerts()] == ["delivered"]
        [letter] = dead_letters(settings)
        assert letter.error_kind == "index" and letter.original_key == "f" * 32
        assert "status 400" in letter.error_message
        check.close()
