"""The dedupe decision over the seen-store and the current batch."""

from __future__ import annotations

import datetime as dt

from services.fetcher.dedupe import item_keys, select_new
from services.fetcher.parse import ParsedItem


def item(
    url: str, guid: str | None = None, title: str = "", days_ago: float | None = None
) -> ParsedItem:
    published = None
    if days_ago is not None:
        published = dt.datetime(2025, 3, 5, tzinfo=dt.UTC) - dt.timedelta(days=days_ago)
    return ParsedItem(url, url, guid, title, "", published)


def test_new_items_and_items_seen_by_the_same_feed() -> None:
    a, b = item("https://s.example/a"), item("https://s.example/b")
    seen = {item_keys(a)[0]: "feed1"}
    selection = select_new("feed1", [a, b], seen, {})
    assert [i.url for _, i in selection.new] == ["https://s.example/b"]
    assert selection.already_seen == 1 and not selection.deduped


def test_duplicates_by_guid_title_and_within_the_batch() -> None:
    title = "Border guards seize weapons cache near Sallum"
    first = item("https://s.example/a", guid="g1", title=title)
    claimed: dict[str, str] = {}
    assert len(select_new("feed1", [first], {}, claimed).new) == 1
    # another feed of the same site, same GUID, different URL
    by_guid = item("https://s.example/a-copy", guid="g1")
    # re-published under a new URL and GUID, same title
    by_title = item("https://s.example/new-url", guid="g2", title=title.upper() + "!")
    # the same URL in a second feed of the batch
    by_url = item("https://s.example/a")
    selection = select_new("feed2", [by_guid, by_title, by_url], {}, claimed)
    assert selection.new == []
    assert selection.deduped == {"guid": 1, "title": 1, "url": 1}
    # every key is remembered, so the new URL is known next time
    assert {r.key for r in selection.rows} >= set(item_keys(by_title))


def test_stale_items_are_skipped_and_not_remembered() -> None:
    old, fresh, undated = (
        item("https://s.example/old", days_ago=40),
        item("https://s.example/fresh", days_ago=1),
        item("https://s.example/undated"),
    )
    cutoff = dt.datetime(2025, 3, 5, tzinfo=dt.UTC) - dt.timedelta(days=30)
    selection = select_new("f", [old, fresh, undated], {}, {}, min_published=cutoff)
    assert [i.url for _, i in selection.new] == [
        "https://s.example/fresh",
        "https://s.example/undated",
    ]
    assert selection.deduped == {"stale": 1}
    assert all("old" not in r.key for r in selection.rows)
    assert len({r.article_id for r in selection.rows}) == 2
