"""Structured filters (``--country``, ``--type``, ``--since``) as extra query conditions.

They are added to the parsed tree rather than handled by each backend, so ``--country LY`` means
exactly ``country:LY`` everywhere.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from newswatch.errors import QueryError
from newswatch.query import ast
from newswatch.query.parser import parse

__all__ = ["Filters", "apply_filters", "parse_since"]

_SINCE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@dataclass(frozen=True)
class Filters:
    """Conditions ANDed to a query. ``since``/``until`` are UTC instants or ``RelativeTime``."""

    country: str | None = None
    event_type: str | None = None
    since: dt.datetime | ast.RelativeTime | None = None
    until: dt.datetime | ast.RelativeTime | None = None
    source: str | None = None

    def is_empty(self) -> bool:
        return not (self.country or self.event_type or self.since or self.until or self.source)


def parse_since(value: str) -> dt.datetime | ast.RelativeTime:
    """``7d``/``12h``/``30m`` (relative to now) or an ISO date/time."""
    match = _SINCE.match(value.strip().lower())
    if match:
        return ast.RelativeTime(-float(int(match[1]) * _UNITS[match[2]]))
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(f"--since {value!r}: use 7d, 12h, 30m or a date like 2024-03-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _quoted(field: str, value: str) -> ast.Node:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return parse(f'{field}:"{escaped}"').root


def apply_filters(query: ast.Query, filters: Filters | None) -> ast.Query:
    """``query`` AND the filters' conditions."""
    if filters is None or filters.is_empty():
        return query
    extra: list[ast.Node] = []
    if filters.country:
        extra.append(_quoted("country", filters.country))
    if filters.event_type:
        extra.append(_quoted("type", filters.event_type))
    if filters.source:
        extra.append(_quoted("source", filters.source))
    if filters.since or filters.until:
        extra.append(
            ast.Range(
                "published_at",
                "published_at",
                "date",
                "article",
                filters.since,
                filters.until,
                True,
                False,
            )
        )
    root = query.root
    children = [] if isinstance(root, ast.MatchAll) else [root]
    return ast.Query(query.source, ast.And((*children, *extra)))
