"""``newswatch indexer`` for tests against osmem-server: the same CLI entry point, with the
Elasticsearch client built on ``PlainJsonNode`` (see tests/elastic_support.py).

Usage: python -m tests.integration.indexer.run_indexer [newswatch indexer arguments…]
"""

from __future__ import annotations

import sys
from typing import Any

import services.indexer.elastic as elastic
from newswatch.cli.main import main
from newswatch.settings import ElasticsearchSettings
from tests.elastic_support import PlainJsonNode

_build_client = elastic.build_client


def _plain_json_client(cfg: ElasticsearchSettings, **kwargs: Any) -> Any:
    kwargs.setdefault("node_class", PlainJsonNode)
    return _build_client(cfg, **kwargs)


if __name__ == "__main__":
    elastic.build_client = _plain_json_client  # type: ignore[assignment]
    sys.exit(main(["indexer", *sys.argv[1:]]))
