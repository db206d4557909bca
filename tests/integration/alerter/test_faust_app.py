"""The faust-streaming alerter (distributed runtime) against a Kafka-protocol broker.

tansu by default (``$KAFKA_BOOTSTRAP_SERVERS`` for a real Kafka). The app runs in a thread of the
test process exactly as ``newswatch alerter`` runs it (``FaustAlerterService``), with a real
SMTP server and webhook receiver; articles are published on the Kafka bus.
"""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from newswatch.bus import open_bus
from newswatch.models.messages import encode
from newswatch.runtime import ServiceContext
from newswatch.settings import Settings, load_settings
from services.alerter.channels.webhook import verify_signature
from services.alerter.engine import alerter_service
from services.alerter.state import StateDB
from services.alerter.streaming.app import AlerterApp
from services.alerter.streaming.service import FaustAlerterService
from services.alerter.sync import open_store
from tests.factories import article
from tests.integration.alerter.support import (
    SmtpServer,
    free_port,
    read_topic,
    running_service,
    wait_for,
    webhook_receiver,
)
from tests.kafka_broker import BrokerUnavailable, kafka_bootstrap

pytestmark = pytest.mark.integration

ON_TANSU = not os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
SECRET = "whsec_integration_secret_0123456789"


@pytest.fixture(scope="module")
def bootstrap() -> Iterator[str]:
    try:
        servers, stop = kafka_bootstrap()
    except BrokerUnavailable as exc:
        pytest.skip(str(exc))
    try:
        yield servers
    finally:
        stop()


def faust_settings(
    tmp_path: Path,
    bootstrap: str,
    *,
    smtp: SmtpServer,
    hook_url: str,
    run: str,
    subscriptions: list[dict[str, Any]] | None = None,
) -> Settings:
    """Kafka bus with topics and app id unique to ``run`` (one broker serves the module)."""
    subs = subscriptions
    if subs is None:
        subs = [
            {
                "id": "derna",
                "name": "Derna",
                "owner": "analyst@example.org",
                "query": "Derna",
                "channels": {
                    "emails": ["analyst@example.org"],
                    "webhooks": [{"url": hook_url, "secret": SECRET}],
                },
            }
        ]
    return load_settings(
        None,
        overrides={
            "data_dir": str(tmp_path),
            "bus": {
                "backend": "kafka",
                "kafka": {
                    "bootstrap_servers": bootstrap,
                    "partitions": 2,
                    "max_poll_interval_ms": 5000,
                    "session_timeout_ms": 6000,
                    "connect_timeout_s": 20,
                },
            },
            "topics": {
                name: f"{run}.{name}"
                for name in ("discovered", "articles", "alerts", "deadletter", "subscriptions")
            },
            "alerter": {
                "faust": {"app_id": f"{run}-alerter"},
                "smtp": {"host": smtp.host, "port": smtp.port, "max_attempts": 2},
                "webhook": {"allow_private": True, "backoff_base_s": 0.05, "max_attempts": 3},
                "api": {"enabled": False, "public_url": f"http://127.0.0.1:{free_port()}"},
                "secret_key": "integration-secret",
            },
            "observability": {"enabled": False},
            "subscriptions": subs,
        },
    )


@contextmanager
def running(settings: Settings) -> Iterator[FaustAlerterService]:
    """``newswatch alerter`` on Kafka, in a thread; returns once its tables are read back."""

    def make(ctx: ServiceContext) -> FaustAlerterService:
        service = alerter_service(ctx)
        assert isinstance(service, FaustAlerterService), "alerter.engine auto on Kafka is faust"
        return service

    with running_service(settings, make, ready=lambda s: s.ready, join_s=60) as service:
        yield service


def alerter(service: FaustAlerterService) -> AlerterApp:
    assert service.alerter is not None
    return service.alerter


def publish(settings: Settings, items: list[tuple[str | None, bytes]]) -> None:
    with open_bus(settings) as bus, bus.producer() as producer:
        producer.publish_many(settings.topics.articles, items)
        producer.flush()


def derna(n: int) -> Any:
    return article(
        f"https://news.example.org/derna-{n}",
        title=f"Airstrike near Derna ({n})",
        text=f"An airstrike hit a depot near Derna on Tuesday, report {n}. " * 5,
        published_at=dt.datetime.now(dt.UTC),  # spike windows count recent articles only
    )


def test_alerts_go_out_once_and_subscription_changes_reach_the_app(
    tmp_path: Path, bootstrap: str, smtp_server: SmtpServer
) -> None:
    run = f"f{uuid.uuid4().hex[:8]}"
    with webhook_receiver() as hooks:
        settings = faust_settings(
            tmp_path, bootstrap, smtp=smtp_server, hook_url=hooks.url, run=run
        )
        first, second = derna(1), derna(2)
        other = article("https://news.example.org/weather", title="Weather", text="Sunny. " * 30)
        # Published before the app's first start (a new consumer group): read from the start.
        publish(settings, [(first.article_id, encode(first)), (other.article_id, encode(other))])
        with running(settings) as service:
            publish(settings, [(second.article_id, encode(second)), ("junk", b"{not json")])
            wait_for(lambda: len(hooks.accepted()) >= 2, timeout=60, what="two webhooks")
            wait_for(lambda: len(smtp_server.messages) >= 2, timeout=30, what="two emails")
            for request in hooks.accepted():
                assert verify_signature(
                    SECRET, request.body, request.headers["Newswatch-Signature"]
                )
            assert {r.json["alerts"][0]["article_id"] for r in hooks.accepted()} == {
                first.article_id,
                second.article_id,
            }

            # A replay (the same article published again) alerts nobody twice.
            publish(settings, [(first.article_id, encode(first))])
            # A subscription added through the store (CLI/API path) reaches the running app.
            store = open_store(settings)
            store.add(
                store.get("derna").model_copy(
                    update={"id": "weather", "name": "Weather", "query": "sunny"}
                )
            )
            wait_for(lambda: alerter(service).view.get("weather") is not None, what="new sub")
            publish(settings, [(other.article_id, encode(other))])
            wait_for(lambda: len(hooks.accepted()) >= 3, timeout=30, what="third webhook")
            time.sleep(2.0)  # anything duplicated would arrive meanwhile
            assert len(hooks.accepted()) == 3
            assert len(smtp_server.messages) == 3
            # ...and a removal too.
            store.remove("weather")
            wait_for(lambda: alerter(service).view.get("weather") is None, what="sub removed")

        alerts = read_topic(settings, settings.topics.alerts)
        delivered = [a for a in alerts if a["status"] == "delivered"]
        assert len(delivered) == 6  # 3 alerts x (email + webhook)
        letters = read_topic(settings, settings.topics.deadletter)
        assert [d["error_kind"] for d in letters] == ["contract"]
        assert letters[0]["stage"] == "alerter"


def test_a_spike_rule_fires_once_per_surge(
    tmp_path: Path, bootstrap: str, smtp_server: SmtpServer
) -> None:
    run = f"s{uuid.uuid4().hex[:8]}"
    with webhook_receiver() as hooks:
        spike = {
            "id": "derna-surge",
            "name": "Derna surge",
            "owner": "analyst@example.org",
            "query": "Derna",
            "spike": {"threshold": 2, "window_minutes": 60},
            "channels": {"webhooks": [{"url": hooks.url, "secret": SECRET}]},
        }
        settings = faust_settings(
            tmp_path,
            bootstrap,
            smtp=smtp_server,
            hook_url=hooks.url,
            run=run,
            subscriptions=[spike],
        )
        with running(settings):
            items = [derna(n) for n in range(4)]
            publish(settings, [(a.article_id, encode(a)) for a in items[:2]])
            time.sleep(3.0)
            assert hooks.accepted() == []  # two hits: not more than the threshold
            publish(settings, [(a.article_id, encode(a)) for a in items[2:]])
            wait_for(lambda: len(hooks.accepted()) >= 1, timeout=60, what="the spike alert")
            publish(settings, [(items[0].article_id, encode(items[0]))])  # a replay
            time.sleep(3.0)
        received = hooks.accepted()
        assert len(received) == 1
        body = received[0].json
        assert body["kind"] == "spike"
        assert body["spike"]["threshold"] == 2
        assert body["spike"]["count"] == 3  # the third hit fired it
        assert set(body["spike"]["article_ids"]) <= {a.article_id for a in items}


# Not strict on tansu: whether the bug bites depends on how the changelog's records fall into
# record batches, so the test passes there now and then. On a real Kafka (ON_TANSU false) it is
# an ordinary test that must pass.
@pytest.mark.xfail(
    ON_TANSU,
    strict=False,
    reason=(
        "tansu 0.6 reports a partition's end offset as the last record batch's base offset + 1, "
        "so faust's table recovery can stop before the tail of the dedupe changelog (a replica "
        "taking a partition over misses the newest dedupe records); passes on Kafka"
    ),
)
def test_a_replica_taking_over_knows_what_was_alerted(
    tmp_path: Path, bootstrap: str, smtp_server: SmtpServer
) -> None:
    run = f"r{uuid.uuid4().hex[:8]}"
    with webhook_receiver() as hooks:
        settings = faust_settings(
            tmp_path / "one", bootstrap, smtp=smtp_server, hook_url=hooks.url, run=run
        )
        items = [derna(n) for n in range(8)]
        with running(settings):
            publish(settings, [(a.article_id, encode(a)) for a in items])
            wait_for(lambda: len(hooks.accepted()) >= 8, timeout=60, what="eight webhooks")
        # Another replica, with no local state of its own, takes the partitions over and the
        # same articles arrive again: the dedupe table (rebuilt from its changelog) stops them.
        fresh = settings.model_copy(update={"data_dir": tmp_path / "two"})
        with running(fresh):
            publish(fresh, [(a.article_id, encode(a)) for a in items])
            time.sleep(8.0)
        assert len(hooks.accepted()) == 8


@contextmanager
def two_replicas(
    settings: Settings, tmp_path: Path
) -> Iterator[tuple[FaustAlerterService, FaustAlerterService]]:
    """Two replicas of the app (one consumer group, a state file each), once each owns one
    partition of news.articles and has read its tables back."""
    other = settings.model_copy(update={"data_dir": tmp_path / "two"})

    def owned(service: FaustAlerterService) -> set[int]:
        app = alerter(service).app
        return {
            tp.partition for tp in app.consumer.assignment() if tp.topic == settings.topics.articles
        }

    with running(settings) as first, running(other) as second:
        wait_for(
            lambda: first.ready and second.ready and len(owned(first)) == len(owned(second)) == 1,
            timeout=90,
            what="both replicas assigned a partition",
        )
        yield first, second


def limited_settings(
    tmp_path: Path, bootstrap: str, smtp: SmtpServer, hook_url: str, **limits: Any
) -> Settings:
    sub = {
        "id": "derna-limited",
        "name": "Derna (limited)",
        "owner": "analyst@example.org",
        "query": "Derna",
        "channels": {"webhooks": [{"url": hook_url, "secret": SECRET}]},
        **limits,
    }
    return faust_settings(
        tmp_path / "one",
        bootstrap,
        smtp=smtp,
        hook_url=hook_url,
        run=f"l{uuid.uuid4().hex[:8]}",
        subscriptions=[sub],
    )


def test_a_rate_limit_holds_across_replicas(
    tmp_path: Path, bootstrap: str, smtp_server: SmtpServer
) -> None:
    with webhook_receiver() as hooks:
        settings = limited_settings(
            tmp_path,
            bootstrap,
            smtp_server,
            hooks.url,
            rate_limit={"max_alerts": 2, "per_minutes": 60},
        )
        items = [derna(n) for n in range(8)]

        def suppressed() -> list[dict[str, Any]]:
            alerts = read_topic(settings, settings.topics.alerts)
            return [a for a in alerts if a["status"] == "suppressed"]

        with two_replicas(settings, tmp_path) as (first, second):
            publish(settings, [(a.article_id, encode(a)) for a in items])
            wait_for(lambda: len(suppressed()) >= 6, timeout=60, what="six suppressed")
            wait_for(lambda: len(hooks.accepted()) >= 2, timeout=30, what="two webhooks")
            time.sleep(3.0)  # anything over the limit would arrive meanwhile
            # The articles were read on both replicas (both partitions)...
            assert alerter(first).articles_seen > 0 and alerter(second).articles_seen > 0
        # ...and the limit counted once: 2 alerts, the other 6 logged as rate limited.
        assert len(hooks.accepted()) == 2
        assert all(r.json["kind"] == "alert" for r in hooks.accepted())
        rest = suppressed()
        assert len(rest) == 6
        assert {r["error"] for r in rest} == {"rate limited"}
        alerted = {r.json["alerts"][0]["article_id"] for r in hooks.accepted()}
        assert alerted | {r["article_id"] for r in rest} == {a.article_id for a in items}


def test_a_digest_is_made_once_across_replicas(
    tmp_path: Path, bootstrap: str, smtp_server: SmtpServer
) -> None:
    with webhook_receiver() as hooks:
        settings = limited_settings(
            tmp_path, bootstrap, smtp_server, hooks.url, mode="digest", digest_every_minutes=60
        )
        items = [derna(n) for n in range(8)]
        with two_replicas(settings, tmp_path) as replicas:

            def pending() -> int:
                total = 0
                for service in replicas:
                    db = alerter(service).db
                    assert db is not None
                    (count,) = db.conn.execute(
                        "SELECT COUNT(*) FROM alerts WHERE disposition = 'digest'"
                    ).fetchone()
                    total += int(count)
                return total

            publish(settings, [(a.article_id, encode(a)) for a in items])
            wait_for(lambda: pending() >= 8, timeout=60, what="eight digest items recorded")
            assert all(alerter(s).articles_seen > 0 for s in replicas)
            # The period ends now: both replicas' digest clocks are set an hour back.
            for service in replicas:
                set_back(alerter(service).db)
            wait_for(lambda: len(hooks.accepted()) >= 1, timeout=30, what="the digest")
            time.sleep(3.0)  # a second digest would arrive meanwhile
            assert pending() == 8
        received = hooks.accepted()
        assert len(received) == 1
        assert received[0].json["kind"] == "digest"
        assert {a["article_id"] for a in received[0].json["alerts"]} == {
            a.article_id for a in items
        }


def set_back(db: StateDB | None) -> None:
    """Move a replica's digest clock an hour back (once its first period has started)."""
    assert db is not None

    def started() -> bool:
        return int(db.conn.execute("SELECT COUNT(*) FROM digests").fetchone()[0]) == 1

    wait_for(started, what="the digest clock")
    db.conn.execute("UPDATE digests SET last_flush_at = last_flush_at - 3700")
