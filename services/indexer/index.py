"""The search index interface: one contract, two implementations (embedded FTS5, Elasticsearch).

The contract (``tests/contract/index_contract.py`` runs it against both):

* ``upsert_many(docs)`` writes documents built by ``document.article_document``; the
  ``article_id`` is the identity, so writing a document again replaces it (replays never
  duplicate). Documents that cannot be written are returned in ``UpsertReport.failures`` with
  the reason (the caller dead-letters them); the others are written.
* ``delete(ids)`` removes articles; unknown ids are ignored. Returns how many were removed.
* ``search(query, …)`` takes query-language text (or a parsed ``Query``) and structured
  ``Filters``; hits are exactly the articles the in-memory matcher would accept. ``sort`` is
  ``relevance`` (BM25; the order may differ between backends, the hits do not), ``newest`` or
  ``oldest`` (by ``published_at``, undated last, ties by ``article_id``). ``total`` is exact.
  Each hit carries a snippet with matches wrapped in ``highlight`` tags (the start of the
  summary or text when the query has no full-text term).
* ``facets`` (or ``search(…, facets=True)``): article counts by event type (articles with at
  least one such event), by ``country`` (the query language's ``country`` values, upper-case)
  and by publication day (UTC), for the articles the query selects.
* Writes are visible to searches once the call returns (``refresh`` semantics).
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from newswatch.query import parse
from newswatch.query.ast import Query
from newswatch.query.filters import Filters, apply_filters

__all__ = [
    "Bucket",
    "Facets",
    "Hit",
    "Index",
    "SearchResult",
    "Sort",
    "UpsertReport",
    "check_document",
    "fallback_snippet",
    "prepare",
]

Sort = Literal["relevance", "newest", "oldest"]
DEFAULT_HIGHLIGHT = ("<mark>", "</mark>")
SNIPPET_CHARS = 200


@dataclass(frozen=True)
class Bucket:
    key: str
    count: int


@dataclass
class Facets:
    event_types: list[Bucket] = field(default_factory=list)
    countries: list[Bucket] = field(default_factory=list)
    days: list[Bucket] = field(default_factory=list)

    def as_dict(self) -> dict[str, list[dict[str, Any]]]:
        return {
            name: [{"key": b.key, "count": b.count} for b in buckets]
            for name, buckets in (
                ("event_types", self.event_types),
                ("countries", self.countries),
                ("days", self.days),
            )
        }


@dataclass
class Hit:
    """One result: the stored document without its long text fields, plus score and snippet."""

    article_id: str
    score: float | None
    document: dict[str, Any]
    snippet: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "article_id": self.article_id,
            "score": self.score,
            "snippet": self.snippet,
            **{k: v for k, v in self.document.items() if k not in ("article_id", "keys")},
        }


@dataclass
class SearchResult:
    total: int
    hits: list[Hit]
    facets: Facets | None = None


@dataclass
class UpsertReport:
    written: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def prepare(query: str | Query, filters: Filters | None) -> Query:
    """Parse (if needed) and add the filters: what every backend compiles."""
    parsed = parse(query) if isinstance(query, str) else query
    return apply_filters(parsed, filters)


def fallback_snippet(document: dict[str, Any]) -> str:
    """A snippet when nothing was highlighted: the start of the summary, else of the text."""
    source = (document.get("summary") or document.get("text") or "").strip()
    if len(source) <= SNIPPET_CHARS:
        return source
    cut = source.rfind(" ", 0, SNIPPET_CHARS)
    return source[: cut if cut > 0 else SNIPPET_CHARS] + "…"


def check_document(doc: dict[str, Any]) -> str | None:
    """Why ``doc`` cannot be indexed (None if it can). Shared by both backends."""
    article_id = doc.get("article_id")
    if not isinstance(article_id, str) or not article_id:
        return "document has no article_id"
    if not isinstance(doc.get("keys"), dict) or not isinstance(doc.get("events"), list):
        return "document lacks keys/events (not built by document.article_document?)"
    return None


#: Document fields left out of hits (the text is long; the snippet stands for it).
HIT_EXCLUDES = ("text", "summary")


class Index(abc.ABC):
    """A search index of article documents (and the alert delivery log)."""

    name: str = "index"

    @abc.abstractmethod
    def setup(self) -> None:
        """Create tables / templates / aliases if missing (idempotent)."""

    @abc.abstractmethod
    def upsert_many(self, docs: Sequence[dict[str, Any]]) -> UpsertReport: ...

    @abc.abstractmethod
    def delete(self, ids: Iterable[str]) -> int: ...

    @abc.abstractmethod
    def get(self, article_id: str) -> dict[str, Any] | None:
        """The stored document (all fields), or None."""

    @abc.abstractmethod
    def search(
        self,
        query: str | Query = "",
        *,
        filters: Filters | None = None,
        sort: Sort = "relevance",
        offset: int = 0,
        size: int = 20,
        facets: bool = False,
        highlight: tuple[str, str] = DEFAULT_HIGHLIGHT,
        now: dt.datetime | None = None,
    ) -> SearchResult: ...

    @abc.abstractmethod
    def count(
        self,
        query: str | Query = "",
        *,
        filters: Filters | None = None,
        now: dt.datetime | None = None,
    ) -> int: ...

    def facets(
        self,
        query: str | Query = "",
        *,
        filters: Filters | None = None,
        now: dt.datetime | None = None,
    ) -> Facets:
        result = self.search(query, filters=filters, size=0, facets=True, now=now)
        assert result.facets is not None
        return result.facets

    @abc.abstractmethod
    def upsert_alerts(self, docs: Sequence[dict[str, Any]]) -> UpsertReport:
        """Write delivery-log documents (``document.alert_document``), keyed by their ``id``."""

    @abc.abstractmethod
    def alerts(self, *, article_id: str | None = None, size: int = 100) -> list[dict[str, Any]]:
        """Delivery-log documents, newest first, optionally for one article."""

    def refresh(self) -> None:  # noqa: B027 - optional hook
        """Make writes visible (a no-op where they already are)."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
