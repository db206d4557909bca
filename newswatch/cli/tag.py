"""``newswatch tag [FILE|-] [--json | --jsonl]``: run the event tagger on text.

Plain mode prints the events as a table; ``--json`` prints one ``TaggingResult``; ``--jsonl``
is the evaluation interface of the design: one input object per line
(``{"id", "text", "title"?, "published_at"?, "source_country"?}``) and one output object per
line (``{"id", "events", "places", "actors", "tags"}``), in input order.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Iterable, Iterator
from typing import IO, Any

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    """Add the ``tag`` subcommand."""
    parser = subparsers.add_parser(
        "tag",
        help="tag events, places, actors and casualties in text",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("file", nargs="?", default="-", help="text file, or - for stdin")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print one TaggingResult as JSON")
    fmt.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"id","text",...} per line, write {"id","events",...} per line',
    )
    parser.add_argument("--title", help="the article's title (plain and --json modes)")
    parser.add_argument(
        "--published-at", help="publication date YYYY-MM-DD (plain and --json modes)"
    )
    parser.add_argument("--source-country", help="ISO code of the source's country")
    parser.set_defaults(func=run)


def parse_date(value: object) -> dt.date | None:
    """Read a date or an ISO date-time; ``None`` for anything else."""
    if not isinstance(value, str) or not value.strip():
        return None
    s = value.strip()
    try:
        return dt.date.fromisoformat(s[:10])
    except ValueError:
        pass
    try:
        return dt.datetime.fromisoformat(s.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _open(path: str) -> IO[str]:
    if path == "-":
        return sys.stdin
    return open(path, encoding="utf-8", errors="replace")


def run(args: argparse.Namespace) -> int:
    """Run the command; returns the exit code."""
    try:
        stream = _open(args.file)
    except OSError as exc:
        print(f"newswatch tag: cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    with stream:
        if args.jsonl:
            for line in tag_jsonl(stream):
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
            return 0
        text = stream.read()
    from services.extractor.tagging import tag

    pub = parse_date(args.published_at)
    if args.published_at and pub is None:
        print(f"newswatch tag: bad --published-at {args.published_at!r}", file=sys.stderr)
        return 2
    result = tag(text, title=args.title, published_at=pub, source_country=args.source_country)
    if args.json:
        print(result.model_dump_json(indent=2))
    else:
        _print_table(result)
    return 0


def tag_jsonl(lines: Iterable[str]) -> Iterator[str]:
    """The JSONL contract as a pure function of input lines; bad lines give an ``error`` key."""
    from services.extractor.tagging import tag

    for n, raw in enumerate(lines, 1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
            if not isinstance(obj, dict):
                raise ValueError("not a JSON object")
        except ValueError as exc:
            out: dict[str, Any] = {"id": None, "events": [], "places": [], "actors": []}
            out.update(tags=[], error=f"line {n}: {exc}")
            yield json.dumps(out, ensure_ascii=False)
            continue
        text = obj.get("text")
        result = tag(
            text if isinstance(text, str) else "",
            title=obj.get("title") if isinstance(obj.get("title"), str) else None,
            published_at=parse_date(obj.get("published_at")),
            source_country=obj.get("source_country")
            if isinstance(obj.get("source_country"), str)
            else None,
        )
        data = result.model_dump(mode="json")
        out = {"id": obj.get("id")}
        out.update((k, data[k]) for k in ("events", "places", "actors", "tags"))
        if result.error:
            out["error"] = result.error
        yield json.dumps(out, ensure_ascii=False)


def _print_table(result: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if result.error:
        console.print(f"[red]tagging failed:[/red] {result.error}")
    table = Table(title=f"{len(result.events)} event(s)", show_lines=True)
    for col in ("type / sub-type", "where", "who", "killed/inj.", "date", "conf.", "sentence"):
        table.add_column(col, overflow="fold")
    for ev in result.events:
        loc = ev.location
        where = "-"
        if loc is not None:
            where = f"{loc.name} ({loc.admin1 or '?'}, {loc.country_code or '?'}) p{loc.precision}"
        who = "\n".join(f"{a.name} [{int(a.kind)}]" for a in ev.actors) or "-"
        kind = f"{ev.event_type}\n[b]{ev.sub_event_type}[/b]"
        flags = [*ev.tags]
        if ev.terrorism:
            flags.append("terrorism")
        if ev.background:
            flags.append("background")
        if flags:
            kind += "\n" + ", ".join(flags)
        table.add_row(
            kind,
            where,
            who,
            f"{ev.fatalities}/{ev.injured}",
            ev.date.isoformat() if ev.date else "-",
            f"{ev.confidence:.2f}",
            ev.sentence,
        )
    console.print(table)
    if result.places:
        console.print("places: " + ", ".join(f"{p.name} ({p.country_code})" for p in result.places))
    if result.tags:
        console.print("tags: " + ", ".join(result.tags))
