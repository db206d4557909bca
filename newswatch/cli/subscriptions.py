"""``newswatch subscriptions add|list|show|test|remove``: manage alert subscriptions.

They live in the alerter's state file (``alerter.state_path``), the same store the alerter's HTTP
API edits; a running alerter picks changes up at its next batch.

Examples::

    newswatch subscriptions add --name "Sinai IEDs" --owner me@example.org \\
        --query 'IED OR "roadside bomb"' --admin1 EG.27 --email me@example.org
    newswatch subscriptions add --file subs.yaml          # one document or a list
    newswatch subscriptions test sub_1a2b3c --limit 500   # what it would have fired on
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

import yaml

from newswatch.cli.common import add_common, print_json, settings_from
from newswatch.errors import ConfigError
from newswatch.settings import Settings

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_MINUTES = {"s": 1 / 60, "m": 1.0, "": 1.0, "h": 60.0, "d": 1440.0}


def minutes(text: str) -> float:
    """``90``, ``90m``, ``2h``, ``1d`` → minutes."""
    found = _DURATION.match(text)
    if not found:
        raise ConfigError(f"{text!r}: a duration is like 30m, 2h or 1d")
    return float(found.group(1)) * _UNIT_MINUTES[found.group(2)]


def _per(text: str, what: str) -> tuple[int, float]:
    count, _, window = text.partition("/")
    if not count.strip().isdigit() or not window:
        raise ConfigError(f"--{what} {text!r}: expected N/DURATION, e.g. 5/1h")
    return int(count), minutes(window)


def _mute(text: str) -> dict[str, Any]:
    """``22:00-06:00``, optionally ``@Africa/Cairo`` and ``:fri,sat``."""
    found = re.match(r"^(\d\d?:\d\d)-(\d\d?:\d\d)(?:@([^:]+))?(?::([a-z,]+))?$", text.strip())
    if not found:
        raise ConfigError(f"--mute {text!r}: expected HH:MM-HH:MM[@Zone/Name][:mon,tue]")
    window: dict[str, Any] = {"start": found.group(1), "end": found.group(2)}
    if found.group(3):
        window["timezone"] = found.group(3)
    if found.group(4):
        window["days"] = found.group(4).split(",")
    return window


def _floats(text: str, n: int, what: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) != n:
        raise ConfigError(f"--{what} {text!r}: expected {n} comma-separated numbers")
    return values


def document_from_flags(args: argparse.Namespace) -> dict[str, Any]:
    if not args.name or not args.owner:
        raise ConfigError("subscriptions add: --name and --owner are required (or --file)")
    doc: dict[str, Any] = {"name": args.name, "owner": args.owner, "query": args.query or ""}
    if args.id:
        doc["id"] = args.id
    regions: dict[str, Any] = {}
    if args.country:
        regions["countries"] = args.country
    if args.admin1:
        regions["admin1"] = args.admin1
    if args.bbox:
        regions["bbox"] = [_floats(b, 4, "bbox") for b in args.bbox]
    if args.near:
        regions["near"] = [
            dict(zip(("lat", "lon", "radius_km"), _floats(n, 3, "near"), strict=True))
            for n in args.near
        ]
    if regions:
        doc["regions"] = regions
    if args.type:
        doc["event_types"] = args.type
    if args.sub_type:
        doc["sub_event_types"] = args.sub_type
    if args.min_fatalities:
        doc["min_fatalities"] = args.min_fatalities
    if args.include_background:
        doc["include_background"] = True
    hooks = []
    for i, url in enumerate(args.webhook or []):
        hook: dict[str, Any] = {"url": url}
        if args.webhook_secret and i < len(args.webhook_secret):
            hook["secret"] = args.webhook_secret[i]
        hooks.append(hook)
    doc["channels"] = {"emails": args.email or [], "webhooks": hooks}
    if args.digest:
        doc["mode"] = "digest"
        doc["digest_every_minutes"] = minutes(args.digest)
    if args.mute:
        doc["mute"] = [_mute(m) for m in args.mute]
    if args.mute_action:
        doc["mute_action"] = args.mute_action
    if args.rate:
        count, window = _per(args.rate, "rate")
        doc["rate_limit"] = {"max_alerts": count, "per_minutes": window}
    if args.spike:
        count, window = _per(args.spike, "spike")
        doc["spike"] = {"threshold": count, "window_minutes": window}
    if args.disabled:
        doc["enabled"] = False
    return doc


def read_documents(path: str) -> list[dict[str, Any]]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(text)  # JSON is YAML
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML or JSON: {exc}") from exc
    if isinstance(data, dict) and isinstance(data.get("subscriptions"), list):
        data = data["subscriptions"]
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise ConfigError(f"{path}: expected a subscription mapping or a list of them")
    return data


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "subscriptions", help="manage alert subscriptions (add, list, show, test, remove)"
    )
    commands = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    add = commands.add_parser("add", help="add subscriptions from flags or a YAML/JSON file")
    add_common(add, json_output=True)
    add.add_argument("--file", "-f", help="YAML/JSON file with one subscription or a list ('-')")
    add.add_argument("--id", help="an id of your choice (default: generated)")
    add.add_argument("--name")
    add.add_argument("--owner", help="owner's email address")
    add.add_argument("--query", "-q", help="query in the search language")
    add.add_argument("--country", action="append", help="ISO country code (repeatable)")
    add.add_argument("--admin1", action="append", help="EG.27, EG:North Sinai or a name")
    add.add_argument("--bbox", action="append", metavar="W,S,E,N", help="bounding box")
    add.add_argument("--near", action="append", metavar="LAT,LON,KM", help="point and radius")
    add.add_argument("--type", action="append", metavar="EVENT_TYPE", help="ACLED event type")
    add.add_argument("--sub-type", action="append", metavar="SUB_TYPE", help="ACLED sub-type")
    add.add_argument("--min-fatalities", type=int, default=0)
    add.add_argument("--include-background", action="store_true")
    add.add_argument("--email", action="append", help="deliver to this address (repeatable)")
    add.add_argument("--webhook", action="append", metavar="URL", help="deliver to this URL")
    add.add_argument(
        "--webhook-secret",
        action="append",
        metavar="SECRET",
        help="secret of the n-th --webhook (default: generated and printed once)",
    )
    add.add_argument("--digest", metavar="EVERY", help="digest mode, e.g. 30m or 4h")
    add.add_argument("--mute", action="append", metavar="HH:MM-HH:MM[@TZ][:days]")
    add.add_argument("--mute-action", choices=["suppress", "defer"])
    add.add_argument("--rate", metavar="N/DURATION", help="at most N alerts per duration")
    add.add_argument("--spike", metavar="N/DURATION", help="fire when more than N in duration")
    add.add_argument("--disabled", action="store_true")
    add.set_defaults(func=cmd_add)

    lst = commands.add_parser("list", help="list subscriptions")
    add_common(lst, json_output=True)
    lst.set_defaults(func=cmd_list)

    show = commands.add_parser("show", help="show one subscription")
    add_common(show, json_output=True)
    show.add_argument("id")
    show.add_argument("--show-secrets", action="store_true", help="print webhook secrets")
    show.set_defaults(func=cmd_show)

    test = commands.add_parser("test", help="run a subscription against the archive (dry run)")
    add_common(test, json_output=True)
    test.add_argument("id", nargs="?", help="a stored subscription")
    test.add_argument("--file", "-f", help="or a subscription document (YAML/JSON)")
    test.add_argument("--limit", type=int, default=200, help="newest articles examined")
    test.set_defaults(func=cmd_test)

    rm = commands.add_parser("remove", help="delete a subscription")
    add_common(rm, json_output=True)
    rm.add_argument("id", nargs="+")
    rm.set_defaults(func=cmd_remove)


def _store(settings: Settings) -> Any:
    """The alerter's store; on the Kafka bus it also publishes changes to news.subscriptions."""
    from services.alerter.sync import open_store

    return open_store(settings)


def cmd_add(args: argparse.Namespace) -> int:
    from services.alerter.subscriptions import parse_subscription

    settings = settings_from(args)
    docs = read_documents(args.file) if args.file else [document_from_flags(args)]
    subs = [parse_subscription(d) for d in docs]
    for sub in subs:
        sub.check_webhook_urls(allow_private=settings.alerter.webhook.allow_private)
    store = _store(settings)
    added = [store.add(sub) for sub in subs]
    if args.json:
        print_json([s.model_dump(mode="json") for s in added])
        return 0
    for sub in added:
        print(f"added {sub.id}  {sub.name}")
        for hook in sub.channels.webhooks:
            print(f"  webhook {hook.url}  secret {hook.secret}  (shown once)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    subs = _store(settings).all()
    if args.json:
        print_json([s.redacted() for s in subs])
        return 0
    if not subs:
        print("no subscriptions")
        return 0
    for sub in subs:
        state = "on " if sub.enabled else "off"
        mode = "spike" if sub.spike else sub.mode
        targets = len(sub.channels.targets())
        query = sub.query if len(sub.query) <= 40 else sub.query[:39] + "…"
        print(f"{sub.id:<20} {state} {mode:<9} {targets} target(s)  {sub.name}  [{query}]")
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    sub = _store(settings).get(args.id)
    data = sub.model_dump(mode="json") if args.show_secrets else sub.redacted()
    if args.json:
        print_json(data)
    else:
        sys.stdout.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    return 0


def cmd_test(args: argparse.Namespace) -> int:
    from services.alerter.archive import dry_run
    from services.alerter.subscriptions import parse_subscription

    settings = settings_from(args)
    if args.file:
        docs = read_documents(args.file)
        if len(docs) != 1:
            raise ConfigError(f"{args.file}: 'test' takes one subscription")
        sub = parse_subscription(docs[0])
    elif args.id:
        sub = _store(settings).get(args.id)
    else:
        raise ConfigError("subscriptions test: give a subscription id or --file")
    source, examined, hits = dry_run(settings, sub, limit=args.limit)
    if args.json:
        print_json(
            {
                "subscription": sub.id,
                "archive": source,
                "examined": examined,
                "would_fire": len(hits),
                "hits": [h.as_dict() for h in hits],
            }
        )
        return 0
    print(f"{sub.id} ({sub.name}): {len(hits)} of {examined} article(s) from the {source} match")
    for hit in hits:
        data = hit.as_dict()
        when = (data["published_at"] or "")[:16].replace("T", " ")
        events = "; ".join(
            f"{e['type']} @ {e['place'] or '?'}"
            + (f" ({e['fatalities']} killed)" if e["fatalities"] else "")
            for e in data["events"][:3]
        )
        seen = "  [already alerted]" if hit.already_alerted else ""
        print(f"  {when}  {data['title'][:80]}{seen}")
        if events:
            print(f"      {events}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    store = _store(settings)
    for sub_id in args.id:
        store.remove(sub_id)
        if not args.json:
            print(f"removed {sub_id}")
    if args.json:
        print(json.dumps({"removed": args.id}))
    return 0
