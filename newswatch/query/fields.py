"""The field vocabulary of the query language, defined once for every backend.

Each field has a *kind* (how values compare), a *scope* and the values it takes from an
``Article``:

* scope ``article`` fields take one set of values per article (``country:LY``);
* scope ``event`` fields take values per tagged event (``fatalities:>=10``). Event conditions
  joined by AND are evaluated on the *same* event: ``event.type:"Air/drone strike" AND
  fatalities:>=10`` needs one air strike with ten or more killed, not any strike plus any
  deadly event.

Keyword values are folded (``analysis.fold``: diacritics removed, case-folded) in Python when an
article is indexed or matched and when a query is parsed, so ``place:benghazi`` and
``place:"BENGHAZÍ"`` agree on every backend. Which article values each field takes is written in
``article_keys`` and ``event_keys`` below; the indexer stores exactly those (``keys`` and
``events[].keys`` in the index document) and the in-memory matcher reads exactly those.

Negated and hypothetical events ("no one was killed", "could strike") are not events of the
article for search: they are left out of ``indexed_events``.

``docs/query-language.md`` is the user's description of this table; keep them in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from newswatch.models.events import Event
from newswatch.models.messages import Article
from newswatch.query.analysis import fold, fold_all

__all__ = [
    "DEFAULT_TEXT_FIELDS",
    "FIELDS",
    "TEXT_COLUMNS",
    "FieldSpec",
    "article_keys",
    "event_keys",
    "indexed_events",
    "lookup",
]

Kind = Literal["text", "keyword", "number", "date", "bool"]
Scope = Literal["article", "event"]

#: Full-text columns, in the order the embedded FTS table declares them.
TEXT_COLUMNS: tuple[str, ...] = ("title", "summary", "text")
#: Where a bare term or phrase is looked for.
DEFAULT_TEXT_FIELDS: tuple[str, ...] = TEXT_COLUMNS


@dataclass(frozen=True)
class FieldSpec:
    """One queryable field.

    ``key`` names the value set: for keyword fields the entry of ``article_keys``/``event_keys``
    (stored as ``keys.<key>`` / ``events.keys.<key>`` in Elasticsearch); for number, date and
    bool fields the document attribute (``published_at``, ``events.fatalities``…); for text
    fields the text columns searched.
    """

    name: str
    kind: Kind
    scope: Scope
    description: str
    key: str = ""
    aliases: tuple[str, ...] = ()
    columns: tuple[str, ...] = field(default=())


FIELDS: tuple[FieldSpec, ...] = (
    # -- full text ------------------------------------------------------------------------------
    FieldSpec(
        "title", "text", "article", "the headline", columns=("title",), aliases=("headline",)
    ),
    FieldSpec("summary", "text", "article", "the feed's summary", columns=("summary",)),
    FieldSpec("text", "text", "article", "the article body", columns=("text",), aliases=("body",)),
    # -- article keywords ----------------------------------------------------------------------
    FieldSpec(
        "country",
        "keyword",
        "article",
        "ISO code of an event's location or of the outlet (names like Libya accepted)",
        key="country",
    ),
    FieldSpec(
        "source.country", "keyword", "article", "ISO code of the outlet", key="source_country"
    ),
    FieldSpec("tag", "keyword", "article", "a document or event tag", key="tag", aliases=("tags",)),
    FieldSpec(
        "actor", "keyword", "article", "an actor's name or id (article or events)", key="actor"
    ),
    FieldSpec(
        "place",
        "keyword",
        "article",
        "a place named in the article or an event location",
        key="place",
    ),
    FieldSpec(
        "admin1", "keyword", "article", "first-level region of a place or event", key="admin1"
    ),
    FieldSpec("source", "keyword", "article", "the outlet's name or feed id", key="source"),
    FieldSpec(
        "lang",
        "keyword",
        "article",
        "language code (article, else outlet)",
        key="lang",
        aliases=("language",),
    ),
    FieldSpec("id", "keyword", "article", "the article id", key="id", aliases=("article_id",)),
    # -- article numbers and dates --------------------------------------------------------------
    FieldSpec(
        "published_at",
        "date",
        "article",
        "publication time (UTC)",
        key="published_at",
        aliases=("date", "published"),
    ),
    FieldSpec("word_count", "number", "article", "words in the body", key="word_count"),
    # -- event fields --------------------------------------------------------------------------
    # ``event.type`` takes either level of the taxonomy, as the design's examples do
    # (``event.type:"Air/drone strike"``): ACLED's 6 type and 25 sub-type names are disjoint.
    FieldSpec(
        "event.type",
        "keyword",
        "event",
        "ACLED event type or sub-event type",
        key="any_type",
        aliases=("event_type",),
    ),
    FieldSpec(
        "event.subtype",
        "keyword",
        "event",
        "ACLED sub-event type",
        key="subtype",
        aliases=("event.sub_type", "sub_event_type", "subtype"),
    ),
    FieldSpec("type", "keyword", "event", "event type or sub-event type", key="any_type"),
    FieldSpec("event.tag", "keyword", "event", "a tag of the event", key="tag"),
    FieldSpec("event.actor", "keyword", "event", "an actor of the event", key="actor"),
    FieldSpec(
        "event.country", "keyword", "event", "ISO code of the event's location", key="country"
    ),
    FieldSpec("event.admin1", "keyword", "event", "region of the event's location", key="admin1"),
    FieldSpec("event.place", "keyword", "event", "name of the event's location", key="place"),
    FieldSpec(
        "fatalities",
        "number",
        "event",
        "people killed in one event",
        key="fatalities",
        aliases=("killed", "event.fatalities"),
    ),
    FieldSpec(
        "injured",
        "number",
        "event",
        "people injured in one event",
        key="injured",
        aliases=("event.injured",),
    ),
    FieldSpec(
        "terrorism",
        "bool",
        "event",
        "the event is coded as terrorism",
        key="terrorism",
        aliases=("event.terrorism",),
    ),
    FieldSpec(
        "background",
        "bool",
        "event",
        "a past event recalled in the story",
        key="background",
        aliases=("event.background",),
    ),
    FieldSpec("event.date", "date", "event", "the day the event happened", key="date"),
    FieldSpec(
        "precision",
        "number",
        "event",
        "location precision (1 town … 3 region)",
        key="precision",
        aliases=("event.precision",),
    ),
)

_BY_NAME: dict[str, FieldSpec] = {}
for _spec in FIELDS:
    for _name in (_spec.name, *_spec.aliases):
        _BY_NAME[_name.lower()] = _spec


def lookup(name: str) -> FieldSpec | None:
    """The field called ``name`` (or one of its aliases), case-insensitively."""
    return _BY_NAME.get(name.lower())


def field_names() -> list[str]:
    """Every canonical field name, for error messages and help."""
    return [spec.name for spec in FIELDS]


# -- the values each field takes from an article ------------------------------------------------


def indexed_events(article: Article) -> list[Event]:
    """The events search sees: everything tagged except negated and hypothetical mentions."""
    return [e for e in article.events if not (e.negated or e.hypothetical)]


def _actor_values(name: str, actor_id: str | None) -> list[str | None]:
    return [name, actor_id]


def event_keys(event: Event) -> dict[str, list[str]]:
    """Keyword values of one event, folded."""
    location = event.location
    actors: list[str | None] = []
    for actor in event.actors:
        actors.extend(_actor_values(actor.name, actor.id))
    return {
        "type": fold_all([event.event_type]),
        "subtype": fold_all([event.sub_event_type]),
        "any_type": fold_all([event.event_type, event.sub_event_type]),
        "tag": fold_all(event.tags),
        "actor": fold_all(actors),
        "country": fold_all([location.country_code] if location else []),
        "admin1": fold_all([location.admin1] if location else []),
        "place": fold_all([location.name] if location else []),
    }


def article_keys(article: Article) -> dict[str, list[str]]:
    """Keyword values of the article as a whole, folded (event values included where the
    field's description says so)."""
    events = indexed_events(article)
    countries: list[str | None] = [e.location.country_code for e in events if e.location]
    countries.append(article.source.country)
    tags: list[str | None] = list(article.tags)
    actors: list[str | None] = []
    places: list[str | None] = [p.name for p in article.places]
    admin1: list[str | None] = [p.admin1 for p in article.places]
    for actor in article.actors:
        actors.extend(_actor_values(actor.name, actor.id))
    for event in events:
        tags.extend(event.tags)
        for actor in event.actors:
            actors.extend(_actor_values(actor.name, actor.id))
        if event.location is not None:
            places.append(event.location.name)
            admin1.append(event.location.admin1)
    return {
        "country": fold_all(countries),
        "source_country": fold_all([article.source.country]),
        "tag": fold_all(tags),
        "actor": fold_all(actors),
        "place": fold_all(places),
        "admin1": fold_all(admin1),
        "source": fold_all([article.source.name, article.feed_id]),
        "lang": fold_all([article.language or article.source.language]),
        "id": [article.article_id],
    }


def fold_values(values: Iterable[str]) -> list[str]:
    return fold_all(list(values))


__all__ += ["field_names", "fold", "fold_values"]
