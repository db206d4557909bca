"""Elasticsearch for tests: osmem-server on loopback, or a real cluster from ELASTICSEARCH_URL.

osmem-server answers elasticsearch-py 9 only when requests carry plain ``application/json``
rather than the client's ``compatible-with=9`` media type: the product's own ``PlainJsonNode``
(``index.elasticsearch.compat_headers: false``, for OpenSearch-compatible servers) does that.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from elasticsearch import Elasticsearch

from services.indexer.elastic import PlainJsonNode

__all__ = ["EsTarget", "PlainJsonNode", "es_target", "new_client"]


@dataclass
class EsTarget:
    """Where the tests' Elasticsearch is: a URL, and whether it is osmem (one clone per test)."""

    url: str
    osmem: Any = None  # OsmemServer when running on osmem

    @property
    def real(self) -> bool:
        return self.osmem is None


@contextmanager
def es_target() -> Iterator[EsTarget]:
    """Start osmem-server (or use ``$ELASTICSEARCH_URL``) for the duration of the block."""
    url = os.environ.get("ELASTICSEARCH_URL")
    if url:
        yield EsTarget(url)
        return
    from osmem_server import OsmemServer

    server = OsmemServer.start(japanese=False)
    try:
        yield EsTarget(server.url, server)
    finally:
        server.close()


def new_client(url: str, *, real: bool) -> Elasticsearch:
    kwargs: dict[str, Any] = {"request_timeout": 30}
    if not real:
        kwargs["node_class"] = PlainJsonNode
    return Elasticsearch(url, **kwargs)


@contextmanager
def isolated(target: EsTarget) -> Iterator[tuple[str, str]]:
    """A clean place for one test: (url, index prefix). On osmem a fresh clone of an empty base;
    on a real cluster a unique prefix whose indices and templates are deleted afterwards."""
    if target.osmem is not None:
        clone = target.osmem.clone()
        try:
            yield clone.url, "newswatch"
        finally:
            clone.close()
        return
    prefix = f"nwtest-{uuid.uuid4().hex[:8]}"
    try:
        yield target.url, prefix
    finally:
        client = new_client(target.url, real=True)
        client.options(ignore_status=404).indices.delete(index=f"{prefix}-*")
        for kind in ("articles", "alerts"):
            client.options(ignore_status=404).indices.delete_index_template(name=f"{prefix}-{kind}")
        client.close()
