"""The fetcher's errors: why a feed could not be read, in words an operator can act on.

Every failure of one feed is a ``FeedError`` with a short machine-readable ``reason`` (the label
of ``newswatch_fetcher_feed_failures_total`` and the ``feeds list`` column) and a one-line
message. A feed error is logged, counted and recorded in the feed's health; it never stops the
other feeds.
"""

from __future__ import annotations

from newswatch.errors import NewswatchError

__all__ = ["FeedError", "FeedParseError", "FetcherError", "OpmlError"]


class FetcherError(NewswatchError):
    """Root of the fetcher's own errors."""


class FeedError(FetcherError):
    """One feed failed. ``reason`` is one of a small fixed set (``html``, ``invalid_xml``,
    ``empty``, ``too_large``, ``http_404``, ``timeout`` …)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.detail = message


class FeedParseError(FeedError):
    """The body was fetched but is not a usable feed (HTML page, broken XML, no items)."""


class OpmlError(FetcherError):
    """An OPML file could not be read. The message names the file and the problem."""
