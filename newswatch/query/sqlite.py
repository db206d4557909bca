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
from typing import Any

from newswatch.query import ast
from newswatch.query.fields import TEXT_COLUMNS

__all__ = ["SqlQuery", "compile_sql", "fts_highlight_expression", "fts_phrase"]

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
    """A WHERE clause over ``idx_articles a`` and its parameters."""

    where: str
    params: list[Any] = field(default_factory=list)


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
    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.params: list[Any] = []

    def match(self, expression: str) -> str:
        self.params.append(expression)
        return "a.doc IN (SELECT rowid FROM idx_fts WHERE idx_fts MATCH ?)"

    def article(self, node: ast.Node) -> str:
        if isinstance(node, ast.MatchAll):
            return "1"
        if _text_only(node):
            return self.match(_fts(node))
        if isinstance(node, ast.And):
            return self._and(node)
        if isinstance(node, ast.Or):
            return "(" + " OR ".join(self.article(c) for c in node.children) + ")"
        if isinstance(node, ast.Not):
            return "NOT " + self.article(node.child)
        if isinstance(node, ast.EventMatch):
            return f"a.doc IN (SELECT e.doc FROM idx_events e WHERE {self.event(node.child)})"
        if isinstance(node, ast.Keyword):
            return f"a.doc IN (SELECT doc FROM idx_keys WHERE {self._keyword(node)})"
        if isinstance(node, ast.Range):
            return self._range(_ARTICLE_COLUMNS[node.key], node)
        raise TypeError(f"cannot compile {node!r} at article level")

    def _and(self, node: ast.And) -> str:
        text = [c for c in node.children if _text_only(c)]
        negated_text = [c for c in node.children if isinstance(c, ast.Not) and _text_only(c.child)]
        parts: list[str] = []
        if text:
            expression = " AND ".join(_fts(c) for c in text)
            for neg in negated_text:
                expression = f"({expression}) NOT {_fts(neg.child)}"
            parts.append(self.match(expression))
        else:
            negated_text = []
        merged = {id(c) for c in text} | {id(c) for c in negated_text}
        for child in node.children:
            if id(child) in merged:
                continue
            parts.append(self.article(child))
        return "(" + " AND ".join(parts) + ")"

    def _keyword(self, node: ast.Keyword) -> str:
        if node.prefix:
            self.params.extend([node.key, node.value, node.value + _MAX_CHAR])
            return "key = ? AND value >= ? AND value < ?"
        self.params.extend([node.key, node.value])
        return "key = ? AND value = ?"

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
                "(e.doc, e.n) IN (SELECT doc, n FROM idx_event_keys WHERE "
                + self._keyword(node)
                + ")"
            )
        if isinstance(node, ast.Bool):
            self.params.append(1 if node.value else 0)
            return f"{_EVENT_COLUMNS[node.key]} = ?"
        if isinstance(node, ast.Range):
            return self._range(_EVENT_COLUMNS[node.key], node)
        raise TypeError(f"cannot compile {node!r} inside an event")


def compile_sql(query: ast.Query, *, now: dt.datetime | None = None) -> SqlQuery:
    """The WHERE clause (over ``idx_articles a``) selecting the query's hits."""
    compiler = _Compiler(now or dt.datetime.now(dt.UTC))
    where = compiler.article(query.root)
    return SqlQuery(where, compiler.params)


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
