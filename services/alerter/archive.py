"""``subscriptions test``: what a subscription would have fired on, from the archive.

The archive is the search index when there is one (the query narrows the candidates there, with
the same semantics as the alert matcher; the structured criteria are then checked on each
document turned back into an ``Article``), else the retained ``news.articles`` messages on the
bus. Nothing is recorded or sent: it is a dry run of ``matching.evaluate``.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from newswatch.errors import ContractError, NewswatchError
from newswatch.models.events import Actor, Event, Location, Place
from newswatch.models.messages import Article, Source, decode
from newswatch.settings import Settings
from services.alerter.dedupe import DedupeStore
from services.alerter.matching import Match, compile_subscription, evaluate
from services.alerter.state import StateDB
from services.alerter.subscriptions import Subscription

__all__ = ["DryRunHit", "article_from_document", "dry_run"]

log = logging.getLogger(__name__)


@dataclass
class DryRunHit:
    article: Article
    match: Match
    already_alerted: bool

    def as_dict(self) -> dict[str, Any]:
        a = self.article
        return {
            "article_id": a.article_id,
            "title": a.title,
            "url": a.url,
            "source": a.source.name,
            "published_at": a.published_at.isoformat() if a.published_at else None,
            "events": [
                {
                    "type": e.sub_event_type,
                    "place": e.location.name if e.location else None,
                    "country": e.location.country_code if e.location else None,
                    "fatalities": e.fatalities,
                }
                for e in self.match.events
            ],
            "matched_terms": list(self.match.terms),
            "already_alerted": self.already_alerted,
        }


def _date(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _geo(obj: dict[str, Any] | None) -> tuple[float | None, float | None]:
    geo = (obj or {}).get("geo") or {}
    return geo.get("lat"), geo.get("lon")


def _actor(data: dict[str, Any]) -> Actor:
    return Actor(
        name=data["name"],
        id=data.get("id"),
        kind=data.get("kind", 8),
        role=data.get("role", "mentioned"),
    )


def article_from_document(doc: dict[str, Any]) -> Article:
    """Rebuild an ``Article`` from an index document (``services.indexer.document``); enough for
    matching: negated/hypothetical events are not indexed and are not needed."""
    events = []
    for e in doc.get("events", []):
        loc = e.get("location")
        lat, lon = _geo(loc)
        events.append(
            Event(
                event_type=e["event_type"],
                sub_event_type=e["sub_event_type"],
                tags=e.get("tags", []),
                terrorism=e.get("terrorism", False),
                background=e.get("background", False),
                fatalities=e.get("fatalities", 0),
                injured=e.get("injured", 0),
                date=dt.date.fromisoformat(e["date"]) if e.get("date") else None,
                confidence=e.get("confidence", 0.5),
                sentence=e.get("sentence", ""),
                actors=[_actor(a) for a in e.get("actors", [])],
                location=None
                if loc is None
                else Location(
                    name=loc["name"],
                    country_code=loc.get("country_code"),
                    admin1=loc.get("admin1"),
                    lat=lat,
                    lon=lon,
                    precision=loc.get("precision", 3),
                ),
            )
        )
    places = []
    for p in doc.get("places", []):
        lat, lon = _geo(p)
        places.append(
            Place(
                name=p["name"],
                country_code=p.get("country_code"),
                admin1=p.get("admin1"),
                lat=lat,
                lon=lon,
                precision=p.get("precision", 3),
                mentions=p.get("mentions", 1),
            )
        )
    source = doc.get("source") or {}
    discovered = _date(doc.get("discovered_at")) or dt.datetime.now(dt.UTC)
    return Article(
        article_id=doc["article_id"],
        url=doc.get("url", ""),
        canonical_url=doc.get("canonical_url") or doc.get("url", ""),
        feed_id=doc.get("feed_id", ""),
        feed_url="",
        source=Source(
            name=source.get("name", ""),
            country=source.get("country"),
            language=source.get("language"),
            regions=source.get("regions", []),
        ),
        title=doc.get("title") or "",
        summary=doc.get("summary") or "",
        text=doc.get("text") or "",
        authors=doc.get("authors", []),
        language=doc.get("language"),
        sitename=doc.get("sitename"),
        published_at=_date(doc.get("published_at")),
        discovered_at=discovered,
        extracted_at=_date(doc.get("extracted_at")) or discovered,
        word_count=doc.get("word_count", 0),
        tags=doc.get("tags", []),
        events=events,
        places=places,
        actors=[_actor(a) for a in doc.get("actors", [])],
    )


def _from_index(settings: Settings, sub: Subscription, limit: int) -> list[Article] | None:
    """Candidates from the search index, or None when there is no usable index."""
    try:
        if settings.index.backend == "embedded":
            path = settings.index_path
            if not path.exists():
                return None
            probe = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                has = probe.execute(
                    "SELECT 1 FROM sqlite_master WHERE name = 'idx_articles'"
                ).fetchone()
            finally:
                probe.close()
            if not has:
                return None
            from services.indexer.embedded import EmbeddedIndex

            index: Any = EmbeddedIndex(path)
        else:
            from services.indexer.elastic import ElasticIndex

            index = ElasticIndex.from_settings(settings.index.elasticsearch)
    except (ImportError, NewswatchError, sqlite3.Error) as exc:
        log.info("no search index for the dry run (%s); using the bus", exc)
        return None
    try:
        result = index.search(sub.query, sort="newest", size=limit)
        docs = [index.get(hit.article_id) for hit in result.hits]
        return [article_from_document(d) for d in docs if d is not None]
    finally:
        index.close()


def _from_bus(settings: Settings, limit: int) -> list[Article]:
    from newswatch.bus import open_bus

    articles = []
    with open_bus(settings) as bus:
        for message in bus.read(settings.topics.articles, limit=limit):
            try:
                articles.append(decode(Article, message.value))
            except ContractError:
                continue
    articles.reverse()  # newest first, like the index
    return articles


def dry_run(
    settings: Settings, sub: Subscription, *, limit: int = 200
) -> tuple[str, int, list[DryRunHit]]:
    """``(archive used, articles examined, hits)`` for ``sub`` over the newest ``limit``
    articles of the archive (the index narrows by the query first)."""
    compiled = compile_subscription(sub.model_copy(update={"enabled": True}))
    articles = _from_index(settings, sub, limit)
    source = "index"
    if articles is None:
        articles, source = _from_bus(settings, limit), "bus"
    dedupe = None
    state = settings.data_path(settings.alerter.state_path)
    if state.exists():
        dedupe = DedupeStore(StateDB(state))
    hits = []
    for article in articles:
        match = evaluate(compiled, article)
        if match is not None:
            seen = dedupe.seen(sub.id, article.article_id) if dedupe else False
            hits.append(DryRunHit(article, match, seen))
    return source, len(articles), hits
