"""``newswatch feeds list | import FILE.opml | export | enable URL | remove URL``.

The feed list is the config file's ``feeds:`` plus the feeds imported from OPML, which live in
the fetcher's state file (``fetcher.state_path``). ``list`` shows each feed's health as the
fetcher last recorded it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from newswatch.cli.common import add_common, print_json, settings_from
from newswatch.errors import ConfigError, NewswatchError
from newswatch.settings import Settings

if TYPE_CHECKING:
    from services.fetcher.feeds import Feed
    from services.fetcher.state import FeedState, FeedStateStore

# The fetcher's modules are imported inside the handlers: building the CLI parser stays cheap.


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("feeds", help="feed list, OPML import/export and feed health")
    sub = parser.add_subparsers(dest="feeds_command", metavar="ACTION", required=True)

    lister = sub.add_parser("list", help="every feed with its health")
    add_common(lister, json_output=True)
    lister.set_defaults(func=run_list)

    importer = sub.add_parser("import", help="add the feeds of an OPML file to the feed list")
    add_common(importer, json_output=True)
    importer.add_argument("file", help="OPML file ('-' for standard input)")
    importer.add_argument("--country", help="ISO country code for feeds that do not name one")
    importer.add_argument("--language", help="language code for feeds that do not name one")
    importer.add_argument(
        "--region", action="append", default=[], help="region tag added to every feed (repeatable)"
    )
    importer.set_defaults(func=run_import)

    exporter = sub.add_parser("export", help="print the feed list as OPML")
    add_common(exporter)
    exporter.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    exporter.set_defaults(func=run_export)

    enable = sub.add_parser("enable", help="re-enable a feed disabled after a 410 (and reset it)")
    add_common(enable)
    enable.add_argument("url")
    enable.set_defaults(func=run_enable)

    remove = sub.add_parser("remove", help="remove an imported feed (config feeds: edit the file)")
    add_common(remove)
    remove.add_argument("url")
    remove.set_defaults(func=run_remove)


def _store(settings: Settings) -> FeedStateStore:
    from services.fetcher.state import FeedStateStore

    return FeedStateStore(settings.data_path(settings.fetcher.state_path))


def _feeds(settings: Settings, store: FeedStateStore) -> list[Feed]:
    from services.fetcher.feeds import build_feed_list

    return build_feed_list(settings.feeds, store.imported_feeds())


# -- list -----------------------------------------------------------------------------------------


def _health(feed: Feed, state: FeedState | None) -> dict[str, Any]:
    row: dict[str, Any] = {
        "feed_id": feed.feed_id,
        "url": feed.url,
        "name": feed.name,
        "origin": feed.origin,
        "country": feed.country,
        "language": feed.language,
        "regions": list(feed.regions),
        "enabled": feed.enabled,
        "polling_url": None,
        "last_poll_at": None,
        "last_status": None,
        "last_outcome": None,
        "last_reason": None,
        "last_error": None,
        "items_seen": 0,
        "items_in_feed": None,
        "consecutive_failures": 0,
        "next_poll_at": None,
        "interval_s": None,
        "disabled": not feed.enabled,
        "disabled_reason": None if feed.enabled else "enabled: false in the config",
    }
    if state is not None:
        row.update(
            polling_url=state.current_url,
            last_poll_at=state.last_poll_at,
            last_status=state.last_status,
            last_outcome=state.last_outcome,
            last_reason=state.last_reason,
            last_error=state.last_error,
            items_seen=state.items_seen,
            items_in_feed=state.items_in_feed,
            consecutive_failures=state.consecutive_failures,
            next_poll_at=state.next_poll_at,
            interval_s=state.interval_s,
        )
        if state.disabled:
            row["disabled"] = True
            row["disabled_reason"] = state.disabled_reason
    return row


def _ago(moment: float | None, now: float) -> str:
    if moment is None:
        return "never"
    return _span(now - moment) + " ago" if now >= moment else "in " + _span(moment - now)


def _until(moment: float | None, now: float) -> str:
    if moment is None:
        return "now"
    if moment <= now:
        return "due"
    return "in " + _span(moment - now)


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f}m"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def run_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    store = _store(settings)
    try:
        feeds = _feeds(settings, store)
        states = store.load_states()
    finally:
        store.close()
    rows = [_health(feed, states.get(feed.feed_id)) for feed in feeds]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("no feeds: add some under 'feeds:' in the config or run 'newswatch feeds import'")
        return 0
    now = time.time()
    print(
        f"{'FEED':40} {'LAST POLL':>10} {'STATUS':>6} {'ITEMS':>6} {'FAILS':>5} "
        f"{'NEXT POLL':>10}  PROBLEM"
    )
    for row in rows:
        status = row["last_status"] or (row["last_outcome"] or "-")
        if row["disabled"]:
            problem = f"DISABLED: {row['disabled_reason']}"
            next_poll = "-"
        else:
            problem = row["last_error"] or ""
            next_poll = _until(row["next_poll_at"], now)
        print(
            f"{_clip(row['name'] or row['url'], 40):40} {_ago(row['last_poll_at'], now):>10} "
            f"{status!s:>6} {row['items_seen']:>6} {row['consecutive_failures']:>5} "
            f"{next_poll:>10}  {_clip(problem, 80)}"
        )
    disabled = sum(1 for r in rows if r["disabled"])
    failing = sum(1 for r in rows if r["consecutive_failures"] and not r["disabled"])
    print(f"\n{len(rows)} feed(s): {failing} failing, {disabled} disabled")
    return 0


# -- import / export ------------------------------------------------------------------------------


def run_import(args: argparse.Namespace) -> int:
    from services.fetcher.feeds import feed_key, parse_opml

    settings = settings_from(args)
    if args.file == "-":
        data, name = sys.stdin.buffer.read(), "<stdin>"
    else:
        path = Path(args.file)
        try:
            data, name = path.read_bytes(), str(path)
        except OSError as exc:
            raise NewswatchError(f"{path}: cannot read: {exc.strerror}") from exc
    country = args.country.upper() if args.country else None
    if country is not None and (len(country) != 2 or not country.isalpha()):
        raise ConfigError(
            f"--country: must be an ISO 3166-1 alpha-2 code such as 'EG' (got {args.country!r})"
        )
    configs = parse_opml(
        data, source=name, country=country, language=args.language, regions=args.region
    )
    store = _store(settings)
    try:
        known = {feed_key(feed.url) for feed in _feeds(settings, store)}
        new = []
        for config in configs:
            key = feed_key(config.url)
            if key in known:
                continue
            known.add(key)
            new.append(config)
        store.add_imported(new, origin=name)
    finally:
        store.close()
    duplicates = len(configs) - len(new)
    if args.json:
        print_json(
            {"found": len(configs), "added": [c.url for c in new], "already_listed": duplicates}
        )
    else:
        print(
            f"{name}: {len(configs)} feed(s) found, {len(new)} added, "
            f"{duplicates} already in the feed list"
        )
    return 0


def run_export(args: argparse.Namespace) -> int:
    from services.fetcher.feeds import render_opml

    settings = settings_from(args)
    store = _store(settings)
    try:
        feeds = _feeds(settings, store)
    finally:
        store.close()
    document = render_opml(feeds)
    if args.output:
        Path(args.output).write_text(document, encoding="utf-8")
    else:
        sys.stdout.write(document)
    return 0


# -- enable / remove ------------------------------------------------------------------------------


def run_enable(args: argparse.Namespace) -> int:
    from services.fetcher.feeds import feed_id_for

    settings = settings_from(args)
    store = _store(settings)
    try:
        if not store.enable(feed_id_for(args.url)):
            raise NewswatchError(f"{args.url}: the fetcher has no state for this feed")
    finally:
        store.close()
    print(f"{args.url}: enabled; it will be polled at the fetcher's next pass")
    return 0


def run_remove(args: argparse.Namespace) -> int:
    from services.fetcher.feeds import feed_key

    settings = settings_from(args)
    store = _store(settings)
    try:
        imported = {feed_key(c.url): c.url for c in store.imported_feeds()}
        url = imported.get(feed_key(args.url))
        if url is None or not store.remove_imported(url):
            if any(feed_key(c.url) == feed_key(args.url) for c in settings.feeds):
                raise NewswatchError(f"{args.url}: listed in the config file; remove it there")
            raise NewswatchError(f"{args.url}: not an imported feed")
    finally:
        store.close()
    print(f"{args.url}: removed from the feed list")
    return 0
