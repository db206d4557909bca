"""Compile a query to the Elasticsearch query DSL over the article documents.

Field paths are those of ``services/indexer/document.py`` as mapped by the index template in
``services/indexer/elastic.py`` (a test checks each path below exists there with the right
type). Text leaves use ``match_phrase`` (the field's analyzer produces the same tokens as FTS5;
a one-token phrase is a term match) or, for a trailing ``*``, ``prefix`` on the already
analysed token — FTS5 stems a prefix before matching, so the parser stems it for Elasticsearch.
Event conditions go inside one ``nested`` query on ``events``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from newswatch.query import ast

__all__ = ["ARTICLE_PATHS", "EVENT_PATHS", "compile_es"]

#: Query field key → document path (article scope). Keyword fields are ``keys.<key>``.
ARTICLE_PATHS: dict[str, str] = {"published_at": "published_at", "word_count": "word_count"}
#: Event-scope key → path inside the ``events`` nested objects.
EVENT_PATHS: dict[str, str] = {
    "fatalities": "events.fatalities",
    "injured": "events.injured",
    "precision": "events.location.precision",
    "date": "events.date",
    "terrorism": "events.terrorism",
    "background": "events.background",
}

Json = dict[str, Any]


def _bound(value: ast.Bound, now: dt.datetime) -> Any:
    if isinstance(value, ast.RelativeTime):
        value = value.resolve(now)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return value


def _range(path: str, node: ast.Range, now: dt.datetime) -> Json:
    spec: Json = {}
    if node.low is not None:
        spec["gte" if node.include_low else "gt"] = _bound(node.low, now)
    if node.high is not None:
        spec["lte" if node.include_high else "lt"] = _bound(node.high, now)
    if not spec:
        return {"exists": {"field": path}}
    return {"range": {path: spec}}


def _text(node: ast.Text) -> Json:
    clauses: list[Json] = []
    for column in node.columns:
        if node.prefix:
            clauses.append({"prefix": {column: {"value": node.tokens[-1]}}})
        else:
            clauses.append({"match_phrase": {column: {"query": node.value}}})
    if len(clauses) == 1:
        return clauses[0]
    return {"bool": {"should": clauses, "minimum_should_match": 1}}


def _keyword(path: str, node: ast.Keyword) -> Json:
    if node.prefix:
        return {"prefix": {path: {"value": node.value}}}
    return {"term": {path: {"value": node.value}}}


def _event(node: ast.Node, now: dt.datetime) -> Json:
    if isinstance(node, ast.And):
        return {"bool": {"filter": [_event(c, now) for c in node.children]}}
    if isinstance(node, ast.Or):
        return {
            "bool": {"should": [_event(c, now) for c in node.children], "minimum_should_match": 1}
        }
    if isinstance(node, ast.Keyword):
        return _keyword(f"events.keys.{node.key}", node)
    if isinstance(node, ast.Bool):
        return {"term": {EVENT_PATHS[node.key]: {"value": node.value}}}
    if isinstance(node, ast.Range):
        return _range(EVENT_PATHS[node.key], node, now)
    raise TypeError(f"cannot compile {node!r} inside an event")


def _article(node: ast.Node, now: dt.datetime) -> Json:
    if isinstance(node, ast.MatchAll):
        return {"match_all": {}}
    if isinstance(node, ast.Text):
        return _text(node)
    if isinstance(node, ast.And):
        return {"bool": {"must": [_article(c, now) for c in node.children]}}
    if isinstance(node, ast.Or):
        return {
            "bool": {"should": [_article(c, now) for c in node.children], "minimum_should_match": 1}
        }
    if isinstance(node, ast.Not):
        return {"bool": {"must_not": [_article(node.child, now)]}}
    if isinstance(node, ast.EventMatch):
        return {"nested": {"path": "events", "query": _event(node.child, now), "score_mode": "max"}}
    if isinstance(node, ast.Keyword):
        return _keyword(f"keys.{node.key}", node)
    if isinstance(node, ast.Range):
        return _range(ARTICLE_PATHS[node.key], node, now)
    raise TypeError(f"cannot compile {node!r} at article level")


def compile_es(query: ast.Query, *, now: dt.datetime | None = None) -> Json:
    """The ``query`` part of a search request selecting the query's hits."""
    return _article(query.root, now or dt.datetime.now(dt.UTC))
