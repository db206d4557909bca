"""Scheduling maths: adaptive intervals, backoff, jitter, Retry-After, state transitions."""

from __future__ import annotations

import itertools
import random

import pytest

from services.fetcher.feeds import Feed, feed_id_for
from services.fetcher.parse import ParsedFeed
from services.fetcher.poll import PollResult
from services.fetcher.schedule import (
    ScheduleParams,
    adapt_interval,
    backoff_delay,
    jittered,
    parse_retry_after,
)
from services.fetcher.state import FeedState
from services.fetcher.transitions import apply_result

P = ScheduleParams(
    default_interval_s=900,
    min_interval_s=120,
    max_interval_s=21600,
    jitter=0.1,
    max_backoff_s=86400,
    failure_threshold=5,
)


def test_busy_feeds_are_polled_more_often_down_to_the_minimum() -> None:
    interval = None
    seen = []
    for _ in range(20):
        interval = adapt_interval(interval, 3, P, None)
        seen.append(interval)
    assert seen[0] == pytest.approx(900 * 0.7)
    assert all(a >= b for a, b in itertools.pairwise(seen))
    assert seen[-1] == 120


def test_quiet_feeds_are_polled_less_often_up_to_the_maximum() -> None:
    interval = None
    for _ in range(40):
        interval = adapt_interval(interval, 0, P, None)
    assert interval == 21600
    assert adapt_interval(900, 0, P, None) == pytest.approx(1125)


def test_a_quiet_feed_with_news_again_is_back_at_its_base_interval_at_once() -> None:
    assert adapt_interval(21600, 1, P, None) == 900
    assert adapt_interval(21600, 1, P, 300) == 300


def test_a_configured_interval_outside_the_bounds_widens_them() -> None:
    assert adapt_interval(None, 5, P, 30) == pytest.approx(30)  # starts at 30, floor is 30
    assert adapt_interval(30, 5, P, 30) == 30
    assert adapt_interval(None, 0, P, 86400) == 86400


def test_backoff_doubles_then_waits_the_maximum_from_the_threshold() -> None:
    delays = [backoff_delay(n, 600, P) for n in range(1, 8)]
    assert delays == [600, 1200, 2400, 4800, 86400, 86400, 86400]
    assert backoff_delay(3, 50_000, P) == 86400  # capped


def test_jitter_stays_within_bounds_and_spreads() -> None:
    rng = random.Random(7)
    values = [jittered(1000, 0.1, rng) for _ in range(500)]
    assert all(900 <= v <= 1100 for v in values)
    assert max(values) - min(values) > 100
    assert jittered(1000, 0.0, rng) == 1000


def test_retry_after_seconds_and_dates() -> None:
    now = 1_700_000_000.0
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after("Tue, 14 Nov 2023 23:13:20 GMT", now) == pytest.approx(3600)
    assert parse_retry_after("Tue, 14 Nov 2023 00:00:00 GMT", now) == 0  # in the past
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


FEED = Feed(
    feed_id=feed_id_for("https://site.example/rss"),
    url="https://site.example/rss",
    name="Site",
    country=None,
    language=None,
    regions=(),
    interval_s=None,
    enabled=True,
    origin="config",
)


def result(outcome: str, **kwargs: object) -> PollResult:
    return PollResult(feed=FEED, outcome=outcome, started_at=0.0, **kwargs)  # type: ignore[arg-type]


def test_success_resets_failures_and_stores_validators() -> None:
    previous = FeedState(FEED.feed_id, FEED.url, consecutive_failures=3, last_error="x")
    parsed = ParsedFeed(format="rss20", title="Site", language=None)
    state = apply_result(
        previous,
        result("ok", status=200, etag='"e1"', last_modified="lm", parsed=parsed),
        2,
        1000.0,
        P,
        random.Random(1),
    )
    assert state.consecutive_failures == 0 and state.last_error is None
    assert state.etag == '"e1"' and state.last_modified == "lm"
    assert state.items_seen == 2 and state.last_new_item_at == 1000.0
    assert state.interval_s == pytest.approx(630)
    assert 1000 + 630 * 0.9 <= state.next_poll_at <= 1000 + 630 * 1.1


def test_not_modified_keeps_validators() -> None:
    previous = FeedState(FEED.feed_id, FEED.url, etag='"e1"', last_modified="lm", interval_s=900)
    state = apply_result(previous, result("not_modified", status=304), 0, 0.0, P)
    assert state.etag == '"e1"' and state.last_modified == "lm"
    assert state.interval_s == pytest.approx(1125)


def test_failure_backs_off_and_retry_after_is_never_undercut_by_jitter() -> None:
    previous = FeedState(FEED.feed_id, FEED.url, interval_s=600, consecutive_failures=1)
    state = apply_result(previous, result("failed", status=500, reason="http_500"), 0, 0.0, P)
    assert state.consecutive_failures == 2
    assert 1200 * 0.9 <= state.next_poll_at <= 1200 * 1.1
    for seed in range(50):
        throttled = apply_result(
            None, result("failed", status=429, retry_after_s=5000.0), 0, 0.0, P, random.Random(seed)
        )
        assert throttled.next_poll_at >= 5000


def test_gone_disables_and_permanent_redirect_is_stored() -> None:
    state = apply_result(None, result("gone", status=410, error="HTTP 410 Gone"), 0, 5.0, P)
    assert state.disabled and state.disabled_reason == "HTTP 410 Gone"
    moved = apply_result(
        None, result("not_modified", status=304, moved_to="https://new.example/rss"), 0, 0.0, P
    )
    assert moved.fetch_url == "https://new.example/rss"
