"""Parsing odd feeds: every shape real outlets produce, and clear reasons for what is no feed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from services.fetcher.errors import FeedParseError
from services.fetcher.parse import parse_feed

DATA = Path(__file__).resolve().parents[2] / "data" / "fetcher"
NOW = dt.datetime(2025, 3, 5, tzinfo=dt.UTC)


def parse(name: str, content_type: str | None = None, **kwargs: object):  # type: ignore[no-untyped-def]
    return parse_feed(
        (DATA / name).read_bytes(),
        url=f"https://feeds.example/x/{name}",
        content_type=content_type,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("name", "fmt", "count"),
    [
        ("rss2_media.xml", "rss20", 3),
        ("atom.xml", "atom10", 3),
        ("rdf.xml", "rss10", 2),
        ("rss091.xml", "rss091n", 1),
        ("arabic_cp1256.xml", "rss20", 2),
        ("latin1.xml", "rss20", 2),
        ("feed.json", "json1", 2),
    ],
)
def test_formats(name: str, fmt: str, count: int) -> None:
    feed = parse(name)
    assert feed.format == fmt
    assert len(feed.items) == count


def test_media_and_enclosures_do_not_replace_the_article_link() -> None:
    items = parse("rss2_media.xml").items
    assert [i.url.split("?")[0].rsplit("/", 1)[-1] for i in items] == [
        "drone-strike-menaka",
        "tillaberi-border-post",
        "gao-checkpoint",
    ]
    assert items[0].summary.startswith("A drone strike hit a convoy near Menaka")
    assert "<" not in items[0].summary


def test_atom_xml_base_and_html_titles() -> None:
    items = parse("atom.xml").items
    assert items[0].url == "https://news.cyrenaica.example/articles/2025/03/derna-clashes"
    assert items[1].url == "https://news.cyrenaica.example/articles/2025/03/tobruk-boat"
    assert items[0].title == "Clashes reported south of Derna & Sousse road closed"
    assert items[0].published_at == dt.datetime(2025, 3, 4, 5, 12, tzinfo=dt.UTC)
    assert items[1].published_at == dt.datetime(2025, 3, 3, 21, 40, tzinfo=dt.UTC)  # updated


@pytest.mark.parametrize("content_type", [None, "text/xml", "application/rss+xml"])
def test_windows_1256_declared_in_the_document(content_type: str | None) -> None:
    feed = parse("arabic_cp1256.xml", content_type)
    assert feed.title == "صحيفة الصحراء"
    assert feed.items[1].title == "ضبط شحنة وقود مهربة قرب الحدود مع السودان"
    assert feed.language == "ar"


def test_iso_8859_1_and_charset_from_the_http_header() -> None:
    assert parse("latin1.xml").items[0].title == "Attaque contre un poste de sécurité à Léré"
    # no XML declaration: the HTTP header's charset decides
    body = (
        "<rss version='2.0'><channel><item><title>Café à Tunis</title>"
        "<link>https://t.example/1</link></item></channel></rss>".encode("iso-8859-1")
    )
    feed = parse_feed(
        body, url="https://t.example/rss", content_type="text/xml; charset=iso-8859-1"
    )
    assert feed.items[0].title == "Café à Tunis"


def test_relative_links_missing_links_and_permalink_guids() -> None:
    feed = parse("relative_links.xml")
    assert [i.url for i in feed.items] == [
        "https://feeds.example/news/2025/03/kufra-fuel-smugglers.html",
        "https://feeds.example/news/2025/03/tazerbu-road.html?ref=rss",
        "https://kufrapost.example/news/2025/03/guid-only.html",
    ]
    assert feed.items[1].canonical_url == "https://feeds.example/news/2025/03/tazerbu-road.html"
    assert feed.skipped == 1


def test_missing_and_malformed_dates() -> None:
    dates = {i.url.rsplit("/", 1)[-1]: i.published_at for i in parse("bad_dates.xml").items}
    assert dates["1"] is None  # missing
    assert dates["2"] is None  # garbage
    assert dates["3"] == dt.datetime(2025, 3, 4, 7, 0, tzinfo=dt.UTC)  # ISO in RSS
    assert dates["4"] == dt.datetime(2025, 3, 4, 13, 0, tzinfo=dt.UTC)  # EST
    assert dates["5"] is None  # 2099: in the future
    assert dates["6"] is None  # 1970: a CMS default
    assert all(d is None or d.tzinfo is not None for d in dates.values())


def test_json_feed() -> None:
    feed = parse("feed.json")
    assert feed.language == "fr"
    assert feed.items[0].canonical_url == "https://chadbrief.example/2025/03/abeche-patrol"
    assert feed.items[1].url == "https://chadbrief.example/2025/03/tibesti-mines"
    assert feed.items[1].published_at is None
    assert feed.skipped == 1


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        ((DATA / "html_page.html").read_bytes(), "text/html", "html"),
        ((DATA / "html_page.html").read_bytes(), "application/rss+xml", "html"),
        ((DATA / "invalid.xml").read_bytes(), "text/xml", "invalid_xml"),
        ((DATA / "empty_channel.xml").read_bytes(), "text/xml", "empty"),
        (b"", "text/xml", "empty"),
        (b"  \r\n ", "text/xml", "empty"),
        (b'{"hello": "world"}', "application/json", "not_a_feed"),
        (b'{"version": "https://jsonfeed.org/version/1.1", "items": []}', None, "empty"),
        (b"{not json", "application/json", "invalid_json"),
        (b"just some text", "text/plain", "invalid_xml"),
        (b"\x00\x01\x02\xff\xfe binary", "application/octet-stream", "invalid_xml"),
    ],
)
def test_what_is_not_a_feed_has_a_reason(
    body: bytes, content_type: str | None, reason: str
) -> None:
    with pytest.raises(FeedParseError) as caught:
        parse_feed(body, url="https://x.example/feed", content_type=content_type)
    assert caught.value.reason == reason


def test_a_body_that_looks_like_a_file_name_is_not_opened() -> None:
    with pytest.raises(FeedParseError):
        parse_feed(b"/etc/hostname", url="https://x.example/feed")


def test_slightly_broken_feeds_are_accepted_with_a_warning() -> None:
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>T & T</title>'
        b"<item><title>One</title><link>https://x.example/1</link></item>"
        b"<item><title>Two</title><link>https://x.example/2</link></item>"
    )
    feed = parse_feed(body, url="https://x.example/rss")
    assert [i.url for i in feed.items] == ["https://x.example/1", "https://x.example/2"]
    assert feed.warning


def test_mislabelled_content_type_still_parses() -> None:
    feed = parse_feed(
        (DATA / "rdf.xml").read_bytes(), url="https://x.example/", content_type="text/html"
    )
    assert len(feed.items) == 2


def test_max_items_caps_the_feed() -> None:
    items = "".join(f"<item><link>https://x.example/{i}</link></item>" for i in range(50))
    body = f'<rss version="2.0"><channel>{items}</channel></rss>'.encode()
    feed = parse_feed(body, url="https://x.example/", max_items=10)
    assert len(feed.items) == 10 and feed.skipped == 40


def test_entity_bombs_and_external_entities_are_harmless(tmp_path: Path) -> None:
    levels = "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )
    bomb = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa">{levels}]>'
        '<rss version="2.0"><channel><title>&i;</title>'
        "<item><title>x</title><link>https://x.example/1</link></item></channel></rss>"
    ).encode()
    feed = parse_feed(bomb, url="https://x.example/")
    assert len(feed.title) < 1000  # 10^9 characters were never built
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET")
    xxe = (
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<rss version="2.0"><channel><title>t</title>'
        "<item><title>&x;</title><link>https://x.example/1</link></item></channel></rss>"
    ).encode()
    assert "TOP-SECRET" not in parse_feed(xxe, url="https://x.example/").items[0].title
