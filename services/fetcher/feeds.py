"""The feed list: the config's ``feeds:`` plus feeds imported from OPML, deduplicated by URL.

A feed's identity (``feed_id``) is a hash of its configured URL in normalised form, so it stays
the same when the site later redirects the feed permanently (the new address is stored in the
feed's state, not in its identity) and when the same URL is listed twice with different case in
the host. Config entries win over imported ones with the same URL.

OPML: import reads ``<outline xmlUrl=…>`` at any depth (folders become region tags, as feed
readers use folders for topics or regions) and the attributes newswatch writes on export:
``country``, ``language``, ``regions`` (comma-separated) and ``pollInterval`` (seconds); OPML
allows arbitrary outline attributes, and readers ignore the ones they do not know. Export writes
the whole list so ``export`` → ``import`` is a lossless round trip.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import quoteattr

from lxml import etree
from pydantic import ValidationError

from newswatch.models.messages import Source
from newswatch.settings import FeedConfig
from services.fetcher.errors import OpmlError

__all__ = [
    "Feed",
    "build_feed_list",
    "feed_id_for",
    "feed_key",
    "in_shard",
    "parse_opml",
    "render_opml",
]

log = logging.getLogger(__name__)

Origin = Literal["config", "opml"]


def feed_key(url: str) -> str:
    """The URL with scheme and host lower-cased, default port and fragment dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host
    if parts.username:
        netloc = f"{parts.username}@{host}"
    if port and not ((scheme == "http" and port == 80) or (scheme == "https" and port == 443)):
        netloc = f"{netloc}:{port}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def feed_id_for(url: str) -> str:
    return hashlib.sha256(feed_key(url).encode("utf-8")).hexdigest()[:16]


def in_shard(url: str, index: int, count: int) -> bool:
    """Whether this replica (shard ``index`` of ``count``) owns the feed at ``url``."""
    if count <= 1:
        return True
    digest = hashlib.sha256(feed_key(url).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count == index


@dataclass(frozen=True)
class Feed:
    """One feed to poll, as configured (or imported)."""

    feed_id: str
    url: str
    name: str | None
    country: str | None
    language: str | None
    regions: tuple[str, ...]
    interval_s: float | None
    enabled: bool
    origin: Origin

    @classmethod
    def from_config(cls, config: FeedConfig, origin: Origin) -> Feed:
        return cls(
            feed_id=feed_id_for(config.url),
            url=config.url,
            name=config.name,
            country=config.country,
            language=config.language,
            regions=tuple(config.regions),
            interval_s=config.interval_s,
            enabled=config.enabled,
            origin=origin,
        )

    def to_config(self) -> FeedConfig:
        return FeedConfig(
            url=self.url,
            name=self.name,
            country=self.country,
            language=self.language,
            regions=list(self.regions),
            interval_s=self.interval_s,
            enabled=self.enabled,
        )

    def source(self, feed_title: str | None = None, feed_language: str | None = None) -> Source:
        """The outlet metadata carried by every item of this feed (config first, then feed)."""
        name = self.name or feed_title or urlsplit(self.url).hostname or self.url
        return Source(
            name=name,
            country=self.country,
            language=self.language or feed_language,
            regions=list(self.regions),
        )

    @property
    def label(self) -> str:
        """How log lines name the feed."""
        return f"{self.name} <{self.url}>" if self.name else self.url


def build_feed_list(
    configured: Iterable[FeedConfig], imported: Iterable[FeedConfig] = ()
) -> list[Feed]:
    """Config feeds then imported ones, the first occurrence of each URL winning."""
    feeds: list[Feed] = []
    seen: set[str] = set()
    for origin, configs in (("config", configured), ("opml", imported)):
        for config in configs:
            feed = Feed.from_config(config, origin)  # type: ignore[arg-type]
            if feed.feed_id in seen:
                continue
            seen.add(feed.feed_id)
            feeds.append(feed)
    return feeds


# -- OPML ------------------------------------------------------------------------------------------

_SLUG = re.compile(r"[^\w]+", re.UNICODE)


def _region_tag(text: str) -> str:
    return _SLUG.sub("-", text.strip().casefold()).strip("-")


def parse_opml(
    data: bytes,
    *,
    source: str = "OPML",
    country: str | None = None,
    language: str | None = None,
    regions: Sequence[str] = (),
) -> list[FeedConfig]:
    """Feeds listed in an OPML document; ``country``/``language``/``regions`` fill the gaps.

    Raises ``OpmlError`` when the document is not OPML at all; an outline with a bad URL or a
    bad attribute is skipped (bad attribute: dropped) with a warning naming it.
    """
    if b"<!ENTITY" in data:
        # An outline list never needs entity declarations; they are how XML bombs are built.
        raise OpmlError(f"{source}: refused: the document declares XML entities")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"{source}: not valid XML: {exc}") from exc
    if root is None or not isinstance(root.tag, str) or root.tag.lower() != "opml":
        raise OpmlError(f"{source}: not an OPML document (no <opml> root element)")
    body = next((child for child in root if _tag(child) == "body"), None)
    if body is None:
        raise OpmlError(f"{source}: the OPML has no <body>")
    found: list[FeedConfig] = []
    _walk(body, [], found, source, country, language, list(regions))
    return found


def _tag(element: etree._Element) -> str:
    return element.tag.lower() if isinstance(element.tag, str) else ""


def _attr(element: etree._Element, *names: str) -> str | None:
    lowered = {str(k).lower(): v for k, v in element.attrib.items()}
    for name in names:
        value = lowered.get(name.lower())
        if value is not None and str(value).strip():
            return str(value).strip()
    return None


def _walk(
    element: etree._Element,
    folders: list[str],
    found: list[FeedConfig],
    source: str,
    country: str | None,
    language: str | None,
    regions: list[str],
) -> None:
    for outline in element:
        if _tag(outline) != "outline":
            continue
        url = _attr(outline, "xmlUrl", "url")
        title = _attr(outline, "title", "text")
        if url and (_attr(outline, "type") or "rss").lower() in ("rss", "atom", "feed", "link"):
            config = _outline_config(outline, url, title, folders, source, country, language)
            if config is not None:
                extra = [r for r in regions if r not in config.regions]
                if extra:
                    config = config.model_copy(update={"regions": config.regions + extra})
                found.append(config)
        nested = folders + ([_region_tag(title)] if title and not url else [])
        _walk(outline, [f for f in nested if f], found, source, country, language, regions)


def _outline_config(
    outline: etree._Element,
    url: str,
    title: str | None,
    folders: list[str],
    source: str,
    country: str | None,
    language: str | None,
) -> FeedConfig | None:
    region_tags: list[str] = []
    for raw in (_attr(outline, "regions") or "").split(","):
        if raw.strip():
            region_tags.append(raw.strip())
    for raw in (_attr(outline, "category") or "").split(","):
        for part in raw.split("/"):
            if part.strip():
                region_tags.append(_region_tag(part))
    region_tags.extend(folders)
    values: dict[str, object] = {
        "url": url,
        "name": title if title != url else None,
        "country": _attr(outline, "country") or country,
        "language": _attr(outline, "language") or language,
        "regions": list(dict.fromkeys(tag for tag in region_tags if tag)),
    }
    interval = _attr(outline, "pollInterval")
    if interval:
        values["interval_s"] = interval
    if (_attr(outline, "enabled") or "").lower() == "false":
        values["enabled"] = False
    try:
        return FeedConfig.model_validate(values)
    except ValidationError as exc:
        bad = {str(err["loc"][0]) for err in exc.errors() if err["loc"]}
        if "url" in bad:
            log.warning("%s: skipped outline %r: not an http(s) feed URL", source, url)
            return None
        for key in bad:
            log.warning("%s: feed %s: ignored invalid %s=%r", source, url, key, values.get(key))
            values.pop(key, None)
        try:
            return FeedConfig.model_validate(values)
        except ValidationError:
            log.warning("%s: skipped outline %r: invalid attributes", source, url)
            return None


def render_opml(feeds: Sequence[Feed], title: str = "newswatch feeds") -> str:
    """An OPML 2.0 document listing ``feeds`` with newswatch's extra attributes."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_escape_text(title)}</title>",
        "  </head>",
        "  <body>",
    ]
    for feed in feeds:
        attrs: list[tuple[str, str]] = [
            ("type", "rss"),
            ("text", feed.name or feed.url),
        ]
        if feed.name:
            attrs.append(("title", feed.name))
        attrs.append(("xmlUrl", feed.url))
        if feed.language:
            attrs.append(("language", feed.language))
        if feed.country:
            attrs.append(("country", feed.country))
        if feed.regions:
            attrs.append(("regions", ",".join(feed.regions)))
        if feed.interval_s is not None:
            attrs.append(("pollInterval", f"{feed.interval_s:g}"))
        if not feed.enabled:
            attrs.append(("enabled", "false"))
        rendered = " ".join(f"{key}={quoteattr(value)}" for key, value in attrs)
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
