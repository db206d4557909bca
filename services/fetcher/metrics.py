"""The fetcher's Prometheus metrics (default registry, served on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

__all__ = [
    "BYTES",
    "FEEDS",
    "FEED_FAILURES",
    "ITEMS_DEDUPED",
    "ITEMS_PUBLISHED",
    "POLLS",
    "POLL_SECONDS",
]

POLLS = Counter(
    "newswatch_fetcher_polls_total",
    "Feed polls by outcome (ok, not_modified, unchanged, failed, gone)",
    ["outcome"],
)
ITEMS_PUBLISHED = Counter(
    "newswatch_fetcher_items_published_total", "New feed items published to news.discovered"
)
ITEMS_DEDUPED = Counter(
    "newswatch_fetcher_items_deduped_total",
    "Items not published because they duplicate another article, by the key that matched "
    "(url, guid, title) or why they were skipped (stale)",
    ["key"],
)
BYTES = Counter("newswatch_fetcher_bytes_total", "Response body bytes downloaded from feeds")
FEED_FAILURES = Counter(
    "newswatch_fetcher_feed_failures_total",
    "Failed feed polls by reason (timeout, connect, too_large, html, invalid_xml, http_404 …)",
    ["reason"],
)
POLL_SECONDS = Histogram(
    "newswatch_fetcher_poll_seconds",
    "Time from request start to parsed result, per feed poll",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
FEEDS = Gauge(
    "newswatch_fetcher_feeds",
    "Feeds of this shard by health (healthy, failing, disabled)",
    ["state"],
)
