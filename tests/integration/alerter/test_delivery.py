"""Alerts arriving for real: SMTP (aiosmtpd), webhook receivers, retries, dead letters, the API."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from services.alerter.channels.webhook import verify_signature
from services.alerter.state import StateDB
from services.alerter.subscriptions import SubscriptionStore
from tests.integration.alerter.support import (
    SmtpServer,
    alerter_settings,
    publish_articles,
    read_topic,
    run_once,
    running_alerter,
    wait_for,
    webhook_receiver,
)
from tests.unit.alerter.builders import article, event, subscription

pytestmark = pytest.mark.integration

SECRET = "whsec_integration_secret_0001"


def store_for(settings) -> SubscriptionStore:  # type: ignore[no-untyped-def]
    return SubscriptionStore(StateDB(settings.data_path(settings.alerter.state_path)))


def derna_article():  # type: ignore[no-untyped-def]
    return article(
        "Residents said an airstrike destroyed a depot near Derna on Friday. The Libyan "
        "National Army said the strike killed four militants.",
        title="Airstrike destroys depot near Derna",
        url="https://news.example.org/2024/03/derna-depot.html",
        events=[event(fatalities=4, actors=["Libyan National Army"])],
        places=["Derna"],
    )


def test_email_arrives_with_content_and_a_working_unsubscribe_link(
    tmp_path: Path, smtp_server: SmtpServer
) -> None:
    settings = alerter_settings(
        tmp_path,
        smtp={
            "host": smtp_server.host,
            "port": smtp_server.port,
            "sender": "newswatch <alerts@example.org>",
        },
    )
    store = store_for(settings)
    store.add(
        subscription(
            id="derna",
            name="Derna strikes",
            query="airstrike",
            regions={"countries": ["LY"]},
            channels={"emails": ["analyst@example.org", "boss@example.org"]},
        )
    )
    publish_articles(settings, [derna_article()])
    with running_alerter(settings) as service:
        wait_for(lambda: len(smtp_server.messages) == 2, what="two emails")
        msg = next(m for m in smtp_server.messages if m["To"] == "analyst@example.org")
        assert msg["Subject"] == "[newswatch] Derna strikes: Airstrike destroys depot near Derna"
        assert msg["From"] == "newswatch <alerts@example.org>"
        plain = msg.get_body(("plain",)).get_content()
        html = msg.get_body(("html",)).get_content()
        assert "Test Herald (LY) · 2024-03-08 09:30 UTC" in plain
        assert "Air/drone strike (Explosions/Remote violence) in Derna, LY — 4 killed" in plain
        assert "Libyan National Army" in plain
        assert "*airstrike*" in plain and "<mark>airstrike</mark>" in html
        assert "https://news.example.org/2024/03/derna-depot.html" in plain
        link = re.search(r"Unsubscribe: (\S+)", plain)
        assert link is not None
        url = link.group(1)
        assert url.startswith(settings.alerter.api.public_url)
        assert msg["List-Unsubscribe"] == f"<{url}>"

        assert service.api_url is not None
        page = httpx.get(url)
        assert page.status_code == 200 and "analyst@example.org" in page.text
        assert store.get("derna").channels.emails == ["analyst@example.org", "boss@example.org"]
        done = httpx.post(url)
        assert done.status_code == 200 and "Unsubscribed" in done.text
        assert store.get("derna").channels.emails == ["boss@example.org"]
        forged = url[:-3] + ("xyz" if not url.endswith("xyz") else "abc")
        assert httpx.post(forged).status_code == 400

    records = read_topic(settings, settings.topics.alerts)
    assert sorted((r["target"], r["status"]) for r in records) == [
        ("analyst@example.org", "delivered"),
        ("boss@example.org", "delivered"),
    ]


def test_smtp_authentication(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    from tests.integration.alerter.support import _Mailbox, free_port

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = (
            isinstance(auth_data, LoginPassword)
            and auth_data.login == b"alerts"
            and (auth_data.password == b"s3cret")
        )
        return AuthResult(success=ok, handled=False)

    mailbox = _Mailbox()
    port = free_port()
    controller = Controller(
        mailbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        for password, expected in (("wrong", 0), ("s3cret", 1)):
            settings = alerter_settings(
                tmp_path / password,
                smtp={
                    "host": "127.0.0.1",
                    "port": port,
                    "username": "alerts",
                    "password": password,
                    "max_attempts": 1,
                },
            )
            store_for(settings).add(
                subscription(id="s", query="derna", channels={"emails": ["a@example.org"]})
            )
            publish_articles(settings, [derna_article()])
            run_once(settings)
            assert len(mailbox.messages) == expected
            statuses = [r["status"] for r in read_topic(settings, settings.topics.alerts)]
            assert statuses == (["deadlettered"] if expected == 0 else ["delivered"])
    finally:
        controller.stop()


def test_webhook_arrives_signed(tmp_path: Path) -> None:
    with webhook_receiver() as receiver:
        settings = alerter_settings(tmp_path)
        store_for(settings).add(
            subscription(
                id="hook",
                name="Derna hook",
                query="derna",
                channels={"webhooks": [{"url": receiver.url, "secret": SECRET}]},
            )
        )
        publish_articles(settings, [derna_article()])
        run_once(settings)
        (request,) = receiver.all()
    assert verify_signature(SECRET, request.body, request.headers["Newswatch-Signature"])
    assert not verify_signature(
        "whsec_someone_else_0000", request.body, request.headers["Newswatch-Signature"]
    )
    body = request.json
    assert body["schema"] == "newswatch.webhook-alert/1"
    assert body["kind"] == "alert" and body["subscription"] == {"id": "hook", "name": "Derna hook"}
    assert request.headers["Newswatch-Delivery-Id"] == body["delivery_id"]
    (item,) = body["alerts"]
    assert item["title"] == "Airstrike destroys depot near Derna"
    assert item["events"][0]["fatalities"] == 4
    assert item["events"][0]["location"]["name"] == "Derna"


def test_receiver_failing_twice_gets_exactly_one_successful_delivery(tmp_path: Path) -> None:
    with webhook_receiver(plan=lambda n: 503 if n < 2 else 200) as receiver:
        settings = alerter_settings(tmp_path)
        store_for(settings).add(
            subscription(
                id="flaky",
                query="derna",
                channels={"webhooks": [{"url": receiver.url, "secret": SECRET}]},
            )
        )
        publish_articles(settings, [derna_article()])
        with running_alerter(settings):
            wait_for(lambda: len(receiver.accepted()) == 1, what="the successful delivery")
            wait_for(
                lambda: any(
                    r["status"] == "delivered" for r in read_topic(settings, settings.topics.alerts)
                ),
                what="the delivery log",
            )
        statuses = [r.status for r in receiver.all()]
        ids = {r.headers["Newswatch-Delivery-Id"] for r in receiver.all()}
    assert statuses == [503, 503, 200]
    assert len(ids) == 1  # the same delivery, retried
    log = [(r["status"], r["attempts"]) for r in read_topic(settings, settings.topics.alerts)]
    assert log == [("retrying", 1), ("retrying", 2), ("delivered", 3)]
    assert read_topic(settings, settings.topics.deadletter) == []


def test_receiver_that_stays_down_ends_in_the_dead_letter_topic(tmp_path: Path) -> None:
    with webhook_receiver(plan=lambda n: 500) as receiver:
        settings = alerter_settings(tmp_path, webhook={"max_attempts": 3})
        store_for(settings).add(
            subscription(
                id="down",
                query="derna",
                channels={"webhooks": [{"url": receiver.url, "secret": SECRET}]},
            )
        )
        publish_articles(settings, [derna_article()])
        with running_alerter(settings):
            wait_for(
                lambda: len(read_topic(settings, settings.topics.deadletter)) == 1,
                what="the dead letter",
            )
        assert len(receiver.all()) == 3
    (letter,) = read_topic(settings, settings.topics.deadletter)
    assert letter["stage"] == "alerter" and letter["attempts"] == 3
    assert letter["error_kind"] == "webhook_http_500"
    assert '"kind": "alert"' in letter["original_payload"]
    log = [(r["status"], r["attempts"]) for r in read_topic(settings, settings.topics.alerts)]
    assert log == [("retrying", 1), ("retrying", 2), ("deadlettered", 3)]


def test_client_errors_are_not_retried(tmp_path: Path) -> None:
    with webhook_receiver(plan=lambda n: 404) as receiver:
        settings = alerter_settings(tmp_path)
        store_for(settings).add(
            subscription(
                id="gone",
                query="derna",
                channels={"webhooks": [{"url": receiver.url, "secret": SECRET}]},
            )
        )
        publish_articles(settings, [derna_article()])
        run_once(settings)
        assert len(receiver.all()) == 1
    log = [(r["status"], r["attempts"]) for r in read_topic(settings, settings.topics.alerts)]
    assert log == [("failed", 1)]
    assert len(read_topic(settings, settings.topics.deadletter)) == 1


def test_private_webhook_refused_unless_allowed(tmp_path: Path) -> None:
    with webhook_receiver() as receiver:
        settings = alerter_settings(tmp_path, webhook={"allow_private": False})
        # stored directly (the API and CLI refuse it up front): the sender checks again
        store_for(settings).add(
            subscription(
                id="inside",
                query="derna",
                channels={"webhooks": [{"url": receiver.url, "secret": SECRET}]},
            )
        )
        publish_articles(settings, [derna_article()])
        run_once(settings)
        assert receiver.all() == []
    (record,) = read_topic(settings, settings.topics.alerts)
    assert record["status"] == "failed" and "unsafe_target" in record["error"]


def test_replayed_articles_alert_once(tmp_path: Path) -> None:
    with webhook_receiver() as receiver:
        settings = alerter_settings(tmp_path)
        store_for(settings).add(
            subscription(
                id="once",
                query="derna",
                channels={"webhooks": [{"url": receiver.url, "secret": SECRET}]},
            )
        )
        art = derna_article()
        publish_articles(settings, [art, art])
        run_once(settings)
        publish_articles(settings, [art])  # re-published later
        run_once(settings)
        assert len(receiver.all()) == 1


def test_api_crud_requires_a_key(tmp_path: Path) -> None:
    settings = alerter_settings(tmp_path)
    with running_alerter(settings) as service:
        wait_for(lambda: service.api_url is not None, what="the API")
        api = httpx.Client(base_url=str(service.api_url))
        doc = {
            "name": "Kufra smuggling",
            "owner": "a@example.org",
            "query": "smuggling",
            "regions": {"admin1": ["LY:Kufra"]},
            "channels": {"webhooks": ["https://hooks.example.org/k"]},
        }
        assert api.post("/subscriptions", json=doc).status_code == 401
        assert api.get("/subscriptions", headers={"X-API-Key": "nope"}).status_code == 401
        key = {"X-API-Key": "test-key"}
        created = api.post("/subscriptions", json=doc, headers=key)
        assert created.status_code == 201, created.text
        sub = created.json()
        secret = sub["channels"]["webhooks"][0]["secret"]
        assert secret.startswith("whsec_")
        shown = api.get(f"/subscriptions/{sub['id']}", headers=key).json()
        assert shown["channels"]["webhooks"][0]["secret"] != secret
        shown["query"] = "smuggling OR fuel"
        replaced = api.put(f"/subscriptions/{sub['id']}", json=shown, headers=key)
        assert replaced.status_code == 200, replaced.text
        stored = store_for(settings).get(sub["id"])
        assert stored.query == "smuggling OR fuel"
        assert stored.channels.webhooks[0].secret == secret  # the masked secret kept it
        bad = api.patch(f"/subscriptions/{sub['id']}", json={"query": "a AND ("}, headers=key)
        assert bad.status_code == 422 and "query" in bad.text
        off = api.patch(f"/subscriptions/{sub['id']}", json={"enabled": False}, headers=key)
        assert off.json()["enabled"] is False
        assert api.get("/openapi.json").json()["info"]["title"] == "newswatch alerter"
        assert api.get("/docs").status_code == 200
        assert api.delete(f"/subscriptions/{sub['id']}", headers=key).status_code == 204
        assert api.get(f"/subscriptions/{sub['id']}", headers=key).status_code == 404
