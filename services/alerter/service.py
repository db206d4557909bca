"""``AlerterService``: the embedded-runtime alerter (``newswatch alerter``; in ``newswatch run``).

Per batch of ``news.articles``:

1. decode (unreadable messages are dead-lettered), match every article against the subscription
   index (rebuilt when the store's version changes — the CLI and the API write the same file);
2. ``AlertRecorder.record``: dedupe records, queued deliveries, spike hits — one SQLite
   transaction, committed **before** the batch's offsets (the runtime commits after
   ``process_batch`` returns);
3. wake the delivery worker, which sends in background threads and logs each attempt to
   ``news.alerts``.

A SIGKILL anywhere in this sequence neither loses nor duplicates an alert: before step 2's
commit, the batch is re-read and recorded then; after it, the re-read batch finds its dedupe
records and the worker resumes the pending deliveries (see ``outbox`` for the one unavoidable
window and the idempotency key that covers it).

The HTTP API (``api``) runs in a thread of the same process when ``alerter.api.enabled``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

from prometheus_client import Counter, Gauge

from newswatch.bus import Message
from newswatch.models.messages import Article
from newswatch.runtime import ConsumerService, ServiceContext
from services.alerter.delivery import DeliveryWorker
from services.alerter.matching import SubscriptionIndex
from services.alerter.recorder import AlertRecorder, RecordStats
from services.alerter.state import StateDB
from services.alerter.subscriptions import Subscription
from services.alerter.sync import open_store

__all__ = ["AlerterService"]

log = logging.getLogger(__name__)

MATCHES = Counter("newswatch_alerter_matches_total", "Subscription matches (before dedupe)")
ALERTS = Counter("newswatch_alerter_alerts_total", "New alerts by disposition", ["disposition"])
#: Finished outbox rows (delivered, failed…) are kept this long for inspection. Dedupe records
#: (``alerts``) are kept for good: they are what makes an alert once-ever.
OUTBOX_RETENTION_S = 7 * 24 * 3600.0

SUBSCRIPTIONS = Gauge("newswatch_alerter_subscriptions", "Enabled subscriptions indexed")


class AlerterService(ConsumerService):
    name = "alerter"
    group = "alerter"

    def __init__(self, ctx: ServiceContext, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(ctx)
        cfg = self.settings.alerter
        self.batch_size = cfg.batch_size
        self.clock = clock
        self.db = StateDB(self.settings.data_path(cfg.state_path))
        self.store = open_store(self.settings, self.db)
        seeded = self.store.seed(self.settings.subscriptions)
        if seeded:
            log.info("seeded %d subscription(s) from the configuration", len(seeded))
        self.recorder = AlertRecorder(
            self.db, alerts_topic=self.settings.topics.alerts, clock=clock
        )
        self.worker = DeliveryWorker(
            self.settings, self.db, self.store, ctx.bus.producer, clock=clock
        )
        self._index = SubscriptionIndex()
        self._subs: list[Subscription] = []
        self._version = -1
        self._last_periodic = 0.0
        self._last_prune = float("-inf")
        self._api_server: object | None = None
        self._api_thread: threading.Thread | None = None
        self.api_url: str | None = None

    @property
    def input_topics(self) -> Sequence[str]:
        return [self.settings.topics.articles]

    # -- subscriptions --------------------------------------------------------------------------

    def refresh(self) -> SubscriptionIndex:
        """Rebuild the index if the store changed since the last look."""
        version = self.store.version()
        if version != self._version:
            self._subs = self.store.all()
            self._index = SubscriptionIndex.build(self._subs)
            self._version = version
            SUBSCRIPTIONS.set(len(self._index))
            for sub_id, error in self._index.errors.items():
                log.error("subscription %s left out: %s", sub_id, error)
            log.info("indexed %d subscription(s) (version %d)", len(self._index), version)
        return self._index

    # -- the batch ------------------------------------------------------------------------------

    def process_batch(self, messages: list[Message]) -> None:
        """Match each article and record its alerts at once (one small transaction per matching
        article, so the first alert of a large batch does not wait for the last article). Every
        record is committed before ``process_batch`` returns, i.e. before the offsets."""
        index = self.refresh()
        for message in messages:
            article = self.decode_or_deadletter(Article, message)
            if article is None:
                continue
            found = index.match(article)
            if not found:
                continue
            MATCHES.inc(len(found))
            stats = self.recorder.record([(article, found)])
            self._count(stats)
            if stats.deliveries:
                self.worker.wake()
        self._periodic()

    def _count(self, stats: RecordStats) -> None:
        ALERTS.labels("immediate").inc(stats.alerts - stats.digested - stats.suppressed)
        ALERTS.labels("digest").inc(stats.digested)
        ALERTS.labels("suppressed").inc(stats.suppressed)
        ALERTS.labels("spike").inc(stats.spikes)

    def _periodic(self) -> None:
        """Digests that fell due and spike rules to re-arm (at most once a second)."""
        now = time.monotonic()
        if now - self._last_periodic < 1.0:
            return
        self._last_periodic = now
        if self.recorder.flush_digests(self._subs):
            self.worker.wake()
        self.recorder.rearm_spikes(self._subs)
        if now - self._last_prune >= 3600:
            self._last_prune = now
            removed = self.worker.outbox.prune(time.time() - OUTBOX_RETENTION_S)
            if removed:
                log.info("pruned %d finished deliveries older than 7 days", removed)

    def on_idle(self) -> None:
        self.refresh()
        self._periodic()

    # -- lifecycle ------------------------------------------------------------------------------

    def run(self, *, once: bool = False) -> None:
        self.refresh()
        if self.settings.alerter.api.enabled and not once:
            self.start_api()
        if not once:
            self.worker.start()
        try:
            super().run(once=once)
            if once:
                self._periodic()
                self.worker.drain()
        finally:
            self.worker.stop()
            self.stop_api()
            self.db.close()

    def start_api(self) -> str:
        """Serve the HTTP API in a thread; returns its base URL."""
        from services.alerter.api import serve_in_thread

        server, thread, url = serve_in_thread(self.settings, self.db)
        self._api_server, self._api_thread, self.api_url = server, thread, url
        log.info("alerter API at %s (OpenAPI at %s/docs)", url, url)
        return url

    def stop_api(self) -> None:
        if self._api_server is not None:
            self._api_server.should_exit = True  # type: ignore[attr-defined]
            if self._api_thread is not None:
                self._api_thread.join(10)
            self._api_server = None

    def health(self) -> tuple[bool, str]:
        ok, detail = super().health()
        counts = self.worker.outbox.counts()
        return ok, f"{detail}; subscriptions {len(self._index)}; outbox {counts}"
