"""Kibana assets: saved objects for newswatch, and their idempotent import.

The objects are written here in Python (readable, reviewable) and rendered to
``deploy/kibana/newswatch.ndjson``; a test keeps the file equal to this module's output and
checks every field they reference against the index template. They are:

* data views ``newswatch-articles`` (time field ``published_at``) and ``newswatch-alerts``;
* saved searches: deadly events, terrorism, border security, alert delivery failures;
* visualizations: events over time, events by type, top actors, top places, a fatalities table;
* a map of event locations (``event_locations``);
* the dashboard "newswatch — events" with all of the above.

Event values come from the article-level flattened fields (``event_types``, ``event_places``,
``event_locations``, ``fatalities_total``…): Kibana's aggregations cannot reach into ``nested``
fields. Counts are therefore counts of articles.

Import: ``POST /api/saved_objects/_import?overwrite=true`` with fixed object ids, so running the
setup again replaces the objects instead of duplicating them. Run it with
``newswatch kibana-setup`` (or ``python -m services.indexer.kibana``), which waits for Kibana to
come up first — docker compose runs it as a one-shot service.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from newswatch.errors import NewswatchError

__all__ = [
    "NDJSON_PATH",
    "KibanaError",
    "import_saved_objects",
    "render_ndjson",
    "saved_objects",
]

log = logging.getLogger(__name__)

NDJSON_PATH = Path(__file__).resolve().parents[2] / "deploy" / "kibana" / "newswatch.ndjson"
ARTICLES = "newswatch-articles"
ALERTS = "newswatch-alerts"


class KibanaError(NewswatchError):
    """Kibana could not be reached or refused the saved objects."""


def _search_source(query: str = "", *, index: bool = True) -> str:
    source: dict[str, Any] = {"query": {"query": query, "language": "kuery"}, "filter": []}
    if index:
        source["indexRefName"] = "kibanaSavedObjectMeta.searchSourceJSON.index"
    return json.dumps(source, sort_keys=True)


def _index_ref(data_view: str = ARTICLES) -> list[dict[str, str]]:
    return [
        {
            "name": "kibanaSavedObjectMeta.searchSourceJSON.index",
            "type": "index-pattern",
            "id": data_view,
        }
    ]


def _data_view(view_id: str, time_field: str, name: str) -> dict[str, Any]:
    return {
        "type": "index-pattern",
        "id": view_id,
        "attributes": {"title": view_id, "name": name, "timeFieldName": time_field},
        "references": [],
    }


def _saved_search(
    search_id: str,
    title: str,
    query: str,
    columns: list[str],
    data_view: str = ARTICLES,
    sort_field: str = "published_at",
) -> dict[str, Any]:
    return {
        "type": "search",
        "id": search_id,
        "attributes": {
            "title": title,
            "description": f"KQL: {query}",
            "columns": columns,
            "sort": [[sort_field, "desc"]],
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query)},
        },
        "references": _index_ref(data_view),
    }


def _agg(agg_id: str, agg_type: str, schema: str, **params: Any) -> dict[str, Any]:
    return {"id": agg_id, "enabled": True, "type": agg_type, "schema": schema, "params": params}


def _terms(agg_id: str, schema: str, field: str, size: int, order_by: str = "1") -> dict[str, Any]:
    return _agg(
        agg_id,
        "terms",
        schema,
        field=field,
        size=size,
        order="desc",
        orderBy=order_by,
        otherBucket=False,
        missingBucket=False,
    )


def _xy_params(chart: str, horizontal: bool = False) -> dict[str, Any]:
    return {
        "type": chart,
        "addLegend": True,
        "legendPosition": "right",
        "addTooltip": True,
        "categoryAxes": [
            {
                "id": "CategoryAxis-1",
                "type": "category",
                "position": "left" if horizontal else "bottom",
                "show": True,
                "labels": {"show": True, "truncate": 200},
            }
        ],
        "valueAxes": [
            {
                "id": "ValueAxis-1",
                "name": "LeftAxis-1",
                "type": "value",
                "position": "bottom" if horizontal else "left",
                "show": True,
                "scale": {"type": "linear", "mode": "normal"},
            }
        ],
        "seriesParams": [
            {
                "show": True,
                "type": "histogram",
                "mode": "stacked",
                "data": {"label": "Count", "id": "1"},
                "valueAxis": "ValueAxis-1",
            }
        ],
    }


def _visualization(
    vis_id: str,
    title: str,
    vis_type: str,
    params: dict[str, Any],
    aggs: list[dict[str, Any]],
    query: str = "",
) -> dict[str, Any]:
    vis_state = {"title": title, "type": vis_type, "params": params, "aggs": aggs}
    return {
        "type": "visualization",
        "id": vis_id,
        "attributes": {
            "title": title,
            "description": "",
            "visState": json.dumps(vis_state, sort_keys=True),
            "uiStateJSON": "{}",
            "version": 1,
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(query)},
        },
        "references": _index_ref(),
    }


def _map() -> dict[str, Any]:
    layers = [
        {
            "id": "basemap",
            "type": "EMS_VECTOR_TILE",
            "sourceDescriptor": {"type": "EMS_TMS", "isAutoSelect": True},
            "visible": True,
            "alpha": 1,
        },
        {
            "id": "events",
            "type": "GEOJSON_VECTOR",
            "label": "Event locations",
            "visible": True,
            "alpha": 0.8,
            "sourceDescriptor": {
                "id": "events-source",
                "type": "ES_SEARCH",
                "indexPatternRefName": "layer_1_source_index_pattern",
                "geoField": "event_locations",
                "scalingType": "LIMIT",
                "sortField": "published_at",
                "sortOrder": "desc",
                "tooltipProperties": ["title", "event_types", "event_places", "fatalities_total"],
            },
            "style": {"type": "VECTOR", "properties": {}},
        },
    ]
    state = {
        "zoom": 3.6,
        "center": {"lon": 20.0, "lat": 23.0},
        "timeFilters": {"from": "now-30d", "to": "now"},
        "refreshConfig": {"isPaused": True, "interval": 0},
        "query": {"query": "event_count > 0", "language": "kuery"},
        "filters": [],
    }
    return {
        "type": "map",
        "id": "newswatch-event-map",
        "attributes": {
            "title": "newswatch: event locations",
            "description": "Where tagged events happened (articles with a located event)",
            "mapStateJSON": json.dumps(state, sort_keys=True),
            "layerListJSON": json.dumps(layers, sort_keys=True),
            "uiStateJSON": "{}",
        },
        "references": [
            {"name": "layer_1_source_index_pattern", "type": "index-pattern", "id": ARTICLES}
        ],
    }


def _visualizations() -> list[dict[str, Any]]:
    count = _agg("1", "count", "metric")
    return [
        _visualization(
            "newswatch-events-over-time",
            "newswatch: events over time",
            "histogram",
            _xy_params("histogram"),
            [
                _agg("1", "sum", "metric", field="event_count"),
                _agg(
                    "2",
                    "date_histogram",
                    "segment",
                    field="published_at",
                    interval="auto",
                    min_doc_count=1,
                    extended_bounds={},
                ),
                _terms("3", "group", "event_types", 6),
            ],
            query="event_count > 0",
        ),
        _visualization(
            "newswatch-events-by-type",
            "newswatch: articles by event type",
            "pie",
            {
                "type": "pie",
                "addTooltip": True,
                "addLegend": True,
                "legendPosition": "right",
                "isDonut": True,
                "labels": {"show": True, "values": True},
            },
            [
                count,
                _terms("2", "segment", "event_types", 6),
                _terms("3", "segment", "sub_event_types", 25),
            ],
        ),
        _visualization(
            "newswatch-top-actors",
            "newswatch: top actors",
            "horizontal_bar",
            _xy_params("histogram", horizontal=True),
            [count, _terms("2", "segment", "event_actors", 15)],
        ),
        _visualization(
            "newswatch-top-places",
            "newswatch: top places",
            "horizontal_bar",
            _xy_params("histogram", horizontal=True),
            [count, _terms("2", "segment", "event_places", 15)],
        ),
        _visualization(
            "newswatch-fatalities-table",
            "newswatch: fatalities by place and type",
            "table",
            {
                "perPage": 20,
                "showPartialRows": False,
                "showMetricsAtAllLevels": False,
                "showTotal": True,
                "totalFunc": "sum",
                "sort": {"columnIndex": None, "direction": None},
            },
            [
                _agg("1", "sum", "metric", field="fatalities_total", customLabel="killed"),
                _agg("4", "sum", "metric", field="injured_total", customLabel="injured"),
                _agg("5", "count", "metric", customLabel="articles"),
                _terms("2", "bucket", "event_places", 50),
                _terms("3", "bucket", "event_types", 6),
                _terms("6", "bucket", "event_countries", 20),
            ],
            query="fatalities_total > 0 or injured_total > 0",
        ),
    ]


def _dashboard(panels: list[tuple[str, str, tuple[int, int, int, int]]]) -> dict[str, Any]:
    panel_json = []
    references = []
    for n, (kind, object_id, (x, y, w, h)) in enumerate(panels, start=1):
        panel_json.append(
            {
                "version": "8.0.0",
                "type": kind,
                "gridData": {"x": x, "y": y, "w": w, "h": h, "i": str(n)},
                "panelIndex": str(n),
                "embeddableConfig": {},
                "panelRefName": f"panel_{n}",
            }
        )
        references.append({"name": f"panel_{n}", "type": kind, "id": object_id})
    return {
        "type": "dashboard",
        "id": "newswatch-events",
        "attributes": {
            "title": "newswatch — events",
            "description": "Tagged security events from the monitored press",
            "panelsJSON": json.dumps(panel_json, sort_keys=True),
            "optionsJSON": json.dumps({"useMargins": True, "hidePanelTitles": False}),
            "timeRestore": True,
            "timeFrom": "now-30d",
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": 60000},
            "kibanaSavedObjectMeta": {"searchSourceJSON": _search_source(index=False)},
        },
        "references": references,
    }


def saved_objects() -> list[dict[str, Any]]:
    """Every saved object, in dependency order (data views first, the dashboard last)."""
    visualizations = _visualizations()
    searches = [
        _saved_search(
            "newswatch-deadly-events",
            "newswatch: deadly events",
            "fatalities_total > 0",
            [
                "title",
                "source.name",
                "event_types",
                "event_places",
                "fatalities_total",
                "injured_total",
            ],
        ),
        _saved_search(
            "newswatch-terrorism",
            "newswatch: terrorism",
            "terrorism : true",
            ["title", "source.name", "event_types", "event_actors", "event_places"],
        ),
        _saved_search(
            "newswatch-border-security",
            "newswatch: border security and smuggling",
            "tags : (border_infiltration or smuggling or border_security_measure or "
            "cross_border_strike)",
            ["title", "source.name", "tags", "event_places", "event_countries"],
        ),
        _saved_search(
            "newswatch-alert-failures",
            "newswatch: alert deliveries that failed",
            "status : (failed or deadlettered or retrying)",
            ["subscription_id", "article_id", "channel", "status", "attempts", "error"],
            data_view=ALERTS,
            sort_field="created_at",
        ),
    ]
    event_map = _map()
    ids = {v["id"]: v for v in visualizations}
    dashboard = _dashboard(
        [
            ("visualization", "newswatch-events-over-time", (0, 0, 32, 12)),
            ("visualization", "newswatch-events-by-type", (32, 0, 16, 12)),
            ("map", event_map["id"], (0, 12, 32, 20)),
            ("visualization", "newswatch-top-actors", (32, 12, 16, 10)),
            ("visualization", "newswatch-top-places", (32, 22, 16, 10)),
            ("visualization", "newswatch-fatalities-table", (0, 32, 32, 16)),
            ("search", "newswatch-deadly-events", (32, 32, 16, 16)),
        ]
    )
    assert set(ids) <= {r["id"] for r in dashboard["references"]}
    return [
        _data_view(ARTICLES, "published_at", "newswatch articles"),
        _data_view(ALERTS, "created_at", "newswatch alert deliveries"),
        *searches,
        *visualizations,
        event_map,
        dashboard,
    ]


def render_ndjson(objects: Sequence[dict[str, Any]] | None = None) -> str:
    """The import file: one JSON object per line, keys sorted (stable diffs)."""
    items = saved_objects() if objects is None else objects
    return "".join(json.dumps(o, sort_keys=True, ensure_ascii=False) + "\n" for o in items)


def _wait_ready(client: httpx.Client, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 1.0
    last = ""
    while True:
        try:
            response = client.get("/api/status")
            if response.status_code == 200:
                return
            last = f"HTTP {response.status_code}"
        except httpx.HTTPError as exc:
            last = str(exc)
        if time.monotonic() + delay > deadline:
            raise KibanaError(f"Kibana not ready after {timeout_s:.0f} s: {last}")
        log.info("waiting for Kibana (%s)", last)
        time.sleep(delay)
        delay = min(delay * 2, 10.0)


def import_saved_objects(
    kibana_url: str,
    ndjson: str | None = None,
    *,
    username: str | None = None,
    password: str | None = None,
    api_key: str | None = None,
    space: str | None = None,
    wait_s: float = 300.0,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """Import the saved objects (replacing existing ones with the same ids); returns how many.

    Raises ``KibanaError`` when Kibana stays unreachable or reports any object as failed.
    """
    body = render_ndjson() if ndjson is None else ndjson
    headers = {"kbn-xsrf": "newswatch"}
    if api_key:
        headers["Authorization"] = f"ApiKey {api_key}"
    auth = (username, password or "") if username else None
    prefix = f"/s/{space}" if space else ""
    with httpx.Client(
        base_url=kibana_url.rstrip("/"),
        headers=headers,
        auth=auth,
        timeout=60.0,
        transport=transport,
    ) as client:
        _wait_ready(client, wait_s)
        response = client.post(
            f"{prefix}/api/saved_objects/_import",
            params={"overwrite": "true"},
            files={"file": ("newswatch.ndjson", body.encode("utf-8"), "application/ndjson")},
        )
    if response.status_code != 200:
        raise KibanaError(f"import refused: HTTP {response.status_code}: {response.text[:500]}")
    result = response.json()
    if not result.get("success", False):
        errors = [
            f"{e.get('type')}/{e.get('id')}: {e.get('error', {}).get('type')}"
            for e in result.get("errors", [])
        ]
        raise KibanaError("import failed for " + "; ".join(errors[:10]))
    return int(result.get("successCount", 0))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Install newswatch's Kibana saved objects.")
    parser.add_argument("--kibana-url", default="http://localhost:5601")
    parser.add_argument("--write", metavar="FILE", help="only write the NDJSON file and exit")
    args = parser.parse_args(argv)
    if args.write:
        Path(args.write).write_text(render_ndjson(), encoding="utf-8")
        return 0
    count = import_saved_objects(args.kibana_url, NDJSON_PATH.read_text(encoding="utf-8"))
    print(f"imported {count} saved objects into {args.kibana_url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
