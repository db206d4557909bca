"""Subscriptions on the bus: every change is published to the compacted ``news.subscriptions``.

In the distributed runtime each alerter replica keeps its own SQLite state, so the subscriptions
themselves travel on a compacted topic keyed by subscription id: the last record of a key is the
subscription as it stands (``SubscriptionChange``; ``deleted: true`` once removed). The faust app
reads the topic as a GlobalTable (every replica sees every subscription) and mirrors it into its
local store, which the delivery worker, the API and ``newswatch subscriptions list`` read.

Writers are the places subscriptions change: the CLI, the HTTP API and the seeding of
``settings.subscriptions``. ``open_store`` hands them a store that publishes each committed
change when the bus is Kafka (on the embedded runtime there is one store and nothing to publish).

The records carry webhook secrets (every replica signs with them): restrict the topic to the
alerter and the operators with Kafka ACLs.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from newswatch.bus import Bus, Producer
from newswatch.errors import ContractError
from newswatch.models.jsonschema import json_schema_document, render_json_schema
from newswatch.settings import Settings
from services.alerter.state import StateDB
from services.alerter.subscriptions import Subscription, SubscriptionStore

__all__ = [
    "SCHEMA_ID",
    "SubscriptionChange",
    "SubscriptionPublisher",
    "decode_change",
    "encode_change",
    "open_store",
]

log = logging.getLogger(__name__)

SCHEMA_ID: Literal["newswatch.subscription/1"] = "newswatch.subscription/1"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "subscription.v1.json"


class SubscriptionChange(BaseModel):
    """One record of ``news.subscriptions`` (key: the subscription id)."""

    model_config = ConfigDict(populate_by_name=True, extra="ignore")

    schema_: Literal["newswatch.subscription/1"] = Field(default=SCHEMA_ID, alias="schema")
    id: str
    deleted: bool = False
    #: The whole subscription (absent when deleted), webhook secrets included.
    subscription: Subscription | None = None
    changed_at: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.UTC))


def encode_change(sub_id: str, sub: Subscription | None) -> bytes:
    """The record for ``sub`` (or for its deletion when ``sub`` is None)."""
    if sub is not None:
        sub = sub.model_copy(update={"created_at": None, "updated_at": None})
    change = SubscriptionChange(id=sub_id, deleted=sub is None, subscription=sub)
    return change.model_dump_json(by_alias=True, exclude_none=True).encode("utf-8")


def decode_change(raw: bytes) -> tuple[str, Subscription | None]:
    """``(id, subscription or None when deleted)``; ``ContractError`` for an unreadable record."""
    try:
        change = SubscriptionChange.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "<root>"
        raise ContractError(f"subscription record: {field}: {first['msg']}", field=field) from exc
    if change.deleted or change.subscription is None:
        return change.id, None
    return change.id, change.subscription


class SubscriptionPublisher:
    """Publishes store changes to the subscriptions topic and waits for the broker's ack (a CLI
    process may exit right after). The bus is opened on first use."""

    def __init__(self, settings: Settings, bus_factory: Callable[[], Bus] | None = None) -> None:
        self.topic = settings.topics.subscriptions
        self._settings = settings
        self._bus_factory = bus_factory
        self._bus: Bus | None = None
        self._producer: Producer | None = None
        self._lock = threading.Lock()

    def _ensure_producer(self) -> Producer:
        if self._producer is None:
            if self._bus_factory is not None:
                self._bus = self._bus_factory()
            else:
                from newswatch.bus import open_bus

                self._bus = open_bus(self._settings)
            self._producer = self._bus.producer()
        return self._producer

    def __call__(self, sub_id: str, sub: Subscription | None) -> None:
        with self._lock:
            producer = self._ensure_producer()
            producer.publish(self.topic, sub_id, encode_change(sub_id, sub))
            producer.flush()
        log.info(
            "published subscription %s%s to %s", sub_id, " (deleted)" * (sub is None), self.topic
        )

    def close(self) -> None:
        with self._lock:
            if self._producer is not None:
                self._producer.close()
                self._producer = None
            if self._bus is not None:
                self._bus.close()
                self._bus = None


def publishes(settings: Settings) -> bool:
    """Whether subscription changes go to the bus: on Kafka, where replicas share them."""
    return settings.bus.backend == "kafka"


def open_store(settings: Settings, db: StateDB | None = None) -> SubscriptionStore:
    """The subscription store of the alerter's state file; on Kafka it publishes its changes."""
    if db is None:
        db = StateDB(settings.data_path(settings.alerter.state_path))
    hook = SubscriptionPublisher(settings) if publishes(settings) else None
    return SubscriptionStore(db, on_change=hook)


def schema_document() -> dict[str, Any]:
    return json_schema_document(SubscriptionChange, SCHEMA_PATH.name)


def render_schema() -> str:
    return render_json_schema(SubscriptionChange, SCHEMA_PATH.name)


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}", file=sys.stderr)
