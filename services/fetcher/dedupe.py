"""Which parsed items are new: the dedupe decision, as a pure function over the seen-store.

An item is remembered under several keys (``canonical.dedupe_keys``: canonical URL, site+GUID,
site+title). It is new only when none of its keys was seen before — in the store or earlier in
the same commit batch (two feeds of one site polled together). Every key of every listed item is
(re)written with a fresh ``last_seen``, so an article still listed never expires, and a duplicate
found under a new URL teaches the store that URL too.

Items older than ``min_published`` are skipped as stale: with it set to the seen-store's expiry,
an expired key can never bring an old article back.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field

from newswatch.ids import article_id
from services.fetcher.canonical import dedupe_keys
from services.fetcher.parse import ParsedItem
from services.fetcher.state import SeenRow

__all__ = ["Selection", "select_new"]

_KIND_NAMES = {"u": "url", "g": "guid", "t": "title"}


@dataclass
class Selection:
    new: list[tuple[str, ParsedItem]] = field(default_factory=list)
    #: Items that duplicate another article, by the key kind that matched (and ``stale``).
    deduped: Counter[str] = field(default_factory=Counter)
    #: Items this feed had already published (the normal case for an unchanged feed).
    already_seen: int = 0
    rows: list[SeenRow] = field(default_factory=list)


def item_keys(item: ParsedItem) -> list[str]:
    return item.keys or dedupe_keys(item.canonical_url, item.guid, item.title)


def select_new(
    feed_id: str,
    items: Sequence[ParsedItem],
    seen: Mapping[str, str],
    claimed: MutableMapping[str, str],
    *,
    min_published: dt.datetime | None = None,
) -> Selection:
    """Split ``items`` into new ones and duplicates.

    ``seen`` maps keys already in the store to the feed that first saw them; ``claimed`` holds the
    keys of the current batch and is updated here.
    """
    selection = Selection()
    for item in items:
        if (
            min_published is not None
            and item.published_at is not None
            and item.published_at < min_published
        ):
            selection.deduped["stale"] += 1
            continue
        keys = item_keys(item)
        aid = article_id(item.canonical_url)
        matched = next((key for key in keys if key in seen or key in claimed), None)
        if matched is None:
            selection.new.append((aid, item))
        else:
            owner = seen.get(matched) or claimed.get(matched)
            if matched.startswith("u:") and owner == feed_id:
                selection.already_seen += 1
            else:
                selection.deduped[_KIND_NAMES[matched[0]]] += 1
        for key in keys:
            claimed.setdefault(key, feed_id)
            selection.rows.append(SeenRow(key, aid, feed_id))
    return selection
