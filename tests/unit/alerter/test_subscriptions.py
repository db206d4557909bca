"""Subscription validation, mute windows and the SQLite store."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.alerter.errors import SubscriptionError, SubscriptionNotFound
from services.alerter.state import StateDB
from services.alerter.subscriptions import MuteWindow, SubscriptionStore, parse_subscription
from tests.unit.alerter.builders import subscription

UTC = dt.UTC


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    # March 2024: the 4th is a Monday
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=UTC)


def test_overnight_window_belongs_to_the_day_it_starts() -> None:
    window = MuteWindow(start=dt.time(22), end=dt.time(6), days=["fri"])
    assert window.window_end(at(8, 23)) == at(9, 6)  # Friday night
    assert window.window_end(at(9, 5, 59)) == at(9, 6)  # Saturday early morning
    assert window.window_end(at(9, 6)) is None
    assert window.window_end(at(9, 23)) is None  # Saturday night: not muted
    assert window.window_end(at(8, 21, 59)) is None


def test_daytime_window_in_a_time_zone() -> None:
    window = MuteWindow(start=dt.time(9), end=dt.time(17), timezone="Africa/Cairo")
    # Cairo is UTC+2 in March 2024
    assert window.window_end(at(5, 7, 30)) == at(5, 15)
    assert window.window_end(at(5, 6, 59)) is None
    assert window.window_end(at(5, 15)) is None


def test_whole_day_window() -> None:
    window = MuteWindow(start=dt.time(0), end=dt.time(0), days=["sat", "sun"])
    assert window.window_end(at(9, 12)) == at(10, 0)
    assert window.window_end(at(8, 12)) is None


def test_subscription_mute_end_takes_the_latest_window() -> None:
    sub = subscription(
        mute=[{"start": "22:00", "end": "06:00"}, {"start": "05:00", "end": "08:00"}]
    )
    assert sub.mute_end(at(5, 5, 30)) == at(5, 8)
    assert sub.mute_end(at(5, 12)) is None


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"owner": "nobody"}, "owner"),
        ({"event_types": ["Bombings"]}, "event_types"),
        ({"sub_event_types": ["Air strike"]}, "sub_event_types"),
        ({"regions": {"countries": ["Libya"]}}, "countries"),
        ({"regions": {"bbox": [30, 10, 20, 20]}}, "west <= east"),
        ({"channels": {"webhooks": ["ftp://x"]}}, "http"),
        ({"query": "derna AND ("}, "query"),
        ({"query": "casualties:>3"}, "unknown field"),
        ({"mute": [{"start": "22:00", "end": "06:00", "timezone": "Mars/Olympus"}]}, "time zone"),
        ({"id": "has space"}, "id"),
    ],
)
def test_invalid_subscriptions_say_what_is_wrong(fields: dict, problem: str) -> None:
    with pytest.raises(SubscriptionError, match=problem):
        subscription(**fields)


def test_webhook_secret_generated_and_redacted() -> None:
    sub = subscription(channels={"webhooks": ["https://hooks.example.org/in"]})
    secret = sub.channels.webhooks[0].secret
    assert secret.startswith("whsec_") and len(secret) > 30
    shown = sub.redacted()["channels"]["webhooks"][0]["secret"]
    assert secret not in shown and shown.endswith(secret[-4:])


def test_private_webhook_hosts_refused_unless_allowed() -> None:
    sub = subscription(channels={"webhooks": ["http://127.0.0.1:9/x", "http://10.1.2.3/y"]})
    with pytest.raises(SubscriptionError, match="loopback"):
        sub.check_webhook_urls(allow_private=False)
    sub.check_webhook_urls(allow_private=True)


def test_store_round_trip_versions_and_unsubscribe(tmp_path: Path) -> None:
    store = SubscriptionStore(StateDB(tmp_path / "alerter.db"))
    assert store.version() == 0
    sub = store.add(
        subscription(
            id="derna", query="derna", channels={"emails": ["a@example.org", "b@example.org"]}
        )
    )
    assert sub.created_at is not None
    with pytest.raises(SubscriptionError, match="already exists"):
        store.add(subscription(id="derna"))
    assert store.version() == 1
    assert store.unsubscribe_email("derna", "A@example.org") is True
    assert store.unsubscribe_email("derna", "a@example.org") is False
    assert store.get("derna").channels.emails == ["b@example.org"]
    assert store.get("derna").enabled
    store.unsubscribe_email("derna", "b@example.org")
    assert not store.get("derna").enabled  # no channel left
    store.remove("derna")
    with pytest.raises(SubscriptionNotFound):
        store.get("derna")
    # another connection to the same file sees the changes
    other = SubscriptionStore(StateDB(tmp_path / "alerter.db"))
    assert other.version() == store.version() == 4  # add, 2 unsubscribes, remove


def test_seed_inserts_once_and_store_wins(tmp_path: Path) -> None:
    store = SubscriptionStore(StateDB(tmp_path / "alerter.db"))
    docs = [{"name": "Libya border", "owner": "o@example.org", "query": "smuggling"}]
    assert store.seed(docs) == ["cfg-libya-border"]
    changed = store.get("cfg-libya-border").model_copy(update={"query": "smuggling OR fuel"})
    store.put(changed)
    assert store.seed(docs) == []
    assert store.get("cfg-libya-border").query == "smuggling OR fuel"


def test_parse_subscription_accepts_yaml_like_shapes() -> None:
    sub = parse_subscription(
        {
            "name": "Sinai",
            "owner": "o@example.org",
            "regions": {
                "bbox": {"west": 32, "south": 29, "east": 35, "north": 31.5},
                "admin1": ["eg.27"],
            },
            "channels": {
                "emails": ["o@example.org"],
                "webhooks": [{"url": "https://h.example.org", "secret": "x" * 20}],
            },
            "mode": "digest",
            "digest_every_minutes": 30,
            "rate_limit": {"max_alerts": 5, "per_minutes": 60},
            "spike": None,
        }
    )
    assert sub.regions.admin1 == ["EG.27"]
    assert sub.channels.webhooks[0].secret == "x" * 20


def test_seeding_skips_an_invalid_subscription_and_keeps_the_rest(tmp_path, caplog) -> None:
    from services.alerter.state import StateDB
    from services.alerter.subscriptions import SubscriptionStore

    store = SubscriptionStore(StateDB(tmp_path / "alerter.db"))
    good = {
        "id": "good",
        "name": "ok",
        "owner": "a@x.org",
        "query": "Derna",
        "channels": {"emails": ["a@x.org"]},
    }
    bad = {
        "id": "bad",
        "name": "broken",
        "owner": "a@x.org",
        "query": "Derna AND (",
        "channels": {"emails": ["a@x.org"]},
    }
    assert store.seed([bad, good]) == ["good"]
    assert "configured subscription 'bad' skipped" in caplog.text
