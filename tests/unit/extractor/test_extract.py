"""Extraction of text and metadata from pages, and how results map onto the article."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import httpx
import pytest

from newswatch.ids import article_id, content_hash
from newswatch.models.events import TaggingResult
from newswatch.models.messages import DiscoveredItem, Source
from services.extractor.article import apply_tagging, build_article, tagging_input
from services.extractor.download import FetchedPage, classify, is_html
from services.extractor.extract import Extraction, extract_article
from services.extractor.language import normalise_language, resolve_language
from services.extractor.metadata import PageMetadata, resolve_published_at

PAGES = Path(__file__).resolve().parents[2] / "data" / "extractor" / "pages"
FEED_DATE = dt.datetime(2024, 5, 3, 6, 0, tzinfo=dt.UTC)


def read(name: str) -> str:
    return (PAGES / name).read_text(encoding="utf-8")


def discovered(url: str = "https://feeds.example/story") -> DiscoveredItem:
    return DiscoveredItem(
        article_id=article_id(url),
        url=url,
        canonical_url=url,
        feed_id="f",
        feed_url="https://feeds.example/rss",
        source=Source(name="Feed Outlet", country="EG", language="en"),
        title="Feed headline",
        summary="Feed teaser about the border.",
        published_at=FEED_DATE,
    )


def test_main_text_excludes_navigation_comments_related_links_and_cookie_banner() -> None:
    result = extract_article(read("article.html"), url="https://saharamonitor.example/x")
    assert result.status == "ok"
    assert "killing four smugglers" in result.text
    for junk in ["We use cookies", "Related stories", "Every month the same story", "Sport"]:
        assert junk not in result.text
    assert result.title == "Drone strike hits smuggling convoy near Kufra, army says"
    assert result.authors == ["Amina Haddad"]
    assert result.sitename == "Sahara Monitor"
    assert result.language == "en"
    assert result.published_at == dt.datetime(2024, 5, 3, 7, 41, tzinfo=dt.UTC)
    assert result.word_count == len(result.text.split())
    assert result.content_hash == content_hash(result.text)


def test_amp_page_records_its_canonical_url() -> None:
    result = extract_article(read("amp.html"), url="https://nilecourier.example/amp/1")
    assert result.page_canonical_url == (
        "https://nilecourier.example/egypt/2024/05/02/weapons-cache-western-border"
    )
    assert "Siwa oasis" in result.text and "Cairo metro" not in result.text
    assert result.authors == ["Karim Soliman"]


def test_json_ld_news_article_metadata() -> None:
    result = extract_article(read("jsonld.html"), url="https://darfurdaily.example/a")
    assert result.authors == ["Mohamed Osman", "Leila Adam"]
    assert result.published_at == dt.datetime(2024, 5, 11, 14, 20, tzinfo=dt.UTC)
    assert result.sitename == "Darfur Daily"
    assert result.language == "en"


@pytest.mark.parametrize("name", ["paywall.html", "consent.html"])
def test_walls_are_reported_as_no_text(name: str) -> None:
    result = extract_article(read(name), url="https://example.org/p")
    assert result.status == "no_text"
    assert result.error and "wall" in result.error


def test_short_pages_are_no_text_and_unparseable_input_too() -> None:
    short = extract_article("<html><body><p>Video: watch the clip.</p></body></html>")
    assert short.status == "no_text" and "words" in (short.error or "")
    assert extract_article("").status == "no_text"


def test_language_is_detected_when_undeclared_and_checked_against_the_script() -> None:
    pytest.importorskip("py3langid", reason="py3langid (language detection) is not installed")
    french = read("french-latin1.html")
    assert extract_article(french).language == "fr"
    arabic_body = read("arabic-cp1256.html").replace('<html dir="rtl">', '<html lang="en">')
    assert extract_article(arabic_body).language == "ar"  # a template's lang="en" is wrong
    assert normalise_language("en-GB") == "en"
    assert normalise_language("ar_EG") == "ar"
    assert normalise_language("und") is None
    assert resolve_language(["fr-FR"], "") == "fr"


def test_published_at_prefers_the_page_and_falls_back_to_the_feed() -> None:
    stamp = dt.datetime(2024, 5, 2, 21, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    page = PageMetadata(date=dt.date(2024, 5, 2), timestamp=stamp)
    assert resolve_published_at(page, FEED_DATE) == dt.datetime(2024, 5, 2, 19, 30, tzinfo=dt.UTC)
    day_only = PageMetadata(date=dt.date(2024, 5, 3))
    assert resolve_published_at(day_only, FEED_DATE) == FEED_DATE  # same day: the feed's time
    older = PageMetadata(date=dt.date(2024, 4, 20))
    assert resolve_published_at(older, FEED_DATE) == dt.datetime(2024, 4, 20, tzinfo=dt.UTC)
    assert resolve_published_at(PageMetadata(), FEED_DATE) == FEED_DATE
    assert resolve_published_at(PageMetadata(), None) is None


def test_build_article_maps_extraction_and_keeps_the_discovered_identity() -> None:
    item = discovered()
    page = FetchedPage(url=item.url, final_url="https://site.example/final", status="ok")
    extraction = Extraction(
        text="Body text " * 30,
        title="Page title",
        authors=["A. Writer"],
        published_at=dt.datetime(2024, 5, 2, tzinfo=dt.UTC),
        language="ar",
        sitename="Site",
        page_canonical_url="https://site.example/canonical",
        word_count=60,
        content_hash="h",
    )
    article = build_article(item, page, extraction)
    assert article.article_id == item.article_id and article.canonical_url == item.canonical_url
    assert article.page_canonical_url == "https://site.example/canonical"
    assert (article.title, article.authors, article.language) == ("Page title", ["A. Writer"], "ar")
    assert article.published_at == dt.datetime(2024, 5, 2, tzinfo=dt.UTC)
    assert (article.word_count, article.content_hash, article.sitename) == (60, "h", "Site")
    assert article.extraction_status == "ok" and article.summary == item.summary

    bare = build_article(item, page, Extraction(status="no_text", error="nothing"))
    assert (bare.title, bare.language, bare.sitename) == ("Feed headline", "en", "Feed Outlet")
    assert bare.published_at == FEED_DATE and bare.extraction_status == "no_text"
    assert tagging_input(bare) == item.summary  # the teaser is tagged when there is no text

    pdf = FetchedPage(url=item.url, final_url=item.url, status="not_html", error="pdf")
    not_html = build_article(item, pdf, None)
    assert (not_html.extraction_status, not_html.extraction_error) == ("not_html", "pdf")


def test_apply_tagging_copies_results_or_records_the_error() -> None:
    article = build_article(discovered(), None, None)
    apply_tagging(article, TaggingResult(tags=["smuggling"]), None)
    assert article.tags == ["smuggling"] and article.tagging_error is None
    apply_tagging(article, TaggingResult(error="bad input"), None)
    assert article.tagging_error == "bad input"
    failed = build_article(discovered(), None, None)
    apply_tagging(failed, None, "RuntimeError: boom")
    assert failed.tagging_error == "RuntimeError: boom" and failed.events == []


def test_responses_are_classified_before_extraction() -> None:
    html = b"<!DOCTYPE html><html><body><p>x</p></body></html>"
    assert is_html("text/html", b"") and is_html("application/xhtml+xml", b"")
    assert is_html("application/octet-stream", html) and not is_html("application/pdf", html)
    assert not is_html("text/plain", b"just text")

    def headers(value: str) -> httpx.Headers:
        return httpx.Headers({"content-type": value})

    ok = classify(
        "u",
        200,
        headers("text/html; charset=windows-1256"),
        "<html><body>سلام</body></html>".encode("cp1256"),
        False,
        "u",
        10_000,
    )
    assert ok.status == "ok" and "سلام" in ok.html and ok.encoding == "cp1256"
    assert classify("u", 404, headers("text/html"), html, False, "u", 10_000).error == "HTTP 404"
    assert classify("u", 200, headers("text/html"), html, True, "u", 10_000).status == "too_large"
    assert classify("u", 200, headers("image/png"), b"\x89PNG", False, "u", 10_000).status == (
        "not_html"
    )


def test_placeholder_timestamps_are_ignored() -> None:
    page = read("wire-a.html").replace("2024-05-06T07:00:00Z", "0001-01-01T00:00:00")
    result = extract_article(page, feed_published_at=FEED_DATE)
    assert result.published_at == FEED_DATE


@pytest.mark.parametrize("name", sorted(p.name for p in PAGES.glob("*.html")))
def test_extracting_in_place_gives_bare_extractions_text(name: str) -> None:
    """The copy-free path runs trafilatura's internals: it must agree with bare_extraction."""
    from services.extractor.extract import extract_text, parse_html

    page = read(name)
    copied, consumed = parse_html(page), parse_html(page)
    assert copied is not None and consumed is not None
    assert extract_text(consumed, consume=True) == extract_text(copied)
