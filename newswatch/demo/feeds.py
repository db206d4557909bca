"""Feed documents of the newsroom, one format and encoding per outlet, quirks included.

Real feeds are untidy, so some outlets misbehave on purpose (see ``Outlet.feed_quirks``):

- ``relative_links``: item links are site-relative paths (resolve them against the feed URL);
- ``malformed_date`` / ``missing_date``: the outlet's oldest item has an unparseable pubDate, the
  second oldest none at all;
- ``unescaped_ampersand``: the CMS writes "&" raw in titles and the copyright line;
- ``truncated_last_item``: the document stops in the middle of its last (oldest) item.

The last two make the document ill-formed XML: feedparser flags it ``bozo`` yet still yields the
complete items.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from email.utils import format_datetime
from html import escape

from newswatch.demo.content import Outlet
from newswatch.demo.media import PLACEHOLDER_PNG
from newswatch.demo.render import ArticleView

__all__ = ["content_type", "encoding_label", "render_feed"]

_CONTENT_TYPES = {
    "rss2": "application/rss+xml",
    "atom": "application/atom+xml",
    "rss1": "application/rdf+xml",
}
_LABELS = {"utf-8": "UTF-8", "iso-8859-1": "ISO-8859-1", "windows-1256": "windows-1256"}


def encoding_label(outlet: Outlet) -> str:
    """The charset name as the outlet declares it in XML prologs and HTTP headers."""
    return _LABELS.get(outlet.encoding.lower(), outlet.encoding)


def content_type(outlet: Outlet) -> str:
    """The feed's Content-Type header value, charset included."""
    return f"{_CONTENT_TYPES[outlet.feed_format]}; charset={encoding_label(outlet)}"


def render_feed(
    outlet: Outlet,
    items: list[ArticleView],
    base_url: str,
    updated: dt.datetime,
) -> bytes:
    """The outlet's feed over ``items`` (newest first), encoded in the outlet's charset."""
    base_url = base_url.rstrip("/")
    if outlet.feed_format == "atom":
        text = _atom(outlet, items, base_url, updated)
    elif outlet.feed_format == "rss1":
        text = _rss1(outlet, items, base_url, updated)
    else:
        text = _rss2(outlet, items, base_url, updated)
    return text.encode(outlet.encoding, "xmlcharrefreplace")


def _prolog(outlet: Outlet) -> str:
    return f'<?xml version="1.0" encoding="{encoding_label(outlet)}"?>\n'


def _home(outlet: Outlet, base_url: str) -> str:
    return f"{base_url}/{outlet.id}/"


def _feed_url(outlet: Outlet, base_url: str) -> str:
    return f"{base_url}/{outlet.id}/{outlet.feed_path}"


def _channel_title(outlet: Outlet) -> str:
    if outlet.native_name:
        return f"{outlet.name} | {outlet.native_name}"
    return outlet.name


def _text(outlet: Outlet, value: str) -> str:
    """Escape for XML, except where the outlet's CMS forgets to escape ampersands."""
    escaped = escape(value, quote=False)
    if outlet.has_quirk("unescaped_ampersand"):
        escaped = escaped.replace("&amp;", "&")
    return escaped


def _rss2(outlet: Outlet, items: list[ArticleView], base_url: str, updated: dt.datetime) -> str:
    oldest = sorted(items, key=lambda v: v.published)
    malformed = oldest[0].article.key if outlet.has_quirk("malformed_date") and oldest else None
    missing = (
        oldest[1].article.key if outlet.has_quirk("missing_date") and len(oldest) > 1 else None
    )
    namespaces = (
        'xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/"'
    )
    if outlet.media:
        namespaces += ' xmlns:media="http://search.yahoo.com/mrss/"'
    copyright_line = f"Copyright {updated.year} {outlet.name} & contributors"
    parts = [
        _prolog(outlet),
        f'<rss version="2.0" {namespaces}>\n<channel>\n',
        f"<title>{_text(outlet, _channel_title(outlet))}</title>\n",
        f"<link>{escape(_home(outlet, base_url))}</link>\n",
        f"<description>{_text(outlet, outlet.description)}</description>\n",
        f"<language>{escape(outlet.language)}</language>\n",
        f"<copyright>{_text(outlet, copyright_line)}</copyright>\n",
        f"<lastBuildDate>{format_datetime(updated.astimezone(outlet.tz))}</lastBuildDate>\n",
        "<generator>newswatch demo newsroom</generator>\n<ttl>5</ttl>\n",
        f'<atom:link href="{escape(_feed_url(outlet, base_url))}" rel="self" '
        'type="application/rss+xml"/>\n',
    ]
    for index, view in enumerate(items):
        link = view.path if outlet.has_quirk("relative_links") else view.url
        if outlet.has_quirk("relative_links"):
            guid_value = "ndd-" + hashlib.sha256(view.article.key.encode()).hexdigest()[:12]
            guid = f'<guid isPermaLink="false">{guid_value}</guid>\n'
        else:
            guid = f'<guid isPermaLink="true">{escape(view.url)}</guid>\n'
        if view.article.key == malformed:
            date = "<pubDate>Tue, 32 Marsh 2026 25:61:00 +0100</pubDate>\n"
        elif view.article.key == missing:
            date = ""
        else:
            date = f"<pubDate>{format_datetime(view.published)}</pubDate>\n"
        item = [
            "<item>\n",
            f"<title>{_text(outlet, view.article.headline)}</title>\n",
            f"<link>{escape(link)}</link>\n",
            guid,
            date,
            f"<dc:creator>{_text(outlet, view.article.author)}</dc:creator>\n",
            f"<category>{_text(outlet, view.article.section)}</category>\n",
            f"<description>{_text(outlet, view.summary)}</description>\n",
        ]
        if outlet.media:
            image = f"{base_url}{view.image_path}"
            item.append(
                f'<media:content url="{escape(image)}" medium="image" type="image/png" '
                'width="16" height="9"/>\n'
                f'<enclosure url="{escape(image)}" length="{len(PLACEHOLDER_PNG)}" '
                'type="image/png"/>\n'
            )
        item.append("</item>\n")
        last = index == len(items) - 1
        if last and outlet.has_quirk("truncated_last_item"):
            text = "".join(item)
            parts.append(text[: len(text) // 2])
            return "".join(parts)
        parts.extend(item)
    parts.append("</channel>\n</rss>\n")
    return "".join(parts)


def _atom(outlet: Outlet, items: list[ArticleView], base_url: str, updated: dt.datetime) -> str:
    host = f"{outlet.id}.newsroom.example"
    parts = [
        _prolog(outlet),
        f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{escape(outlet.language)}">\n',
        f"<id>tag:{host},2020:feed</id>\n",
        f"<title>{escape(_channel_title(outlet))}</title>\n",
        f"<subtitle>{escape(outlet.description)}</subtitle>\n",
        f"<updated>{updated.astimezone(outlet.tz).isoformat()}</updated>\n",
        f'<link rel="self" type="application/atom+xml" '
        f'href="{escape(_feed_url(outlet, base_url))}"/>\n',
        f'<link rel="alternate" type="text/html" href="{escape(_home(outlet, base_url))}"/>\n',
        "<generator>newswatch demo newsroom</generator>\n",
    ]
    for view in items:
        stamp = view.published.isoformat()
        parts.append(
            "<entry>\n"
            f"<id>tag:{host},{view.published.date().isoformat()}:{view.article.slug}</id>\n"
            f"<title>{escape(view.article.headline)}</title>\n"
            f'<link rel="alternate" type="text/html" href="{escape(view.url)}"/>\n'
            f"<published>{stamp}</published>\n<updated>{stamp}</updated>\n"
            f"<author><name>{escape(view.article.author)}</name></author>\n"
            f'<category term="{escape(view.article.section)}"/>\n'
            f'<summary type="text">{escape(view.summary)}</summary>\n'
            "</entry>\n"
        )
    parts.append("</feed>\n")
    return "".join(parts)


def _rss1(outlet: Outlet, items: list[ArticleView], base_url: str, updated: dt.datetime) -> str:
    seq = "".join(f'<rdf:li rdf:resource="{escape(v.url)}"/>\n' for v in items)
    parts = [
        _prolog(outlet),
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">\n',
        f'<channel rdf:about="{escape(_feed_url(outlet, base_url))}">\n',
        f"<title>{escape(_channel_title(outlet))}</title>\n",
        f"<link>{escape(_home(outlet, base_url))}</link>\n",
        f"<description>{escape(outlet.description)}</description>\n",
        f"<dc:language>{escape(outlet.language)}</dc:language>\n",
        f"<dc:date>{updated.astimezone(outlet.tz).isoformat()}</dc:date>\n",
        f"<items>\n<rdf:Seq>\n{seq}</rdf:Seq>\n</items>\n</channel>\n",
    ]
    for view in items:
        parts.append(
            f'<item rdf:about="{escape(view.url)}">\n'
            f"<title>{escape(view.article.headline)}</title>\n"
            f"<link>{escape(view.url)}</link>\n"
            f"<description>{escape(view.summary)}</description>\n"
            f"<dc:date>{view.published.isoformat()}</dc:date>\n"
            f"<dc:creator>{escape(view.article.author)}</dc:creator>\n"
            f"<dc:subject>{escape(view.article.section)}</dc:subject>\n"
            "</item>\n"
        )
    parts.append("</rdf:RDF>\n")
    return "".join(parts)
