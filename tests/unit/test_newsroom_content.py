"""The bundled demo newsroom: enough content, the coverage the demo's subscriptions need, and a
release timeline that behaves (pure: no server)."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest

from newswatch.demo.content import Article, Newsroom, expand_placeholders, load_newsroom
from newswatch.demo.schedule import ReleaseSchedule, Timeline
from newswatch.models.events import SUB_EVENT_TYPES

EPOCH = dt.datetime(2026, 3, 12, 9, 30, tzinfo=dt.UTC)  # a Thursday
ALL_SUB_EVENT_TYPES = {sub for subs in SUB_EVENT_TYPES.values() for sub in subs}


@pytest.fixture(scope="module")
def newsroom() -> Newsroom:
    return load_newsroom()


def text_of(article: Article, when: dt.datetime = EPOCH) -> str:
    return article.headline + "\n" + "\n".join(article.paragraphs(when))


def originals(newsroom: Newsroom) -> list[Article]:
    return [a for a in newsroom.articles if a.syndicated_from is None]


def test_counts(newsroom: Newsroom) -> None:
    categories = Counter(a.category for a in newsroom.articles)
    assert len(newsroom.outlets) >= 6
    assert len(newsroom.articles) >= 90
    assert categories["unrelated"] >= 20
    assert categories["security"] >= 60
    assert sum(1 for a in newsroom.articles if a.syndicated_from) >= 4


def test_every_outlet_has_security_news(newsroom: Newsroom) -> None:
    for outlet in newsroom.outlets:
        kinds = {a.category for a in newsroom.articles_of(outlet.id)}
        assert "security" in kinds, outlet.id
        assert len(newsroom.articles_of(outlet.id)) >= 8, outlet.id


def test_feed_formats_encodings_and_quirks_are_all_represented(newsroom: Newsroom) -> None:
    formats = {o.feed_format for o in newsroom.outlets}
    encodings = {o.encoding.lower() for o in newsroom.outlets}
    quirks = {q for o in newsroom.outlets for q in o.feed_quirks}
    assert formats == {"rss2", "atom", "rss1"}
    assert {"iso-8859-1", "windows-1256"} <= encodings
    assert {"unescaped_ampersand", "truncated_last_item", "relative_links"} <= quirks
    assert quirks & {"malformed_date", "missing_date"}
    assert any(o.media for o in newsroom.outlets)
    assert any(o.amp for o in newsroom.outlets)
    assert any(o.json_ld for o in newsroom.outlets)
    assert len({o.country for o in newsroom.outlets}) >= 5


def test_slugs_and_keys_are_unique(newsroom: Newsroom) -> None:
    slugs = [a.slug for a in newsroom.articles]
    assert len(slugs) == len(set(slugs))
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", s) for s in slugs)
    headlines = [a.headline for a in newsroom.articles]
    assert len(headlines) == len(set(headlines))


def test_keyword_subscription_has_enough_matches(newsroom: Newsroom) -> None:
    # Derna OR airstrike OR "air strike"
    pattern = re.compile(r"\bderna\b|\bairstrikes?\b|\bair strikes?\b", re.IGNORECASE)
    matching = [a for a in originals(newsroom) if pattern.search(text_of(a))]
    assert len(matching) >= 8
    assert sum(1 for a in matching if "Derna" in text_of(a)) >= 4


def test_region_subscription_has_ten_north_sinai_events(newsroom: Newsroom) -> None:
    sinai = [
        a
        for a in originals(newsroom)
        if a.facts.get("country") == "EG" and a.facts.get("admin1") == "North Sinai"
    ]
    assert len(sinai) >= 10
    for article in sinai:
        assert "North Sinai" in text_of(article), article.key
        assert article.facts["place"] in text_of(article), article.key


def test_smuggling_and_deadly_stories(newsroom: Newsroom) -> None:
    smuggling = [a for a in originals(newsroom) if "smuggling" in a.tags]
    assert len(smuggling) >= 5
    assert all(re.search(r"smuggl", text_of(a), re.IGNORECASE) for a in smuggling)
    deadly = [a for a in originals(newsroom) if (a.facts.get("fatalities") or 0) >= 10]
    assert len(deadly) >= 3
    for article in deadly:
        figure = str(article.facts["fatalities"])
        # "dozens" is coded as 12 (ACLED's convention), every other figure is written out.
        assert figure in text_of(article) or "dozens" in text_of(article), article.key


def test_security_facts_name_a_real_place_type_and_country(newsroom: Newsroom) -> None:
    countries = {"EG", "LY", "SD", "TD", "ML", "NE", "BF"}
    for article in originals(newsroom):
        if not article.is_security:
            assert not article.facts, article.key
            continue
        facts = article.facts
        assert facts["country"] in countries, article.key
        assert facts["event"] in ALL_SUB_EVENT_TYPES, article.key
        assert facts["place"] in text_of(article), article.key
        assert isinstance(facts["day_back"], int), article.key


def test_syndicated_copies_share_the_body_but_not_the_headline(newsroom: Newsroom) -> None:
    copies = [a for a in newsroom.articles if a.syndicated_from]
    assert len({newsroom.article(a.syndicated_from or "").key for a in copies}) == len(copies)
    for copy in copies:
        original = newsroom.article(copy.syndicated_from or "")
        assert copy.outlet != original.outlet
        assert copy.headline != original.headline
        assert copy.body[0] != original.body[0]
        assert copy.body[1:] == original.body[1:]
        assert copy.category == original.category
        assert copy.facts == original.facts


def test_placeholders_resolve_against_the_publication_day() -> None:
    thursday = dt.datetime(2026, 3, 12, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    text = "on {day-1}, reported on {day}, since {date-2}"
    assert (
        expand_placeholders(text, thursday) == "on Wednesday, reported on Thursday, since 10 March"
    )


def test_no_placeholder_survives_rendering(newsroom: Newsroom) -> None:
    for article in newsroom.articles:
        assert "{" not in text_of(article) and "}" not in text_of(article), article.key


def test_windows_1256_outlet_carries_arabic_that_encodes_natively(newsroom: Newsroom) -> None:
    outlet = next(o for o in newsroom.outlets if o.encoding.lower() == "windows-1256")
    text = "".join(text_of(a) for a in newsroom.articles_of(outlet.id))
    assert re.search(r"[\u0600-\u06ff]", text)
    text.encode("windows-1256")  # strict: the Arabic goes out as real windows-1256 bytes
    assert outlet.native_name is not None
    outlet.native_name.encode("windows-1256")


def test_latin1_outlet_uses_accented_names(newsroom: Newsroom) -> None:
    outlet = next(o for o in newsroom.outlets if o.encoding.lower() == "iso-8859-1")
    text = "".join(text_of(a) for a in newsroom.articles_of(outlet.id))
    assert re.search(r"[éèïô]", text)
    text.encode("iso-8859-1")


# -- the release timeline ---------------------------------------------------------------------


def test_default_schedule_releases_seventy_percent_then_three_waves(newsroom: Newsroom) -> None:
    timeline = Timeline(newsroom, ReleaseSchedule(0.7, 3, 60.0), EPOCH)
    waves = Counter(timeline.wave_of(a) for a in newsroom.articles)
    total = len(newsroom.articles)
    assert waves[0] == -(-total * 7 // 10)
    assert set(waves) == {0, 1, 2, 3}
    assert all(waves[w] >= 5 for w in (1, 2, 3))
    assert len(timeline.released(EPOCH)) == waves[0]
    assert len(timeline.released(EPOCH + dt.timedelta(seconds=20))) == waves[0] + waves[1]
    assert timeline.pending(EPOCH + dt.timedelta(seconds=60)) == []
    assert timeline.next_release(EPOCH) == EPOCH + dt.timedelta(seconds=20)
    assert timeline.next_release(EPOCH + dt.timedelta(seconds=60)) is None


def test_late_waves_mix_outlets_and_include_security_news(newsroom: Newsroom) -> None:
    timeline = Timeline(newsroom, ReleaseSchedule(), EPOCH)
    late = [a for a in newsroom.articles if timeline.wave_of(a) > 0]
    assert len({a.outlet for a in late}) >= 5
    assert sum(1 for a in late if a.is_security) >= 10


def test_publication_times(newsroom: Newsroom) -> None:
    timeline = Timeline(newsroom, ReleaseSchedule(0.7, 3, 60.0), EPOCH)
    for article in newsroom.articles:
        published = timeline.published_at(article)
        release = timeline.release_time(article)
        assert published <= release
        if timeline.wave_of(article) == 0:
            assert published <= EPOCH
            assert published >= EPOCH - dt.timedelta(days=5)
        else:
            assert release - published < dt.timedelta(minutes=2)
            assert published > EPOCH - dt.timedelta(minutes=2)


def test_release_all_is_idempotent_and_dates_late_articles_at_the_call(
    newsroom: Newsroom,
) -> None:
    timeline = Timeline(newsroom, ReleaseSchedule(0.5, 2, 600.0), EPOCH)
    now = EPOCH + dt.timedelta(seconds=30)
    pending = len(timeline.pending(now))
    assert pending > 0
    assert timeline.release_all(now) == pending
    assert timeline.pending(now) == []
    late = next(a for a in newsroom.articles if timeline.wave_of(a) == 2)
    assert timeline.release_time(late) == now
    assert timeline.release_all(now + dt.timedelta(seconds=5)) == 0
    assert timeline.release_time(late) == now
    assert timeline.last_change(now) == now


def test_everything_at_once(newsroom: Newsroom) -> None:
    timeline = Timeline(newsroom, ReleaseSchedule.everything_at_once(), EPOCH)
    assert len(timeline.released(EPOCH)) == len(newsroom.articles)
    assert timeline.next_release(EPOCH) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"initial_fraction": 1.5}, {"waves": 0}, {"duration_seconds": -1.0}],
)
def test_bad_schedules_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        ReleaseSchedule(**kwargs)  # type: ignore[arg-type]
