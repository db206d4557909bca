"""The demo newsroom served on loopback: feeds parse, encodings are honest, pages carry the story
inside realistic boilerplate, caching works and new articles appear as the injected clock moves."""

from __future__ import annotations

import datetime as dt
import gzip
import html
import json
import re
from collections.abc import Iterator

import feedparser
import httpx
import pytest

from newswatch.demo.clock import ManualClock
from newswatch.demo.content import Article
from newswatch.demo.schedule import ReleaseSchedule
from newswatch.demo.server import NewsroomServer

pytestmark = pytest.mark.integration

START = dt.datetime(2026, 3, 12, 9, 30, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def newsroom() -> Iterator[NewsroomServer]:
    """Everything online: for tests that only read."""
    server = NewsroomServer(
        clock=ManualClock(START), release_schedule=ReleaseSchedule.everything_at_once()
    )
    with server:
        yield server


@pytest.fixture()
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as http:
        yield http


def parse(response: httpx.Response) -> feedparser.FeedParserDict:
    headers = dict(response.headers) | {"content-location": str(response.url)}
    return feedparser.parse(response.content, response_headers=headers)


def page_text(response: httpx.Response) -> str:
    return html.unescape(response.text)


def test_index_lists_every_outlet_and_feed(newsroom: NewsroomServer, client: httpx.Client) -> None:
    response = client.get(newsroom.base_url + "/")
    assert response.status_code == 200
    for feed in newsroom.feed_urls():
        assert feed["url"] in response.text
        assert html.escape(feed["name"]) in response.text


def test_feed_urls_describe_each_outlet(newsroom: NewsroomServer) -> None:
    feeds = newsroom.feed_urls()
    assert len(feeds) == len(newsroom.newsroom.outlets) >= 6
    for feed in feeds:
        assert feed["url"].startswith(newsroom.base_url + "/")
        assert re.fullmatch(r"[A-Z]{2}", feed["country"])
        assert feed["language"] == "en"
        assert feed["regions"]
        assert feed["name"]


def test_every_feed_is_served_and_parsed(newsroom: NewsroomServer, client: httpx.Client) -> None:
    for feed in newsroom.feed_urls():
        outlet = newsroom.newsroom.outlet(feed["id"])
        response = client.get(feed["url"])
        assert response.status_code == 200, feed["url"]
        charset = response.headers["content-type"].split("charset=")[1]
        assert charset.lower() == feed["encoding"].lower()
        prolog = response.content.split(b"?>", 1)[0].decode("ascii")
        assert f'encoding="{feed["encoding"]}"' in prolog
        response.content.decode(charset)  # declared and decodable
        parsed = parse(response)
        expected = len(newsroom.newsroom.articles_of(outlet.id))
        assert len(parsed.entries) == expected, feed["url"]
        assert bool(parsed.bozo) == bool(
            outlet.feed_quirks and "truncated_last_item" in outlet.feed_quirks
        ), feed["url"]
        complete = [e for e in parsed.entries if e.get("title") and e.get("link")]
        assert len(complete) >= expected - 1
        for entry in complete:
            assert entry.link.startswith(newsroom.base_url + f"/{outlet.id}/")


def test_malformed_wire_feed_is_bozo_but_yields_items(
    newsroom: NewsroomServer, client: httpx.Client
) -> None:
    wire = next(f for f in newsroom.feed_urls() if f["id"] == "sahara-wire")
    response = client.get(wire["url"])
    assert not response.content.rstrip().endswith(b"</rss>")
    assert b"Oil & gold" in response.content
    parsed = parse(response)
    assert parsed.bozo
    assert "Oil & gold prices rise on supply worries" in {e.get("title") for e in parsed.entries}


def test_feed_formats(newsroom: NewsroomServer, client: httpx.Client) -> None:
    versions = {}
    for feed in newsroom.feed_urls():
        versions[feed["id"]] = parse(client.get(feed["url"])).version
    assert versions["cyrenaica-herald"] == "atom10"
    assert versions["nile-monitor"] == "rss10"
    assert versions["cairo-courier"] == "rss20"


def test_non_utf8_feeds_carry_native_bytes(newsroom: NewsroomServer, client: httpx.Client) -> None:
    sahel = client.get(newsroom.base_url + "/echo-sahel/rss.xml")
    assert "L'Écho du Sahel".encode("iso-8859-1") in sahel.content
    assert parse(sahel).feed.title == "L'Écho du Sahel"
    hudud = client.get(newsroom.base_url + "/al-hudud/feed/")
    assert "مجلة الحدود".encode("windows-1256") in hudud.content
    assert "مجلة الحدود" in parse(hudud).feed.title
    page_url = next(e.link for e in parse(hudud).entries if "Salloum" in e.title)
    page = client.get(page_url)
    assert page.headers["content-type"] == "text/html; charset=windows-1256"
    assert '<meta charset="windows-1256">' in page.content.decode("windows-1256")


def test_media_enclosures_point_at_served_images(
    newsroom: NewsroomServer, client: httpx.Client
) -> None:
    entry = parse(client.get(newsroom.base_url + "/cairo-courier/feed.xml")).entries[0]
    image = entry.media_content[0]["url"]
    assert entry.enclosures[0]["href"] == image
    response = client.get(image)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(b"\x89PNG")
    assert int(entry.enclosures[0]["length"]) == len(response.content)


def test_relative_links_and_bad_dates(newsroom: NewsroomServer, client: httpx.Client) -> None:
    response = client.get(newsroom.base_url + "/ndjamena-dispatch/feed.xml")
    assert b"<link>/ndjamena-dispatch/" in response.content
    parsed = parse(response)
    dates = [e.get("published_parsed") for e in parsed.entries]
    assert dates.count(None) == 2
    for entry in parsed.entries:
        assert client.get(entry.link).status_code == 200


def test_article_pages_hold_the_story_and_the_boilerplate(
    newsroom: NewsroomServer, client: httpx.Client
) -> None:
    for outlet in newsroom.newsroom.outlets:
        article = newsroom.newsroom.articles_of(outlet.id)[0]
        response = client.get(newsroom.article_url(article))
        assert response.status_code == 200
        text = page_text(response)
        published = newsroom.timeline.published_at(article).astimezone(outlet.tz)
        for paragraph in article.paragraphs(published):
            assert paragraph in text, (article.key, paragraph[:50])
        assert f">{article.headline}</h1>" in text
        assert f'<time datetime="{published.isoformat()}"' in text
        assert 'id="cookie-consent"' in text
        assert text.count('class="comment"') in (2, 3)
        assert 'class="breadcrumb"' in text
        assert 'class="menu"' in text
        assert "All rights reserved" in text
        assert f'<link rel="canonical" href="{newsroom.article_url(article)}">' in text


def test_related_links_lead_to_live_pages(newsroom: NewsroomServer, client: httpx.Client) -> None:
    article = newsroom.newsroom.articles_of("nile-monitor")[0]
    text = client.get(newsroom.article_url(article)).text
    related = re.search(r'<section class="related">(.*?)</section>', text, re.S)
    assert related is not None
    links = re.findall(r'href="([^"]+\.html)"', related.group(1))
    assert len(links) >= 2
    for link in links:
        assert client.get(newsroom.base_url + link).status_code == 200


def test_json_ld_and_amp(newsroom: NewsroomServer, client: httpx.Client) -> None:
    article = newsroom.newsroom.articles_of("cyrenaica-herald")[0]
    text = client.get(newsroom.article_url(article)).text
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', text, re.S)
    assert block is not None
    data = json.loads(block.group(1))
    assert data["@type"] == "NewsArticle"
    assert data["headline"] == article.headline
    amp = re.search(r'<link rel="amphtml" href="([^"]+)">', text)
    assert amp is not None
    amp_page = client.get(newsroom.base_url + amp.group(1))
    assert amp_page.status_code == 200
    assert "<html amp" in amp_page.text
    assert newsroom.article_url(article) in amp_page.text
    plain = newsroom.newsroom.articles_of("nile-monitor")[0]
    assert "application/ld+json" not in client.get(newsroom.article_url(plain)).text


def test_trafilatura_separates_story_from_boilerplate(
    newsroom: NewsroomServer, client: httpx.Client
) -> None:
    trafilatura = pytest.importorskip("trafilatura")
    for outlet in newsroom.newsroom.outlets:
        article = next(a for a in newsroom.newsroom.articles_of(outlet.id) if a.is_security)
        url = newsroom.article_url(article)
        response = client.get(url)
        text = trafilatura.extract(response.content, url=url, include_comments=False) or ""
        published = newsroom.timeline.published_at(article).astimezone(outlet.tz)
        for paragraph in article.paragraphs(published):
            assert paragraph[:60] in text, (article.key, paragraph[:60])
        for noise in ("cookie", "All rights reserved", "Leave a comment", "Most read"):
            assert noise not in text, (article.key, noise)


def test_syndicated_copies_share_the_body(newsroom: NewsroomServer, client: httpx.Client) -> None:
    copies = [a for a in newsroom.newsroom.articles if a.syndicated_from]
    assert len(copies) >= 4
    for copy in copies:
        original = newsroom.newsroom.article(copy.syndicated_from or "")
        bodies = []
        for article in (copy, original):
            tz = newsroom.newsroom.outlet(article.outlet).tz
            paragraphs = article.paragraphs(newsroom.timeline.published_at(article).astimezone(tz))
            page = page_text(client.get(newsroom.article_url(article)))
            assert all(p in page for p in paragraphs), article.key
            assert article.headline in page
            bodies.append(paragraphs)
        assert bodies[0][1:] == bodies[1][1:]
        assert bodies[0][0] != bodies[1][0]


def test_conditional_get_and_gzip(newsroom: NewsroomServer, client: httpx.Client) -> None:
    url = newsroom.base_url + "/cairo-courier/feed.xml"
    first = client.get(url)
    assert first.headers["content-encoding"] == "gzip"  # httpx asks for gzip
    etag, modified = first.headers["etag"], first.headers["last-modified"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    early = "Mon, 01 Jan 2024 00:00:00 GMT"
    assert client.get(url, headers={"If-Modified-Since": early}).status_code == 200
    raw = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers
    assert raw.content == first.content
    with httpx.stream("GET", url, headers={"Accept-Encoding": "gzip"}) as stream:
        assert gzip.decompress(b"".join(stream.iter_raw())) == first.content


def test_redirects_not_found_and_head(newsroom: NewsroomServer, client: httpx.Client) -> None:
    article = newsroom.newsroom.articles_of("cairo-courier")[0]
    url = newsroom.article_url(article)
    wrong = re.sub(r"/\d{4}/\d{2}/", "/1999/01/", url)
    moved = client.get(wrong)
    assert moved.status_code == 301
    assert url.endswith(moved.headers["location"])
    assert (
        client.get(newsroom.base_url + "/cairo-courier/2026/03/no-such-story.html").status_code
        == 404
    )
    assert client.get(newsroom.base_url + "/no-such-outlet/").status_code == 404
    head = client.head(url)
    assert head.status_code == 200 and head.content == b""
    assert (
        client.get(newsroom.base_url + "/al-hudud/feed", follow_redirects=True).status_code == 200
    )


def test_waves_release_new_items_as_the_clock_advances(client: httpx.Client) -> None:
    clock = ManualClock(START)
    schedule = ReleaseSchedule(initial_fraction=0.7, waves=3, duration_seconds=60.0)
    with NewsroomServer(clock=clock, release_schedule=schedule) as server:
        total = len(server.newsroom.articles)
        late: Article = server.pending()[0]
        late_url = server.article_url(late)
        feed_url = next(f["url"] for f in server.feed_urls() if f["id"] == late.outlet)

        def entries() -> int:
            return sum(len(parse(client.get(f["url"])).entries) for f in server.feed_urls())

        start_count = entries()
        assert start_count == len(server.released()) < total
        first = client.get(feed_url)
        assert client.get(late_url).status_code == 404
        assert (
            client.get(feed_url, headers={"If-None-Match": first.headers["etag"]}).status_code
            == 304
        )

        clock.advance(20)
        after_one = entries()
        assert start_count < after_one < total
        assert server.timeline.wave_of(late) > 1 or client.get(late_url).status_code == 200

        clock.advance(40)
        assert entries() == total
        assert client.get(late_url).status_code == 200
        refreshed = client.get(feed_url, headers={"If-None-Match": first.headers["etag"]})
        assert refreshed.status_code == 200
        assert late.headline in {e.title for e in parse(refreshed).entries}
        assert server.next_release() is None
        assert client.get(server.base_url + "/").headers["date"] == "Thu, 12 Mar 2026 09:31:00 GMT"


def test_release_all_puts_everything_online(client: httpx.Client) -> None:
    clock = ManualClock(START)
    with NewsroomServer(clock=clock, release_schedule=ReleaseSchedule(0.5, 2, 3600.0)) as server:
        pending = len(server.pending())
        assert pending > 0
        assert server.release_all() == pending
        assert server.pending() == []
        count = sum(len(parse(client.get(f["url"])).entries) for f in server.feed_urls())
        assert count == len(server.newsroom.articles)
        assert server.stats()["feed"] == len(server.feed_urls())


def test_stop_releases_the_port() -> None:
    server = NewsroomServer(clock=ManualClock(START)).start()
    url = server.base_url
    server.stop()
    server.stop()
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/", timeout=2.0)
