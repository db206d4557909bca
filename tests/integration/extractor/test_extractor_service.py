"""The extractor on the embedded bus against a local news website (real HTTP on loopback)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from newswatch.ids import article_id, content_hash
from newswatch.models.events import TaggingResult
from tests.integration.extractor.conftest import NewsSite
from tests.integration.extractor.helpers import (
    item,
    make_settings,
    outputs,
    publish,
    run_once,
    run_recording_extractor,
)

pytestmark = pytest.mark.integration

#: Language detection needs py3langid; without it undeclared languages stay unknown.
DETECTOR = importlib.util.find_spec("py3langid") is not None

BOILERPLATE = [
    "cookies",
    "Accept all",
    "Related stories",
    "desertfox",
    "Comments (3)",
    "Newsletters",
    "Share on",
    "More news",
    "All rights reserved",
]


def by_url(articles: list[Any]) -> dict[str, Any]:
    return {a.url: a for a in articles}


def test_discovered_items_become_articles_with_text_and_metadata(
    tmp_path: Path, news_site: NewsSite
) -> None:
    settings = make_settings(tmp_path, tagging=False)
    urls = {
        name: news_site.url(path)
        for name, path in [
            ("article", "/news/2024/05/03/kufra-drone-strike"),
            ("amp", "/amp/egypt/weapons-cache"),
            ("jsonld", "/2024/05/11/el-fasher-clashes"),
            ("arabic", "/ar/salloum-attack"),
            ("french", "/fr/niger-attaque"),
        ]
    }
    publish(settings, *(item(url) for url in urls.values()))
    articles, dead = run_once(settings)
    assert dead == []
    got = by_url(articles)
    assert set(got) == set(urls.values())
    for article in articles:
        assert article.extraction_status == "ok", article.extraction_error
        assert article.article_id == article_id(article.url)  # identity stays the feed's
        assert article.word_count > 50
        assert article.content_hash == content_hash(article.text)
        assert article.extracted_at is not None
        for junk in BOILERPLATE:
            assert junk not in article.text, (article.url, junk)

    main = got[urls["article"]]
    assert "destroyed three vehicles carrying fuel and weapons" in main.text
    assert "No independent confirmation of the death toll" in main.text
    assert main.title == "Drone strike hits smuggling convoy near Kufra, army says"
    assert main.authors == ["Amina Haddad"]
    assert main.sitename == "Sahara Monitor"
    assert main.language == "en"
    assert main.published_at == dt.datetime(2024, 5, 3, 7, 41, tzinfo=dt.UTC)
    assert main.page_canonical_url == (
        "https://saharamonitor.example/news/2024/05/03/kufra-drone-strike"
    )

    amp = got[urls["amp"]]
    assert "seized a cache of rifles" in amp.text
    assert amp.page_canonical_url == (
        "https://nilecourier.example/egypt/2024/05/02/weapons-cache-western-border"
    )
    assert amp.article_id == article_id(urls["amp"])
    assert "Cairo metro" not in amp.text

    jsonld = got[urls["jsonld"]]
    assert jsonld.authors == ["Mohamed Osman", "Leila Adam"]
    assert jsonld.published_at == dt.datetime(2024, 5, 11, 14, 20, tzinfo=dt.UTC)
    assert jsonld.sitename == "Darfur Daily"
    assert "Get the Darfur Daily briefing" not in jsonld.text

    arabic = got[urls["arabic"]]
    assert "قتلوا وأصيب اثنان آخران" in arabic.text  # windows-1256, declared only in <meta>
    if DETECTOR:  # undeclared: detected
        assert arabic.language == "ar"
    assert arabic.title == "مقتل ثلاثة من حرس الحدود في هجوم قرب السلوم"

    french = got[urls["french"]]
    assert "Douze soldats nigériens ont été tués" in french.text  # ISO-8859-1 in <meta>
    if DETECTOR:
        assert french.language == "fr"
    assert french.published_at == item(urls["french"]).published_at  # the feed's date


def test_pages_without_article_text_are_published_with_a_status(
    tmp_path: Path, news_site: NewsSite
) -> None:
    settings = make_settings(tmp_path, tagging=False, http={"max_bytes": 100_000})
    expected = {
        news_site.url("/exclusive/chad-smuggling"): ("no_text", "paywall"),
        news_site.url("/consent"): ("no_text", "consent"),
        news_site.url("/report.pdf"): ("not_html", "application/pdf"),
        news_site.url("/huge"): ("too_large", "100000"),
        news_site.url("/missing-page"): ("failed", "HTTP 404"),
        "ftp://127.0.0.1/bulletin.txt": ("failed", "not an http(s) URL"),
    }
    publish(settings, *(item(url) for url in expected))
    articles, dead = run_once(settings)
    assert dead == []
    got = by_url(articles)
    assert set(got) == set(expected)
    for url, (status, reason) in expected.items():
        assert got[url].extraction_status == status, url
        assert got[url].extraction_error and reason in got[url].extraction_error, url
        assert got[url].title  # the feed's title at least
        assert got[url].duplicate_of is None


def test_redirects_are_followed_and_transient_errors_retried(
    tmp_path: Path, news_site: NewsSite
) -> None:
    settings = make_settings(tmp_path, tagging=False, retries=3)
    old, flaky = news_site.url("/old-address"), news_site.url("/flaky")
    publish(settings, item(old), item(flaky))
    articles, dead = run_once(settings)
    assert dead == []
    got = by_url(articles)
    assert "Drone strike" in got[old].title and got[old].extraction_status == "ok"
    assert got[old].article_id == article_id(old)
    assert got[flaky].extraction_status == "ok"
    assert news_site.hits["/flaky"] == 3  # two 503s, then the page


def test_a_dead_host_is_retried_then_dead_lettered_and_the_rest_published(
    tmp_path: Path, news_site: NewsSite, dead_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Backoffs longer than the heartbeat: the batch renews its group membership while waiting.
    monkeypatch.setattr("services.extractor.service.HEARTBEAT_S", 0.05)
    settings = make_settings(tmp_path, tagging=False, retries=2, retry_backoff_s=0.2)
    good = news_site.url("/story/1")
    publish(settings, item(dead_url), item(good))
    articles, dead = run_once(settings)
    assert [a.url for a in articles] == [good]
    assert len(dead) == 1
    assert dead[0].error_kind == "download:connect"
    assert dead[0].attempts == 3  # the first try and two retries
    assert dead_url in dead[0].error_message
    assert article_id(dead_url) in dead[0].original_payload
    # Everything was committed: a second run finds nothing to do.
    assert run_once(settings) == (articles, dead)


def test_poison_messages_are_dead_lettered_and_the_consumer_carries_on(
    tmp_path: Path, news_site: NewsSite
) -> None:
    settings = make_settings(tmp_path, tagging=False)
    good = item(news_site.url("/story/2"))
    wrong_version = good.model_dump_json(by_alias=True).replace(
        "newswatch.discovered/1", "newswatch.discovered/9"
    )
    publish(settings, b"{not json", wrong_version.encode(), b'{"schema": "newswatch.discovered/1"}')
    publish(settings, good)
    articles, dead = run_once(settings)
    assert [a.article_id for a in articles] == [good.article_id]
    assert sorted(d.error_kind for d in dead) == ["contract"] * 3
    assert any("not valid JSON" in d.error_message for d in dead)
    assert any("unsupported version" in d.error_message for d in dead)
    assert run_once(settings) == (articles, dead)


def test_syndicated_copies_are_marked_duplicate_of_the_first_even_after_a_restart(
    tmp_path: Path, news_site: NewsSite
) -> None:
    settings = make_settings(tmp_path, tagging=False, batch_size=1)
    first, second = news_site.url("/wire/a/tripoli-talks"), news_site.url("/wire/b/tripoli-talks")
    other = news_site.url("/story/3")
    publish(settings, item(first), item(second), item(other))
    articles, _ = run_once(settings)
    got = by_url(articles)
    # The items sit on different partitions: either copy may be seen first.
    original, copy = sorted([got[first], got[second]], key=lambda a: a.duplicate_of is not None)
    assert original.duplicate_of is None
    assert copy.duplicate_of == original.article_id
    assert got[other].duplicate_of is None
    # A new process, the same index: a third copy still points at the first one seen.
    third = news_site.url("/wire/b/tripoli-talks?utm_source=rss")
    publish(settings, item(third))
    articles, _ = run_once(settings)
    assert by_url(articles)[third].duplicate_of == original.article_id


def test_a_tagging_failure_still_publishes_the_article(tmp_path: Path, news_site: NewsSite) -> None:
    def broken(text: str, **_: object) -> TaggingResult:
        if text == "Tagger warm-up.":
            return TaggingResult()
        raise RuntimeError("lexicon missing")

    settings = make_settings(tmp_path)
    url = news_site.url("/news/2024/05/03/kufra-drone-strike")
    publish(settings, item(url))
    articles, dead = run_once(settings, tagger=broken)
    assert dead == []
    assert articles[0].extraction_status == "ok"
    assert articles[0].tagging_error == "RuntimeError: lexicon missing"
    assert articles[0].events == []


def test_tagging_results_are_copied_and_tagging_can_be_switched_off(
    tmp_path: Path, news_site: NewsSite
) -> None:
    calls: list[dict[str, object]] = []

    def tagger(text: str, **kwargs: object) -> TaggingResult:
        calls.append({"text": text, **kwargs})
        return TaggingResult(tags=["cross_border_strike"])

    url = news_site.url("/news/2024/05/03/kufra-drone-strike")
    on = make_settings(tmp_path / "on")
    publish(on, item(url))
    articles, _ = run_once(on, tagger=tagger)
    assert articles[0].tags == ["cross_border_strike"] and articles[0].tagging_error is None
    document = next(c for c in calls if c["text"] != "Tagger warm-up.")
    assert "drone strike destroyed three vehicles" in str(document["text"])
    assert document["source_country"] == "LY"
    assert document["published_at"] == dt.datetime(2024, 5, 3, 7, 41, tzinfo=dt.UTC)

    calls.clear()
    off = make_settings(tmp_path / "off", tagging=False)
    publish(off, item(url))
    articles, _ = run_once(off, tagger=tagger)
    assert calls == [] and articles[0].tags == []


def test_the_default_tagger_runs_in_a_worker_process(tmp_path: Path, news_site: NewsSite) -> None:
    settings = make_settings(tmp_path, tagging=True, tagging_workers=1)
    url = news_site.url("/news/2024/05/03/kufra-drone-strike")
    publish(settings, item(url))
    articles, dead = run_once(settings)
    assert dead == [] and len(articles) == 1
    assert articles[0].tagging_error is None
    assert articles[0].extraction_status == "ok"
    # The worker's answer crosses the pipe as JSON: it must equal the tagger run in process.
    inline = make_settings(tmp_path / "inline", tagging=True, tagging_workers=0)
    publish(inline, item(url))
    same, _ = run_once(inline)
    assert articles[0].events, "the page reports a drone strike"
    for field in ("events", "places", "actors", "tags"):
        assert getattr(articles[0], field) == getattr(same[0], field), field


def _records(path: Path) -> list[str]:
    if not path.exists():
        return []
    return [line for line in path.read_text().splitlines() if line]


def test_two_extractor_processes_share_the_work_without_overlap(
    tmp_path: Path, news_site: NewsSite
) -> None:
    settings = make_settings(tmp_path, tagging=False)
    publish(settings)  # creates the topics before the workers join
    context = multiprocessing.get_context("spawn")
    records = [tmp_path / "worker-0.txt", tmp_path / "worker-1.txt"]
    workers = [
        context.Process(target=run_recording_extractor, args=(str(tmp_path), str(record)))
        for record in records
    ]
    for worker in workers:
        worker.start()
    try:
        deadline = time.monotonic() + 60
        while not all("ready" in _records(r) for r in records):
            assert time.monotonic() < deadline, "workers did not start"
            assert all(w.is_alive() for w in workers), "a worker died"
            time.sleep(0.1)
        time.sleep(2.0)  # both members polled: the group's assignment is settled
        items = [item(news_site.url(f"/story/{n}")) for n in range(40)]
        publish(settings, *items)
        while len(outputs(settings)[0]) < len(items):
            assert time.monotonic() < deadline + 60, "articles were not all published"
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()  # SIGTERM: finish the batch, commit, exit
        for worker in workers:
            worker.join(timeout=30)
    done = [{line for line in _records(r) if line != "ready"} for r in records]
    assert done[0] and done[1], "both processes took a share"
    assert done[0].isdisjoint(done[1]), "no article was processed by both"
    assert done[0] | done[1] == {i.article_id for i in items}
    articles, dead = outputs(settings)
    assert dead == []
    assert sorted(a.article_id for a in articles) == sorted(i.article_id for i in items)
