"""Backoff, signatures, unsubscribe tokens, unsafe URLs, email rendering, the webhook schema."""

from __future__ import annotations

import json

import jsonschema
import pytest

from newswatch.settings import SmtpSettings
from services.alerter.channels.email import EmailSender, render_email
from services.alerter.channels.retry import backoff_delay
from services.alerter.channels.webhook import check_url, sign, verify_signature
from services.alerter.errors import DeliveryError, UnsafeTargetError
from services.alerter.matching import compile_subscription, evaluate
from services.alerter.payload import (
    SCHEMA_PATH,
    SubscriptionRef,
    WebhookAlert,
    build_alert_article,
    render_schema,
)
from services.alerter.tokens import (
    InvalidToken,
    make_unsubscribe_token,
    read_unsubscribe_token,
    unsubscribe_url,
)
from tests.unit.alerter.builders import NOW, article, event, subscription


def test_backoff_doubles_up_to_the_cap_with_jitter_in_the_upper_half() -> None:
    low = [backoff_delay(n, base_s=1, cap_s=60, rand=lambda: 0.0) for n in range(1, 9)]
    high = [backoff_delay(n, base_s=1, cap_s=60, rand=lambda: 1.0) for n in range(1, 9)]
    assert low == [0.5, 1, 2, 4, 8, 16, 30, 30]
    assert high == [1, 2, 4, 8, 16, 32, 60, 60]
    mid = backoff_delay(3, base_s=1, cap_s=60, rand=lambda: 0.5)
    assert 2 < mid < 4


def test_backoff_honours_retry_after_within_the_cap() -> None:
    assert backoff_delay(1, base_s=1, cap_s=60, retry_after_s=30, rand=lambda: 0) == 30
    assert backoff_delay(1, base_s=1, cap_s=60, retry_after_s=3600, rand=lambda: 0) == 60
    assert backoff_delay(4, base_s=1, cap_s=60, retry_after_s=1, rand=lambda: 1) == 8
    with pytest.raises(ValueError):
        backoff_delay(0, base_s=1, cap_s=60)


def test_signature_verifies_and_rejects_tampering_and_replays() -> None:
    body = b'{"kind":"alert"}'
    header = sign("whsec_test_secret_123", body, 1_700_000_000)
    assert header.startswith("t=1700000000,v1=")
    assert verify_signature("whsec_test_secret_123", body, header, now=1_700_000_010)
    assert not verify_signature("whsec_other_secret_456", body, header, now=1_700_000_010)
    assert not verify_signature("whsec_test_secret_123", body + b" ", header, now=1_700_000_010)
    # a captured request replayed ten minutes later is refused
    assert not verify_signature("whsec_test_secret_123", body, header, now=1_700_000_600)
    # the timestamp is signed: changing it breaks the signature
    forged = header.replace("t=1700000000", "t=1700000590")
    assert not verify_signature("whsec_test_secret_123", body, forged, now=1_700_000_600)
    assert not verify_signature("whsec_test_secret_123", body, "garbage", now=1_700_000_000)


def test_unsubscribe_token_round_trip_and_tamper() -> None:
    token = make_unsubscribe_token("k1", "sub_1", "a@example.org")
    assert read_unsubscribe_token("k1", token) == ("sub_1", "a@example.org")
    with pytest.raises(InvalidToken):
        read_unsubscribe_token("k2", token)
    with pytest.raises(InvalidToken):
        read_unsubscribe_token("k1", token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1])
    url = unsubscribe_url("http://alerts.example.org/", "k1", "sub_1", "a@example.org")
    assert url.startswith("http://alerts.example.org/unsubscribe?token=")


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.8",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_private_addresses_refused(address: str) -> None:
    with pytest.raises(UnsafeTargetError):
        check_url(
            "https://hooks.example.org/x",
            allow_private=False,
            resolver=lambda host, port: [address],
        )


def test_one_private_address_among_public_ones_is_enough_to_refuse() -> None:
    with pytest.raises(UnsafeTargetError):
        check_url(
            "http://h.example.org",
            allow_private=False,
            resolver=lambda h, p: ["93.184.216.34", "10.0.0.1"],
        )
    assert (
        check_url(
            "http://h.example.org", allow_private=False, resolver=lambda h, p: ["93.184.216.34"]
        )
        == "93.184.216.34"
    )
    assert check_url("http://127.0.0.1:8080", allow_private=True) is None


def test_resolution_failure_is_retryable() -> None:
    def fail(host: str, port: int) -> list[str]:
        raise OSError("no DNS")

    with pytest.raises(DeliveryError) as info:
        check_url("http://h.example.org", allow_private=False, resolver=fail)
    assert info.value.retryable


def _payload(kind: str = "alert") -> WebhookAlert:
    sub = subscription(id="sinai", name="Sinai watch", query="airstrike OR derna")
    art = article(
        "Witnesses said an airstrike hit a convoy near Derna at dawn, and the army confirmed "
        "the strike.",
        title="Airstrike on convoy near Derna",
        events=[event(fatalities=4, actors=["Libyan National Army"])],
    )
    match = evaluate(compile_subscription(sub), art)
    assert match is not None
    item = build_alert_article("a" * 32, art, match)
    return WebhookAlert(
        delivery_id="d" * 32,
        kind=kind,
        subscription=SubscriptionRef(id=sub.id, name=sub.name),
        created_at=NOW,
        alerts=[item] if kind == "alert" else [item, item],
    )


def test_alert_article_has_snippet_highlights_on_matched_words() -> None:
    item = _payload().alerts[0]
    words = [item.snippet[a:b] for a, b in item.highlights]
    assert "airstrike" in [w.lower() for w in words] and "Derna" in words


def test_email_contains_the_facts_and_an_unsubscribe_link() -> None:
    msg = render_email(
        _payload(),
        to="a@example.org",
        sender="nw <nw@example.org>",
        unsubscribe_url="http://x.example.org/unsubscribe?token=T",
    )
    assert msg["Subject"] == "[newswatch] Sinai watch: Airstrike on convoy near Derna"
    assert msg["Message-ID"] == f"<{'d' * 32}@newswatch>"
    assert msg["List-Unsubscribe"] == "<http://x.example.org/unsubscribe?token=T>"
    plain = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    for text in (plain, html):
        assert "Test Herald" in text and "2024-03-08 09:30 UTC" in text
        assert "Air/drone strike (Explosions/Remote violence) in Derna, LY — 4 killed" in text
        assert "Libyan National Army (state forces)" in text
        assert "unsubscribe?token=T" in text
    assert "*airstrike*" in plain
    assert "<mark>airstrike</mark>" in html


def test_digest_email_groups_alerts() -> None:
    msg = render_email(
        _payload("digest"),
        to="a@example.org",
        sender="nw@example.org",
        unsubscribe_url="http://x/u",
    )
    assert msg["Subject"] == "[newswatch] Sinai watch: 2 new alerts"
    assert msg.get_body(("plain",)).get_content().count("Airstrike on convoy near Derna") == 2


def test_webhook_schema_file_is_current_and_validates_a_payload() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "run: .venv/bin/python -m services.alerter.payload"
    )
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    body = json.loads(_payload().body())
    jsonschema.validate(body, schema)
    assert body["schema"] == "newswatch.webhook-alert/1"
    body.pop("delivery_id")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(body, schema)


def test_email_sender_builds_its_tls_context_once_and_only_for_tls() -> None:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.org", "b@example.org", "x"
    plain = EmailSender(SmtpSettings(host="127.0.0.1", port=1, timeout_s=2))
    with pytest.raises(DeliveryError) as refused:
        plain.send(message)  # nothing listens on port 1: a retryable connection error
    assert refused.value.retryable
    assert plain._tls is None  # a plain connection never loads the CA store
    tls = EmailSender(SmtpSettings(host="127.0.0.1", port=1, starttls=True))
    assert tls._tls_context() is tls._tls_context()
