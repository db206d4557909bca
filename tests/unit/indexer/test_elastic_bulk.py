"""Bulk writes to Elasticsearch: batching by count and bytes, retries with backoff, reasons."""

from __future__ import annotations

import json
from typing import Any

import pytest
from elastic_transport import ApiResponseMeta, HttpHeaders, NodeConfig
from elasticsearch import ApiError

from newswatch.errors import IndexError_
from services.indexer.document import article_document
from services.indexer.elastic import ElasticIndex
from tests.data.search_corpus import corpus

DOCS = [article_document(a) for a in corpus()[:6]]


def api_error(status: int) -> ApiError:
    meta = ApiResponseMeta(status, "1.1", HttpHeaders(), 0.0, NodeConfig("http", "x", 9200))
    return ApiError(f"status {status}", meta, {"error": {"type": "x"}})


class FakeClient:
    """Answers ``bulk`` from a script: an exception, or a per-document status list."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.requests: list[list[dict[str, Any]]] = []

    def bulk(self, operations: list[bytes], refresh: bool) -> dict[str, Any]:
        lines = [json.loads(line) for line in operations]
        actions = lines[0::2]
        self.requests.append(actions)
        step = self.script.pop(0) if self.script else None
        if isinstance(step, Exception):
            raise step
        statuses = step or [201] * len(actions)
        items = []
        for action, status in zip(actions, statuses, strict=True):
            result: dict[str, Any] = {"_id": action["index"]["_id"], "status": status}
            if status >= 300:
                result["error"] = {"type": "mapper_parsing_exception", "reason": "bad geo"}
            items.append({"index": result})
        return {"errors": any(s >= 300 for s in statuses), "items": items}


def make(script: list[Any], **kwargs: Any) -> tuple[ElasticIndex, FakeClient, list[float]]:
    client = FakeClient(script)
    sleeps: list[float] = []
    index = ElasticIndex(client, sleep=sleeps.append, backoff_s=1.0, **kwargs)  # type: ignore[arg-type]
    return index, client, sleeps


def test_batches_are_cut_by_count() -> None:
    index, client, _ = make([], max_docs=4)
    report = index.upsert_many(DOCS)
    assert report.written == 6 and report.failures == []
    assert [len(r) for r in client.requests] == [4, 2]
    assert client.requests[0][0] == {
        "index": {"_index": "newswatch-articles", "_id": DOCS[0]["article_id"]}
    }


def test_batches_are_cut_by_bytes() -> None:
    one = len(json.dumps(DOCS[0]))
    index, client, _ = make([], max_bytes=int(one * 2.5))
    index.upsert_many(DOCS)
    assert len(client.requests) >= 3 and sum(len(r) for r in client.requests) == 6


def test_whole_request_retried_on_429_and_5xx_with_exponential_backoff() -> None:
    index, client, sleeps = make([api_error(429), api_error(503), None])
    report = index.upsert_many(DOCS[:2])
    assert report.written == 2 and len(client.requests) == 3
    assert sleeps == [1.0, 2.0]


def test_rejected_documents_retried_alone_and_others_reported() -> None:
    index, client, sleeps = make([[201, 429, 400], [201]])
    report = index.upsert_many(DOCS[:3])
    assert report.written == 2
    assert report.failures == [
        (DOCS[2]["article_id"], "status 400: mapper_parsing_exception: bad geo")
    ]
    assert [a["index"]["_id"] for a in client.requests[1]] == [DOCS[1]["article_id"]]
    assert sleeps == [1.0]


def test_client_errors_are_not_retried() -> None:
    index, _, sleeps = make([api_error(400)])
    with pytest.raises(ApiError):
        index.upsert_many(DOCS[:1])
    assert sleeps == []


def test_gives_up_after_max_attempts() -> None:
    index, _, sleeps = make([api_error(503)] * 3, max_attempts=3)
    with pytest.raises(IndexError_, match="after 3 attempts"):
        index.upsert_many(DOCS[:1])
    assert sleeps == [1.0, 2.0]
