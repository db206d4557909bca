"""One feed's HTTP exchange: conditional GET, status handling, parse. Never raises.

The result says what happened in terms the scheduler and the health table use:

* ``ok`` — a feed document was parsed (its items still go through dedupe);
* ``not_modified`` — 304, or a 200 whose body is byte-identical to the last one (servers without
  validators); nothing to do;
* ``failed`` — a network error, an HTTP error status, a body over the size limit, or a body that
  is not a usable feed, with a ``reason`` (``timeout``, ``connect``, ``too_slow``, ``redirects``,
  ``too_large``, ``http_404``, ``http_429``, ``html``, ``invalid_xml``, ``empty`` …);
* ``gone`` — 410: the publisher removed the feed, so it is disabled (``newswatch feeds enable``
  brings it back).

A permanent redirect chain (every hop 301/308) reports the new address so it is stored and used
from the next poll on; temporary redirects (302/303/307) are followed but not remembered.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import httpx

from newswatch.net import DownloadError, DownloadResult, HostLimiter, download
from newswatch.settings import HttpClientSettings
from services.fetcher.errors import FeedError
from services.fetcher.feeds import Feed
from services.fetcher.parse import ParsedFeed, parse_feed
from services.fetcher.schedule import parse_retry_after
from services.fetcher.state import FeedState

__all__ = ["ACCEPT", "Outcome", "PollResult", "poll_feed"]

log = logging.getLogger(__name__)

Outcome = Literal["ok", "not_modified", "failed", "gone"]

#: Bodies up to this size are parsed on the event loop, larger ones in a worker thread.
INLINE_PARSE_BYTES = 32 * 1024

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.5, */*;q=0.1"
)


@dataclass
class PollResult:
    feed: Feed
    outcome: Outcome
    started_at: float
    duration_s: float = 0.0
    status: int | None = None
    reason: str | None = None
    error: str | None = None
    parsed: ParsedFeed | None = None
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    #: The new address after a chain of permanent redirects.
    moved_to: str | None = None
    retry_after_s: float | None = None
    bytes: int = 0


def conditional_headers(state: FeedState | None) -> dict[str, str]:
    headers = {"Accept": ACCEPT}
    if state is not None:
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
    return headers


async def poll_feed(
    client: httpx.AsyncClient,
    limiter: HostLimiter,
    feed: Feed,
    state: FeedState | None,
    http: HttpClientSettings,
    *,
    max_items: int,
    clock: Callable[[], float] = time.time,
) -> PollResult:
    """Poll ``feed`` once (inside the limiter's global and per-host slots)."""
    url = state.fetch_url if state is not None else feed.url
    started_wall = clock()
    result = PollResult(feed=feed, outcome="failed", started_at=started_wall)
    started = time.perf_counter()
    try:
        async with limiter.slot(url):
            response = await download(
                client,
                url,
                max_bytes=http.max_bytes,
                total_timeout_s=http.total_timeout_s,
                max_redirects=http.max_redirects,
                headers=conditional_headers(state),
            )
    except DownloadError as exc:
        result.reason = exc.kind
        result.error = str(exc)
        result.duration_s = time.perf_counter() - started
        return result
    result.status = response.status
    result.bytes = len(response.content)
    result.moved_to = response.permanent_redirect
    status = response.status
    if status == 304:
        result.outcome = "not_modified"
        result.etag = response.headers.get("etag") or (state.etag if state else None)
        result.last_modified = response.headers.get("last-modified") or (
            state.last_modified if state else None
        )
    elif status == 410:
        result.outcome = "gone"
        result.reason = "gone"
        result.error = "HTTP 410 Gone: the publisher removed this feed"
    elif status >= 400 or status < 200 or 300 <= status < 400:
        result.reason = f"http_{status}"
        result.error = f"HTTP {status}"
        if status in (429, 503):
            result.retry_after_s = parse_retry_after(response.headers.get("retry-after"), clock())
            if result.retry_after_s is not None:
                result.error += f" (Retry-After {result.retry_after_s:.0f}s)"
    elif response.truncated:
        result.reason = "too_large"
        result.error = (
            f"response larger than the {http.max_bytes}-byte limit: cut at the limit and skipped"
        )
        log.warning(
            "feed %s: response exceeded max_bytes=%d, download cut at the limit; "
            "raise fetcher.http.max_bytes if this feed is legitimately that large",
            feed.label,
            http.max_bytes,
            extra={"feed_id": feed.feed_id, "feed_url": url, "reason": "too_large"},
        )
    else:
        await _parse_into(result, response.content, response, state, max_items)
    result.duration_s = time.perf_counter() - started
    return result


async def _parse_into(
    result: PollResult,
    content: bytes,
    response: DownloadResult,
    state: FeedState | None,
    max_items: int,
) -> None:
    result.etag = response.headers.get("etag")
    result.last_modified = response.headers.get("last-modified")
    result.body_hash = hashlib.sha256(content).hexdigest()[:32]
    if state is not None and state.body_hash == result.body_hash and state.last_success_at:
        result.outcome = "not_modified"
        return
    parse = functools.partial(
        parse_feed,
        content,
        url=response.final_url,
        content_type=response.headers.get("content-type"),
        max_items=max_items,
    )
    try:
        # A small feed parses in a few ms: inline is cheaper than a thread hand-off (the GIL
        # serialises the work either way); a large one goes to a thread so the loop stays live.
        if len(content) <= INLINE_PARSE_BYTES:
            result.parsed = parse()
        else:
            result.parsed = await asyncio.to_thread(parse)
    except FeedError as exc:
        result.reason = exc.reason
        result.error = exc.detail
        result.body_hash = None
        return
    except Exception as exc:  # a parser bug on one odd feed must not take the fetcher down
        log.exception("feed %s: the feed parser crashed", result.feed.label)
        result.reason = "parser_error"
        result.error = f"feed parser crashed: {type(exc).__name__}: {exc}"[:500]
        result.body_hash = None
        return
    result.outcome = "ok"
