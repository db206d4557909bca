"""Fixtures of the index contract suite: one ``index`` per backend, freshly emptied."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from services.indexer.embedded import EmbeddedIndex
from services.indexer.index import Index

# The bus contract suite's fixtures and collector (bus_contract.py).
from tests.contract.bus_fixtures import (  # noqa: F401
    BusFactory,
    bus_factory,
    kafka_bootstrap,
    pytest_collect_file,
)
from tests.elastic_support import EsTarget, es_target, isolated, new_client


@pytest.fixture(scope="session")
def elastic() -> Iterator[EsTarget]:
    with es_target() as target:
        yield target


def make_index(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Index]:
    if kind == "embedded":
        index: Index = EmbeddedIndex(tmp_path / "index.db")
        yield index
        index.close()
        return
    from services.indexer.elastic import ElasticIndex

    target: EsTarget = request.getfixturevalue("elastic")
    with isolated(target) as (url, prefix):
        es = ElasticIndex(
            new_client(url, real=target.real),
            prefix=prefix,
            refresh_writes=True,
            backoff_s=0.05,
        )
        es.setup()
        yield es
        es.close()


BACKENDS = [
    pytest.param("embedded", id="embedded"),
    pytest.param("elasticsearch", id="elasticsearch", marks=pytest.mark.integration),
]


@pytest.fixture(params=BACKENDS)
def index(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Index]:
    yield from make_index(request.param, request, tmp_path)
