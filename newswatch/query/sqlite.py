"""Compile a query for the embedded index: SQL over its tables plus FTS5 MATCH expressions.

The embedded index (``services/indexer/embedded.py``) keeps, keyed by an integer ``doc``:

* ``idx_articles(doc, article_id, published_at REAL epoch, word_count, …)``;
* ``idx_fts`` — FTS5 over ``title, summary, text`` (``rowid = doc``, tokenizer ``FTS_TOKENIZE``);
* ``idx_keys(key, value, doc)`` — the folded ``article_keys``;
* ``idx_events(doc, n, fatalities, injured, terrorism, background, date REAL, precision)``;
* ``idx_event_keys(key, value, doc, n)`` — the folded ``event_keys`` of event ``n``.

Every leaf compiles to a condition that is never NULL (a missing date is "not in range"), so
``NOT`` means exactly what the matcher and Elasticsearch's ``must_not`` mean. Runs of full-text
leaves under one AND/OR become a single FTS5 expression; an AND's negated full-text children
join it as FTS5 ``NOT``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from newswatch.query import ast
from newswatch.query.fields import TEXT_COLUMNS

__all__ = [
    "SqlQuery",
    "Stats",
    "compile_sql",
    "fts_highlight_expression",
    "fts_phrase",
    "required_fts",
]

_ARTICLE_COLUMNS = {"published_at": "a.published_at", "word_count": "a.word_count"}
_EVENT_COLUMNS = {
    "fatalities": "e.fatalities",
    "injured": "e.injured",
    "precision": "e.precision",
    "date": "e.date",
    "terrorism": "e.terrorism",
    "background": "e.background",
}
#: Upper bound for prefix scans over folded keyword values.
_MAX_CHAR = "\U0010ffff"


@dataclass
class SqlQuery:
    """A WHERE clause over ``idx_articles a`` and its parameters.

    When every hit must match a full-text expression, ``fts`` is that expression and ``rest``
    (with ``rest_params``) the remaining conditions in per-row *check* form (None: no more),
    so the index can drive the query from FTS5 and rank with ``bm25`` over its matches.
    """

    where: str
    params: list[Any] = field(default_factory=list)
    fts: str | None = None
    rest: str | None = None
    rest_params: list[Any] = field(default_factory=list)


def fts_phrase(node: ast.Text) -> str:
    """One full-text leaf as FTS5 syntax: a quoted string (FTS5 tokenizes and stems it exactly
    as it did the documents), optional ``*`` prefix and column filter."""
    quoted = '"' + node.value.replace('"', '""') + '"' + ("*" if node.prefix else "")
    if set(node.columns) == set(TEXT_COLUMNS):
        return quoted
    return "{" + " ".join(node.columns) + "} : " + quoted


def _text_only(node: ast.Node) -> bool:
    if isinstance(node, ast.Text):
        return True
    if isinstance(node, ast.And | ast.Or):
        return all(_text_only(c) for c in node.children)
    return False


def _fts(node: ast.Node) -> str:
    if isinstance(node, ast.Text):
        return fts_phrase(node)
    assert isinstance(node, ast.And | ast.Or)
    joiner = " AND " if isinstance(node, ast.And) else " OR "
    return "(" + joiner.join(_fts(c) for c in node.children) + ")"


def _epoch(value: float | dt.datetime) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float(value)


class _Compiler:
    """Conditions come in two forms. The *driver* form ``a.doc IN (SELECT …)`` lets SQLite
    iterate a selective set (an FTS5 doclist, an index range) and look articles up by key; the
    *check* form ``EXISTS (… = a.doc)`` is a primary-key seek per candidate row. Each AND uses
    one driver (full text first, then a keyword, then an event condition) and checks the rest,
    so a broad keyword or event condition never has to be materialised whole. Full-text
    conditions are always in the IN form (see ``match``)."""

    def __init__(self, now: dt.datetime, stats: Stats | None = None) -> None:
        self.now = now
        self.stats = stats
        self.params: list[Any] = []

    def match(self, expression: str, driver: bool) -> str:
        # Always the IN form: FTS5 re-reads a term's whole doclist per query, so a per-row
        # EXISTS would cost that once per candidate; IN reads it once (as driver or as a set).
        self.params.append(expression)
        return "a.doc IN (SELECT rowid FROM idx_fts WHERE idx_fts MATCH ?)"

    def article(self, node: ast.Node, driver: bool = True) -> str:
        if isinstance(node, ast.MatchAll):
            return "1"
        if _text_only(node):
            return self.match(_fts(node), driver)
        if isinstance(node, ast.And):
            return self._and(node, driver)
        if isinstance(node, ast.Or):
            return "(" + " OR ".join(self.article(c, driver) for c in node.children) + ")"
        if isinstance(node, ast.Not):
            return "NOT " + self.article(node.child, False)
        if isinstance(node, ast.EventMatch):
            if driver:
                return self._event_driver(node.child)
            condition = self.event(node.child)
            return f"EXISTS (SELECT 1 FROM idx_events e WHERE e.doc = a.doc AND {condition})"
        if isinstance(node, ast.Keyword):
            if driver:
                return f"a.doc IN (SELECT doc FROM idx_keys WHERE {self._keyword(node)})"
            return f"EXISTS (SELECT 1 FROM idx_keys WHERE {self._keyword(node)} AND doc = a.doc)"
        if isinstance(node, ast.Range):
            return self._range(_ARTICLE_COLUMNS[node.key], node)
        raise TypeError(f"cannot compile {node!r} at article level")

    def _and(self, node: ast.And, driver: bool) -> str:
        text = [c for c in node.children if _text_only(c)]
        negated_text = [c for c in node.children if isinstance(c, ast.Not) and _text_only(c.child)]
        parts: list[str] = []
        if text:
            parts.append(self.match(required_fts(node) or "", driver))
            merged = {id(c) for c in text} | {id(c) for c in negated_text}
            rest = [c for c in node.children if id(c) not in merged]
            driver = False
        else:
            rest = list(node.children)
        if driver:
            rest = self._plan(rest)
        else:
            rest.sort(key=_check_cost)
        for child in rest:
            parts.append(self.article(child, driver and _driver_rank(child) < 9))
            driver = False
        return "(" + " AND ".join(parts) + ")"

    def _plan(self, children: list[ast.Node]) -> list[ast.Node]:
        """Order an AND's children so the first is the best driver and cheap checks follow.

        With ``stats`` the driver is the child with the fewest estimated rows (a date range that
        wins stays a column condition, served by SQLite's index on ``published_at``); without,
        or when nothing can be estimated, a fixed preference (keyword, event, …)."""
        estimates = [(self._estimate(c), i) for i, c in enumerate(children)] if self.stats else []
        if not estimates or min(estimates)[0] == _UNKNOWN:
            ordered = sorted(children, key=_driver_rank)
            return ordered[:1] + sorted(ordered[1:], key=_check_cost)
        _, index = min(estimates)
        rest = [c for i, c in enumerate(children) if i != index]
        return [children[index], *sorted(rest, key=_check_cost)]

    def _resolve(self, bound: ast.Bound) -> float | None:
        if bound is None:
            return None
        value = bound.resolve(self.now) if isinstance(bound, ast.RelativeTime) else bound
        return _epoch(value)

    def _estimate(self, node: ast.Node) -> float:
        stats = self.stats
        assert stats is not None
        if isinstance(node, ast.Keyword) and not node.prefix:
            return stats.keyword(node.key, node.value)
        if isinstance(node, ast.EventMatch):
            members = node.child.children if isinstance(node.child, ast.And) else (node.child,)
            counts = [
                stats.event_keyword(c.key, c.value)
                for c in members
                if isinstance(c, ast.Keyword) and not c.prefix
            ]
            return min(counts) if counts else _UNKNOWN
        if isinstance(node, ast.Range) and node.key == "published_at":
            return stats.published(self._resolve(node.low), self._resolve(node.high))
        if isinstance(node, ast.Or):
            return sum(self._estimate(c) for c in node.children)
        if isinstance(node, ast.And):
            return min((self._estimate(c) for c in node.children), default=_UNKNOWN)
        return _UNKNOWN

    def _event_driver(self, child: ast.Node) -> str:
        """Drive an event condition from its keyword (an index range of idx_event_keys) when it
        has one, else from idx_events (whose fatalities index serves ``fatalities:>=n``)."""
        members = child.children if isinstance(child, ast.And) else (child,)
        keys = [c for c in members if isinstance(c, ast.Keyword) and not c.prefix]
        if keys and self.stats is not None:
            stats = self.stats
            keys.sort(key=lambda k: stats.event_keyword(k.key, k.value))
        key = keys[0] if keys else None
        if key is None:
            return f"a.doc IN (SELECT e.doc FROM idx_events e WHERE {self.event(child)})"
        keyword = self._keyword(key, "k.")
        others = " AND ".join(self.event(c) for c in members if c is not key) or "1"
        return (
            "a.doc IN (SELECT e.doc FROM idx_event_keys k JOIN idx_events e "
            f"ON e.doc = k.doc AND e.n = k.n WHERE {keyword} AND {others})"
        )

    def _keyword(self, node: ast.Keyword, table: str = "") -> str:
        if node.prefix:
            self.params.extend([node.key, node.value, node.value + _MAX_CHAR])
            return f"{table}key = ? AND {table}value >= ? AND {table}value < ?"
        self.params.extend([node.key, node.value])
        return f"{table}key = ? AND {table}value = ?"

    def _range(self, column: str, node: ast.Range) -> str:
        conds = [f"{column} IS NOT NULL"]
        for bound, inclusive, op in (
            (node.low, node.include_low, ">"),
            (node.high, node.include_high, "<"),
        ):
            if bound is None:
                continue
            value = bound.resolve(self.now) if isinstance(bound, ast.RelativeTime) else bound
            self.params.append(_epoch(value))
            conds.append(f"{column} {op}{'=' if inclusive else ''} ?")
        return "(" + " AND ".join(conds) + ")"

    def event(self, node: ast.Node) -> str:
        if isinstance(node, ast.And):
            return "(" + " AND ".join(self.event(c) for c in node.children) + ")"
        if isinstance(node, ast.Or):
            return "(" + " OR ".join(self.event(c) for c in node.children) + ")"
        if isinstance(node, ast.Keyword):
            return (
                "EXISTS (SELECT 1 FROM idx_event_keys WHERE "
                + self._keyword(node)
                + " AND doc = e.doc AND n = e.n)"
            )
        if isinstance(node, ast.Bool):
            self.params.append(1 if node.value else 0)
            return f"{_EVENT_COLUMNS[node.key]} = ?"
        if isinstance(node, ast.Range):
            return self._range(_EVENT_COLUMNS[node.key], node)
        raise TypeError(f"cannot compile {node!r} inside an event")


_UNKNOWN = float("inf")


class Stats(Protocol):
    """Row-count estimates the compiler uses to pick each AND's driver (the embedded index
    answers them with index-range counts)."""

    def keyword(self, key: str, value: str) -> float: ...

    def event_keyword(self, key: str, value: str) -> float: ...

    def published(self, low: float | None, high: float | None) -> float: ...


def _check_cost(node: ast.Node) -> int:
    """Cheap per-row checks first: a column comparison, then one seek, then nested seeks."""
    if isinstance(node, ast.Range):
        return 0
    if isinstance(node, ast.Keyword):
        return 1
    if isinstance(node, ast.EventMatch):
        return 2
    return 3


def _driver_rank(node: ast.Node) -> int:
    """Which AND child should drive: lower is better; 9 = never (a scan would be no better)."""
    if isinstance(node, ast.Keyword):
        return 1 if not node.prefix else 3
    if isinstance(node, ast.EventMatch):
        return 2
    if isinstance(node, ast.Or):
        return 4 if all(_driver_rank(c) < 9 for c in node.children) else 9
    if isinstance(node, ast.And):
        return min((_driver_rank(c) for c in node.children), default=9)
    return 9


def required_fts(node: ast.Node) -> str | None:
    """An FTS5 expression every hit of ``node`` matches (its full-text part under the top AND),
    or None. The embedded index ranks and counts by it directly when the rest is a filter."""
    if _text_only(node):
        return _fts(node)
    if not isinstance(node, ast.And):
        return None
    text = [c for c in node.children if _text_only(c)]
    if not text:
        return None
    expression = " AND ".join(_fts(c) for c in text)
    for child in node.children:
        if isinstance(child, ast.Not) and _text_only(child.child):
            expression = f"({expression}) NOT {_fts(child.child)}"
    return expression


def _rest(node: ast.Node) -> ast.Node:
    """``node`` without the part ``required_fts`` covers."""
    if _text_only(node):
        return ast.MatchAll()
    assert isinstance(node, ast.And)
    rest = [
        c
        for c in node.children
        if not _text_only(c) and not (isinstance(c, ast.Not) and _text_only(c.child))
    ]
    if not rest:
        return ast.MatchAll()
    return rest[0] if len(rest) == 1 else ast.And(tuple(rest))


def compile_sql(
    query: ast.Query, *, now: dt.datetime | None = None, stats: Stats | None = None
) -> SqlQuery:
    """The WHERE clause (over ``idx_articles a``) selecting the query's hits, plus the
    required full-text part and the rest (``SqlQuery.fts``, ``.rest``/``.rest_params``)."""
    moment = now or dt.datetime.now(dt.UTC)
    compiler = _Compiler(moment, stats)
    where = compiler.article(query.root)
    fts = required_fts(query.root)
    rest_where, rest_params = None, []
    if fts is not None:
        rest_node = _rest(query.root)
        if not isinstance(rest_node, ast.MatchAll):
            rest_compiler = _Compiler(moment, stats)
            rest_where = rest_compiler.article(rest_node, driver=False)
            rest_params = rest_compiler.params
    return SqlQuery(where, compiler.params, fts, rest_where, rest_params)


def fts_highlight_expression(query: ast.Query) -> str | None:
    """An FTS5 expression OR-ing the query's positive full-text leaves, for ranking (bm25) and
    snippets; None when the query has none."""
    leaves: list[str] = []

    def walk(node: ast.Node) -> None:
        if isinstance(node, ast.And | ast.Or):
            for child in node.children:
                walk(child)
        elif isinstance(node, ast.Text):
            leaves.append(fts_phrase(node))

    walk(query.root)
    unique = list(dict.fromkeys(leaves))
    return " OR ".join(unique) if unique else None
