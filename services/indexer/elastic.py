"""The Elasticsearch index (elasticsearch-py 9).

Layout, per ``prefix`` (default ``newswatch``):

* index templates ``<prefix>-articles`` and ``<prefix>-alerts`` (``mappings.py``), put at start-up
  (``setup``; idempotent: PUT replaces a template with the same body);
* write aliases ``<prefix>-articles`` / ``<prefix>-alerts`` over date-less, numbered indices
  ``<prefix>-articles-000001`` …, created on first start: ``POST <alias>/_rollover`` (by hand or
  from an ILM policy) starts ``-000002`` and the template applies to it. Searches read the alias,
  so every generation is searched.

Writes go through ``_bulk`` with ``_id = article_id``, so a replay overwrites rather than
duplicates (within one generation: after a rollover, re-indexing an old article writes a second
copy in the new generation — rare, as articles are not replayed weeks later; ``collapse`` on
``article_id`` would hide it). Batches are cut by document count and bytes; the indexer service
cuts them by time. A request that fails with 429, 5xx or a connection error is retried with
exponential backoff, as are the documents that individually failed with 429/5xx; any other
per-document failure is returned with its reason (the service dead-letters it).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from elastic_transport import HttpHeaders, Urllib3HttpNode
from elasticsearch import ApiError, Elasticsearch, NotFoundError
from elasticsearch import ConnectionError as EsConnectionError
from elasticsearch import TransportError as EsTransportError

from newswatch.errors import IndexError_
from newswatch.query.ast import Query
from newswatch.query.elastic import compile_es
from newswatch.query.filters import Filters
from newswatch.settings import ElasticsearchSettings
from services.indexer.index import (
    DEFAULT_HIGHLIGHT,
    HIT_EXCLUDES,
    Bucket,
    Facets,
    Hit,
    Index,
    SearchResult,
    Sort,
    UpsertReport,
    check_document,
    fallback_snippet,
    prepare,
)
from services.indexer.mappings import ALERT_MAPPINGS, ARTICLE_MAPPINGS, index_template

__all__ = ["ElasticIndex", "PlainJsonNode", "build_client"]

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
FACET_SIZE = 20
SNIPPET_FIELDS = ("text", "summary", "title")


class PlainJsonNode(Urllib3HttpNode):
    """An HTTP node that sends plain ``application/json`` (and ``application/x-ndjson``) instead
    of elasticsearch-py's ``compatible-with=9`` media type, which OpenSearch and other
    Elasticsearch-compatible servers refuse (``index.elasticsearch.compat_headers: false``)."""

    def perform_request(
        self,
        method: str,
        target: str,
        body: bytes | None = None,
        headers: HttpHeaders | None = None,
        request_timeout: Any = None,
    ) -> Any:
        rewritten = HttpHeaders(headers or {})
        for name in ("accept", "content-type"):
            value = rewritten.get(name)
            if value and "compatible-with" in value:
                rewritten[name] = (
                    "application/x-ndjson" if "ndjson" in value else "application/json"
                )
        return super().perform_request(
            method, target, body=body, headers=rewritten, request_timeout=request_timeout
        )


def build_client(cfg: ElasticsearchSettings, **kwargs: Any) -> Elasticsearch:
    """A client from settings; ``kwargs`` go to ``Elasticsearch`` (tests pass ``node_class``)."""
    options: dict[str, Any] = {
        "request_timeout": cfg.request_timeout_s,
        "verify_certs": cfg.verify_certs,
        "retry_on_timeout": False,
        "max_retries": 0,  # retries are ours, with backoff
    }
    if not cfg.compat_headers:
        options["node_class"] = PlainJsonNode
    if cfg.ca_certs is not None:
        options["ca_certs"] = str(cfg.ca_certs)
    if cfg.api_key is not None:
        options["api_key"] = cfg.api_key.get_secret_value()
    elif cfg.username is not None:
        password = "" if cfg.password is None else cfg.password.get_secret_value()
        options["basic_auth"] = (cfg.username, password)
    options.update(kwargs)
    return Elasticsearch(cfg.url, **options)


def _status_of(exc: Exception) -> int | None:
    if isinstance(exc, ApiError):
        return int(exc.meta.status)
    return None


class ElasticIndex(Index):
    """Articles and the delivery log in Elasticsearch, behind write aliases."""

    name = "elasticsearch"

    def __init__(
        self,
        client: Elasticsearch,
        *,
        prefix: str = "newswatch",
        shards: int = 1,
        replicas: int = 0,
        max_docs: int = 500,
        max_bytes: int = 5 * 1024 * 1024,
        max_attempts: int = 6,
        backoff_s: float = 0.5,
        backoff_max_s: float = 30.0,
        refresh_writes: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.shards = shards
        self.replicas = replicas
        self.max_docs = max_docs
        self.max_bytes = max_bytes
        self.max_attempts = max_attempts
        self.backoff_s = backoff_s
        self.backoff_max_s = backoff_max_s
        self.refresh_writes = refresh_writes
        self.sleep = sleep
        self.articles_alias = f"{prefix}-articles"
        self.alerts_alias = f"{prefix}-alerts"

    @classmethod
    def from_settings(
        cls,
        cfg: ElasticsearchSettings,
        *,
        batch_size: int = 500,
        batch_bytes: int = 5 << 20,
        **client_kwargs: Any,
    ) -> ElasticIndex:
        return cls(
            build_client(cfg, **client_kwargs),
            prefix=cfg.index_prefix,
            shards=cfg.shards,
            replicas=cfg.replicas,
            max_docs=batch_size,
            max_bytes=batch_bytes,
        )

    # -- set-up ---------------------------------------------------------------------------------

    def setup(self) -> None:
        """Install both templates and bootstrap each alias's first index (idempotent)."""
        for alias, mappings in (
            (self.articles_alias, ARTICLE_MAPPINGS),
            (self.alerts_alias, ALERT_MAPPINGS),
        ):
            body = index_template(
                f"{alias}-*", mappings, shards=self.shards, replicas=self.replicas
            )
            self._put_template(alias, body)
            self._bootstrap(alias)

    def _put_template(self, name: str, body: dict[str, Any]) -> None:
        self._call(lambda: self.client.indices.put_index_template(name=name, **body))

    def _bootstrap(self, alias: str) -> None:
        if self._call(lambda: self.client.indices.exists_alias(name=alias)):
            return
        first = f"{alias}-000001"
        try:
            self._call(
                lambda: self.client.indices.create(
                    index=first, aliases={alias: {"is_write_index": True}}
                )
            )
            log.info("created %s with write alias %s", first, alias)
        except ApiError as exc:
            if "resource_already_exists" not in str(exc):
                raise IndexError_(f"cannot create {first}: {exc}") from exc

    # -- retries --------------------------------------------------------------------------------

    def _call(self, request: Callable[[], Any]) -> Any:
        """Run one request, retrying 429/5xx/connection errors with exponential backoff."""
        delay = self.backoff_s
        for attempt in range(1, self.max_attempts + 1):
            try:
                return request()
            except (EsConnectionError, ApiError, EsTransportError) as exc:
                status = _status_of(exc)
                retryable = status in RETRY_STATUSES or isinstance(exc, EsConnectionError)
                if not retryable:
                    raise
                if attempt == self.max_attempts:
                    raise IndexError_(
                        f"elasticsearch unavailable after {attempt} attempts: {exc}"
                    ) from exc
                log.warning("elasticsearch %s; retry %d in %.1fs", status or exc, attempt, delay)
                self.sleep(delay)
                delay = min(delay * 2, self.backoff_max_s)
        raise AssertionError("unreachable")

    # -- writes ---------------------------------------------------------------------------------

    def upsert_many(self, docs: Sequence[dict[str, Any]]) -> UpsertReport:
        report = UpsertReport()
        items: list[tuple[str, bytes]] = []
        for doc in docs:
            problem = check_document(doc)
            if problem is not None:
                report.failures.append((str(doc.get("article_id") or "?"), problem))
                continue
            items.append((doc["article_id"], _encode(doc)))
        self._bulk(self.articles_alias, items, report)
        return report

    def upsert_alerts(self, docs: Sequence[dict[str, Any]]) -> UpsertReport:
        report = UpsertReport()
        self._bulk(self.alerts_alias, [(d["id"], _encode(d)) for d in docs], report)
        return report

    def _bulk(self, index: str, items: list[tuple[str, bytes]], report: UpsertReport) -> None:
        batch: list[tuple[str, bytes]] = []
        size = 0
        for item in items:
            if batch and (len(batch) >= self.max_docs or size + len(item[1]) > self.max_bytes):
                self._send(index, batch, report)
                batch, size = [], 0
            batch.append(item)
            size += len(item[1]) + 64
        if batch:
            self._send(index, batch, report)

    def _send(self, index: str, batch: list[tuple[str, bytes]], report: UpsertReport) -> None:
        pending = batch
        delay = self.backoff_s
        for attempt in range(1, self.max_attempts + 1):
            lines: list[bytes] = []
            for doc_id, body in pending:
                lines.append(_encode({"index": {"_index": index, "_id": doc_id}}))
                lines.append(body)
            response = self._bulk_request(lines)
            retry: list[tuple[str, bytes]] = []
            for (doc_id, body), item in zip(pending, response["items"], strict=True):
                result = next(iter(item.values()))
                status = int(result.get("status", 500))
                if status < 300:
                    report.written += 1
                elif status in RETRY_STATUSES and attempt < self.max_attempts:
                    retry.append((doc_id, body))
                else:
                    error = result.get("error") or {}
                    reason = (
                        f"{error.get('type', 'error')}: {error.get('reason', '')}"
                        if isinstance(error, dict)
                        else str(error)
                    )
                    report.failures.append((doc_id, f"status {status}: {reason}"[:1000]))
            if not retry:
                return
            log.warning("%d document(s) rejected with 429/5xx; retry in %.1fs", len(retry), delay)
            self.sleep(delay)
            delay = min(delay * 2, self.backoff_max_s)
            pending = retry

    def _bulk_request(self, lines: list[bytes]) -> Any:
        return self._call(
            lambda: self.client.bulk(operations=cast(Any, lines), refresh=self.refresh_writes)
        )

    def delete(self, ids: Iterable[str]) -> int:
        wanted = list(ids)
        if not wanted:
            return 0
        response = self._call(
            lambda: self.client.delete_by_query(
                index=self.articles_alias,
                query={"terms": {"article_id": wanted}},
                refresh=True,
                conflicts="proceed",
            )
        )
        return int(response.get("deleted", 0))

    def refresh(self) -> None:
        self._call(lambda: self.client.indices.refresh(index=f"{self.prefix}-*"))

    # -- reads ----------------------------------------------------------------------------------

    def get(self, article_id: str) -> dict[str, Any] | None:
        response = self._call(
            lambda: self.client.search(
                index=self.articles_alias,
                query={"term": {"article_id": article_id}},
                size=1,
            )
        )
        hits = response["hits"]["hits"]
        return dict(hits[0]["_source"]) if hits else None

    def count(
        self,
        query: str | Query = "",
        *,
        filters: Filters | None = None,
        now: dt.datetime | None = None,
    ) -> int:
        body = compile_es(prepare(query, filters), now=now)
        response = self._call(lambda: self.client.count(index=self.articles_alias, query=body))
        return int(response["count"])

    def search(
        self,
        query: str | Query = "",
        *,
        filters: Filters | None = None,
        sort: Sort = "relevance",
        offset: int = 0,
        size: int = 20,
        facets: bool = False,
        highlight: tuple[str, str] = DEFAULT_HIGHLIGHT,
        now: dt.datetime | None = None,
    ) -> SearchResult:
        parsed = prepare(query, filters)
        order: list[Any] = [
            {"published_at": {"order": "asc" if sort == "oldest" else "desc", "missing": "_last"}},
            {"article_id": {"order": "asc"}},
        ]
        if sort == "relevance":
            order.insert(0, {"_score": {"order": "desc"}})
        request: dict[str, Any] = {
            "index": self.articles_alias,
            "query": compile_es(parsed, now=now),
            "from_": offset,
            "size": size,
            "track_total_hits": True,
            "sort": order,
            "source_excludes": list(HIT_EXCLUDES),
            "highlight": {
                "pre_tags": [highlight[0]],
                "post_tags": [highlight[1]],
                "fields": {
                    name: {"fragment_size": 160, "number_of_fragments": 1, "no_match_size": 0}
                    for name in SNIPPET_FIELDS
                },
            },
        }
        if facets:
            request["aggs"] = _facet_aggs()
        try:
            response = self._call(lambda: self.client.search(**request))
        except ApiError as exc:
            raise IndexError_(f"elasticsearch search failed for {parsed.source!r}: {exc}") from exc
        hits = []
        for raw in response["hits"]["hits"]:
            document = dict(raw["_source"])
            snippet = _snippet(raw.get("highlight") or {})
            if not snippet:
                snippet = fallback_snippet(self._texts(raw["_id"], raw["_index"]))
            score = raw.get("_score") if sort == "relevance" else None
            hits.append(Hit(document["article_id"], score, document, snippet))
        total = int(response["hits"]["total"]["value"])
        found = _facets(response.get("aggregations") or {}) if facets else None
        return SearchResult(total, hits, found)

    def _texts(self, doc_id: str, index: str) -> dict[str, Any]:
        try:
            response = self.client.get(index=index, id=doc_id, source_includes=["summary", "text"])
        except NotFoundError:
            return {}
        return dict(response.get("_source") or {})

    def alerts(self, *, article_id: str | None = None, size: int = 100) -> list[dict[str, Any]]:
        query: dict[str, Any] = (
            {"match_all": {}} if article_id is None else {"term": {"article_id": article_id}}
        )
        response = self._call(
            lambda: self.client.search(
                index=self.alerts_alias,
                query=query,
                size=size,
                sort=[{"created_at": {"order": "desc"}}, {"id": {"order": "asc"}}],
            )
        )
        return [dict(h["_source"]) for h in response["hits"]["hits"]]

    def close(self) -> None:
        self.client.close()


def _encode(value: dict[str, Any]) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _snippet(highlight: dict[str, list[str]]) -> str:
    for name in SNIPPET_FIELDS:
        fragments = highlight.get(name)
        if fragments:
            return fragments[0]
    return ""


def _facet_aggs() -> dict[str, Any]:
    return {
        "event_types": {
            "nested": {"path": "events"},
            "aggs": {
                "types": {
                    "terms": {"field": "events.event_type", "size": 50},
                    "aggs": {"articles": {"reverse_nested": {}}},
                }
            },
        },
        "countries": {"terms": {"field": "keys.country", "size": FACET_SIZE}},
        "days": {
            "date_histogram": {
                "field": "published_at",
                "calendar_interval": "day",
                "min_doc_count": 1,
                "format": "yyyy-MM-dd",
            }
        },
    }


def _top(pairs: list[tuple[str, int]]) -> list[Bucket]:
    ordered = sorted(pairs, key=lambda p: (-p[1], p[0]))[:FACET_SIZE]
    return [Bucket(k, c) for k, c in ordered]


def _facets(aggs: dict[str, Any]) -> Facets:
    types = aggs.get("event_types", {}).get("types", {}).get("buckets", [])
    countries = aggs.get("countries", {}).get("buckets", [])
    days = aggs.get("days", {}).get("buckets", [])
    return Facets(
        event_types=_top([(b["key"], int(b["articles"]["doc_count"])) for b in types]),
        countries=_top([(str(b["key"]).upper(), int(b["doc_count"])) for b in countries]),
        days=[
            Bucket(str(b.get("key_as_string") or b["key"])[:10], int(b["doc_count"]))
            for b in days
            if int(b["doc_count"]) > 0
        ],
    )
