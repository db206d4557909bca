"""The one query language of newswatch: search, alert rules, Kibana-style syntax.

``parse(text) -> Query`` (luqum underneath, a typed tree on top; ``QueryError`` on bad input),
then one of three backends: ``compile_matcher`` (in memory, for alerts), ``query.fts``
(the embedded SQLite FTS5 index) and ``query.elastic`` (Elasticsearch query DSL). The field
vocabulary is in ``query.fields``; ``docs/query-language.md`` describes it for users.
"""

from __future__ import annotations

from newswatch.errors import QueryError
from newswatch.query.ast import Query
from newswatch.query.matcher import compile_matcher, matches
from newswatch.query.parser import parse
from newswatch.query.terms import article_candidate_keys, candidate_keys, terms_of

__all__ = [
    "Query",
    "QueryError",
    "article_candidate_keys",
    "candidate_keys",
    "compile_matcher",
    "matches",
    "parse",
    "terms_of",
]
