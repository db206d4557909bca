"""Bytes → feed items: feedparser for RSS 0.9x/1.0/2.0 and Atom, a small reader for JSON Feed.

The body arrives already downloaded (``newswatch.net.download``); feedparser never touches the
network here — it is handed a byte stream, never a string it could mistake for a URL or a file
name. The response's URL and Content-Type go along as headers so relative links resolve against
the feed's address and a declared charset (``windows-1256``, ``iso-8859-1``) is honoured.

What is not a usable feed raises ``FeedParseError`` with a reason an operator can act on:
``html`` (a web page, typically a moved feed or a consent wall), ``invalid_xml`` (nothing could be
recovered), ``empty`` (a valid feed without items), ``not_a_feed`` (anything else). A feed that is
slightly broken but yields items is accepted; the problem is kept in ``ParsedFeed.warning``.
"""

from __future__ import annotations

import calendar
import datetime as dt
import html
import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import feedparser

from services.fetcher.canonical import canonical_url, dedupe_keys
from services.fetcher.errors import FeedParseError

__all__ = ["ParsedFeed", "ParsedItem", "parse_feed"]

#: Items dated this far in the future are treated as undated (clock or time-zone bugs).
MAX_FUTURE = dt.timedelta(days=2)
#: Items dated before this are treated as undated (epoch zero, "0001-01-01").
EARLIEST = dt.datetime(1995, 1, 1, tzinfo=dt.UTC)
MAX_TITLE_CHARS = 1000
MAX_SUMMARY_CHARS = 2000


@dataclass
class ParsedItem:
    url: str
    canonical_url: str
    guid: str | None
    title: str
    summary: str
    published_at: dt.datetime | None
    #: Dedupe keys (``canonical.dedupe_keys``), computed with the parse, off the commit path.
    keys: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = dedupe_keys(self.canonical_url, self.guid, self.title)


@dataclass
class ParsedFeed:
    #: feedparser's version string (``rss20``, ``atom10``, ``rss10`` …) or ``json1``.
    format: str
    title: str
    language: str | None
    items: list[ParsedItem] = field(default_factory=list)
    #: Entries skipped (no link), entries beyond the cap, and a recovered parse problem.
    skipped: int = 0
    warning: str | None = None


def parse_feed(
    content: bytes,
    *,
    url: str,
    content_type: str | None = None,
    max_items: int = 200,
    now: dt.datetime | None = None,
) -> ParsedFeed:
    """Parse one feed document fetched from ``url``; raise ``FeedParseError`` if unusable."""
    now = now or dt.datetime.now(dt.UTC)
    stripped = content.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise FeedParseError("empty", "the response body is empty")
    if stripped[:1] in (b"{", b"["):
        return _parse_json_feed(stripped, url=url, max_items=max_items, now=now)
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    result = feedparser.parse(
        io.BytesIO(content),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    version = result.get("version") or ""
    entries = result.get("entries") or []
    problem = _describe_bozo(result)
    if not entries:
        _raise_without_entries(stripped, content_type, version, problem)
    feed_meta: Mapping[str, Any] = result.get("feed") or {}
    parsed = ParsedFeed(
        format=version or "unknown",
        title=_text(feed_meta.get("title", ""))[:MAX_TITLE_CHARS],
        language=_language(feed_meta.get("language")),
        warning=problem,
    )
    base = url
    for index, entry in enumerate(entries):
        if index >= max_items:
            parsed.skipped += len(entries) - max_items
            break
        item = _item_from_entry(entry, base, now)
        if item is None:
            parsed.skipped += 1
            continue
        parsed.items.append(item)
    if not parsed.items:
        raise FeedParseError("no_links", f"{len(entries)} item(s), none with a usable link")
    return parsed


def _describe_bozo(result: Mapping[str, Any]) -> str | None:
    if not result.get("bozo"):
        return None
    exc = result.get("bozo_exception")
    if exc is None:
        return "malformed feed"
    name = type(exc).__name__
    # Charset disagreements are routine (text/xml without charset) and harmless when decoded.
    if name in ("CharacterEncodingOverride",):
        return None
    return f"{name}: {exc}"[:300]


_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*(<!doctype\s+html|<html|<head|<body)", re.I | re.S)


def _raise_without_entries(
    head: bytes, content_type: str | None, version: str, problem: str | None
) -> None:
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    if _HTML_START.match(head[:2048]) or (ctype == "text/html" and not version):
        raise FeedParseError("html", "the server sent an HTML page, not a feed")
    if problem:
        raise FeedParseError("invalid_xml", f"not a parseable feed ({problem})")
    if version:
        raise FeedParseError("empty", f"a valid {version} feed with no items")
    raise FeedParseError("not_a_feed", "no RSS, Atom or JSON Feed structure found")


def _item_from_entry(entry: Mapping[str, Any], base: str, now: dt.datetime) -> ParsedItem | None:
    guid = entry.get("id") or entry.get("guid")
    guid = str(guid).strip() if guid else None
    link = _entry_link(entry, guid)
    if not link:
        return None
    absolute = urljoin(base, link)
    if not absolute.startswith(("http://", "https://")):
        return None
    summary = entry.get("summary") or ""
    if not summary:
        for content in entry.get("content") or []:
            summary = content.get("value") or ""
            if summary:
                break
    return ParsedItem(
        url=absolute,
        canonical_url=canonical_url(absolute),
        guid=guid[:1000] if guid else None,
        title=_text(entry.get("title", ""))[:MAX_TITLE_CHARS],
        summary=_text(summary)[:MAX_SUMMARY_CHARS],
        published_at=_entry_date(entry, now),
    )


def _entry_link(entry: Mapping[str, Any], guid: str | None) -> str | None:
    # Feed proxies (FeedBurner) put the publisher's own link here.
    for key in ("feedburner_origlink", "link"):
        value = entry.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    for link in entry.get("links") or []:
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"]).strip()
    if guid and guid.startswith(("http://", "https://")):
        return guid
    return None


def _entry_date(entry: Mapping[str, Any], now: dt.datetime) -> dt.datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        # dict.get: FeedParserDict.get maps missing keys onto others (with a DeprecationWarning)
        value = dict.get(entry, key) if isinstance(entry, dict) else entry.get(key)
        if isinstance(value, time.struct_time):
            try:
                moment = dt.datetime.fromtimestamp(calendar.timegm(value), dt.UTC)
            except (OverflowError, ValueError, OSError):
                continue
            return _plausible(moment, now)
    return None


def _plausible(moment: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    if moment < EARLIEST or moment > now + MAX_FUTURE:
        return None
    return moment


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _text(value: object) -> str:
    """Plain text from a feed field that may hold HTML (tags dropped, entities decoded)."""
    if not isinstance(value, str) or not value:
        return ""
    if "<" in value:
        value = _TAG.sub(" ", value)
    if "&" in value:
        value = html.unescape(value)
    return _SPACE.sub(" ", value).strip()


def _language(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip().split("-", 1)[0].split("_", 1)[0].lower()[:8] or None


# -- JSON Feed (https://jsonfeed.org/version/1.1) ------------------------------------------------


def _parse_json_feed(content: bytes, *, url: str, max_items: int, now: dt.datetime) -> ParsedFeed:
    try:
        data = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise FeedParseError("invalid_json", f"not valid JSON: {exc}") from None
    if not isinstance(data, dict) or not str(data.get("version", "")).startswith(
        "https://jsonfeed.org/version/"
    ):
        raise FeedParseError("not_a_feed", "JSON, but not a JSON Feed (no jsonfeed.org version)")
    raw_items = data.get("items")
    if not isinstance(raw_items, list) or not raw_items:
        raise FeedParseError("empty", "a JSON Feed with no items")
    base = str(data.get("feed_url") or url)
    base = urljoin(url, base)
    parsed = ParsedFeed(
        format="json1",
        title=_text(data.get("title", ""))[:MAX_TITLE_CHARS],
        language=_language(data.get("language")),
    )
    for index, raw in enumerate(raw_items):
        if index >= max_items:
            parsed.skipped += len(raw_items) - max_items
            break
        item = _json_item(raw, base, now) if isinstance(raw, dict) else None
        if item is None:
            parsed.skipped += 1
            continue
        parsed.items.append(item)
    if not parsed.items:
        raise FeedParseError("no_links", f"{len(raw_items)} item(s), none with a usable link")
    return parsed


def _json_item(raw: Mapping[str, Any], base: str, now: dt.datetime) -> ParsedItem | None:
    link = raw.get("url") or raw.get("external_url")
    guid = raw.get("id")
    guid_text = str(guid).strip() if guid not in (None, "") else None
    if not isinstance(link, str) or not link.strip():
        if guid_text and guid_text.startswith(("http://", "https://")):
            link = guid_text
        else:
            return None
    absolute = urljoin(base, link.strip())
    if not absolute.startswith(("http://", "https://")):
        return None
    summary = raw.get("summary") or raw.get("content_text") or raw.get("content_html") or ""
    published = None
    for key in ("date_published", "date_modified"):
        value = raw.get(key)
        if isinstance(value, str):
            published = _iso_date(value, now)
            if published is not None:
                break
    return ParsedItem(
        url=absolute,
        canonical_url=canonical_url(absolute),
        guid=guid_text[:1000] if guid_text else None,
        title=_text(raw.get("title", ""))[:MAX_TITLE_CHARS],
        summary=_text(summary)[:MAX_SUMMARY_CHARS],
        published_at=published,
    )


def _iso_date(value: str, now: dt.datetime) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return _plausible(moment.astimezone(dt.UTC), now)
