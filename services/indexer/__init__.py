"""The indexer role: articles (and the alert delivery log) into the search index.

``open_index(settings)`` returns the configured ``Index`` (embedded FTS5 or Elasticsearch);
``service.IndexerService`` is the consumer; ``kibana`` installs the Kibana saved objects.
"""

from __future__ import annotations

from typing import Any

from newswatch.settings import Settings
from services.indexer.index import Index

__all__ = ["open_index"]


def open_index(settings: Settings, **client_kwargs: Any) -> Index:
    """The configured index, set up (tables, or templates and aliases). ``client_kwargs`` go to
    the Elasticsearch client (tests pass a ``node_class``)."""
    index: Index
    if settings.index.backend == "embedded":
        from services.indexer.embedded import EmbeddedIndex

        index = EmbeddedIndex(settings.index_path)
    else:
        from services.indexer.elastic import ElasticIndex

        index = ElasticIndex.from_settings(
            settings.index.elasticsearch,
            batch_size=settings.indexer.batch_size,
            batch_bytes=settings.indexer.batch_bytes,
            **client_kwargs,
        )
    index.setup()
    return index
