"""The alerter as a faust-streaming app (distributed runtime): thin agents over plain Python.

Topics and state, for app id ``A`` (``alerter.faust.app_id``) and P partitions of news.articles:

* ``news.articles`` → agent ``match_articles``: decode (unreadable → ``news.deadletter``), match
  with the shared ``SubscriptionIndex``, skip (subscription, article) pairs the **dedupe table**
  already holds, record the rest with the same ``AlertRecorder`` as the embedded service (local
  SQLite: dedupe record + outbox rows in one transaction), then set them in the table. Hits of
  spike rules go to the internal topic ``A-spike-hits``, keyed by subscription; matches of
  subscriptions with a ``rate_limit`` or ``mode: digest`` go to ``A-limited-hits``, keyed by
  subscription (set in the dedupe table as they are sent).
* ``A-limited-hits`` → agent ``record_limited``: once per (subscription, article)
  (``limited-seen``), record the prepared alert item with the replica's ``AlertRecorder``
  (``record_item``), so a subscription's rate-limit window and digest queue live in the SQLite
  file of the one replica that owns its partition (one limit, one digest, across replicas).
* ``A-spike-hits`` → agent ``count_spikes``: once per (rule, article) (``spike-seen``), add the hit
  to the **windowed table** ``spike-counts`` (tumbling buckets) and decide with the rule shared
  with the embedded store (``services.alerter.spikes``); a firing is queued by
  ``AlertRecorder.record_spike``.
* ``news.subscriptions`` (compacted) → the **GlobalTable** ``subscriptions``: every replica reads
  every record; ``SubscriptionView`` rebuilds the matching index and mirrors the replica's local
  store from it.
* Deliveries: the same ``DeliveryWorker`` threads send what the recorder queued (email, signed
  webhooks, retries) and log each attempt to ``news.alerts``.

The dedupe table is partitioned like news.articles (its changelog partition is the article's), so
when a partition moves to another replica its dedupe records move with it: an alert is created
once even across replicas. The replica's SQLite keeps a second dedupe record (the recorder's),
which also covers a restart of the same replica before the table's changelog is flushed.

State lives in faust tables backed by changelog topics ``A-<table>-changelog``; with the default
``memory://`` store a worker rebuilds them from the changelogs at start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Callable
from typing import Any

import faust
from faust.tables.globaltable import GlobalTable
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import ensure_aiokafka_TP

from newswatch.bus import Producer
from newswatch.errors import ContractError
from newswatch.models.messages import Article, DeadLetter, decode, encode
from newswatch.observability import DEADLETTERS, MESSAGES_CONSUMED
from newswatch.settings import Settings
from services.alerter import spikes
from services.alerter.dedupe import alert_id
from services.alerter.delivery import DeliveryWorker
from services.alerter.matching import Match
from services.alerter.payload import AlertArticle, build_alert_article
from services.alerter.recorder import AlertRecorder, RecordStats
from services.alerter.service import ALERTS, MATCHES, OUTBOX_RETENTION_S, SUBSCRIPTIONS
from services.alerter.state import StateDB
from services.alerter.streaming.config import faust_options
from services.alerter.streaming.spikes import SpikeState, window_total
from services.alerter.streaming.view import SubscriptionView
from services.alerter.subscriptions import Subscription
from services.alerter.sync import open_store

__all__ = [
    "AlerterApp",
    "LimitedHit",
    "SpikeHit",
    "SubscriptionsTable",
    "is_limited",
    "limited_hit",
]

log = logging.getLogger(__name__)

#: The longest spike window a rule may have (``SpikeRule.window_minutes``), plus a bucket.
MAX_SPIKE_WINDOW = dt.timedelta(days=31)


class SpikeHit(faust.Record, serializer="json", namespace="newswatch.alerter.spike_hit"):
    """A matching article of a spike rule, on its way to the rule's partition."""

    subscription_id: str
    article_id: str
    #: When the hit counts (publication time, at most the time it was matched).
    ts: float
    #: The alert's article part (``AlertArticle`` JSON), for the spike alert's payload.
    payload: str


class LimitedHit(faust.Record, serializer="json", namespace="newswatch.alerter.limited_hit"):
    """A new match of a rate-limited or digest subscription, on its way to the subscription's
    partition (whose replica keeps the rate-limit window and the digest queue)."""

    subscription_id: str
    article_id: str
    #: When the article was matched (the recording replica decides with its own clock).
    ts: float
    #: The alert's article part (``AlertArticle`` JSON), recorded as it is.
    payload: str


def is_limited(sub: Subscription) -> bool:
    """Whether ``sub``'s matches are recorded by subscription (``A-limited-hits``) rather than
    where the article is read: a limit or a digest counts the subscription's alerts, which only
    one replica sees whole. Spike rules have their own topic."""
    return sub.spike is None and (sub.rate_limit is not None or sub.mode == "digest")


def limited_hit(article: Article, match: Match, now: float) -> LimitedHit:
    """The record ``record_limited`` needs to record ``match`` on another replica: the alert
    item is built here, where the article is read, exactly as the local path builds it."""
    sub = match.subscription
    item = build_alert_article(alert_id(sub.id, article.article_id), article, match)
    return LimitedHit(
        subscription_id=sub.id,
        article_id=article.article_id,
        ts=now,
        payload=item.model_dump_json(),
    )


class SubscriptionsTable(GlobalTable):
    """The GlobalTable over ``news.subscriptions``, fed by other writers than this app.

    Two adjustments to faust-streaming 0.15 (found here, see services/alerter/README.md):

    * its assignor looks a global table's changelog up by the default name
      ``<app>-<table>-changelog`` even when another topic was given (``KeyError`` in the
      assignment, which then never completes), so the name is the given topic's;
    * changes arriving after start-up are applied only with ``synchronize_all_active_partitions``
      and a recovery buffer of one record (otherwise they wait in a 1000-record buffer).

    ``on_record`` (set by ``AlerterApp``) sees every record as it is read.
    """

    on_record: Callable[[Any, bytes | None], None] | None = None

    def _changelog_topic_name(self) -> str:
        if self._changelog_topic is not None:
            return str(self._changelog_topic.get_topic_name())
        return str(super()._changelog_topic_name())

    async def on_changelog_event(self, event: Any) -> None:
        await super().on_changelog_event(event)
        if self.on_record is not None:
            self.on_record(event.message.key, event.message.value)


class FromTheStartConsumer(AIOKafkaConsumer):
    """faust's consumer, reading a stream partition with no committed offset from its start.

    faust-streaming 0.15 fetches the stream partitions while its tables recover, drops what it
    fetched, then "seeks to the committed offsets" — which leaves a partition with no committed
    offset (a new group) *after* the dropped records: whatever ``news.articles`` held before the
    app's first start was skipped. Seeking those partitions to their beginning instead gives the
    ``consumer_auto_offset_reset: earliest`` the app asks for (replays are harmless: dedupe).
    """

    #: The topics read by the agents (set per app by ``AlerterApp``).
    stream_topics: frozenset[str] = frozenset()

    async def perform_seek(self) -> None:
        await super().perform_seek()
        fresh = [
            tp
            for tp in self.assignment()
            if tp.topic in self.stream_topics and tp not in self._committed_offset
        ]
        if fresh:
            log.info("no committed offset for %s: reading from the beginning", sorted(fresh))
            await self._thread.seek_to_beginning(*(ensure_aiokafka_TP(tp) for tp in fresh))


def dedupe_key(subscription_id: str, article_id: str) -> str:
    return f"{subscription_id}\x00{article_id}"


class AlerterApp:
    """The faust app and what its agents call: the view, the recorder, the delivery worker.

    ``open()`` opens the local state and starts the delivery worker (the worker's threads and
    the API are outside faust's event loop); ``close()`` stops them. ``FaustAlerterService``
    does both around the faust worker; ``services.alerter.streaming.main`` wires them to the
    app's start and shutdown for ``faust -A``.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        producer_factory: Callable[[], Producer] | None = None,
        clock: Callable[[], float] = time.time,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        """``loop``: the event loop the app will run on (faust binds its services to a loop
        when they are created; the default is the creating thread's)."""
        self.settings = settings
        self.clock = clock
        cfg = settings.alerter
        self._producer_factory = producer_factory
        self.db: StateDB | None = None
        self.recorder: AlertRecorder | None = None
        self.worker: DeliveryWorker | None = None
        self.view = SubscriptionView()
        self.last_activity = time.monotonic()
        self.articles_seen = 0
        self._last_periodic = 0.0
        self._last_prune = float("-inf")
        self._last_reconcile = 0.0

        partitions = settings.bus.kafka.partitions
        app_id = cfg.faust.app_id
        app = faust.App(
            app_id, loop=loop, GlobalTable=SubscriptionsTable, **faust_options(settings)
        )
        self.app = app
        topics = settings.topics
        self.articles_topic = app.topic(
            topics.articles,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
        )
        self.deadletter_topic = app.topic(
            topics.deadletter, key_serializer="raw", value_serializer="raw"
        )
        subscriptions_topic = app.topic(
            topics.subscriptions,
            key_type=str,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=1,
            compacting=True,
        )
        self.subscriptions: SubscriptionsTable = app.GlobalTable(  # type: ignore[assignment]
            "subscriptions",
            key_type=str,
            value_type=bytes,
            changelog_topic=subscriptions_topic,
            partitions=1,
            synchronize_all_active_partitions=True,
            recovery_buffer_size=1,
            help="news.subscriptions, every partition on every replica",
        )
        self.subscriptions.on_record = self._on_subscription_record
        self.dedupe = app.Table(
            "alert-dedupe",
            key_type=str,
            value_type=float,
            partitions=partitions,
            help="(subscription, article) pairs alerted, with the time",
        )
        self.spike_hits_topic = app.topic(
            f"{app_id}-spike-hits",
            key_type=str,
            value_type=SpikeHit,
            partitions=partitions,
            internal=True,
        )
        self.limited_hits_topic = app.topic(
            f"{app_id}-limited-hits",
            key_type=str,
            value_type=LimitedHit,
            partitions=partitions,
            internal=True,
        )
        self.limited_seen = app.Table(
            "limited-seen", key_type=str, value_type=float, partitions=partitions
        )
        bucket = cfg.faust.spike_bucket_s
        self.bucket_s = float(bucket)
        self.spike_counts = (
            app.Table("spike-counts", default=int, partitions=partitions)
            .tumbling(bucket, expires=MAX_SPIKE_WINDOW + dt.timedelta(seconds=bucket))
            .relative_to_field(SpikeHit.ts)  # type: ignore[arg-type]
        )
        self._spike_counts_now = self.spike_counts.relative_to_now()
        self.spike_seen = app.Table(
            "spike-seen", key_type=str, value_type=float, partitions=partitions
        )
        self.spike_state = app.Table(
            "spike-state", key_type=str, value_type=dict, partitions=partitions
        )

        app.transport.Consumer = type(  # type: ignore[misc]
            "AlerterConsumer",
            (FromTheStartConsumer,),
            {
                "stream_topics": frozenset(
                    {topics.articles, f"{app_id}-spike-hits", f"{app_id}-limited-hits"}
                )
            },
        )
        app.agent(self.articles_topic, name="match_articles")(self._match_articles)
        app.agent(self.spike_hits_topic, name="count_spikes")(self._count_spikes)
        app.agent(self.limited_hits_topic, name="record_limited")(self._record_limited)
        app.timer(1.0, name="alerter_periodic")(self._periodic)

    # -- lifecycle (outside the event loop) -----------------------------------------------------

    def open(self) -> AlerterApp:
        """Open the replica's state file, seed the configured subscriptions, start deliveries."""
        if self.db is not None:
            return self
        settings = self.settings
        self.db = StateDB(settings.data_path(settings.alerter.state_path))
        store = open_store(settings, self.db)
        self.view.store = store
        seeded = store.seed(settings.subscriptions)
        if seeded:
            log.info("seeded and published %d subscription(s)", len(seeded))
        self.recorder = AlertRecorder(
            self.db, alerts_topic=settings.topics.alerts, clock=self.clock
        )
        factory = self._producer_factory
        if factory is None:
            from newswatch.bus import open_bus

            bus = open_bus(settings)
            factory = bus.producer
        self.worker = DeliveryWorker(settings, self.db, store, factory, clock=self.clock)
        self.worker.start()
        return self

    def close(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        store = self.view.store
        if store is not None and store.on_change is not None:
            close = getattr(store.on_change, "close", None)
            if close is not None:
                close()
        if self.db is not None:
            self.db.close()
            self.db = None

    def _ready(self) -> tuple[AlertRecorder, DeliveryWorker]:
        if self.recorder is None or self.worker is None:
            raise RuntimeError("AlerterApp.open() was not called")
        return self.recorder, self.worker

    # -- subscriptions --------------------------------------------------------------------------

    def _on_subscription_record(self, key: Any, value: bytes | None) -> None:
        self.view.apply(key, value)
        SUBSCRIPTIONS.set(len(self.view.all()))

    def reconcile(self) -> int:
        """Publish local subscriptions the topic has never carried (a publication that failed);
        how many were published."""
        store = self.view.store
        if store is None or store.on_change is None:
            return 0
        missing = self.view.unpublished(store.all())
        for sub in missing:
            log.info("subscription %s was never published; publishing it", sub.id)
            store.on_change(sub.id, sub)
        return len(missing)

    # -- news.articles --------------------------------------------------------------------------

    async def _match_articles(self, stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            MESSAGES_CONSUMED.labels("alerter", message.topic).inc()
            await self.handle_article(
                message.value,
                key=message.key,
                where=(message.topic, message.partition, message.offset),
            )

    async def handle_article(
        self, raw: bytes, *, key: bytes | None, where: tuple[str, int, int]
    ) -> RecordStats | None:
        """Match one ``news.articles`` message and record what is new (inside a stream event)."""
        recorder, worker = self._ready()
        self.last_activity = time.monotonic()
        self.articles_seen += 1
        try:
            article = decode(Article, raw)
        except ContractError as exc:
            await self._dead_letter(raw, key, where, str(exc))
            return None
        found = self.view.index().match(article)
        if not found:
            return None
        MATCHES.inc(len(found))
        plain: list[Match] = []
        for match in found:
            sub = match.subscription
            if sub.spike is not None:
                await self._send_hit(article, match)
                continue
            pair = dedupe_key(sub.id, article.article_id)
            if pair in self.dedupe:
                continue
            if is_limited(sub):
                await self.limited_hits_topic.send(
                    key=sub.id, value=limited_hit(article, match, self.clock())
                )
                self.dedupe[pair] = self.clock()
            else:
                plain.append(match)
        if not plain:
            return None
        stats = recorder.record([(article, plain)])
        now = self.clock()
        for match in plain:
            self.dedupe[dedupe_key(match.subscription.id, article.article_id)] = now
        _count(stats)
        if stats.deliveries:
            worker.wake()
        return stats

    async def _send_hit(self, article: Article, match: Match) -> None:
        sub = match.subscription
        item = build_alert_article(alert_id(sub.id, article.article_id), article, match)
        hit = SpikeHit(
            subscription_id=sub.id,
            article_id=article.article_id,
            ts=spikes.hit_time(article.published_at or article.discovered_at, self.clock()),
            payload=item.model_dump_json(),
        )
        await self.spike_hits_topic.send(key=sub.id, value=hit)

    async def _dead_letter(
        self, raw: bytes, key: bytes | None, where: tuple[str, int, int], error: str
    ) -> None:
        topic, partition, offset = where
        record = DeadLetter(
            stage="alerter",
            error_kind="contract",
            error_message=error[:2000],
            original_topic=topic,
            original_partition=partition,
            original_offset=offset,
            original_key=None if key is None else key.decode("utf-8", "replace"),
            original_payload=raw.decode("utf-8", "backslashreplace")[:1_000_000],
        )
        await self.deadletter_topic.send(key=record.original_key, value=encode(record))
        DEADLETTERS.labels("alerter", "contract").inc()
        log.warning("dead-lettered %s[%d]@%d: contract: %s", topic, partition, offset, error[:300])

    # -- spike rules ----------------------------------------------------------------------------

    async def _count_spikes(self, stream: Any) -> None:
        async for hit in stream:
            self.handle_hit(hit)

    def handle_hit(self, hit: SpikeHit) -> RecordStats | None:
        """Count one hit of a spike rule (inside a stream event of ``A-spike-hits``)."""
        recorder, worker = self._ready()
        sub = self.view.get(hit.subscription_id)
        if sub is None or sub.spike is None:
            return None
        now = self.clock()
        window_s = sub.spike.window_minutes * 60.0
        if hit.ts < now - window_s:
            return None
        seen = dedupe_key(sub.id, hit.article_id)
        if seen in self.spike_seen:
            return None
        self.spike_seen[seen] = hit.ts
        counts = self._spike_counts_now[sub.id]
        before = window_total(lambda d: int(counts.delta(d)), window_s, self.bucket_s)
        self.spike_counts[sub.id] += 1
        state = SpikeState.from_json(self.spike_state.get(sub.id))
        crossing = state.hit(
            subscription_id=sub.id,
            threshold=sub.spike.threshold,
            window_s=window_s,
            count_before=before,
            ts=hit.ts,
            article_id=hit.article_id,
            payload=hit.payload,
            now=now,
        )
        self.spike_state[sub.id] = state.to_json()
        if crossing is None:
            return None
        log.info("spike rule %s fired (%d hits in %.0f min)", sub.id, crossing.count, window_s / 60)
        stats = recorder.record_spike(sub, crossing, hit.article_id)
        _count(stats)
        if stats.deliveries:
            worker.wake()
        return stats

    # -- rate-limited and digest subscriptions --------------------------------------------------

    async def _record_limited(self, stream: Any) -> None:
        async for hit in stream:
            self.handle_limited(hit)

    def handle_limited(self, hit: LimitedHit) -> RecordStats | None:
        """Record one match of a rate-limited or digest subscription (inside a stream event of
        ``A-limited-hits``, on the replica owning the subscription's partition)."""
        recorder, worker = self._ready()
        sub = self.view.get(hit.subscription_id)
        if sub is None or sub.spike is not None:
            # Deleted since the match (or made a spike rule); any other change since is
            # recorded as the subscription is now.
            return None
        seen = dedupe_key(hit.subscription_id, hit.article_id)
        if seen in self.limited_seen:
            return None
        item = AlertArticle.model_validate_json(hit.payload)
        stats = recorder.record_item(sub, hit.article_id, item)
        self.limited_seen[seen] = hit.ts
        _count(stats)
        if stats.deliveries:
            worker.wake()
        return stats

    # -- periodic -------------------------------------------------------------------------------

    async def _periodic(self) -> None:
        """Digests that fell due, old outbox rows, subscriptions never published."""
        if self.recorder is None or self.worker is None:
            return
        if self.recorder.flush_digests(self.view.all()):
            self.worker.wake()
        now = time.monotonic()
        if now - self._last_prune >= 3600:
            self._last_prune = now
            self.worker.outbox.prune(time.time() - OUTBOX_RETENTION_S)
        if now - self._last_reconcile >= 10 and self.recovered:
            self._last_reconcile = now
            self.reconcile()

    @property
    def recovered(self) -> bool:
        """Whether the tables have been read back (the worker is processing)."""
        recovery = getattr(self.app.tables, "recovery", None)
        completed = getattr(recovery, "completed", None)
        return bool(completed is not None and completed.is_set())


def _count(stats: RecordStats) -> None:
    ALERTS.labels("immediate").inc(stats.alerts - stats.digested - stats.suppressed)
    ALERTS.labels("digest").inc(stats.digested)
    ALERTS.labels("suppressed").inc(stats.suppressed)
    ALERTS.labels("spike").inc(stats.spikes)
