"""Canonical URLs and dedupe keys: what makes two feed items the same article."""

from __future__ import annotations

import pytest

from services.fetcher.canonical import canonical_url, dedupe_keys, normalise_title, site_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # tracking parameters go, the rest is sorted
        (
            "https://www.site.example/a?utm_source=rss&utm_medium=feed&id=3",
            "https://www.site.example/a?id=3",
        ),
        ("https://site.example/a?fbclid=IwAR0&gclid=x&msclkid=y", "https://site.example/a"),
        ("https://site.example/a?b=2&a=1", "https://site.example/a?a=1&b=2"),
        ("https://site.example/a?ref=rss&xtor=RSS-1&mc_cid=9", "https://site.example/a"),
        ("https://site.example/a?ocid=rss&cmpid=x&at_medium=rss", "https://site.example/a"),
        # parameters that merely contain a tracker's letters stay (they can name the page)
        (
            "https://site.example/a?gallery=2&refresh=1",
            "https://site.example/a?gallery=2&refresh=1",
        ),
        (
            "https://site.example/story.php?id=42&sources=all",
            "https://site.example/story.php?id=42&sources=all",
        ),
        # fragment dropped, hash-bang route kept
        ("https://site.example/a#comments", "https://site.example/a"),
        ("https://site.example/#!/story/12", "https://site.example/#!/story/12"),
        # host case, default port, dot segments and doubled slashes
        ("HTTPS://Site.Example:443/News/./x/../Y", "https://site.example/News/Y"),
        ("http://site.example:80//a//b", "http://site.example/a/b"),
        ("http://site.example:8080/a", "http://site.example:8080/a"),
        ("https://site.example", "https://site.example/"),
        # scheme and www. are kept: they may be different sites
        ("http://www.site.example/a", "http://www.site.example/a"),
    ],
)
def test_canonical_url(raw: str, expected: str) -> None:
    assert canonical_url(raw) == expected


def test_relative_urls_resolve_against_the_base() -> None:
    base = "https://site.example/feeds/world/rss.xml"
    assert canonical_url("/news/1", base) == "https://site.example/news/1"
    assert canonical_url("../news/2?utm_source=x", base) == "https://site.example/feeds/news/2"
    assert canonical_url("3.html", base) == "https://site.example/feeds/world/3.html"


def test_canonicalisation_is_idempotent() -> None:
    for raw in (
        "https://Site.example/ä/b?z=1&a=%D8%A8&utm_term=q#x",
        "http://site.example/a b?q=a+b",
        "https://site.example/a/?x=",
    ):
        once = canonical_url(raw)
        assert canonical_url(once) == once


def test_the_same_article_with_a_changed_query_string_has_one_canonical_url() -> None:
    a = "https://www.site.example/2025/03/story?utm_source=world-rss&utm_medium=rss"
    b = "https://www.site.example/2025/03/story?utm_source=egypt-rss&fbclid=abc#top"
    assert canonical_url(a) == canonical_url(b)


def test_site_of_strips_www() -> None:
    assert site_of("https://www.Site.example/a") == "site.example"
    assert site_of("https://news.site.example/a") == "news.site.example"


def test_normalise_title_ignores_case_accents_and_punctuation() -> None:
    assert normalise_title("Attaque à Léré : trois blessés!") == normalise_title(
        "attaque a lere - trois blesses"
    )
    assert normalise_title("غارة جوية على درنة") == "غارة جوية على درنة"


def test_dedupe_keys() -> None:
    url = "https://www.site.example/a"
    keys = dedupe_keys(url, "guid-1", "Border guards seize weapons cache near Sallum")
    assert [k[0] for k in keys] == ["u", "g", "t"]
    # GUIDs are scoped to the site: another site's "guid-1" is another article
    other = dedupe_keys("https://other.example/a", "guid-1", "x")
    assert keys[1] != other[1]
    # the same GUID on the same site (two feeds of one site) gives the same key
    assert dedupe_keys("https://site.example/b", "guid-1", "")[1] == keys[1]
    # short, generic titles give no title key
    assert [k[0] for k in dedupe_keys(url, None, "Live updates")] == ["u"]
    assert [k[0] for k in dedupe_keys(url, "  ", "")] == ["u"]
