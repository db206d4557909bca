"""A feed's state after one poll: health fields, validators, and the next poll time.

Pure: given the previous state, the poll's result, how many new items it published and the
current time, returns the new ``FeedState``. The service persists it only after the poll's
items were flushed to the bus.
"""

from __future__ import annotations

import random
from dataclasses import replace

from services.fetcher.feeds import Feed
from services.fetcher.poll import PollResult
from services.fetcher.schedule import ScheduleParams, adapt_interval, backoff_delay, jittered
from services.fetcher.state import FeedState

__all__ = ["apply_result", "initial_state"]

MAX_ERROR_CHARS = 500


def initial_state(feed: Feed) -> FeedState:
    return FeedState(feed_id=feed.feed_id, url=feed.url)


def apply_result(
    previous: FeedState | None,
    result: PollResult,
    new_items: int,
    now: float,
    params: ScheduleParams,
    rng: random.Random | None = None,
) -> FeedState:
    feed = result.feed
    state = replace(previous) if previous is not None else initial_state(feed)
    state.url = feed.url
    state.last_poll_at = now
    state.last_status = result.status
    state.last_outcome = result.outcome
    state.last_reason = result.reason
    if result.moved_to and result.moved_to != state.fetch_url:
        state.current_url = result.moved_to
    configured = feed.interval_s
    interval = state.interval_s or params.base_interval(configured)

    if result.outcome in ("ok", "not_modified"):
        state.consecutive_failures = 0
        state.last_error = None
        state.last_success_at = now
        if result.etag is not None or result.outcome == "ok":
            state.etag = result.etag
        if result.last_modified is not None or result.outcome == "ok":
            state.last_modified = result.last_modified
        if result.body_hash is not None:
            state.body_hash = result.body_hash
        if result.parsed is not None:
            state.items_in_feed = len(result.parsed.items)
            state.title = result.parsed.title or state.title
        if new_items:
            state.items_seen += new_items
            state.last_new_item_at = now
        state.interval_s = adapt_interval(state.interval_s, new_items, params, configured)
        state.next_poll_at = now + jittered(state.interval_s, params.jitter, rng)
        return state

    state.consecutive_failures += 1
    state.last_error = (result.error or result.reason or "failed")[:MAX_ERROR_CHARS]
    state.interval_s = interval
    if result.outcome == "gone":
        state.disabled_at = now
        state.disabled_reason = result.error or "HTTP 410 Gone"
        state.next_poll_at = now + params.max_backoff_s
        return state
    delay = backoff_delay(state.consecutive_failures, interval, params)
    if result.retry_after_s is not None:
        delay = min(params.max_backoff_s, max(delay, result.retry_after_s))
        # The server named a moment: no jitter may bring us back before it.
        state.next_poll_at = now + max(delay, jittered(delay, params.jitter, rng))
    else:
        state.next_poll_at = now + jittered(delay, params.jitter, rng)
    return state
