"""The shared query suite: each query finds the same articles in the in-memory matcher, the
embedded index and Elasticsearch — and those are the articles the corpus says it should."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from newswatch.models.messages import Article
from newswatch.query import compile_matcher
from newswatch.query.filters import Filters, parse_since
from services.indexer.document import article_document
from services.indexer.index import Index
from tests.contract.conftest import BACKENDS, make_index
from tests.data.search_corpus import QUERIES, corpus, slug_of

ARTICLES = corpus()
SLUGS = slug_of(ARTICLES)
NOW = dt.datetime(2024, 4, 3, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module", params=BACKENDS)
def loaded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Index]:
    tmp: Path = tmp_path_factory.mktemp("suite")
    for index in make_index(request.param, request, tmp):
        report = index.upsert_many([article_document(a) for a in ARTICLES])
        assert report.failures == []
        index.refresh()
        yield index


def matcher_hits(query: str) -> set[str]:
    match = compile_matcher(query, clock=lambda: NOW)
    return {SLUGS[a.article_id] for a in ARTICLES if match(a)}


def index_hits(index: Index, query: str, filters: Filters | None = None) -> set[str]:
    result = index.search(query, filters=filters, size=100, now=NOW)
    found = {SLUGS[h.article_id] for h in result.hits}
    assert result.total == len(found)
    return found


@pytest.mark.parametrize(("query", "expected"), QUERIES, ids=[q for q, _ in QUERIES])
def test_same_hits_everywhere(loaded: Index, query: str, expected: set[str]) -> None:
    if query == "*":
        expected = set(SLUGS.values())
    assert matcher_hits(query) == expected
    assert index_hits(loaded, query) == expected
    assert loaded.count(query, now=NOW) == len(expected)


def test_relative_dates_resolve_against_now(loaded: Index) -> None:
    query = "published_at:>=now-3d"
    expected = {"april-strike", "niger-quote"}  # now-3d = 2024-03-31T12:00Z
    assert matcher_hits(query) == expected
    assert index_hits(loaded, query) == expected


def test_filters_mean_the_same_as_query_fields(loaded: Index) -> None:
    filters = Filters(country="LY", event_type="Air/drone strike", since=parse_since("31d"))
    via_filters = index_hits(loaded, "Derna", filters)
    via_query = matcher_hits(
        'Derna AND country:LY AND type:"Air/drone strike" AND published_at:>=now-31d'
    )
    assert via_filters == via_query == {"derna-airstrike", "derna-football"}


def _article(slug: str) -> Article:
    return next(a for a in ARTICLES if SLUGS[a.article_id] == slug)


@pytest.mark.parametrize(("query", "expected"), QUERIES, ids=[q for q, _ in QUERIES])
def test_embedded_plans_agree_with_and_without_statistics(
    tmp_path: Path, query: str, expected: set[str]
) -> None:
    """The planner's choice of driver (by row estimates or by fixed preference) never changes
    the hits."""
    from newswatch.query import parse
    from newswatch.query.sqlite import compile_sql
    from services.indexer.embedded import EmbeddedIndex

    index = EmbeddedIndex(tmp_path / "plans.db")
    index.upsert_many([article_document(a) for a in ARTICLES])
    counts = set()
    for stats in (None, index._stats):
        sql = compile_sql(parse(query), now=NOW, stats=stats)
        counts.add(index._count(sql))
        (n,) = index.connection.execute(
            f"SELECT COUNT(*) FROM idx_articles a WHERE {sql.where}", sql.params
        ).fetchone()
        counts.add(n)
    index.close()
    assert counts == {len(expected) if query != "*" else len(ARTICLES)}
