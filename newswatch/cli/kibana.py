"""``newswatch kibana-setup``: import the Kibana data views, searches and dashboard.

Idempotent (objects have fixed ids and are imported with ``overwrite=true``); waits for Kibana to
answer first, so docker compose can run it as a one-shot service next to Kibana. Settings:
``indexer.kibana_url``, ``indexer.kibana_username``/``kibana_password`` (default: the credentials
of ``index.elasticsearch``), ``indexer.kibana_space`` — e.g. ``NEWSWATCH_INDEXER__KIBANA_URL``.
"""

from __future__ import annotations

import argparse
from typing import Any

from newswatch.cli.common import add_common, print_json, settings_from

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "kibana-setup",
        help="import newswatch's Kibana saved objects (data views, dashboard)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kibana-url", help="Kibana base URL (default: indexer.kibana_url)")
    parser.add_argument(
        "--wait",
        type=float,
        default=300.0,
        metavar="S",
        help="how long to wait for Kibana to come up (default 300)",
    )
    parser.add_argument("--write", metavar="FILE", help="write the NDJSON file instead")
    add_common(parser, json_output=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from services.indexer.kibana import import_saved_objects, render_ndjson

    if args.write:
        with open(args.write, "w", encoding="utf-8") as handle:
            handle.write(render_ndjson())
        return 0
    settings = settings_from(args)
    es = settings.index.elasticsearch
    cfg = settings.indexer
    url = args.kibana_url or cfg.kibana_url
    username: str | None = cfg.kibana_username or es.username
    secret = cfg.kibana_password if cfg.kibana_username else es.password
    api_key = None if cfg.kibana_username else es.api_key
    count = import_saved_objects(
        url,
        username=username,
        password=secret.get_secret_value() if secret else None,
        api_key=api_key.get_secret_value() if api_key and not username else None,
        space=cfg.kibana_space,
        wait_s=args.wait,
    )
    if args.json:
        print_json({"kibana_url": url, "imported": count})
    else:
        print(f"imported {count} saved objects into {url}")
    return 0
