"""The fetcher against a local news site: conditional GETs, dedupe, restarts, failures."""

from __future__ import annotations

import gzip
import logging
import threading
import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from newswatch.bus import open_bus
from newswatch.ids import article_id
from newswatch.runtime import ServiceContext
from services.fetcher.feeds import feed_id_for
from services.fetcher.service import FetcherService
from services.fetcher.state import FeedStateStore

from .conftest import (
    Clock,
    FeedServer,
    Route,
    feed_file,
    http_date,
    make_settings,
    published,
    run_fetcher,
)

pytestmark = pytest.mark.integration

HOUR = 3600.0
DAY = 24 * HOUR


def state_of(settings, url):  # type: ignore[no-untyped-def]
    store = FeedStateStore(settings.data_path(settings.fetcher.state_path))
    try:
        return store.load_states()[feed_id_for(url)]
    finally:
        store.close()


def changing_feed(title_prefix: str = "Story") -> Route:
    """A feed without validators whose envelope changes at every request (a new build date),
    listing the same two stories: a fetcher that re-parses it must still publish them once."""
    counter = {"n": 0}

    def render(headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        counter["n"] += 1
        body = f"""<?xml version="1.0"?><rss version="2.0"><channel><title>Changing</title>
<link>https://changing.example/</link><lastBuildDate>build {counter["n"]}</lastBuildDate>
<item><title>{title_prefix} one about the border</title>
<link>https://changing.example/one</link></item>
<item><title>{title_prefix} two about the border</title>
<link>https://changing.example/two?utm_source=rss&amp;n={counter["n"]}</link></item>
</channel></rss>"""
        return 200, body.encode(), {}

    return Route(dynamic=render)


def growing_feed() -> Route:
    """A busy feed: one more story at every request."""
    counter = {"n": 0}

    def render(headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        counter["n"] += 1
        items = "".join(
            f"<item><title>Update number {i} from the wire desk</title>"
            f"<link>https://wire.example/story/{i}</link></item>"
            for i in range(1, counter["n"] + 1)
        )
        body = f'<rss version="2.0"><channel><title>Wire</title>{items}</channel></rss>'
        return 200, body.encode(), {}

    return Route(dynamic=render)


# -- what gets published ---------------------------------------------------------------------------


def test_publishes_items_of_real_shaped_feeds_with_source_metadata(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    files = {
        "rss2_media.xml": "application/rss+xml",
        "atom.xml": "application/atom+xml",
        "rdf.xml": "application/rdf+xml",
        "arabic_cp1256.xml": "text/xml",
        "latin1.xml": "text/xml",
        "relative_links.xml": "application/rss+xml",
        "bad_dates.xml": "application/rss+xml",
        "dup_guids.xml": "application/rss+xml",
        "rss091.xml": "text/xml",
        "feed.json": "application/feed+json",
    }
    feeds = []
    for name, ctype in files.items():
        url = feed_server.add(f"/feeds/{name}", body=feed_file(name), content_type=ctype)
        feeds.append({"url": url, "name": f"Outlet {name}", "country": "ly", "regions": ["sahel"]})
    settings = make_settings(tmp_path, feeds)

    stats = run_fetcher(settings)
    items = published(settings)

    assert stats.outcomes == {"ok": len(files)}
    assert len(items) == stats.published
    by_url = {item.canonical_url: item for item in items}
    # utm_* and fbclid are gone from the canonical URL, kept in the original URL
    menaka = by_url["https://www.saheldispatch.example/security/2025/03/04/drone-strike-menaka"]
    assert "utm_source=rss" in menaka.url
    assert menaka.article_id == article_id(menaka.canonical_url)
    assert menaka.source.name == "Outlet rss2_media.xml"
    assert menaka.source.country == "LY"
    assert menaka.source.regions == ["sahel"]
    assert menaka.source.language == "en"  # from the feed, as the config has none
    assert menaka.published_at is not None and menaka.published_at.isoformat().startswith(
        "2025-03-04T08:40"
    )
    # encodings: Windows-1256 Arabic and ISO-8859-1 French decode to the right characters
    titles = {item.title for item in items}
    assert "غارة جوية على مواقع قرب درنة" in titles
    assert "Attaque contre un poste de sécurité à Léré" in titles
    # relative links resolved against the feed's URL; items without any link skipped
    assert feed_server.url("/news/2025/03/kufra-fuel-smugglers.html") in by_url
    assert feed_server.url("/news/2025/03/tazerbu-road.html") in by_url
    assert not any("without any link" in t for t in titles)
    # bad dates are None, not errors
    assert by_url["https://fezzanwire.example/a/2"].published_at is None
    assert by_url["https://fezzanwire.example/a/5"].published_at is None  # 2099
    # duplicate GUIDs inside one feed: the second copy of each is not published
    agadez = [i for i in items if "agadez.example" in i.canonical_url]
    assert sorted(i.canonical_url for i in agadez) == [
        "https://agadez.example/2025/03/arlit-prices",
        "https://agadez.example/2025/03/migrants-rescued",
    ]
    # JSON Feed
    assert "https://chadbrief.example/2025/03/abeche-patrol" in by_url
    # one message per article id
    assert len({i.article_id for i in items}) == len(items)


def test_a_304_publishes_nothing(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add(
        "/rss", body=feed_file("rss2_media.xml"), etag='"abc-1"', last_modified=http_date(1e9)
    )
    settings = make_settings(tmp_path, [{"url": url}])
    clock = Clock()
    first = run_fetcher(settings, clock=clock)
    assert first.published == 3
    clock.advance(DAY)

    second = run_fetcher(settings, clock=clock)

    assert second.outcomes == {"not_modified": 1}
    assert second.published == 0
    assert len(published(settings)) == 3
    request = feed_server.hits_for("/rss")[-1].headers
    assert request["if-none-match"] == '"abc-1"'
    assert request["if-modified-since"] == http_date(1e9)
    state = state_of(settings, url)
    assert state.last_status == 304 and state.consecutive_failures == 0


def test_last_modified_alone_gives_304(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add("/lm", body=feed_file("atom.xml"), last_modified=http_date(1.7e9))
    settings = make_settings(tmp_path, [{"url": url}])
    clock = Clock()
    run_fetcher(settings, clock=clock)
    clock.advance(DAY)
    assert run_fetcher(settings, clock=clock).outcomes == {"not_modified": 1}


def test_same_article_in_two_feeds_of_one_site_is_published_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    world = feed_server.add("/world.xml", body=feed_file("site_world.xml"))
    egypt = feed_server.add("/egypt.xml", body=feed_file("site_egypt.xml"))
    settings = make_settings(tmp_path, [{"url": world}, {"url": egypt}])

    stats = run_fetcher(settings)
    items = published(settings)

    sallum = [i for i in items if "sallum" in i.canonical_url]
    assert len(sallum) == 1, [i.url for i in sallum]
    assert sorted(i.canonical_url.rsplit("/", 1)[-1] for i in items) == [
        "jeddah-talks",
        "sallum-weapons",
        "sinai-road",
    ]
    # the copy under a new URL and GUID was caught by title+site
    assert stats.deduped["title"] == 1


def test_same_article_in_two_feeds_across_runs_is_published_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    world = feed_server.add("/world.xml", body=feed_file("site_world.xml"))
    egypt = feed_server.add("/egypt.xml", body=feed_file("site_egypt.xml"))
    run_fetcher(make_settings(tmp_path, [{"url": world}]))
    settings = make_settings(tmp_path, [{"url": world}, {"url": egypt}])
    run_fetcher(settings)
    assert len([i for i in published(settings) if "sallum" in i.canonical_url]) == 1


def test_a_restart_publishes_nothing_new(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add("/changing", changing_feed())
    settings = make_settings(tmp_path, [{"url": url}])
    clock = Clock()
    assert run_fetcher(settings, clock=clock).published == 2
    clock.advance(DAY)

    again = run_fetcher(settings, clock=clock, force=True)  # a new process over the same state

    assert again.outcomes == {"ok": 1}  # the body changed, so it was parsed again
    assert again.published == 0
    assert len(published(settings)) == 2
    assert len(feed_server.hits_for("/changing")) == 2


def test_identical_body_without_validators_is_not_reparsed(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.add("/static", body=feed_file("rdf.xml"))
    settings = make_settings(tmp_path, [{"url": url}])
    run_fetcher(settings)
    assert run_fetcher(settings, force=True).outcomes == {"not_modified": 1}


# -- failures -------------------------------------------------------------------------------------


def test_a_failing_feed_backs_off_while_others_continue(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    broken = feed_server.add("/broken", status=500, body=b"oops", content_type="text/plain")
    busy = feed_server.add("/busy", growing_feed())
    settings = make_settings(
        tmp_path,
        [{"url": broken, "name": "Broken"}, {"url": busy, "name": "Busy"}],
        default_interval_s=600,
        min_interval_s=300,
        max_backoff_s=DAY,
        failure_threshold=4,
    )
    clock = Clock()
    delays: list[float] = []
    cycles = 0
    while len(delays) < 4 and cycles < 40:
        cycles += 1
        stats = run_fetcher(settings, clock=clock)
        if stats.failures:
            delays.append(state_of(settings, broken).next_poll_at - clock.now)
        # the busy feed is polled whenever it is due, whatever the broken one does
        busy_state = state_of(settings, busy)
        assert busy_state.consecutive_failures == 0
        next_due = min(busy_state.next_poll_at, state_of(settings, broken).next_poll_at)
        clock.advance(max(next_due - clock.now, 1.0))

    state = state_of(settings, broken)
    assert state.consecutive_failures == 4
    assert state.last_status == 500 and state.last_error and "500" in state.last_error
    assert state.disabled_at is None  # backed off, never dropped
    # exponential: each delay doubles, and from the threshold on it waits the maximum
    assert delays == pytest.approx([600.0, 1200.0, 2400.0, DAY])
    busy_polls = len(feed_server.hits_for("/busy"))
    assert len(feed_server.hits_for("/broken")) == 4 < busy_polls
    assert len(published(settings)) == busy_polls  # one new story per poll, each published


def test_backed_off_feed_recovers(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add("/flaky", status=503, body=b"down", content_type="text/plain")
    settings = make_settings(tmp_path, [{"url": url}])
    clock = Clock()
    run_fetcher(settings, clock=clock)
    run_fetcher(settings, clock=clock, force=True)
    assert state_of(settings, url).consecutive_failures == 2
    feed_server.add("/flaky", body=feed_file("rdf.xml"))
    assert run_fetcher(settings, clock=clock, force=True).published == 2
    state = state_of(settings, url)
    assert state.consecutive_failures == 0 and state.last_error is None


def test_a_50mb_response_is_cut_at_the_limit(
    feed_server: FeedServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fifty_mb = 50 * 1024 * 1024
    big = feed_server.add("/huge", stream_bytes=fifty_mb, content_type="application/rss+xml")
    fine = feed_server.add("/fine", body=feed_file("atom.xml"))
    settings = make_settings(
        tmp_path,
        [{"url": big, "name": "Huge"}, {"url": fine}],
        http={"max_bytes": 1024 * 1024, "total_timeout_s": 30.0},
    )

    with caplog.at_level(logging.WARNING):
        stats = run_fetcher(settings)

    assert stats.failures == {"too_large": 1}
    assert stats.published == 3  # the other feed was not held up
    state = state_of(settings, big)
    assert state.last_error and "limit" in state.last_error
    assert any(
        "exceeded max_bytes=1048576" in r.getMessage() and "Huge" in r.getMessage()
        for r in caplog.records
    )
    # the client stopped reading: the server could not push the whole 50 MB
    time.sleep(0.2)
    assert feed_server.streamed.get("/huge", 0) < fifty_mb


def test_a_server_that_never_answers_times_out(feed_server: FeedServer, tmp_path: Path) -> None:
    silent = feed_server.add("/silent", hang=True)
    fine = feed_server.add("/fine", body=feed_file("rdf.xml"))
    settings = make_settings(
        tmp_path,
        [{"url": silent}, {"url": fine}],
        http={"read_timeout_s": 0.5, "total_timeout_s": 3.0},
    )

    stats = run_fetcher(settings)

    assert stats.failures == {"timeout": 1}
    assert stats.published == 2
    state = state_of(settings, silent)
    assert state.consecutive_failures == 1
    assert state.last_status is None and state.last_outcome == "failed"
    assert state.last_error and "timeout" in state.last_error


def test_a_trickling_server_hits_the_total_timeout(feed_server: FeedServer, tmp_path: Path) -> None:
    # Content-Length promises more than is ever sent: the read blocks until the total timeout.
    feed_server.add(
        "/trickle",
        Route(dynamic=lambda h: (200, b"<rss>", {"Content-Length": "100000"})),
    )
    settings = make_settings(
        tmp_path,
        [{"url": feed_server.url("/trickle")}],
        http={"read_timeout_s": 5.0, "total_timeout_s": 1.0},
    )
    stats = run_fetcher(settings)
    assert stats.failures == {"too_slow": 1}


def test_bad_bodies_are_recorded_with_their_reason(feed_server: FeedServer, tmp_path: Path) -> None:
    feeds = {
        "/html": feed_server.add(
            "/html", body=feed_file("html_page.html"), content_type="text/html"
        ),
        "/invalid": feed_server.add("/invalid", body=feed_file("invalid.xml")),
        "/empty": feed_server.add("/empty", body=feed_file("empty_channel.xml")),
        "/nothing": feed_server.add("/nothing", body=b""),
        "/missing": feed_server.url("/missing"),
    }
    settings = make_settings(tmp_path, [{"url": url} for url in feeds.values()])

    stats = run_fetcher(settings)

    assert stats.failures == {"html": 1, "invalid_xml": 1, "empty": 2, "http_404": 1}
    assert state_of(settings, feeds["/html"]).last_error == (
        "the server sent an HTML page, not a feed"
    )
    assert state_of(settings, feeds["/missing"]).last_status == 404
    assert REGISTRY.get_sample_value("newswatch_fetcher_feed_failures_total", {"reason": "html"})


def test_permanent_redirect_updates_the_stored_url(feed_server: FeedServer, tmp_path: Path) -> None:
    old = feed_server.add("/old-feed", status=301, location="/new-feed")
    feed_server.add("/new-feed", body=feed_file("rdf.xml"))
    settings = make_settings(tmp_path, [{"url": old}])

    assert run_fetcher(settings).published == 2
    assert state_of(settings, old).current_url == feed_server.url("/new-feed")
    run_fetcher(settings, force=True)

    assert len(feed_server.hits_for("/old-feed")) == 1
    assert len(feed_server.hits_for("/new-feed")) == 2
    assert {i.feed_url for i in published(settings)} == {feed_server.url("/new-feed")}


def test_temporary_redirect_is_followed_but_not_stored(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    tmp = feed_server.add("/tmp-feed", status=302, location="/real-feed")
    feed_server.add("/real-feed", body=feed_file("rdf.xml"))
    settings = make_settings(tmp_path, [{"url": tmp}])
    assert run_fetcher(settings).published == 2
    assert state_of(settings, tmp).current_url is None


def test_a_redirect_loop_fails_cleanly(feed_server: FeedServer, tmp_path: Path) -> None:
    a = feed_server.add("/loop-a", status=302, location="/loop-b")
    feed_server.add("/loop-b", status=302, location="/loop-a")
    settings = make_settings(tmp_path, [{"url": a}])
    assert run_fetcher(settings).failures == {"redirects": 1}


def test_410_disables_the_feed(feed_server: FeedServer, tmp_path: Path) -> None:
    gone = feed_server.add("/gone", status=410, body=b"gone", content_type="text/plain")
    settings = make_settings(tmp_path, [{"url": gone}])

    run_fetcher(settings)
    state = state_of(settings, gone)
    assert state.disabled_at is not None
    assert state.disabled_reason and "410" in state.disabled_reason

    assert run_fetcher(settings, force=True).polled == 0
    assert len(feed_server.hits_for("/gone")) == 1


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_is_respected(feed_server: FeedServer, tmp_path: Path, status: int) -> None:
    url = feed_server.add(
        "/busy", status=status, body=b"slow down", headers={"Retry-After": "7200"}
    )
    sibling = feed_server.add("/sibling", body=feed_file("rdf.xml"))
    settings = make_settings(tmp_path, [{"url": url}], default_interval_s=300, jitter=0.2)
    clock = Clock()
    run_fetcher(settings, clock=clock)
    state = state_of(settings, url)
    assert state.next_poll_at >= clock.now + 7200
    clock.advance(3600)
    assert run_fetcher(settings, clock=clock).polled == 0  # not due yet
    # a service that keeps running also holds back other feeds of that host
    with open_bus(settings) as bus:
        settings2 = make_settings(tmp_path, [{"url": url}, {"url": sibling}])
        service = FetcherService(ServiceContext(settings2, bus), clock=clock, force=True)
        try:
            service.run_cycle()  # the 429 again, with Retry-After
            assert service.run_cycle().polled == 0
        finally:
            service.close()


def test_gzip_and_user_agent_with_contact(feed_server: FeedServer, tmp_path: Path) -> None:
    body = gzip.compress(feed_file("atom.xml"))
    url = feed_server.add("/gz", body=body, headers={"Content-Encoding": "gzip"})
    settings = make_settings(
        tmp_path, [{"url": url}], http={"contact_url": "https://ops.example/newswatch"}
    )
    assert run_fetcher(settings).published == 3
    request = feed_server.hits_for("/gz")[0].headers
    assert "gzip" in request["accept-encoding"]
    assert "+https://ops.example/newswatch" in request["user-agent"]


# -- feed list ------------------------------------------------------------------------------------


def test_disabled_feeds_are_skipped_and_shards_split_the_list(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    urls = [feed_server.add(f"/f{i}", body=feed_file("rdf.xml")) for i in range(12)]
    feeds = [{"url": u} for u in urls] + [
        {"url": feed_server.add("/off", body=b""), "enabled": False}
    ]
    polled = []
    for index in range(3):
        settings = make_settings(
            tmp_path / f"shard{index}", feeds, shard_index=index, shard_count=3
        )
        polled.append(run_fetcher(settings).polled)
    assert sum(polled) == 12  # each feed in exactly one shard, the disabled one in none
    assert all(0 < n < 12 for n in polled)
    assert feed_server.hits_for("/off") == []


def test_continuous_run_stops_promptly(feed_server: FeedServer, tmp_path: Path) -> None:
    url = feed_server.add("/rss", body=feed_file("rdf.xml"))
    settings = make_settings(tmp_path, [{"url": url}])
    with open_bus(settings) as bus:
        ctx = ServiceContext(settings, bus)
        service = FetcherService(ctx)
        thread = threading.Thread(target=service.run)
        thread.start()
        deadline = time.monotonic() + 10
        while not feed_server.hits_for("/rss") and time.monotonic() < deadline:
            time.sleep(0.05)
        ok, detail = ctx.health.report()
        assert ok, detail
        service.stop()
        thread.join(timeout=10)
        assert not thread.is_alive()
    assert len(published(settings)) == 2


# -- the bus fails -------------------------------------------------------------------------------


class FailingProducer:
    """A producer whose flush always fails, as a broker that is down would."""

    def __init__(self) -> None:
        self.published = 0

    def publish(self, *args: object, **kwargs: object) -> None:
        self.published += 1

    def publish_many(self, topic: str, messages: list[object], headers: object = None) -> None:
        self.published += len(messages)

    def flush(self, timeout: float | None = None) -> None:
        from newswatch.errors import TransportError

        raise TransportError("broker unreachable")

    def close(self) -> None:
        pass


def test_state_is_saved_only_after_the_publish_succeeded(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    url = feed_server.add("/rss", body=feed_file("rss2_media.xml"), etag='"v1"')
    quiet = feed_server.add("/quiet", body=feed_file("empty_channel.xml"))
    settings = make_settings(tmp_path, [{"url": url}, {"url": quiet}])

    with open_bus(settings) as bus:
        producer = FailingProducer()
        bus.producer = lambda: producer  # type: ignore[method-assign]
        ctx = ServiceContext(settings, bus)
        service = FetcherService(ctx)
        try:
            stats = service.run_cycle()
            ok, detail = ctx.health.report()
        finally:
            service.close()
    assert stats.bus_errors == 1 and stats.published == 0 and producer.published == 3
    assert not ok and "publish" in str(detail)
    store = FeedStateStore(settings.data_path(settings.fetcher.state_path))
    try:
        states = store.load_states()
        assert feed_id_for(url) not in states  # validators not advanced, items not marked seen
        assert feed_id_for(quiet) in states  # a feed with nothing to publish is recorded
        assert store.seen_count() == 0
    finally:
        store.close()

    # the bus is back: everything is published, fetched again without the unsaved ETag
    assert run_fetcher(settings).published == 3
    assert "if-none-match" not in feed_server.hits_for("/rss")[-1].headers
    assert len(published(settings)) == 3


def test_metrics_count_polls_items_and_bytes(feed_server: FeedServer, tmp_path: Path) -> None:
    def sample(name: str, labels: dict[str, str] | None = None) -> float:
        return REGISTRY.get_sample_value(name, labels or {}) or 0.0

    before = {
        "ok": sample("newswatch_fetcher_polls_total", {"outcome": "ok"}),
        "items": sample("newswatch_fetcher_items_published_total"),
        "bytes": sample("newswatch_fetcher_bytes_total"),
        "title": sample("newswatch_fetcher_items_deduped_total", {"key": "title"}),
    }
    world = feed_server.add("/world.xml", body=feed_file("site_world.xml"))
    egypt = feed_server.add("/egypt.xml", body=feed_file("site_egypt.xml"))
    run_fetcher(make_settings(tmp_path, [{"url": world}, {"url": egypt}]))
    assert sample("newswatch_fetcher_polls_total", {"outcome": "ok"}) - before["ok"] == 2
    assert sample("newswatch_fetcher_items_published_total") - before["items"] == 3
    assert sample("newswatch_fetcher_bytes_total") - before["bytes"] == len(
        feed_file("site_world.xml")
    ) + len(feed_file("site_egypt.xml"))
    assert sample("newswatch_fetcher_items_deduped_total", {"key": "title"}) - before["title"] == 1
    assert sample("newswatch_fetcher_poll_seconds_count") >= 2
