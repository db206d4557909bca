"""Article → index document, one shape for both backends.

Elasticsearch stores the document as its ``_source``; the embedded index stores it as JSON (minus
the three text columns, which live in the FTS table) and spreads the searchable values over
its tables. Both backends derive every searchable value from ``newswatch.query.fields``
(``article_keys``/``event_keys``), the same functions the in-memory alert matcher reads, so the
three agree by construction.

Besides ``events`` (nested: one object per event, for per-event queries), a few event values are
flattened to article level (``event_types``, ``event_locations``, ``fatalities_total``…): Kibana's
Lens and Maps cannot aggregate nested fields, and the dashboard is built on those.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from newswatch.models.events import Actor, Event, Place
from newswatch.models.messages import AlertDelivery, Article
from newswatch.query.fields import article_keys, event_keys, indexed_events

__all__ = ["DOCUMENT_VERSION", "alert_document", "alert_id_of", "article_document"]

#: Bumped when the document shape changes (a reindex is then needed).
DOCUMENT_VERSION = 1


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    return None if value is None else value.isoformat()


def _geo(lat: float | None, lon: float | None) -> dict[str, float] | None:
    if lat is None or lon is None:
        return None
    return {"lat": lat, "lon": lon}


def _actor(actor: Actor) -> dict[str, Any]:
    return {"name": actor.name, "id": actor.id, "kind": int(actor.kind), "role": actor.role}


def _event(event: Event) -> dict[str, Any]:
    loc = event.location
    return {
        "event_type": event.event_type,
        "sub_event_type": event.sub_event_type,
        "tags": list(event.tags),
        "terrorism": event.terrorism,
        "background": event.background,
        "fatalities": event.fatalities,
        "injured": event.injured,
        "date": _iso(event.date),
        "confidence": event.confidence,
        "sentence": event.sentence,
        "actors": [_actor(a) for a in event.actors],
        "location": None
        if loc is None
        else {
            "name": loc.name,
            "country_code": loc.country_code,
            "admin1": loc.admin1,
            "geo": _geo(loc.lat, loc.lon),
            "precision": loc.precision,
        },
        "keys": event_keys(event),
    }


def _place(place: Place) -> dict[str, Any]:
    return {
        "name": place.name,
        "country_code": place.country_code,
        "admin1": place.admin1,
        "geo": _geo(place.lat, place.lon),
        "precision": place.precision,
        "mentions": place.mentions,
    }


def _unique(values: list[str | None]) -> list[str]:
    return list(dict.fromkeys(v for v in values if v))


def article_document(article: Article, *, indexed_at: dt.datetime | None = None) -> dict[str, Any]:
    """The index document of ``article`` (JSON-ready: dates as ISO strings)."""
    events = indexed_events(article)
    docs = [_event(e) for e in events]
    locations = [d["location"]["geo"] for d in docs if d["location"] and d["location"]["geo"]]
    return {
        "article_id": article.article_id,
        "doc_version": DOCUMENT_VERSION,
        "url": article.url,
        "canonical_url": article.canonical_url,
        "title": article.title,
        "summary": article.summary,
        "text": article.text,
        "authors": list(article.authors),
        "language": article.language,
        "sitename": article.sitename,
        "feed_id": article.feed_id,
        "source": {
            "name": article.source.name,
            "country": article.source.country,
            "language": article.source.language,
            "regions": list(article.source.regions),
        },
        "published_at": _iso(article.published_at),
        "discovered_at": _iso(article.discovered_at),
        "extracted_at": _iso(article.extracted_at),
        "indexed_at": _iso(indexed_at or dt.datetime.now(dt.UTC)),
        "word_count": article.word_count,
        "extraction_status": article.extraction_status,
        "duplicate_of": article.duplicate_of,
        "tags": list(article.tags),
        "events": docs,
        "places": [_place(p) for p in article.places],
        "actors": [_actor(a) for a in article.actors],
        "event_count": len(events),
        "event_types": _unique([e.event_type for e in events]),
        "sub_event_types": _unique([e.sub_event_type for e in events]),
        "event_actors": _unique([a.name for e in events for a in e.actors]),
        "event_places": _unique([e.location.name for e in events if e.location]),
        "event_countries": _unique([e.location.country_code for e in events if e.location]),
        "event_locations": locations,
        "fatalities_total": sum(e.fatalities for e in events if not e.background),
        "injured_total": sum(e.injured for e in events if not e.background),
        "terrorism": any(e.terrorism for e in events),
        "keys": article_keys(article),
    }


def alert_id_of(alert: AlertDelivery) -> str:
    """One row per delivery attempt outcome: the log keeps history, replays stay idempotent."""
    return f"{alert.alert_id}:{alert.attempts}:{alert.status}"


def alert_document(alert: AlertDelivery) -> dict[str, Any]:
    """The ``newswatch-alerts`` document of one delivery record."""
    return {
        "id": alert_id_of(alert),
        "alert_id": alert.alert_id,
        "subscription_id": alert.subscription_id,
        "article_id": alert.article_id,
        "channel": alert.channel,
        "target": alert.target,
        "status": alert.status,
        "attempts": alert.attempts,
        "created_at": _iso(alert.created_at),
        "delivered_at": _iso(alert.delivered_at),
        "error": alert.error,
        "digest": alert.digest,
    }
