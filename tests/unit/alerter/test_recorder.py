"""Dedupe, dispositions (mute, rate limit, digest) and spike windows, on a real state file."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from services.alerter.dedupe import alert_id
from services.alerter.matching import SubscriptionIndex
from services.alerter.outbox import Outbox
from services.alerter.payload import AlertArticle, build_alert_article
from services.alerter.recorder import AlertRecorder
from services.alerter.state import StateDB
from services.alerter.subscriptions import Subscription
from tests.unit.alerter.builders import NOW, article, event, subscription


class Clock:
    def __init__(self, start: dt.datetime = NOW) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += minutes * 60


def record(recorder: AlertRecorder, subs: list[Subscription], *articles):
    index = SubscriptionIndex.build(subs)
    return recorder.record([(a, index.match(a)) for a in articles])


def outbox_rows(db: StateDB) -> list[tuple]:
    return db.conn.execute(
        "SELECT subscription_id, kind, channel, target, next_attempt_at FROM outbox "
        "ORDER BY created_at, target"
    ).fetchall()


def bus_records(db: StateDB) -> list[dict]:
    return [json.loads(v) for _, _, _, v in Outbox(db).pending_bus_records()]


def make(tmp_path: Path, clock: Clock | None = None) -> tuple[StateDB, AlertRecorder, Clock]:
    clock = clock or Clock()
    db = StateDB(tmp_path / "alerter.db")
    return db, AlertRecorder(db, alerts_topic="news.alerts", clock=clock), clock


CHANNELS = {"emails": ["a@example.org"], "webhooks": ["https://h.example.org/in"]}


def test_one_alert_per_subscription_and_article_even_across_restarts(tmp_path: Path) -> None:
    db, recorder, clock = make(tmp_path)
    sub = subscription(id="derna", query="derna", channels=CHANNELS)
    art = article()
    stats = record(recorder, [sub], art, art)
    assert (stats.alerts, stats.duplicates, stats.deliveries) == (1, 1, 2)
    db.close()
    # a restart (new connection, new recorder) replays the same article
    db2, recorder2, _ = make(tmp_path, clock)
    stats = record(recorder2, [sub], art)
    assert (stats.alerts, stats.duplicates, stats.deliveries) == (0, 1, 0)
    assert [r[:4] for r in outbox_rows(db2)] == [
        ("derna", "alert", "email", "a@example.org"),
        ("derna", "alert", "webhook", "https://h.example.org/in"),
    ]


def test_rate_limit_suppresses_beyond_the_limit_and_recovers(tmp_path: Path) -> None:
    db, recorder, clock = make(tmp_path)
    sub = subscription(
        id="rl",
        query="derna",
        channels={"emails": ["a@example.org"]},
        rate_limit={"max_alerts": 2, "per_minutes": 60},
    )
    arts = [article(url=f"https://news.example.org/rl{i}") for i in range(4)]
    stats = record(recorder, [sub], *arts[:3])
    assert (stats.alerts, stats.deliveries, stats.suppressed) == (3, 2, 1)
    assert [r["status"] for r in bus_records(db)] == ["suppressed"]
    assert bus_records(db)[0]["error"] == "rate limited"
    clock.advance(61)
    stats = record(recorder, [sub], arts[3])
    assert stats.deliveries == 1


def test_mute_suppresses_or_defers(tmp_path: Path) -> None:
    db, recorder, _clock = make(tmp_path)  # 09:30 UTC
    mute = [{"start": "09:00", "end": "10:00"}]
    quiet = subscription(
        id="quiet", query="derna", channels={"emails": ["a@example.org"]}, mute=mute
    )
    later = subscription(
        id="later",
        query="derna",
        channels={"emails": ["b@example.org"]},
        mute=mute,
        mute_action="defer",
    )
    stats = record(recorder, [quiet, later], article())
    assert stats.suppressed == 1 and stats.deliveries == 1
    rows = outbox_rows(db)
    assert rows[0][0] == "later"
    assert rows[0][4] == NOW.replace(hour=10, minute=0).timestamp()  # held until the window ends
    assert bus_records(db)[0]["subscription_id"] == "quiet"


def test_digest_groups_pending_alerts_when_due(tmp_path: Path) -> None:
    db, recorder, clock = make(tmp_path)
    sub = subscription(
        id="dg",
        query="derna",
        mode="digest",
        digest_every_minutes=30,
        channels={"emails": ["a@example.org"]},
    )
    assert recorder.flush_digests([sub]) == 0  # starts the period
    record(
        recorder,
        [sub],
        article(url="https://news.example.org/d1"),
        article(url="https://news.example.org/d2"),
    )
    assert outbox_rows(db) == []
    clock.advance(10)
    assert recorder.flush_digests([sub]) == 0
    clock.advance(21)
    assert recorder.flush_digests([sub]) == 1
    (payload,) = [json.loads(p) for (p,) in db.conn.execute("SELECT payload FROM outbox")]
    assert payload["kind"] == "digest" and len(payload["alerts"]) == 2
    clock.advance(31)
    assert recorder.flush_digests([sub]) == 0  # nothing new


def test_spike_fires_once_when_crossed_and_survives_restart(tmp_path: Path) -> None:
    db, recorder, clock = make(tmp_path)
    sub = subscription(
        id="spike",
        event_types=["Explosions/Remote violence"],
        regions={"countries": ["LY"]},
        spike={"threshold": 3, "window_minutes": 60},
        channels={"webhooks": ["https://h.example.org"]},
    )

    def art(i: int):
        return article(
            url=f"https://news.example.org/s{i}",
            events=[event()],
            published_at=dt.datetime.fromtimestamp(clock.now, dt.UTC),
        )

    stats = record(recorder, [sub], art(1), art(2))
    assert stats.spike_hits == 2 and stats.spikes == 0
    db.close()
    db, recorder, _ = make(tmp_path, clock)  # restart: the window is on disk
    clock.advance(5)
    stats = record(recorder, [sub], art(2), art(3))  # art(2) replayed: not counted twice
    assert stats.spikes == 0
    clock.advance(5)
    stats = record(recorder, [sub], art(4))
    assert stats.spikes == 1
    payload = json.loads(db.conn.execute("SELECT payload FROM outbox").fetchone()[0])
    assert payload["kind"] == "spike" and payload["spike"]["count"] == 4
    stats = record(recorder, [sub], art(5), art(6))
    assert stats.spikes == 0  # still above: no second alert
    clock.advance(61)
    assert recorder.rearm_spikes([sub]) == ["spike"]
    stats = record(recorder, [sub], *(art(i) for i in range(10, 14)))
    assert stats.spikes == 1  # crossed again after re-arming


def test_old_articles_do_not_count_towards_a_spike(tmp_path: Path) -> None:
    _db, recorder, _clock = make(tmp_path)
    sub = subscription(
        id="sp",
        query="derna",
        spike={"threshold": 1, "window_minutes": 30},
        channels={"emails": ["a@example.org"]},
    )
    old = NOW - dt.timedelta(hours=2)
    stats = record(
        recorder,
        [sub],
        *(article(url=f"https://n.example.org/o{i}", published_at=old) for i in range(3)),
    )
    assert stats.spike_hits == 3 and stats.spikes == 0


def test_a_prepared_item_is_recorded_like_a_match(tmp_path: Path) -> None:
    """``record_item`` (the faust app's rate-limited/digest path) decides as ``record`` does:
    same dedupe, same rate limit, the item stored as it came."""
    db, recorder, _clock = make(tmp_path)
    sub = subscription(
        id="rl",
        query="derna",
        channels={"emails": ["a@example.org"]},
        rate_limit={"max_alerts": 1, "per_minutes": 60},
    )
    index = SubscriptionIndex.build([sub])
    arts = [article(url=f"https://news.example.org/item{i}") for i in range(2)]
    items = [build_alert_article(alert_id("rl", a.article_id), a, index.match(a)[0]) for a in arts]
    first = recorder.record_item(sub, arts[0].article_id, items[0])
    assert (first.alerts, first.deliveries, first.suppressed) == (1, 1, 0)
    second = recorder.record_item(sub, arts[1].article_id, items[1])
    assert (second.alerts, second.deliveries, second.suppressed) == (1, 0, 1)
    assert bus_records(db)[0]["error"] == "rate limited"
    again = record(recorder, [sub], arts[0])  # the local path sees the same dedupe record
    assert (again.alerts, again.duplicates) == (0, 1)
    (stored,) = db.conn.execute(
        "SELECT payload FROM alerts WHERE article_id = ?", (arts[0].article_id,)
    ).fetchone()
    assert AlertArticle.model_validate_json(stored) == items[0]
