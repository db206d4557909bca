"""The typed syntax tree every backend compiles from.

The parser (``parser.py``) turns luqum's generic tree into these nodes, resolving fields,
normalising values and grouping event conditions, so backends never see raw query text and
cannot disagree on what a query means — only on how to ask their store for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TypeAlias

__all__ = [
    "And",
    "Bool",
    "EventMatch",
    "Keyword",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "Query",
    "Range",
    "RelativeTime",
    "Text",
]


@dataclass(frozen=True)
class RelativeTime:
    """``now-7d``: resolved against the clock when the query runs (alert rules live long)."""

    offset_s: float
    #: ``/d`` rounding: the start of the UTC day.
    round_day: bool = False

    def resolve(self, now: dt.datetime) -> dt.datetime:
        moment = now + dt.timedelta(seconds=self.offset_s)
        if self.round_day:
            moment = moment.replace(hour=0, minute=0, second=0, microsecond=0)
        return moment


Bound: TypeAlias = float | dt.datetime | RelativeTime | None


@dataclass(frozen=True)
class Text:
    """A full-text term, phrase or prefix over ``columns``.

    ``tokens`` are the analysed tokens (see ``analysis``): one for a plain word (unless it
    splits, like ``al-Qaeda``, which then behaves as a phrase), several for a phrase. ``prefix``
    marks a trailing ``*``: the last token is a prefix of an indexed (stemmed) token.
    """

    columns: tuple[str, ...]
    value: str
    tokens: tuple[str, ...]
    phrase: bool = False
    prefix: bool = False
    pos: int = 0


@dataclass(frozen=True)
class Keyword:
    """Exact (folded) value of a keyword field; ``prefix`` for a trailing ``*``."""

    field: str
    key: str
    value: str
    scope: str
    prefix: bool = False
    pos: int = 0


@dataclass(frozen=True)
class Bool:
    field: str
    key: str
    value: bool
    scope: str
    pos: int = 0


@dataclass(frozen=True)
class Range:
    """A number or date range; ``low``/``high`` None means open. Dates are aware UTC."""

    field: str
    key: str
    kind: str  # "number" | "date"
    scope: str
    low: Bound = None
    high: Bound = None
    include_low: bool = True
    include_high: bool = True
    pos: int = 0


@dataclass(frozen=True)
class And:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class EventMatch:
    """True when one indexed event of the article satisfies ``child`` (event-scope leaves only,
    joined by And/Or)."""

    child: Node


@dataclass(frozen=True)
class MatchAll:
    """The empty query (or ``*``): every article."""


Node: TypeAlias = Text | Keyword | Bool | Range | And | Or | Not | EventMatch | MatchAll


@dataclass(frozen=True)
class Query:
    """A parsed query: the source text and its tree."""

    source: str
    root: Node

    def __str__(self) -> str:
        return self.source
