"""What an alert says: the webhook body (``schemas/webhook-alert.v1.json``), also rendered as email.

One ``AlertArticle`` is built per (subscription, article) when the article matches and stored with
the dedupe record, so a delivery retried after a restart carries exactly the same content. A
delivery wraps one (``kind="alert"``), several (``"digest"``) or a spike summary (``"spike"``)
in a ``WebhookAlert``. The JSON Schema file is generated from these models
(``python -m services.alerter.payload``) and checked against them in the unit tests.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from newswatch.models.events import Event
from newswatch.models.jsonschema import json_schema_document, render_json_schema
from newswatch.models.messages import Article
from services.alerter.matching import Match, snippet

__all__ = [
    "SCHEMA_ID",
    "AlertArticle",
    "AlertEvent",
    "SpikeInfo",
    "WebhookAlert",
    "build_alert_article",
    "schema_document",
]

SCHEMA_ID = "newswatch.webhook-alert/1"
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "webhook-alert.v1.json"


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AlertLocation(_Model):
    name: str
    country_code: str | None = None
    admin1: str | None = None
    lat: float | None = None
    lon: float | None = None
    precision: int = 3


class AlertActor(_Model):
    name: str
    kind: int = Field(description="ACLED inter code: 1 state forces … 8 external/other")
    role: str = "mentioned"


class AlertEvent(_Model):
    event_type: str
    sub_event_type: str
    tags: list[str] = Field(default_factory=list)
    terrorism: bool = False
    location: AlertLocation | None = None
    actors: list[AlertActor] = Field(default_factory=list)
    fatalities: int = 0
    injured: int = 0
    date: dt.date | None = None
    background: bool = False
    sentence: str = ""


class AlertSource(_Model):
    name: str
    country: str | None = None


class AlertArticle(_Model):
    """One matched article as the subscriber sees it."""

    alert_id: str
    article_id: str
    title: str
    url: str
    source: AlertSource
    published_at: AwareDatetime | None = None
    language: str | None = None
    snippet: str = ""
    highlights: list[tuple[int, int]] = Field(
        default_factory=list, description="[start, end) character spans of matched words in snippet"
    )
    matched_terms: list[str] = Field(default_factory=list)
    events: list[AlertEvent] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class SpikeInfo(_Model):
    threshold: int
    window_minutes: float
    count: int
    window_start: AwareDatetime
    window_end: AwareDatetime
    article_ids: list[str] = Field(default_factory=list)


class SubscriptionRef(_Model):
    id: str
    name: str


class WebhookAlert(_Model):
    """The body of every webhook request (and the content of every email)."""

    schema_: Literal["newswatch.webhook-alert/1"] = Field(
        default="newswatch.webhook-alert/1", alias="schema"
    )
    delivery_id: str = Field(description="stable across retries: receivers dedupe on it")
    kind: Literal["alert", "digest", "spike"]
    subscription: SubscriptionRef
    created_at: AwareDatetime
    alerts: list[AlertArticle] = Field(default_factory=list)
    spike: SpikeInfo | None = None

    def body(self) -> bytes:
        return self.model_dump_json(by_alias=True).encode("utf-8")


def _event(event: Event) -> AlertEvent:
    loc = event.location
    return AlertEvent(
        event_type=event.event_type,
        sub_event_type=event.sub_event_type,
        tags=list(event.tags),
        terrorism=event.terrorism,
        location=None
        if loc is None
        else AlertLocation(
            name=loc.name,
            country_code=loc.country_code,
            admin1=loc.admin1,
            lat=loc.lat,
            lon=loc.lon,
            precision=loc.precision,
        ),
        actors=[AlertActor(name=a.name, kind=int(a.kind), role=a.role) for a in event.actors],
        fatalities=event.fatalities,
        injured=event.injured,
        date=event.date,
        background=event.background,
        sentence=event.sentence[:1000],
    )


def build_alert_article(alert_id: str, article: Article, match: Match) -> AlertArticle:
    text, spans = snippet(article, match.terms)
    return AlertArticle(
        alert_id=alert_id,
        article_id=article.article_id,
        title=article.title or "(untitled)",
        url=article.url,
        source=AlertSource(name=article.source.name, country=article.source.country),
        published_at=article.published_at or article.discovered_at,
        language=article.language or article.source.language,
        snippet=text,
        highlights=spans,
        matched_terms=list(match.terms),
        events=[_event(e) for e in match.events[:10]],
        tags=list(article.tags),
    )


def schema_document() -> dict[str, Any]:
    return json_schema_document(WebhookAlert, SCHEMA_PATH.name)


def render_schema() -> str:
    return render_json_schema(WebhookAlert, SCHEMA_PATH.name)


if __name__ == "__main__":
    SCHEMA_PATH.write_text(render_schema(), encoding="utf-8")
    print(f"wrote {SCHEMA_PATH}", file=sys.stderr)
