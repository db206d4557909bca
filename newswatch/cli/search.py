"""``newswatch search QUERY``: search the archive on the configured index backend.

The query language is described in docs/query-language.md; a few examples:

  newswatch search 'Derna AND (airstrike OR "air strike") -football'
  newswatch search 'event.type:Battles AND fatalities:>=10' --since 7d
  newswatch search 'smuggl* AND place:Salloum' --country EG --facets
  newswatch search '' --type "Air/drone strike" --country LY --json

Prints headline, source, date, events (type, place, fatalities) and a highlighted snippet per
hit; ``--facets`` adds article counts by event type, country and day; ``--json`` prints data.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from newswatch.cli.common import add_common, print_json, settings_from
from newswatch.query.filters import Filters, parse_since

__all__ = ["register", "run"]

_PRE, _POST = "\x02", "\x03"


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "search",
        help="search indexed articles with the query language",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("query", nargs="?", default="", help="query text ('' = everything)")
    parser.add_argument("--country", metavar="CC", help="only articles about or from CC")
    parser.add_argument("--type", metavar="T", help="only articles with an event of type T")
    parser.add_argument("--since", metavar="AGE", help="published within AGE (7d, 12h) or since")
    parser.add_argument("--until", metavar="DATE", help="published before DATE")
    parser.add_argument("--source", metavar="NAME", help="only this outlet")
    parser.add_argument("--limit", type=int, default=10, metavar="N", help="hits to show")
    parser.add_argument("--offset", type=int, default=0, metavar="N", help="hits to skip")
    parser.add_argument(
        "--sort",
        choices=["relevance", "newest", "oldest"],
        default="relevance",
        help="order of hits (default: relevance, newest first without text terms)",
    )
    parser.add_argument("--facets", action="store_true", help="counts by type, country, day")
    add_common(parser, json_output=True)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from services.indexer import open_index

    settings = settings_from(args)
    filters = Filters(
        country=args.country,
        event_type=args.type,
        since=parse_since(args.since) if args.since else None,
        until=parse_since(args.until) if args.until else None,
        source=args.source,
    )
    index = open_index(settings)
    try:
        highlight = ("<mark>", "</mark>") if args.json else (_PRE, _POST)
        result = index.search(
            args.query,
            filters=filters,
            sort=args.sort,
            offset=max(0, args.offset),
            size=max(0, args.limit),
            facets=args.facets,
            highlight=highlight,
        )
    finally:
        index.close()
    if args.json:
        print_json(
            {
                "query": args.query,
                "backend": settings.index.backend,
                "total": result.total,
                "hits": [h.as_dict() for h in result.hits],
                "facets": result.facets.as_dict() if result.facets else None,
            }
        )
        return 0
    _print_text(args, result)
    return 0


def _print_text(args: argparse.Namespace, result: Any) -> None:
    from rich.console import Console
    from rich.markup import escape

    console = Console(highlight=False, soft_wrap=True)
    shown = len(result.hits)
    what = f"'{args.query}'" if args.query else "everything"
    plural = "article" if result.total == 1 else "articles"
    console.print(f"{result.total} {plural} match {escape(what)}", style="bold")
    for n, hit in enumerate(result.hits, start=args.offset + 1):
        doc = hit.document
        console.print()
        console.print(f"{n}. [bold]{escape(doc.get('title') or '(untitled)')}[/bold]")
        source = doc.get("source") or {}
        meta = [source.get("name") or doc.get("feed_id") or "?"]
        if source.get("country"):
            meta[0] += f" ({source['country']})"
        meta.append(_date(doc.get("published_at")))
        meta.append(doc.get("url") or "")
        console.print("   " + escape(" · ".join(m for m in meta if m)), style="dim")
        for event in doc.get("events") or []:
            console.print("   " + escape(_event_line(event)))
        snippet = " ".join((hit.snippet or "").split())
        if snippet:
            parts = re.split(f"({_PRE}.*?{_POST})", escape(snippet))
            style = "[bold yellow]{}[/bold yellow]" if console.is_terminal else "*{}*"
            rendered = "".join(style.format(p[1:-1]) if p.startswith(_PRE) else p for p in parts)
            console.print(f"   … {rendered} …")
    if shown < result.total and shown:
        console.print()
        console.print(
            f"showing {args.offset + 1}-{args.offset + shown} of {result.total}; "
            "use --limit/--offset for more",
            style="dim",
        )
    if result.facets is not None:
        console.print()
        for title, buckets in (
            ("Event types", result.facets.event_types),
            ("Countries", result.facets.countries),
            ("Days", result.facets.days),
        ):
            body = " · ".join(f"{b.key} {b.count}" for b in buckets) or "none"
            console.print(f"[bold]{title}:[/bold] {escape(body)}")


def _date(value: str | None) -> str:
    if not value:
        return "undated"
    return value[:16].replace("T", " ") + " UTC"


def _event_line(event: dict[str, Any]) -> str:
    location = event.get("location") or {}
    place = location.get("name") or "unknown place"
    if location.get("country_code"):
        place += f", {location['country_code']}"
    parts = [event.get("sub_event_type") or event.get("event_type") or "event", place]
    if event.get("fatalities"):
        parts.append(f"{event['fatalities']} killed")
    if event.get("injured"):
        parts.append(f"{event['injured']} injured")
    if event.get("background"):
        parts.append("(background)")
    return "• " + " — ".join(parts)
