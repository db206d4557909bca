"""Kibana saved objects: the committed file is current, every referenced field exists in the
index template with a type the reference can use, and the import is idempotent."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from services.indexer.kibana import NDJSON_PATH, KibanaError, import_saved_objects, render_ndjson
from services.indexer.mappings import ALERT_MAPPINGS, ARTICLE_MAPPINGS
from tests.unit.indexer.test_mappings import field_type

NUMERIC = {"integer", "short", "long", "float", "double", "byte"}
AGGREGATABLE = NUMERIC | {"keyword", "boolean", "date"}
KQL_FIELD = re.compile(r"([A-Za-z_][\w.]*)\s*(:|<=|>=|<|>)")
MAPPINGS = {"newswatch-articles": ARTICLE_MAPPINGS, "newswatch-alerts": ALERT_MAPPINGS}


def objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in NDJSON_PATH.read_text(encoding="utf-8").splitlines()]


def data_view_of(obj: dict[str, Any]) -> str:
    refs = [r["id"] for r in obj["references"] if r["type"] == "index-pattern"]
    return refs[0] if refs else "newswatch-articles"


def references(obj: dict[str, Any]) -> list[tuple[str, set[str]]]:
    """(field, acceptable types) for every field the object names."""
    attrs = obj["attributes"]
    found: list[tuple[str, set[str]]] = []

    def kql(query: str) -> None:
        for field, op in KQL_FIELD.findall(query):
            found.append((field, NUMERIC | {"date"} if op in "<=>=" else AGGREGATABLE | {"text"}))

    if obj["type"] == "index-pattern":
        found.append((attrs["timeFieldName"], {"date"}))
    meta = attrs.get("kibanaSavedObjectMeta", {}).get("searchSourceJSON")
    if meta:
        kql(json.loads(meta)["query"]["query"])
    if obj["type"] == "search":
        found += [(c, AGGREGATABLE | {"text"}) for c in attrs["columns"]]
        found += [(s[0], AGGREGATABLE) for s in attrs["sort"]]
    if obj["type"] == "visualization":
        for agg in json.loads(attrs["visState"])["aggs"]:
            field = agg["params"].get("field")
            if field is None:
                continue
            wanted = {"sum": NUMERIC, "date_histogram": {"date"}, "terms": AGGREGATABLE}
            found.append((field, wanted[agg["type"]]))
    if obj["type"] == "map":
        kql(json.loads(attrs["mapStateJSON"])["query"]["query"])
        for layer in json.loads(attrs["layerListJSON"]):
            source = layer["sourceDescriptor"]
            if source.get("geoField"):
                found.append((source["geoField"], {"geo_point"}))
                found.append((source["sortField"], AGGREGATABLE))
                found += [(p, AGGREGATABLE | {"text"}) for p in source["tooltipProperties"]]
    return found


def test_committed_file_is_what_the_module_renders() -> None:
    assert NDJSON_PATH.read_text(encoding="utf-8") == render_ndjson(), (
        "regenerate with: newswatch kibana-setup --write deploy/kibana/newswatch.ndjson"
    )


def test_the_required_objects_are_there() -> None:
    kinds = [(o["type"], o["id"]) for o in objects()]
    assert ("index-pattern", "newswatch-articles") in kinds
    assert ("map", "newswatch-event-map") in kinds
    assert sum(1 for kind, _ in kinds if kind == "search") >= 3
    titles = [o["attributes"]["title"] for o in objects()]
    for words in ("over time", "event type", "actors", "places", "fatalities"):
        assert any(words in t for t in titles), words


def test_every_referenced_field_exists_with_a_compatible_type() -> None:
    problems = []
    checked = 0
    for obj in objects():
        view = obj["id"] if obj["type"] == "index-pattern" else data_view_of(obj)
        for field, accepted in references(obj):
            actual = field_type(MAPPINGS[view], field)
            checked += 1
            if actual not in accepted:
                problems.append(f"{obj['type']}/{obj['id']}: {field} is {actual}")
    assert problems == []
    assert checked > 40


def test_references_resolve() -> None:
    ids = {(o["type"], o["id"]) for o in objects()}
    for obj in objects():
        for ref in obj["references"]:
            assert (ref["type"], ref["id"]) in ids, (obj["id"], ref)
    dashboard = next(o for o in objects() if o["type"] == "dashboard")
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    names = {r["name"] for r in dashboard["references"]}
    assert {p["panelRefName"] for p in panels} == names and len(panels) == 7


class FakeKibana:
    def __init__(self, result: dict[str, Any] | None = None) -> None:
        self.imports: list[httpx.Request] = []
        self.result = result

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/status":
            return httpx.Response(200, json={"status": {"overall": {"level": "available"}}})
        assert request.url.path == "/api/saved_objects/_import"
        self.imports.append(request)
        count = render_ndjson().count("\n")
        return httpx.Response(200, json=self.result or {"success": True, "successCount": count})


def test_import_overwrites_so_running_twice_is_harmless() -> None:
    kibana = FakeKibana()
    transport = httpx.MockTransport(kibana)
    first = import_saved_objects("http://kibana:5601", transport=transport, wait_s=1)
    second = import_saved_objects("http://kibana:5601", transport=transport, wait_s=1)
    assert first == second == len(objects())
    for request in kibana.imports:
        assert request.url.params["overwrite"] == "true"
        assert request.headers["kbn-xsrf"]
        body = request.read()
        assert b'name="file"; filename="newswatch.ndjson"' in body
        assert b'"id": "newswatch-events"' in body


def test_import_failures_are_reported() -> None:
    kibana = FakeKibana(
        {
            "success": False,
            "errors": [
                {"type": "map", "id": "newswatch-event-map", "error": {"type": "unsupported_type"}}
            ],
        }
    )
    with pytest.raises(KibanaError, match="map/newswatch-event-map: unsupported_type"):
        import_saved_objects("http://kibana:5601", transport=httpx.MockTransport(kibana), wait_s=1)


def test_unreachable_kibana_is_an_error() -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    with pytest.raises(KibanaError, match="not ready"):
        import_saved_objects("http://kibana:5601", transport=httpx.MockTransport(down), wait_s=0)


def test_cli_imports_with_the_configured_kibana_credentials(
    tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    import base64
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    import yaml

    from newswatch.cli.main import main

    seen: list[tuple[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply({"status": {}})

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            seen.append((self.path, self.headers.get("Authorization", "")))
            self._reply({"success": True, "successCount": 13})

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    config = tmp_path / "newswatch.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path),
                "indexer": {
                    "kibana_url": f"http://127.0.0.1:{server.server_address[1]}",
                    "kibana_username": "elastic",
                    "kibana_password": "s3cret",
                    "kibana_space": "ops",
                },
            }
        )
    )
    try:
        assert main(["kibana-setup", "--config", str(config), "--json"]) == 0
    finally:
        server.shutdown()
    assert json.loads(capsys.readouterr().out)["imported"] == 13
    token = base64.b64encode(b"elastic:s3cret").decode()
    assert seen == [("/s/ops/api/saved_objects/_import?overwrite=true", f"Basic {token}")]
