"""The delivery worker: drains the outbox with a pool of threads, retries with backoff.

One dispatcher thread claims due rows (``next_attempt_at <= now``, unclaimed) and hands each to a
sender thread; at most ``per_target_concurrency`` requests go to one target at a time, so one
slow receiver cannot take every thread. An attempt's outcome is written in one transaction with
its delivery-log record (``AlertDelivery`` → ``news.alerts``) and, when the delivery is given
up, its dead letter; the dispatcher publishes those records and deletes them once the bus has
them (at-least-once).

Outcomes per attempt: ``delivered``; ``retrying`` (timeout, connection error, 5xx, 429, SMTP 4xx:
the row is rescheduled after ``backoff_delay`` and the thread moves on); ``deadlettered`` (the
attempts are exhausted); ``failed`` (not worth retrying: another 4xx, an SMTP 5xx, an unsafe URL);
``suppressed`` (the subscription or the target was removed meanwhile).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from prometheus_client import Counter as PromCounter

from newswatch.bus import Producer
from newswatch.models.messages import AlertDelivery, DeadLetter, encode, utcnow
from newswatch.settings import Settings
from services.alerter.channels.email import EmailSender, render_email
from services.alerter.channels.retry import backoff_delay
from services.alerter.channels.webhook import WebhookSender
from services.alerter.errors import DeliveryError
from services.alerter.outbox import Outbox, OutboxRow, WorkerRegistry
from services.alerter.payload import WebhookAlert
from services.alerter.state import StateDB
from services.alerter.subscriptions import Subscription, SubscriptionStore
from services.alerter.tokens import unsubscribe_url

__all__ = ["DELIVERIES", "DeliveryWorker"]

log = logging.getLogger(__name__)

DELIVERIES = PromCounter(
    "newswatch_alerter_deliveries_total",
    "Delivery attempts by channel and outcome",
    ["channel", "status"],
)

Clock = Callable[[], float]


class DeliveryWorker:
    """Sends queued deliveries. ``start()`` runs it in background threads; ``drain()`` sends what
    is due in the calling thread's control (for ``--once`` and tests)."""

    def __init__(
        self,
        settings: Settings,
        db: StateDB,
        store: SubscriptionStore,
        producer_factory: Callable[[], Producer],
        *,
        webhook: WebhookSender | None = None,
        email: EmailSender | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.settings = settings
        self.cfg = settings.alerter
        self.db = db
        self.outbox = Outbox(db)
        self.store = store
        self.registry = WorkerRegistry(db, lease_s=self.cfg.worker_lease_s)
        self.webhook = webhook or WebhookSender(self.cfg.webhook)
        self.email = email or EmailSender(self.cfg.smtp)
        self.clock = clock
        self._producer_factory = producer_factory
        self._producer: Producer | None = None
        self._publish_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(
            max_workers=self.cfg.delivery_concurrency, thread_name_prefix="alerter-send"
        )
        self._inflight: Counter[str] = Counter()
        self._inflight_lock = threading.Lock()
        self._idle = threading.Condition(self._inflight_lock)
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._subs: dict[str, Subscription] = {}
        self._subs_version = -1
        self._registered = False

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> DeliveryWorker:
        self._register()
        self._thread = threading.Thread(target=self._loop, name="alerter-delivery", daemon=True)
        self._thread.start()
        return self

    def _register(self) -> None:
        if not self._registered:
            self.registry.register()
            self._registered = True

    def wake(self) -> None:
        """New rows were queued: look now rather than at the next tick."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the attempts in flight, publish their log records, release claims."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True)
        self.publish_records()
        if self._registered:
            self.registry.unregister()
            self._registered = False
        if self._producer is not None:
            self._producer.close()
            self._producer = None
        self.webhook.close()

    # -- the loop -------------------------------------------------------------------------------

    def _loop(self) -> None:
        last_beat = 0.0
        last_reap = 0.0
        while not self._stop.is_set():
            # Cleared before looking, so a wake-up that arrives meanwhile is not lost.
            self._wake.clear()
            started = 0
            try:
                now = time.time()
                if now - last_beat >= 2.0:
                    self.registry.heartbeat()
                    last_beat = now
                if now - last_reap >= 5.0:
                    self.registry.reap()
                    last_reap = now
                self.publish_records()
                started = self.dispatch()
            except Exception:
                log.exception("delivery loop error; continuing")
                self._stop.wait(1.0)
            delay = self._sleep_s()
            if started == 0 and delay <= 0:
                # Rows are due but their targets are busy (per_target_concurrency) or every
                # thread is: wait for a send to finish (it wakes us) rather than spin.
                delay = 0.5
            self._wake.wait(delay)

    def _sleep_s(self) -> float:
        due = self.outbox.next_due()
        if due is None:
            return 0.5
        return max(0.0, min(0.5, due - self.clock()))

    def _free_slots(self) -> int:
        with self._inflight_lock:
            return self.cfg.delivery_concurrency - sum(self._inflight.values())

    @staticmethod
    def _target_key(row: OutboxRow) -> str:
        if row.channel == "webhook":
            return "webhook:" + (urlsplit(row.target).netloc or row.target)
        return "email:" + row.target

    def dispatch(self) -> int:
        """Claim due rows up to the free slots and start sending them; how many were started."""
        free = self._free_slots()
        if free <= 0:
            return 0
        limit = self.cfg.per_target_concurrency

        chosen: Counter[str] = Counter()

        def busy(row: OutboxRow) -> bool:
            key = self._target_key(row)
            with self._inflight_lock:
                if self._inflight[key] + chosen[key] >= limit:
                    return True
            chosen[key] += 1
            return False

        rows = self.outbox.claim(self.registry.worker_id, self.clock(), free, skip=busy)
        for row in rows:
            key = self._target_key(row)
            with self._inflight_lock:
                self._inflight[key] += 1
            self._pool.submit(self._run, row, key)
        return len(rows)

    def _run(self, row: OutboxRow, key: str) -> None:
        try:
            self.attempt(row)
        except Exception:
            log.exception("delivery %s: unexpected error", row.delivery_id)
        finally:
            with self._inflight_lock:
                self._inflight[key] -= 1
                if self._inflight[key] <= 0:
                    del self._inflight[key]
                self._idle.notify_all()
            self._wake.set()

    def drain(self, *, timeout: float = 60.0, retries_within_s: float = 0.0) -> None:
        """Send everything due now, waiting for the attempts to finish; also retries that fall
        due within ``retries_within_s``. For ``--once`` runs and tests."""
        self._register()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.dispatch()
            with self._inflight_lock:
                while self._inflight and time.monotonic() < deadline:
                    self._idle.wait(0.2)
            self.publish_records()
            due = self.outbox.next_due()
            if due is None or due > self.clock() + retries_within_s:
                break
            time.sleep(max(0.0, min(0.5, due - self.clock())))
        self.publish_records()

    # -- one attempt ----------------------------------------------------------------------------

    def _subscription(self, sub_id: str) -> Subscription | None:
        version = self.store.version()
        if version != self._subs_version:
            self._subs = {s.id: s for s in self.store.all()}
            self._subs_version = version
        return self._subs.get(sub_id)

    def _send(self, row: OutboxRow, sub: Subscription) -> None:
        if row.channel == "webhook":
            hook = sub.channels.webhook(row.target)
            assert hook is not None
            self.webhook.send(
                row.target,
                hook.secret,
                row.payload.encode("utf-8"),
                delivery_id=row.delivery_id,
                kind=row.kind,
            )
            return
        payload = WebhookAlert.model_validate_json(row.payload)
        link = unsubscribe_url(
            self.cfg.api.public_url,
            self.cfg.secret_key.get_secret_value(),
            sub.id,
            row.target,
        )
        message = render_email(
            payload, to=row.target, sender=self.cfg.smtp.sender, unsubscribe_url=link
        )
        self.email.send(message)

    def _max_attempts(self, channel: str) -> int:
        return self.cfg.webhook.max_attempts if channel == "webhook" else self.cfg.smtp.max_attempts

    def attempt(self, row: OutboxRow) -> str:
        """Try one delivery and record the outcome; returns the status logged."""
        sub = self._subscription(row.subscription_id)
        attempts = row.attempts + 1
        if sub is None or (row.channel, row.target) not in sub.channels.targets():
            why = "subscription removed" if sub is None else "target removed from subscription"
            return self._record(row, "suppressed", attempts, "cancelled", error=why)
        try:
            self._send(row, sub)
        except DeliveryError as exc:
            error = f"{exc.kind}: {exc}"
            if exc.retryable and attempts < self._max_attempts(row.channel):
                delay = backoff_delay(
                    attempts,
                    base_s=self.cfg.webhook.backoff_base_s,
                    cap_s=self.cfg.webhook.backoff_max_s,
                    retry_after_s=exc.retry_after_s,
                )
                log.info(
                    "delivery %s to %s failed (attempt %d): %s; retry in %.1fs",
                    row.delivery_id,
                    row.target,
                    attempts,
                    error,
                    delay,
                )
                return self._record(
                    row,
                    "retrying",
                    attempts,
                    "pending",
                    error=error,
                    next_attempt_at=self.clock() + delay,
                )
            status = "deadlettered" if exc.retryable else "failed"
            log.warning(
                "delivery %s to %s %s after %d attempt(s): %s",
                row.delivery_id,
                row.target,
                status,
                attempts,
                error,
            )
            return self._record(row, status, attempts, status, error=error, kind=exc.kind)
        return self._record(row, "delivered", attempts, "delivered")

    def _record(
        self,
        row: OutboxRow,
        status: str,
        attempts: int,
        row_status: str,
        *,
        error: str | None = None,
        next_attempt_at: float | None = None,
        kind: str | None = None,
    ) -> str:
        now = self.clock()
        topics = self.settings.topics
        with self.db.transaction() as conn:
            Outbox.finish(
                conn,
                row.delivery_id,
                status=row_status,
                attempts=attempts,
                now=now,
                error=error,
                next_attempt_at=next_attempt_at,
            )
            for alert, article in zip(row.alert_ids, row.article_ids, strict=True):
                record = AlertDelivery(
                    alert_id=alert,
                    subscription_id=row.subscription_id,
                    article_id=article,
                    channel=row.channel,
                    target=row.target,
                    status=status,
                    attempts=attempts,
                    delivered_at=utcnow() if status == "delivered" else None,
                    error=error,
                    digest=row.kind == "digest",
                )
                Outbox.emit(conn, topics.alerts, article, encode(record))
            if status in ("failed", "deadlettered"):
                letter = DeadLetter(
                    stage="alerter",
                    error_kind=f"{row.channel}_{kind or status}",
                    error_message=(error or status)[:2000],
                    original_key=row.delivery_id,
                    original_payload=json.dumps(
                        {
                            "delivery_id": row.delivery_id,
                            "channel": row.channel,
                            "target": row.target,
                            "subscription_id": row.subscription_id,
                            "body": json.loads(row.payload),
                        }
                    ),
                    attempts=attempts,
                )
                Outbox.emit(conn, topics.deadletter, row.delivery_id, encode(letter))
        DELIVERIES.labels(row.channel, status).inc()
        return status

    # -- the bus --------------------------------------------------------------------------------

    def publish_records(self) -> int:
        """Publish queued delivery-log and dead-letter records; delete them once flushed."""
        with self._publish_lock:
            total = 0
            while True:
                records = self.outbox.pending_bus_records()
                if not records:
                    return total
                if self._producer is None:
                    self._producer = self._producer_factory()
                by_topic: dict[str, list[tuple[str | None, bytes]]] = {}
                for _, topic, key, value in records:
                    by_topic.setdefault(topic, []).append((key, value))
                for topic, items in by_topic.items():
                    self._producer.publish_many(topic, items)
                self._producer.flush()
                self.outbox.drop_bus_records([r[0] for r in records])
                total += len(records)
