"""Subscriptions on the bus: the record format, the store's change hook and its mirror."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from newswatch.errors import ContractError
from newswatch.settings import load_settings
from services.alerter.state import StateDB
from services.alerter.subscriptions import Subscription, SubscriptionStore, parse_subscription
from services.alerter.sync import (
    SCHEMA_PATH,
    decode_change,
    encode_change,
    open_store,
    render_schema,
)


def _sub(**extra: object) -> Subscription:
    doc = {
        "id": "derna",
        "name": "Derna",
        "owner": "a@example.org",
        "query": "Derna",
        "channels": {
            "emails": ["a@example.org"],
            "webhooks": [{"url": "https://hooks.example.org/x", "secret": "s" * 20}],
        },
    }
    doc.update(extra)
    return parse_subscription(doc)


def test_a_change_round_trips_with_its_secret() -> None:
    sub = _sub()
    sub_id, back = decode_change(encode_change("derna", sub))
    assert sub_id == "derna"
    assert back is not None
    assert back.channels.webhooks[0].secret == "s" * 20
    assert back.model_dump(exclude={"created_at", "updated_at"}) == sub.model_dump(
        exclude={"created_at", "updated_at"}
    )


def test_a_deletion_decodes_to_none() -> None:
    raw = encode_change("derna", None)
    assert json.loads(raw)["deleted"] is True
    assert decode_change(raw) == ("derna", None)


def test_an_unreadable_record_is_a_contract_error() -> None:
    with pytest.raises(ContractError):
        decode_change(b'{"schema": "newswatch.subscription/1"}')
    with pytest.raises(ContractError):
        decode_change(b"not json")


def test_records_validate_against_the_schema_file() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_schema(), (
        "schemas/subscription.v1.json is stale: run .venv/bin/python -m services.alerter.sync"
    )
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    for raw in (encode_change("derna", _sub()), encode_change("derna", None)):
        jsonschema.Draft202012Validator(schema).validate(json.loads(raw))


def test_the_store_reports_every_committed_change(tmp_path: Path) -> None:
    seen: list[tuple[str, str | None]] = []
    store = SubscriptionStore(
        StateDB(tmp_path / "a.db"), on_change=lambda i, s: seen.append((i, s and s.query))
    )
    store.add(_sub())
    store.put(_sub(query="Derna OR Benghazi"))
    store.unsubscribe_email("derna", "a@example.org")
    store.remove("derna")
    assert seen == [
        ("derna", "Derna"),
        ("derna", "Derna OR Benghazi"),
        ("derna", "Derna OR Benghazi"),
        ("derna", None),
    ]


def test_mirroring_applies_without_reporting_and_skips_no_ops(tmp_path: Path) -> None:
    seen: list[str] = []
    store = SubscriptionStore(StateDB(tmp_path / "a.db"), on_change=lambda i, s: seen.append(i))
    assert store.mirror("derna", _sub()) is True
    version = store.version()
    assert store.mirror("derna", _sub()) is False  # the same document: nothing to do
    assert store.version() == version
    assert store.get("derna").query == "Derna"
    assert store.mirror("derna", None) is True
    assert store.find("derna") is None
    assert store.mirror("derna", None) is False
    assert seen == []


def test_open_store_publishes_only_on_kafka(tmp_path: Path) -> None:
    embedded = load_settings(overrides={"data_dir": str(tmp_path)})
    assert open_store(embedded).on_change is None
    kafka = load_settings(
        overrides={"data_dir": str(tmp_path), "bus": {"backend": "kafka"}},
    )
    assert open_store(kafka).on_change is not None
