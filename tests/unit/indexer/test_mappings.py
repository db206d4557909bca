"""The index template covers every document field and every path the query compiler uses."""

from __future__ import annotations

from typing import Any

from newswatch.query.elastic import ARTICLE_PATHS, EVENT_PATHS
from newswatch.query.fields import FIELDS, TEXT_COLUMNS
from services.indexer.document import alert_document, article_document
from services.indexer.mappings import ALERT_MAPPINGS, ARTICLE_MAPPINGS
from tests.data.search_corpus import corpus
from tests.factories import alert_delivery


def field_type(mappings: dict[str, Any], path: str) -> str | None:
    """The mapped type of a dotted path (``object`` for plain objects), or None."""
    node: dict[str, Any] = mappings
    for part in path.split("."):
        props = node.get("properties")
        if props is None or part not in props:
            return None
        node = props[part]
    return str(node.get("type", "object"))


def document_paths(value: Any, prefix: str = "") -> set[str]:
    paths: set[str] = set()
    if isinstance(value, dict):
        for key, child in value.items():
            path = f"{prefix}.{key}" if prefix else key
            paths.add(path)
            paths |= document_paths(child, path) if key != "geo" else set()
    elif isinstance(value, list):
        for item in value:
            paths |= document_paths(item, prefix)
    return paths


def test_every_document_field_is_mapped() -> None:
    paths: set[str] = set()
    for article in corpus():
        paths |= document_paths(article_document(article))
    paths = {p for p in paths if not p.startswith("event_locations.")}
    unmapped = sorted(p for p in paths if field_type(ARTICLE_MAPPINGS, p) is None)
    assert unmapped == []


def test_every_alert_field_is_mapped() -> None:
    doc = alert_document(alert_delivery())
    assert sorted(p for p in doc if field_type(ALERT_MAPPINGS, p) is None) == []


def test_query_compiler_paths_exist_with_the_right_types() -> None:
    expected = {"number": {"integer", "short"}, "date": {"date"}, "bool": {"boolean"}}
    for spec in FIELDS:
        if spec.kind == "text":
            for column in spec.columns:
                assert field_type(ARTICLE_MAPPINGS, column) == "text"
            continue
        if spec.kind == "keyword":
            prefix = "events.keys" if spec.scope == "event" else "keys"
            assert field_type(ARTICLE_MAPPINGS, f"{prefix}.{spec.key}") == "keyword", spec.name
            continue
        paths = EVENT_PATHS if spec.scope == "event" else ARTICLE_PATHS
        assert field_type(ARTICLE_MAPPINGS, paths[spec.key]) in expected[spec.kind], spec.name
    assert set(TEXT_COLUMNS) <= {"title", "summary", "text"}
