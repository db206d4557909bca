"""Elasticsearch index templates: explicit mappings for articles and the alert delivery log.

Text fields use ``newswatch_english`` (see ``newswatch.query.analysis.ES_ANALYSIS``: the tokens
of the embedded FTS5 index, Porter-stemmed English) with a ``keyword`` sub-field where sorting or
aggregating on the raw value is useful. ``events`` is ``nested`` so one event's conditions are
checked together; ``keys`` and ``events.keys`` hold the folded values the query language
matches. Mappings are ``dynamic: strict``: a document field the template does not know is a
per-document failure (dead-lettered with the reason), not a silently guessed mapping.
"""

from __future__ import annotations

from typing import Any

from newswatch.query.analysis import ES_ANALYSIS, ES_TEXT_ANALYZER

__all__ = ["ALERT_MAPPINGS", "ARTICLE_MAPPINGS", "index_template"]

KW: dict[str, Any] = {"type": "keyword"}
INT: dict[str, Any] = {"type": "integer"}
SHORT: dict[str, Any] = {"type": "short"}
BOOL: dict[str, Any] = {"type": "boolean"}
DATE: dict[str, Any] = {"type": "date"}
GEO: dict[str, Any] = {"type": "geo_point"}
TEXT: dict[str, Any] = {"type": "text", "analyzer": ES_TEXT_ANALYZER}
TEXT_KW: dict[str, Any] = {
    **TEXT,
    "fields": {"keyword": {"type": "keyword", "ignore_above": 512}},
}

_ACTOR = {"properties": {"name": KW, "id": KW, "kind": SHORT, "role": KW}}
_ARTICLE_KEYS = (
    "country",
    "source_country",
    "tag",
    "actor",
    "place",
    "admin1",
    "source",
    "lang",
    "id",
)
_EVENT_KEYS = ("type", "subtype", "any_type", "tag", "actor", "country", "admin1", "place")

ARTICLE_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "article_id": KW,
        "doc_version": SHORT,
        "url": KW,
        "canonical_url": KW,
        "title": TEXT_KW,
        "summary": TEXT,
        "text": TEXT,
        "authors": KW,
        "language": KW,
        "sitename": KW,
        "feed_id": KW,
        "source": {
            "properties": {"name": KW, "country": KW, "language": KW, "regions": KW},
        },
        "published_at": DATE,
        "discovered_at": DATE,
        "extracted_at": DATE,
        "indexed_at": DATE,
        "word_count": INT,
        "extraction_status": KW,
        "duplicate_of": KW,
        "tags": KW,
        "events": {
            "type": "nested",
            "properties": {
                "event_type": KW,
                "sub_event_type": KW,
                "tags": KW,
                "terrorism": BOOL,
                "background": BOOL,
                "fatalities": INT,
                "injured": INT,
                "date": DATE,
                "confidence": {"type": "float"},
                "sentence": TEXT,
                "actors": _ACTOR,
                "location": {
                    "properties": {
                        "name": KW,
                        "country_code": KW,
                        "admin1": KW,
                        "geo": GEO,
                        "precision": SHORT,
                    }
                },
                "keys": {"properties": {k: KW for k in _EVENT_KEYS}},
            },
        },
        "places": {
            "properties": {
                "name": KW,
                "country_code": KW,
                "admin1": KW,
                "geo": GEO,
                "precision": SHORT,
                "mentions": INT,
            }
        },
        "actors": _ACTOR,
        "event_count": INT,
        "event_types": KW,
        "sub_event_types": KW,
        "event_actors": KW,
        "event_places": KW,
        "event_countries": KW,
        "event_locations": GEO,
        "fatalities_total": INT,
        "injured_total": INT,
        "terrorism": BOOL,
        "keys": {"properties": {k: KW for k in _ARTICLE_KEYS}},
    },
}

ALERT_MAPPINGS: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": KW,
        "alert_id": KW,
        "subscription_id": KW,
        "article_id": KW,
        "channel": KW,
        "target": KW,
        "status": KW,
        "attempts": SHORT,
        "created_at": DATE,
        "delivered_at": DATE,
        "error": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 512}}},
        "digest": BOOL,
    },
}


def index_template(
    pattern: str, mappings: dict[str, Any], *, shards: int, replicas: int, priority: int = 200
) -> dict[str, Any]:
    """The body of ``PUT _index_template/<name>`` for indices matching ``pattern``."""
    return {
        "index_patterns": [pattern],
        "priority": priority,
        "template": {
            "settings": {
                "number_of_shards": shards,
                "number_of_replicas": replicas,
                "analysis": ES_ANALYSIS,
            },
            "mappings": mappings,
        },
        "_meta": {"managed_by": "newswatch"},
    }
