"""The plain parts of the faust alerter: engine choice, options, the view, spike windows."""

from __future__ import annotations

from pathlib import Path

import pytest

from newswatch.errors import ConfigError
from newswatch.settings import load_settings
from services.alerter.dedupe import alert_id
from services.alerter.matching import SubscriptionIndex
from services.alerter.payload import AlertArticle, build_alert_article
from services.alerter.state import StateDB
from services.alerter.streaming.app import LimitedHit, is_limited, limited_hit
from services.alerter.streaming.config import faust_options, use_faust
from services.alerter.streaming.spikes import SpikeState, window_total
from services.alerter.streaming.view import SubscriptionView
from services.alerter.subscriptions import SubscriptionStore, parse_subscription
from services.alerter.sync import encode_change
from tests.factories import article


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    return load_settings(overrides=dict(overrides))


def test_the_engine_follows_the_bus_unless_told() -> None:
    assert use_faust(_settings()) is False
    assert use_faust(_settings(bus={"backend": "kafka"})) is True
    assert use_faust(_settings(bus={"backend": "kafka"}, alerter={"engine": "plain"})) is False
    with pytest.raises(ConfigError, match=r"needs bus\.backend: kafka"):
        use_faust(_settings(alerter={"engine": "faust"}))


def test_faust_options_come_from_the_kafka_settings() -> None:
    options = faust_options(
        _settings(
            bus={
                "backend": "kafka",
                "kafka": {
                    "bootstrap_servers": "k1:9092, k2:9092",
                    "partitions": 12,
                    "replication_factor": 3,
                    "compression": "none",
                    "session_timeout_ms": 45_000,
                },
            }
        )
    )
    assert options["broker"] == ["kafka://k1:9092", "kafka://k2:9092"]
    assert options["topic_partitions"] == 12
    assert options["topic_replication_factor"] == 3
    assert options["producer_compression_type"] is None
    assert options["broker_request_timeout"] >= options["broker_session_timeout"] == 45.0
    assert "broker_credentials" not in options


def test_faust_keeps_its_data_under_the_data_dir(tmp_path: Path) -> None:
    options = faust_options(_settings(data_dir=str(tmp_path), bus={"backend": "kafka"}))
    assert options["datadir"] == tmp_path / "newswatch-alerter-data"


def _doc(sub_id: str, query: str) -> dict[str, object]:
    return {
        "id": sub_id,
        "name": sub_id,
        "owner": "a@example.org",
        "query": query,
        "channels": {"emails": ["a@example.org"]},
    }


def test_the_view_follows_the_topic_and_mirrors_the_store(tmp_path: Path) -> None:
    store = SubscriptionStore(StateDB(tmp_path / "a.db"))
    view = SubscriptionView(store)
    derna = parse_subscription(_doc("derna", "Derna"))
    view.apply(b"derna", encode_change("derna", derna))
    story = article(title="Airstrike near Derna", text="An airstrike near Derna. " * 10)
    assert [m.subscription.id for m in view.index().match(story)] == ["derna"]
    assert store.get("derna").query == "Derna"

    view.apply(b"derna", encode_change("derna", None))  # deleted through another replica
    assert view.index().match(story) == []
    assert store.find("derna") is None
    view.apply(b"gone", None)  # a Kafka tombstone
    view.apply(b"bad", b"{not json")  # unreadable: ignored, logged
    assert view.all() == []


def test_unpublished_lists_local_subscriptions_the_topic_never_carried() -> None:
    view = SubscriptionView()
    a = parse_subscription(_doc("a", "x"))
    b = parse_subscription(_doc("b", "y"))
    c = parse_subscription(_doc("c", "z"))
    view.apply(b"a", encode_change("a", a))
    view.apply(b"b", encode_change("b", None))  # deleted: carried, must not come back
    assert [s.id for s in view.unpublished([a, b, c])] == ["c"]


def test_window_total_adds_the_buckets_of_the_window() -> None:
    counts = {0.0: 2, 60.0: 1, 120.0: 5, 180.0: 7}
    assert window_total(lambda d: counts.get(d, 0), 180.0, 60.0) == 8
    assert window_total(lambda d: counts.get(d, 0), 30.0, 60.0) == 2  # at least one bucket


def _hit(state: SpikeState, before: int, n: int, now: float = 10_000.0):  # type: ignore[no-untyped-def]
    return state.hit(
        subscription_id="s",
        threshold=2,
        window_s=600.0,
        count_before=before,
        ts=now - 1,
        article_id=f"a{n}",
        payload="{}",
        now=now,
    )


def test_a_rule_fires_once_then_rearms_when_the_window_empties() -> None:
    state = SpikeState()
    assert _hit(state, 0, 1) is None
    assert _hit(state, 1, 2) is None
    crossing = _hit(state, 2, 3)
    assert crossing is not None and crossing.count == 3 and crossing.crossing == 1
    assert [a for a, _ in crossing.hits] == ["a1", "a2", "a3"]
    assert _hit(state, 3, 4) is None  # still surging: no second alert
    # Later, the window had emptied back to the threshold before this hit: re-armed, and
    # the hit that crosses again fires the second alert.
    assert _hit(state, 1, 5, now=20_000.0) is None
    again = _hit(state, 2, 6, now=20_000.0)
    assert again is not None and again.crossing == 2
    back = SpikeState.from_json(state.to_json())
    assert back == state


def test_rate_limited_and_digest_subscriptions_are_recorded_by_subscription() -> None:
    plain = parse_subscription(_doc("plain", "x"))
    limited = parse_subscription(
        {**_doc("limited", "x"), "rate_limit": {"max_alerts": 2, "per_minutes": 60}}
    )
    digest = parse_subscription({**_doc("digest", "x"), "mode": "digest"})
    spike = parse_subscription(
        {
            **_doc("spike", "x"),
            "rate_limit": {"max_alerts": 2, "per_minutes": 60},
            "spike": {"threshold": 2, "window_minutes": 60},
        }
    )
    assert [is_limited(s) for s in (plain, limited, digest, spike)] == [False, True, True, False]


def test_a_limited_hit_carries_the_alert_item_the_local_path_would_record() -> None:
    sub = parse_subscription({**_doc("derna", "Derna"), "mode": "digest"})
    story = article(title="Airstrike near Derna", text="An airstrike near Derna. " * 10)
    (match,) = SubscriptionIndex.build([sub]).match(story)
    hit = limited_hit(story, match, 1_700_000_000.0)
    back = LimitedHit.loads(hit.dumps(serializer="json"), serializer="json")
    assert (back.subscription_id, back.article_id, back.ts) == (
        "derna",
        story.article_id,
        1_700_000_000.0,
    )
    item = AlertArticle.model_validate_json(back.payload)
    assert item == build_alert_article(alert_id("derna", story.article_id), story, match)
    assert item.alert_id == alert_id("derna", story.article_id)
