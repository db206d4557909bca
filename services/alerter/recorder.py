"""From matches to durable work: dedupe records, queued deliveries, digests and spike hits.

``AlertRecorder.record`` runs in *one* SQLite transaction per batch, and the consumer commits the
batch's bus offsets only after it returns (see ``service``). For each (subscription, article)
match not seen before, it decides what happens:

* the subscription is in a mute window → ``muted``: logged as ``suppressed`` (or, with
  ``mute_action: defer``, queued for the end of the window);
* ``mode: digest`` → ``digest``: kept until the digest is due (``flush_digests``);
* over its ``rate_limit`` → ``rate_limited``: logged as ``suppressed``;
* otherwise → ``immediate``: one outbox row per channel target.

Spike subscriptions record hits instead (``spikes``); a crossing queues one spike alert.

Plain Python over the state file: the embedded service and the distributed runtime share it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from newswatch.models.messages import AlertDelivery, Article, encode
from services.alerter import spikes
from services.alerter.dedupe import DedupeStore, alert_id, delivery_id
from services.alerter.matching import Match
from services.alerter.outbox import Outbox
from services.alerter.payload import (
    AlertArticle,
    SpikeInfo,
    SubscriptionRef,
    WebhookAlert,
    build_alert_article,
)
from services.alerter.state import StateDB
from services.alerter.subscriptions import Subscription

__all__ = ["AlertRecorder", "RecordStats"]

Clock = Callable[[], float]


@dataclass
class RecordStats:
    alerts: int = 0
    duplicates: int = 0
    deliveries: int = 0
    suppressed: int = 0
    digested: int = 0
    spike_hits: int = 0
    spikes: int = 0

    def add(self, other: RecordStats) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def _utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


class AlertRecorder:
    def __init__(self, db: StateDB, *, alerts_topic: str, clock: Clock) -> None:
        self.db = db
        self.alerts_topic = alerts_topic
        self.clock = clock

    # -- helpers --------------------------------------------------------------------------------

    def _queue(
        self,
        conn: sqlite3.Connection,
        sub: Subscription,
        *,
        kind: str,
        group_id: str,
        items: Sequence[AlertArticle],
        now: float,
        spike: SpikeInfo | None = None,
        not_before: float | None = None,
    ) -> int:
        """One outbox row per target of ``sub`` for the alert/digest/spike ``group_id``."""
        queued = 0
        for channel, target in sub.channels.targets():
            did = delivery_id(group_id, channel, target)
            payload = WebhookAlert(
                delivery_id=did,
                kind=kind,
                subscription=SubscriptionRef(id=sub.id, name=sub.name),
                created_at=_utc(now),
                alerts=list(items),
                spike=spike,
            )
            queued += Outbox.enqueue(
                conn,
                delivery_id=did,
                alert_id=group_id,
                subscription_id=sub.id,
                article_ids=[i.article_id for i in items],
                alert_ids=[i.alert_id for i in items],
                kind=kind,
                channel=channel,
                target=target,
                payload=payload.body().decode("utf-8"),
                now=now,
                not_before=not_before,
            )
        return queued

    def _suppressed(
        self,
        conn: sqlite3.Connection,
        sub: Subscription,
        aid: str,
        article_id: str,
        why: str,
        now: float,
    ) -> int:
        for channel, target in sub.channels.targets():
            record = AlertDelivery(
                alert_id=aid,
                subscription_id=sub.id,
                article_id=article_id,
                channel=channel,
                target=target,
                status="suppressed",
                attempts=1,
                created_at=_utc(now),
                error=why,
                digest=sub.mode == "digest",
            )
            Outbox.emit(conn, self.alerts_topic, article_id, encode(record))
        return 1

    # -- per batch ------------------------------------------------------------------------------

    def record(self, matched: Iterable[tuple[Article, Sequence[Match]]]) -> RecordStats:
        """Record one batch's matches in one transaction (commit before the bus offsets)."""
        stats = RecordStats()
        now = self.clock()
        moment = _utc(now)
        with self.db.transaction() as conn:
            for article, matches in matched:
                for match in matches:
                    sub = match.subscription
                    if sub.spike is not None:
                        self._spike(conn, sub, article, match, now, stats)
                        continue
                    self._one(conn, sub, article, match, now, moment, stats)
        return stats

    def record_item(self, sub: Subscription, article_id: str, item: AlertArticle) -> RecordStats:
        """Record one prepared match of ``sub`` in its own transaction: the faust app's
        ``record_limited``, which records rate-limited and digest subscriptions on the one
        replica that owns the subscription (the item was built where the article was read)."""
        stats = RecordStats()
        now = self.clock()
        with self.db.transaction() as conn:
            if not self._seen(conn, sub.id, article_id, stats):
                self._dispose(conn, sub, article_id, item, now, _utc(now), stats)
        return stats

    def _one(
        self,
        conn: sqlite3.Connection,
        sub: Subscription,
        article: Article,
        match: Match,
        now: float,
        moment: dt.datetime,
        stats: RecordStats,
    ) -> None:
        if self._seen(conn, sub.id, article.article_id, stats):
            return
        item = build_alert_article(alert_id(sub.id, article.article_id), article, match)
        self._dispose(conn, sub, article.article_id, item, now, moment, stats)

    @staticmethod
    def _seen(
        conn: sqlite3.Connection, subscription_id: str, article_id: str, stats: RecordStats
    ) -> bool:
        seen = conn.execute(
            "SELECT 1 FROM alerts WHERE subscription_id = ? AND article_id = ?",
            (subscription_id, article_id),
        ).fetchone()
        if seen:
            stats.duplicates += 1
        return bool(seen)

    def _dispose(
        self,
        conn: sqlite3.Connection,
        sub: Subscription,
        article_id: str,
        item: AlertArticle,
        now: float,
        moment: dt.datetime,
        stats: RecordStats,
    ) -> None:
        """Decide what happens to one new match (muted, digest, rate limited, immediate) and
        write it: the dedupe record, then outbox rows or a ``suppressed`` log record."""
        mute_end = sub.mute_end(moment)
        not_before = None
        if mute_end is not None and sub.mute_action == "suppress":
            disposition = "muted"
        elif sub.mode == "digest":
            disposition = "digest"
        elif sub.rate_limit is not None and (
            DedupeStore.recent_count(
                conn, sub.id, now - sub.rate_limit.per_minutes * 60, ("immediate",)
            )
            >= sub.rate_limit.max_alerts
        ):
            disposition = "rate_limited"
        else:
            disposition = "immediate"
            not_before = None if mute_end is None else mute_end.timestamp()
        aid = item.alert_id
        DedupeStore.claim(
            conn,
            subscription_id=sub.id,
            article_id=article_id,
            disposition=disposition,
            payload=item.model_dump_json(),
            now=now,
        )
        stats.alerts += 1
        if disposition == "immediate":
            stats.deliveries += self._queue(
                conn,
                sub,
                kind="alert",
                group_id=aid,
                items=[item],
                now=now,
                not_before=not_before,
            )
        elif disposition == "digest":
            stats.digested += 1
        else:
            why = "muted" if disposition == "muted" else "rate limited"
            stats.suppressed += self._suppressed(conn, sub, aid, article_id, why, now)

    def _spike(
        self,
        conn: sqlite3.Connection,
        sub: Subscription,
        article: Article,
        match: Match,
        now: float,
        stats: RecordStats,
    ) -> None:
        assert sub.spike is not None
        aid = alert_id(sub.id, article.article_id)
        item = build_alert_article(aid, article, match)
        crossing = spikes.record_hit(
            conn,
            sub,
            article.article_id,
            article.published_at or article.discovered_at,
            item.model_dump_json(),
            now,
        )
        stats.spike_hits += 1
        if crossing is not None:
            self._queue_spike(conn, sub, crossing, article.article_id, now, stats)

    def record_spike(
        self, sub: Subscription, crossing: spikes.SpikeCrossing, article_id: str
    ) -> RecordStats:
        """Queue the alert of a spike rule that fired (counted elsewhere: the faust app's
        windowed table); ``article_id`` is the hit that made it fire."""
        stats = RecordStats()
        with self.db.transaction() as conn:
            self._queue_spike(conn, sub, crossing, article_id, self.clock(), stats)
        return stats

    def _queue_spike(
        self,
        conn: sqlite3.Connection,
        sub: Subscription,
        crossing: spikes.SpikeCrossing,
        article_id: str,
        now: float,
        stats: RecordStats,
    ) -> None:
        assert sub.spike is not None
        group_id = spikes.spike_alert_id(sub.id, crossing.crossing)
        items = [AlertArticle.model_validate_json(p) for _, p in crossing.hits[-20:]]
        info = SpikeInfo(
            threshold=sub.spike.threshold,
            window_minutes=sub.spike.window_minutes,
            count=crossing.count,
            window_start=_utc(crossing.window_start),
            window_end=_utc(crossing.window_end),
            article_ids=[a for a, _ in crossing.hits],
        )
        # The spike alert goes out even in a mute window when deferred; suppressed otherwise.
        mute_end = sub.mute_end(_utc(now))
        if mute_end is not None and sub.mute_action == "suppress":
            stats.suppressed += self._suppressed(conn, sub, group_id, article_id, "muted", now)
            return
        stats.spikes += 1
        stats.deliveries += self._queue(
            conn,
            sub,
            kind="spike",
            group_id=group_id,
            items=items,
            now=now,
            spike=info,
            not_before=None if mute_end is None else mute_end.timestamp(),
        )

    # -- periodic -------------------------------------------------------------------------------

    def flush_digests(self, subs: Iterable[Subscription]) -> int:
        """Queue the digests that are due; returns how many were queued. A digest subscription
        with nothing pending only moves its clock."""
        now = self.clock()
        moment = _utc(now)
        digest_subs = {s.id: s for s in subs if s.mode == "digest" and s.enabled}
        if not digest_subs:
            return 0
        queued = 0
        with self.db.transaction() as conn:
            last = {
                str(sid): float(ts)
                for sid, ts in conn.execute("SELECT subscription_id, last_flush_at FROM digests")
            }
            for sid in digest_subs.keys() - last.keys():
                conn.execute(
                    "INSERT INTO digests (subscription_id, last_flush_at) VALUES (?, ?)", (sid, now)
                )
            pending = [
                str(sid)
                for (sid,) in conn.execute(
                    "SELECT DISTINCT subscription_id FROM alerts "
                    "WHERE disposition = 'digest' AND digest_id IS NULL"
                )
            ]
            for sid in pending:
                sub = digest_subs.get(sid)
                if sub is None or sid not in last:
                    continue
                if now - last[sid] < sub.digest_every_minutes * 60:
                    continue
                if sub.mute_end(moment) is not None:
                    continue
                rows = conn.execute(
                    "SELECT alert_id, payload FROM alerts WHERE subscription_id = ? "
                    "AND disposition = 'digest' AND digest_id IS NULL ORDER BY created_at",
                    (sid,),
                ).fetchall()
                items = [AlertArticle.model_validate_json(p) for _, p in rows]
                ids = sorted(str(a) for a, _ in rows)
                digest_id = hashlib.sha256(
                    (sid + "\x00digest\x00" + ",".join(ids)).encode()
                ).hexdigest()[:32]
                self._queue(conn, sub, kind="digest", group_id=digest_id, items=items, now=now)
                conn.executemany(
                    "UPDATE alerts SET digest_id = ? WHERE subscription_id = ? AND alert_id = ?",
                    [(digest_id, sid, a) for a in ids],
                )
                conn.execute(
                    "UPDATE digests SET last_flush_at = ? WHERE subscription_id = ?", (now, sid)
                )
                queued += 1
            # Subscriptions with nothing pending restart their period now.
            for sid, sub in digest_subs.items():
                if (
                    sid not in pending
                    and sid in last
                    and (now - last[sid] >= sub.digest_every_minutes * 60)
                ):
                    conn.execute(
                        "UPDATE digests SET last_flush_at = ? WHERE subscription_id = ?",
                        (now, sid),
                    )
        return queued

    def rearm_spikes(self, subs: Sequence[Subscription]) -> list[str]:
        if not any(s.spike is not None for s in subs):
            return []
        with self.db.transaction() as conn:
            return spikes.rearm(conn, list(subs), self.clock())


def payload_article_ids(payload: str) -> list[str]:
    return [a["article_id"] for a in json.loads(payload).get("alerts", [])]
