"""``IndexerService``: consume ``news.articles`` (and ``news.alerts``) into the search index.

Two delivery guarantees, chosen by where the index lives:

* **exactly-once** — embedded bus and embedded index in the same SQLite file (the default): the
  batch's documents are written by ``EmbeddedConsumer.commit_with`` in the transaction that
  commits the offsets, so a crash at any instant leaves either both or neither;
* **at-least-once, idempotent** — otherwise (Elasticsearch, Kafka): documents are written, then
  offsets committed; a crash in between re-delivers the batch, and ``_id = article_id`` makes
  the rewrite a no-op.

Batches are cut by count (``indexer.batch_size``), bytes (``indexer.batch_bytes``) and time
(``indexer.flush_interval_s``: after the first message of a batch, wait at most that long for
more). Documents the index refuses are dead-lettered with its reason; undecodable messages
likewise, and the batch goes on.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Sequence
from typing import Any

from prometheus_client import Counter, Histogram

from newswatch.bus import Message
from newswatch.bus.embedded import EmbeddedConsumer
from newswatch.models.messages import AlertDelivery, Article
from newswatch.observability import MESSAGES_CONSUMED
from newswatch.runtime import ConsumerService, ServiceContext
from services.indexer import open_index
from services.indexer.document import alert_document, article_document
from services.indexer.index import Index, check_document

__all__ = ["IndexerService"]

log = logging.getLogger(__name__)

DOCUMENTS = Counter(
    "newswatch_indexer_documents_total",
    "Documents handled by the indexer",
    ["kind", "outcome"],
)
WRITE_SECONDS = Histogram(
    "newswatch_indexer_write_seconds", "Time to write one batch to the index", ["backend"]
)


class IndexerService(ConsumerService):
    """Index articles (and alert deliveries) as they arrive."""

    name = "indexer"
    group = "indexer"

    def __init__(self, ctx: ServiceContext, index: Index | None = None) -> None:
        super().__init__(ctx)
        cfg = ctx.settings.indexer
        self.batch_size = cfg.batch_size
        self.batch_bytes = cfg.batch_bytes
        self.flush_interval_s = cfg.flush_interval_s
        self.index = index if index is not None else open_index(ctx.settings)
        self._articles: list[dict[str, Any]] = []
        self._alerts: list[dict[str, Any]] = []

    @property
    def input_topics(self) -> Sequence[str]:
        topics = [self.settings.topics.articles]
        if self.settings.indexer.index_alerts:
            topics.append(self.settings.topics.alerts)
        return topics

    @property
    def exactly_once(self) -> bool:
        """Whether index writes share the offsets' transaction (same SQLite file)."""
        from services.indexer.embedded import EmbeddedIndex

        return (
            isinstance(self.index, EmbeddedIndex)
            and isinstance(self.consumer, EmbeddedConsumer)
            and self.index.path.resolve() == self.settings.bus_path.resolve()
        )

    # -- batching -------------------------------------------------------------------------------

    def _fill(self, messages: list[Message]) -> None:
        """Top the batch up until it is full (count or bytes) or the flush interval passed."""
        deadline = time.monotonic() + self.flush_interval_s
        size = sum(len(m.value) for m in messages)
        while len(messages) < self.batch_size and size < self.batch_bytes and not self.stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self.consumer.poll(self.batch_size - len(messages), remaining)
            if not more:
                break
            for message in more:
                MESSAGES_CONSUMED.labels(self.name, message.topic).inc()
            messages.extend(more)
            size += sum(len(m.value) for m in more)

    def process_batch(self, messages: list[Message]) -> None:
        self._fill(messages)
        articles: list[tuple[Message, dict[str, Any]]] = []
        alerts: list[dict[str, Any]] = []
        for message in messages:
            if message.topic == self.settings.topics.alerts:
                alert = self.decode_or_deadletter(AlertDelivery, message)
                if alert is not None:
                    alerts.append(alert_document(alert))
                continue
            article = self.decode_or_deadletter(Article, message)
            if article is None:
                DOCUMENTS.labels("article", "deadlettered").inc()
                continue
            doc = article_document(article)
            problem = check_document(doc)
            if problem is not None:
                self.dead_letter(message, "index", problem)
                DOCUMENTS.labels("article", "deadlettered").inc()
                continue
            articles.append((message, doc))
        if self.exactly_once:
            # Written in commit(), inside the offsets' transaction.
            self._articles = [doc for _, doc in articles]
            self._alerts = alerts
            return
        started = time.perf_counter()
        report = self.index.upsert_many([doc for _, doc in articles])
        failed = dict(report.failures)
        for message, doc in articles:
            reason = failed.get(doc["article_id"])
            if reason is not None:
                self.dead_letter(message, "index", reason)
                DOCUMENTS.labels("article", "deadlettered").inc()
        DOCUMENTS.labels("article", "indexed").inc(report.written)
        if alerts:
            alert_report = self.index.upsert_alerts(alerts)
            for alert_id, reason in alert_report.failures:
                log.warning("alert record %s not indexed: %s", alert_id, reason)
            DOCUMENTS.labels("alert", "indexed").inc(alert_report.written)
        WRITE_SECONDS.labels(self.index.name).observe(time.perf_counter() - started)

    def commit(self, messages: list[Message]) -> None:
        if not self.exactly_once:
            self.consumer.commit()
            return
        from services.indexer.embedded import write_alerts, write_documents

        articles, alerts = self._articles, self._alerts
        self._articles, self._alerts = [], []
        consumer = self.consumer
        assert isinstance(consumer, EmbeddedConsumer)

        def work(conn: sqlite3.Connection) -> None:
            report = write_documents(conn, articles)
            if report.failures:  # checked before; a failure here is a bug, not bad input
                raise RuntimeError(f"index refused checked documents: {report.failures[:3]}")
            if alerts:
                write_alerts(conn, alerts)

        started = time.perf_counter()
        consumer.commit_with(work)
        WRITE_SECONDS.labels(self.index.name).observe(time.perf_counter() - started)
        DOCUMENTS.labels("article", "indexed").inc(len(articles))
        if alerts:
            DOCUMENTS.labels("alert", "indexed").inc(len(alerts))

    def health(self) -> tuple[bool, str]:
        ok, detail = super().health()
        return ok, f"{detail}; index {self.index.name}"

    def close(self) -> None:
        super().close()
        self.index.close()
