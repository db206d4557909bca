"""Elasticsearch specifics: analysis agrees with FTS5, templates and aliases, refusals."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from elasticsearch import ApiError

from newswatch.query.analysis import ES_TEXT_ANALYZER, tokenize
from services.indexer.document import article_document
from services.indexer.elastic import ElasticIndex
from tests.data.search_corpus import CORPUS, corpus
from tests.data.synthetic import WORDS
from tests.elastic_support import EsTarget, es_target, isolated, new_client

pytestmark = pytest.mark.integration

TRICKY = [
    "Libya's army — al-Qaeda, 1,200 killed; 3.5 km; x@y.com smuggling_routes",
    "Égypte, café, naïve, Benghazí, Ménaka, São Tomé, Zürich",
    "generalization generalizations conditional relational hopefulness sensibility",
    "running runner runs ran easily fairly agreed disabled feed feeds bleed",
    "airstrikes air-strikes drone-strike IEDs RSF's ceasefire cease-fire",
    "الجيش الليبي يقصف درنة",  # Arabic: neither side stems it
]


@pytest.fixture(scope="module")
def elastic() -> Iterator[EsTarget]:
    with es_target() as target:
        yield target


@pytest.fixture
def es_index(elastic: EsTarget) -> Iterator[ElasticIndex]:
    with isolated(elastic) as (url, prefix):
        index = ElasticIndex(new_client(url, real=elastic.real), prefix=prefix, refresh_writes=True)
        index.setup()
        yield index
        index.close()


def test_analyzer_tokens_equal_fts5_tokens(es_index: ElasticIndex) -> None:
    texts = TRICKY + [f"{d.title}. {d.text}" for d in CORPUS] + [" ".join(WORDS)]
    index_name = f"{es_index.articles_alias}-000001"
    for text in texts:
        response = es_index.client.indices.analyze(
            index=index_name, analyzer=ES_TEXT_ANALYZER, text=text
        )
        assert [t["token"] for t in response["tokens"]] == tokenize(text), text


def test_setup_is_idempotent_and_bootstraps_write_aliases(es_index: ElasticIndex) -> None:
    es_index.setup()
    es_index.setup()
    client = es_index.client
    for alias in (es_index.articles_alias, es_index.alerts_alias):
        aliases = client.indices.get_alias(name=alias).body
        assert list(aliases) == [f"{alias}-000001"]
        assert aliases[f"{alias}-000001"]["aliases"][alias] == {"is_write_index": True}
        template = client.indices.get_index_template(name=alias)["index_templates"][0]
        assert template["index_template"]["index_patterns"] == [f"{alias}-*"]
    mapping = client.indices.get_mapping(index=f"{es_index.articles_alias}-000001").body
    props = next(iter(mapping.values()))["mappings"]["properties"]
    assert props["events"]["type"] == "nested"
    assert props["events"]["properties"]["location"]["properties"]["geo"]["type"] == "geo_point"
    assert props["title"]["fields"]["keyword"]["type"] == "keyword"


def test_unknown_fields_are_refused_with_the_reason(es_index: ElasticIndex) -> None:
    good, bad = (article_document(a) for a in corpus()[:2])
    bad["surprise"] = 1
    report = es_index.upsert_many([good, bad])
    assert report.written == 1
    [(doc_id, reason)] = report.failures
    assert doc_id == bad["article_id"] and "strict_dynamic_mapping" in reason


@pytest.mark.xfail(
    not os.environ.get("ELASTICSEARCH_URL"),
    reason="osmem-server 0.1.6 has no _rollover endpoint (no handler for POST <alias>/_rollover)",
    raises=ApiError,
    strict=True,
)
def test_rollover_starts_a_new_generation(es_index: ElasticIndex) -> None:
    es_index.upsert_many([article_document(a) for a in corpus()[:2]])
    es_index.client.indices.rollover(alias=es_index.articles_alias)
    aliases = es_index.client.indices.get_alias(name=es_index.articles_alias).body
    assert sorted(aliases) == [
        f"{es_index.articles_alias}-000001",
        f"{es_index.articles_alias}-000002",
    ]
    es_index.refresh()
    assert es_index.count() == 2
